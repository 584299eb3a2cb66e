"""Organisation logo: an optional uploaded image for the clubs directory

Revision ID: a1c3e5f70913
Revises: 8d3f6b2e4a17
Create Date: 2026-12-05 15:00:00.000000

A nullable file name, as an activity's image_filename: the file is stored and served as
activity images are (re-encoded, random name, /media/).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a1c3e5f70913"
down_revision = "8d3f6b2e4a17"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.add_column(sa.Column("logo_filename", sa.String(length=80), nullable=True))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy would drop and
    # recreate a table that other tables' foreign keys point at, which SQLite refuses.
    op.execute("ALTER TABLE organisation DROP COLUMN logo_filename")
