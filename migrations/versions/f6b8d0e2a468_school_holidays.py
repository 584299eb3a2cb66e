"""School holidays per municipality and school year (the school-year calendar)

Revision ID: f6b8d0e2a468
Revises: e5a7c9d1f357
Create Date: 2026-12-05 06:00:00.000000

The channel policies' new `lead_days` setting needs no change to the stored policies: a
municipal default without it has no lead time, as before.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f6b8d0e2a468"
down_revision = "e5a7c9d1f357"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "school_holiday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name="fk_school_holiday_municipality_id_municipality",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_school_holiday"),
    )
    op.create_index(
        "ix_school_holiday_municipality_id", "school_holiday", ["municipality_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_school_holiday_municipality_id", table_name="school_holiday")
    op.drop_table("school_holiday")
