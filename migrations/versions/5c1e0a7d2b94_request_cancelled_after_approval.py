"""Requests cancelled after approval: when, and the organiser's reason

Revision ID: 5c1e0a7d2b94
Revises: e7b2c4d91f05
Create Date: 2026-12-05 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import directory.dbtypes

# revision identifiers, used by Alembic.
revision = "5c1e0a7d2b94"
down_revision = "e7b2c4d91f05"
branch_labels = None
depends_on = None


def upgrade():
    # The new state, "cancelled", needs no schema change: status is a plain string column.
    with op.batch_alter_table("distribution_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancelled_at", directory.dbtypes.UTCDateTime(), nullable=True)
        )
        # Existing requests were never cancelled.
        batch_op.add_column(
            sa.Column("cancellation_reason", sa.Text(), nullable=False, server_default="")
        )


def downgrade():
    # A cancelled request had been approved or exported; it goes back to approved, the state
    # the older code can still act on (the activity itself stays cancelled).
    op.execute("UPDATE distribution_request SET status = 'approved' WHERE status = 'cancelled'")
    with op.batch_alter_table("distribution_request", schema=None) as batch_op:
        batch_op.drop_column("cancellation_reason")
        batch_op.drop_column("cancelled_at")
