"""The public data's version: one row that every commit changing public data raises (the
feeds' ETags and Last-Modified, without max(updated_at) over whole tables)

Revision ID: d0f2a4c6e8b1
Revises: c9e1a3b5d7f9
Create Date: 2026-12-05 10:00:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d0f2a4c6e8b1"
down_revision = "c9e1a3b5d7f9"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_version"),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(table, [{"id": 1, "version": 1, "changed_at": now}])


def downgrade():
    op.drop_table("data_version")
