"""The search tables: the Whoosh index's outbox (activities whose index entry is not up to date
yet), and the PostgreSQL backend's documents and words."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import Mapped, mapped_column

from directory.dbtypes import UTCDateTime
from directory.extensions import db
from directory.timeutil import utcnow


class SearchBacklog(db.Model):
    """An activity the index must (re)write: queued by the change itself, in the same
    transaction (directory.search.sync), and deleted once the index has it.

    The write after the commit, the next write and `flask reindex --pending` catch it up; a
    process killed at any point leaves it here. No foreign key: the activity may have been
    deleted, and then the catch-up removes it from the index.
    """

    __tablename__ = "search_backlog"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(unique=True)
    # When the oldest change not yet in the index was queued (/healthz: "behind").
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Raised by every later change: a writer deletes the entry only if it still has the version
    # it read, so a change committed while it wrote stays queued.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    attempts: Mapped[int] = mapped_column(default=0)  # failed index writes
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<SearchBacklog activity={self.activity_id} version={self.version}>"


# --- the PostgreSQL search backend's tables (directory.search.postgres_backend) ---------------
#
# Created on every database so the schema is one, but written only with SEARCH_BACKEND =
# "postgres": on SQLite they stay empty. Text columns stand in for PostgreSQL's types there.

TSVECTOR_TYPE = Text().with_variant(pg.TSVECTOR(), "postgresql")
DATES_TYPE = JSON().with_variant(pg.ARRAY(Date()), "postgresql")
TIMES_TYPE = JSON().with_variant(pg.ARRAY(DateTime()), "postgresql")
# Title sort keys (directory.search.documents.title_sort_key) compare by code point, as Python's
# do: the "C" collation on PostgreSQL.
SORT_KEY_TYPE = Text().with_variant(Text(collation="C"), "postgresql")
# The extensions the backend needs: unaccent folds a search word as the index was folded,
# pg_trgm finds the indexed words near a misspelt one.
EXTENSIONS = ("unaccent", "pg_trgm")


class SearchDocument(db.Model):
    """What the PostgreSQL backend's filters, facets and orders read about one public activity:
    narrow rows, so that counting facets over every activity reads little. The text and the
    longer lists are in SearchText. Written in the same transaction as the change
    (directory.search.sync). Times are naive UTC."""

    __tablename__ = "search_document"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    stamp: Mapped[str] = mapped_column(String(64))
    municipality: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    age_min: Mapped[int] = mapped_column(SmallInteger)
    age_max: Mapped[int] = mapped_column(SmallInteger)
    # One bit per facet value (directory.search.postgres_backend.FACET_BITS): the ISO weekdays
    # of its occurrences, its times of day, its flags. Counted grouped by (category, facets).
    facets: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    next_start: Mapped[datetime | None] = mapped_column(DateTime)
    next_end: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_end: Mapped[datetime | None] = mapped_column(DateTime)
    listed_until: Mapped[datetime | None] = mapped_column(DateTime)  # None: no listing date
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    title_sort: Mapped[str] = mapped_column(SORT_KEY_TYPE)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        # The soonest order of what has not started yet, as an index scan (directory.search.
        # postgres_backend: the first page of the home listing reads 20 rows).
        Index(
            "ix_search_document_soonest",
            "cancelled",
            "next_start",
            "title_sort",
            "activity_id",
        ),
    )


class SearchText(db.Model):
    """The PostgreSQL backend's text of one public activity, as a weighted tsvector, with the
    dates of its occurrences and its first upcoming (start, end) pairs (naive UTC)."""

    __tablename__ = "search_text"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(TSVECTOR_TYPE)
    dates: Mapped[list] = mapped_column(DATES_TYPE)  # Oslo dates with an occurrence (horizon)
    upcoming_starts: Mapped[list] = mapped_column(TIMES_TYPE)
    upcoming_ends: Mapped[list] = mapped_column(TIMES_TYPE)

    __table_args__ = (Index("ix_search_text_document", "document", postgresql_using="gin"),)


class SearchWord(db.Model):
    """An indexed word, for typo tolerance and "did you mean" (pg_trgm on its folded form).

    kind "l": a lexeme of some document's tsvector (a stem or a folded stem); kind "s": a word
    as written (lowercase, unstemmed), what a suggestion offers. Added with the documents,
    never counted; `flask reindex` rebuilds the table, and a suggestion is only made of words
    some document still holds.
    """

    __tablename__ = "search_word"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    term: Mapped[str] = mapped_column(String(200), primary_key=True)
    folded: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        Index(
            "ix_search_word_folded_trgm",
            "folded",
            postgresql_using="gin",
            postgresql_ops={"folded": "gin_trgm_ops"},
        ),
    )


@event.listens_for(SearchWord.__table__, "before_create")
def _create_extensions(target, connection, **kw) -> None:
    """db.create_all() on PostgreSQL (tests, benches) creates the extensions first, as the
    migration does."""
    if connection.dialect.name == "postgresql":
        for name in EXTENSIONS:
            connection.execute(text(f"CREATE EXTENSION IF NOT EXISTS {name}"))
