"""PostgreSQL search: the filters' facts, the analysed text (a tsvector) and the indexed words,
with the extensions unaccent and pg_trgm

Revision ID: b8d0f2a4c6e8
Revises: a7c9e1f3b579
Create Date: 2026-12-05 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "b8d0f2a4c6e8"
down_revision = "a7c9e1f3b579"
branch_labels = None
depends_on = None

EXTENSIONS = ("unaccent", "pg_trgm")


def _create_extensions():
    """CREATE EXTENSION IF NOT EXISTS, with a clear error when the user may not."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    present = set(
        bind.execute(
            sa.text("SELECT extname FROM pg_extension WHERE extname = ANY(:names)"),
            {"names": list(EXTENSIONS)},
        ).scalars()
    )
    missing = [name for name in EXTENSIONS if name not in present]
    if not missing:
        return
    allowed = bind.execute(
        sa.text(
            "SELECT rolsuper OR has_database_privilege(current_database(), 'CREATE') "
            "FROM pg_roles WHERE rolname = current_user"
        )
    ).scalar()
    available = set(
        bind.execute(
            sa.text("SELECT name FROM pg_available_extensions WHERE name = ANY(:names)"),
            {"names": missing},
        ).scalars()
    )
    if not allowed or available != set(missing):
        statements = " ".join(f"CREATE EXTENSION IF NOT EXISTS {name};" for name in missing)
        reason = (
            "they are not installed on the server (Debian: postgresql-contrib)"
            if available != set(missing)
            else "the database user may not create them"
        )
        raise RuntimeError(
            f"PostgreSQL search needs the extensions {', '.join(missing)}, and {reason}. "
            f"Ask the database administrator to run, in this database: {statements} "
            "Then run `flask --app directory db upgrade` again."
        )
    for name in missing:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")


def upgrade():
    _create_extensions()
    tsvector = sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")
    dates = sa.JSON().with_variant(postgresql.ARRAY(sa.Date()), "postgresql")
    times = sa.JSON().with_variant(postgresql.ARRAY(sa.DateTime()), "postgresql")
    sort_key = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    op.create_table(
        "search_document",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("organisation", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("age_min", sa.SmallInteger(), nullable=False),
        sa.Column("age_max", sa.SmallInteger(), nullable=False),
        sa.Column("facets", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("next_start", sa.DateTime(), nullable=True),
        sa.Column("next_end", sa.DateTime(), nullable=True),
        sa.Column("last_end", sa.DateTime(), nullable=True),
        sa.Column("listed_until", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("title_sort", sort_key, nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name="fk_search_document_activity_id_activity",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", name="pk_search_document"),
    )
    op.create_index(
        "ix_search_document_category", "search_document", ["category"], unique=False
    )
    op.create_index(
        "ix_search_document_next_end", "search_document", ["next_end"], unique=False
    )
    op.create_index(
        "ix_search_document_soonest",
        "search_document",
        ["cancelled", "next_start", "title_sort", "activity_id"],
        unique=False,
    )
    op.create_table(
        "search_text",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("document", tsvector, nullable=False),
        sa.Column("dates", dates, nullable=False),
        sa.Column("upcoming_starts", times, nullable=False),
        sa.Column("upcoming_ends", times, nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name="fk_search_text_activity_id_activity",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", name="pk_search_text"),
    )
    op.create_index(
        "ix_search_text_document",
        "search_text",
        ["document"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "search_word",
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("folded", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("kind", "term", name="pk_search_word"),
    )
    op.create_index(
        "ix_search_word_folded_trgm",
        "search_word",
        ["folded"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"folded": "gin_trgm_ops"},
    )


def downgrade():
    op.drop_index("ix_search_word_folded_trgm", table_name="search_word")
    op.drop_table("search_word")
    op.drop_index("ix_search_text_document", table_name="search_text")
    op.drop_table("search_text")
    op.drop_index("ix_search_document_soonest", table_name="search_document")
    op.drop_index("ix_search_document_next_end", table_name="search_document")
    op.drop_index("ix_search_document_category", table_name="search_document")
    op.drop_table("search_document")
    # The extensions stay: other schemas may use them, and dropping needs more rights.
