"""What the search index could not be told yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from directory.dbtypes import UTCDateTime
from directory.extensions import db
from directory.timeutil import utcnow


class SearchBacklog(db.Model):
    """An activity whose index write failed (lock timeout, missing index...): caught up by the
    next successful write and by `flask reindex --pending`. No foreign key: the activity may
    have been deleted, and then the catch-up removes it from the index."""

    __tablename__ = "search_backlog"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(unique=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=1)
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<SearchBacklog activity={self.activity_id} attempts={self.attempts}>"
