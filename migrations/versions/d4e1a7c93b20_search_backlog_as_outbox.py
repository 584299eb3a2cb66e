"""Search backlog as the index's outbox: a version per entry, queued_at indexed

Revision ID: d4e1a7c93b20
Revises: a097cc8185c6
Create Date: 2026-12-01 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4e1a7c93b20"
down_revision = "a097cc8185c6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("search_backlog", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index(
            batch_op.f("ix_search_backlog_queued_at"), ["queued_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("search_backlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_backlog_queued_at"))
        batch_op.drop_column("version")
