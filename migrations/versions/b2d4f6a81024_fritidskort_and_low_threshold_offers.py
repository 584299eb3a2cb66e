"""Fritidskort and low-threshold offers: activity flags and the municipality's leisure-card rules

Revision ID: b2d4f6a81024
Revises: a1c3e5f70913
Create Date: 2026-12-05 04:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2d4f6a81024"
down_revision = "a1c3e5f70913"
branch_labels = None
depends_on = None

FLAGS = ("fritidskort", "trial_session", "equipment_provided")


def upgrade():
    with op.batch_alter_table("activity", schema=None) as batch_op:
        for name in FLAGS:
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
            )
    with op.batch_alter_table("municipality", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fritidskort_min_sessions", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fritidskort_max_price", sa.Integer(), nullable=True))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy would drop and
    # recreate tables that other tables' foreign keys point at, which SQLite refuses.
    for name in ("fritidskort_max_price", "fritidskort_min_sessions"):
        op.execute(f"ALTER TABLE municipality DROP COLUMN {name}")
    for name in reversed(FLAGS):
        op.execute(f"ALTER TABLE activity DROP COLUMN {name}")
