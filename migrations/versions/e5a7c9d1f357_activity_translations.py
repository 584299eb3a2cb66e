"""Offers in the families' languages: the activity_translation table (issue 14, item 2)

Revision ID: e5a7c9d1f357
Revises: d4f6b8c0e246
Create Date: 2026-12-05 05:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5a7c9d1f357"
down_revision = "d4f6b8c0e246"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "activity_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name="fk_activity_translation_activity_id_activity",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_activity_translation"),
        sa.UniqueConstraint(
            "activity_id", "language", name="uq_activity_translation_activity_id_language"
        ),
    )
    op.create_index(
        "ix_activity_translation_activity_id",
        "activity_translation",
        ["activity_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_activity_translation_activity_id", table_name="activity_translation")
    op.drop_table("activity_translation")
