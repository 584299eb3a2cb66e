"""The search index's outbox: activities whose index entry is not up to date yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
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
