"""The index follows the database through an outbox (directory.search.outbox).

after_flush notes which activities a flush touched (an activity itself; a schedule or a
translation -> its activity; an existing organisation, category or municipality -> all their
activities) and queues them in search_backlog through the flush's own connection, so the queue
entry commits or rolls back with the change. after_commit writes them (public ones indexed, the
rest removed), with the longest-queued older entries, through a new short-lived session, since
the committed one cannot run SQL, and deletes the entries it wrote. A write that fails (lock
timeout, missing index, anything) is logged and its entries stay queued; so do they when the
process dies after the commit. The next successful write, `flask reindex --pending` and the
nightly `flask reindex` catch up; /healthz says "search": "behind" when an entry waits longer
than SEARCH_BACKLOG_MAX_AGE_SECONDS. The index never breaks the request that changed the data.

SEARCH_SYNC = False skips the write after each commit (bulk loads); the changes still queue, so
run `flask reindex` (or `reindex --pending`) afterwards. With SEARCH_BACKEND = "database" there is
no index to follow and nothing queues. With SEARCH_BACKEND = "postgres" nothing queues either:
before the commit, the changed activities' rows in search_document are written through the
transaction's own connection (directory.search.postgres_backend.write_in_transaction), so the
search is never behind the data and there is no backlog (SEARCH_SYNC = False skips the writes:
run `flask reindex` after a bulk load). Importing this module installs the listeners once, on
Flask-SQLAlchemy's session class.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from directory.activities.models import Activity, ActivityTranslation, Category, Schedule
from directory.organisations.models import Organisation
from directory.schools.models import Municipality
from directory.search.outbox import queue

PENDING_KEY = "search_pending_activity_ids"
TRANSACTION_KEY = "search_activity_ids_in_transaction"


def _activity_ids_where(session: Session, condition) -> list[int]:
    # The connection, not the session: no autoflush from inside a flush.
    return list(session.connection().scalars(select(Activity.id).where(condition)))


def collect_changes(session: Session) -> set[int]:
    """The ids of activities whose indexed content this flush may have changed."""
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Activity):
            if obj.id is not None:
                ids.add(obj.id)
        elif isinstance(obj, Schedule | ActivityTranslation):
            activity_id = obj.activity_id or (obj.activity.id if obj.activity else None)
            if activity_id is not None:
                ids.add(activity_id)
        elif obj in session.new:
            # A new organisation, category or municipality has no activities but the new ones
            # of this flush, counted above (a CSV import creates many organisations).
            continue
        elif isinstance(obj, Organisation):
            if obj.id is not None:
                ids.update(_activity_ids_where(session, Activity.organisation_id == obj.id))
        elif isinstance(obj, Category):
            if obj.id is not None:
                ids.update(_activity_ids_where(session, Activity.category_id == obj.id))
        elif isinstance(obj, Municipality) and obj.id is not None:
            organisations = select(Organisation.id).where(Organisation.municipality_id == obj.id)
            ids.update(_activity_ids_where(session, Activity.organisation_id.in_(organisations)))
    return ids


def _backend_kind() -> str | None:
    return current_app.config.get("SEARCH_BACKEND") if has_app_context() else None


def _follows_index() -> bool:
    """Whether changes must reach a Whoosh index through the outbox."""
    return _backend_kind() == "whoosh"


def _writes_after_commit() -> bool:
    return _follows_index() and current_app.config.get("SEARCH_SYNC", True)


def _writes_in_transaction() -> bool:
    """Whether changes are written to the PostgreSQL search tables before the commit."""
    return _backend_kind() == "postgres" and current_app.config.get("SEARCH_SYNC", True)


@event.listens_for(FlaskSession, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    if _writes_in_transaction():
        ids = collect_changes(session)
        if ids:
            session.info.setdefault(TRANSACTION_KEY, set()).update(ids)
        return
    if not _follows_index():
        return
    ids = collect_changes(session)
    if ids:
        # In the flush's transaction: a failure here fails the change, which is never left
        # committed without its queue entry.
        queue(session.connection(), ids)
        session.info.setdefault(PENDING_KEY, set()).update(ids)


@event.listens_for(FlaskSession, "before_commit")
def _before_commit(session: Session) -> None:
    """PostgreSQL search: the changed activities' rows are written in the change's own
    transaction, after its last flush, so they commit (or roll back) with it."""
    if not _writes_in_transaction():
        return
    from directory.search.postgres_backend import write_in_transaction

    for _round in range(10):  # a write flushes nothing new; the bound is a safeguard
        session.flush()
        ids = session.info.pop(TRANSACTION_KEY, None)
        if not ids:
            return
        write_in_transaction(session, ids)


@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_KEY, None)
    if not ids or not _writes_after_commit():
        return
    from directory.search.service import follow_changes

    follow_changes(ids)


@event.listens_for(FlaskSession, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(TRANSACTION_KEY, None)
