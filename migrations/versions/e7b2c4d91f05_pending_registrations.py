"""Pending registrations: an account and organisation wait for the e-mailed link

Revision ID: e7b2c4d91f05
Revises: d4e1a7c93b20
Create Date: 2026-12-05 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import directory.dbtypes

# revision identifiers, used by Alembic.
revision = "e7b2c4d91f05"
down_revision = "d4e1a7c93b20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.JSON(), nullable=False),
        sa.Column("created_at", directory.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", directory.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", directory.dbtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipality.id"],
            name=op.f("fk_pending_registration_municipality_id_municipality"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_registration")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_registration_token_hash")),
    )
    with op.batch_alter_table("pending_registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_registration_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pending_registration_municipality_id"),
            ["municipality_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("pending_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_registration_municipality_id"))
        batch_op.drop_index(batch_op.f("ix_pending_registration_expires_at"))
    op.drop_table("pending_registration")
