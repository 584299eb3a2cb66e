"""Reach counts: the daily visit counter of the exports' short links (activity × school ×
channel × week × day), with nothing about the visitor

Revision ID: a7c9e1f3b579
Revises: f6b8d0e2a468
Create Date: 2026-12-05 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c9e1f3b579"
down_revision = "f6b8d0e2a468"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reach_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name="fk_reach_count_activity_id_activity",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name="fk_reach_count_school_id_school",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reach_count"),
        sa.UniqueConstraint(
            "activity_id",
            "school_id",
            "channel",
            "week",
            "day",
            name="uq_reach_count_activity_id_school_id_channel_week_day",
        ),
    )
    op.create_index("ix_reach_count_school_id", "reach_count", ["school_id"], unique=False)


def downgrade():
    op.drop_index("ix_reach_count_school_id", table_name="reach_count")
    op.drop_table("reach_count")
