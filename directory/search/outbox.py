"""The search index's outbox (the search_backlog table): what the index must still be told.

A change queues its activities here in its own transaction (queue(), from directory.search.sync),
so the entry commits or rolls back with the data: a process killed after the commit, or while it
writes the index, leaves the work queued. A writer reads entries (entries()), writes the index,
then deletes what it wrote (clear()); an entry that a later change queued again meanwhile has a
new version and stays. A failed write leaves its entries queued and counts the attempt
(note_failure()). Every statement here is plain SQL on the table, for SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from directory.search.models import SearchBacklog
from directory.timeutil import utcnow

TABLE = SearchBacklog.__table__
CHUNK = 500  # rows per statement: well under the bound-parameter limits
MAX_ERROR_TEXT = 500


class Entry(NamedTuple):
    """A queued activity as a writer read it."""

    id: int
    activity_id: int
    version: int


def _chunks(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _upsert(dialect_name: str):
    """The dialect's INSERT with ON CONFLICT (the project runs on these two)."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"search_backlog upsert on {dialect_name}")
    return insert(TABLE)


def queue(connection: Connection, activity_ids: Iterable[int]) -> None:
    """Queue activities in the caller's transaction: a new entry, or a new version of one
    already queued (which keeps its queued_at: the index has been behind since then)."""
    wanted = sorted(set(activity_ids))  # one order for every writer: fewer waits on each other
    if not wanted:
        return
    now = utcnow()
    statement = _upsert(connection.dialect.name).on_conflict_do_update(
        index_elements=[TABLE.c.activity_id], set_={"version": TABLE.c.version + 1}
    )
    for chunk in _chunks(wanted):
        connection.execute(
            statement,
            [
                {"activity_id": i, "queued_at": now, "version": 1, "attempts": 0, "last_error": ""}
                for i in chunk
            ],
        )


def entries(session: Session, activity_ids: Iterable[int] = (), *, oldest: int = 0) -> list[Entry]:
    """The entries of these activities, and the `oldest` longest-queued others."""
    found: dict[int, Entry] = {}
    columns = (TABLE.c.id, TABLE.c.activity_id, TABLE.c.version)
    for chunk in _chunks(sorted(set(activity_ids))):
        for row in session.execute(select(*columns).where(TABLE.c.activity_id.in_(chunk))):
            found[row.id] = Entry(*row)
    if oldest:
        longest = select(*columns).order_by(TABLE.c.queued_at, TABLE.c.id).limit(oldest)
        for row in session.execute(longest):
            found[row.id] = Entry(*row)
    return list(found.values())


def all_entries(session: Session) -> list[Entry]:
    """Every queued entry (what a full rebuild will have written)."""
    columns = (TABLE.c.id, TABLE.c.activity_id, TABLE.c.version)
    return [Entry(*row) for row in session.execute(select(*columns))]


def clear(session: Session, written: Iterable[Entry]) -> None:
    """Delete the entries a writer has written, unless a change queued them again since."""
    pairs = sorted({(entry.id, entry.version) for entry in written})
    for chunk in _chunks(pairs):
        # SKIP LOCKED (PostgreSQL): an entry a transaction in progress is queuing again is not
        # written yet, and waiting for that transaction could deadlock with it.
        done = (
            select(TABLE.c.id)
            .where(tuple_(TABLE.c.id, TABLE.c.version).in_(chunk))
            .with_for_update(skip_locked=True)
        )
        session.execute(delete(TABLE).where(TABLE.c.id.in_(done.scalar_subquery())))


def note_failure(session: Session, activity_ids: Iterable[int], error: str) -> None:
    """Count a failed index write of these activities on their entries (which stay queued)."""
    error = error[:MAX_ERROR_TEXT]
    for chunk in _chunks(sorted(set(activity_ids))):
        queued = (
            select(TABLE.c.id)
            .where(TABLE.c.activity_id.in_(chunk))
            .with_for_update(skip_locked=True)
        )
        session.execute(
            update(TABLE)
            .where(TABLE.c.id.in_(queued.scalar_subquery()))
            .values(attempts=TABLE.c.attempts + 1, last_error=error)
        )


def oldest_queued_at(session: Session) -> datetime | None:
    """When the longest-waiting entry was queued, or None when nothing waits."""
    return session.scalar(select(func.min(TABLE.c.queued_at)))


def pending_count(session: Session) -> int:
    """How many activities wait in the queue."""
    return session.scalar(select(func.count()).select_from(TABLE)) or 0
