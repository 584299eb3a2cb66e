"""Stored files: uploads kept in the database, where every host finds them

Revision ID: c9e1a3b5d7f9
Revises: b8d0f2a4c6e8
Create Date: 2026-12-20 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c9e1a3b5d7f9"
down_revision = "b8d0f2a4c6e8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_file",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_stored_file"),
    )
    if op.get_context().dialect.name == "postgresql":
        # Images and PDFs are compressed already: kept out of line without a second try.
        op.execute("ALTER TABLE stored_file ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade():
    op.drop_table("stored_file")
