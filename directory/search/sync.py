"""The index follows the database: activities changed in a transaction are written after commit.

after_flush notes which activities a flush touched (an activity itself; a schedule -> its
activity; an organisation, category or municipality -> all their activities) in session.info;
after_commit writes them (public ones indexed, the rest removed) through a new short-lived
session, since the committed one cannot run SQL; after_rollback forgets them. A write that
fails (lock timeout, missing index, anything) is logged and recorded in search_backlog, and
caught up by the next successful write or `flask reindex --pending`: the index never breaks
the request that changed the data.

SEARCH_SYNC = False turns this off (bulk loads); run `flask reindex` afterwards. Importing this
module installs the listeners once, on Flask-SQLAlchemy's session class.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from directory.activities.models import Activity, Category, Schedule
from directory.organisations.models import Organisation
from directory.schools.models import Municipality

PENDING_KEY = "search_pending_activity_ids"


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
        elif isinstance(obj, Schedule):
            activity_id = obj.activity_id or (obj.activity.id if obj.activity else None)
            if activity_id is not None:
                ids.add(activity_id)
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


def _enabled() -> bool:
    return has_app_context() and current_app.config.get("SEARCH_SYNC", True)


@event.listens_for(FlaskSession, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    if not _enabled():
        return
    try:
        ids = collect_changes(session)
    except Exception:  # never break a flush over the index; the nightly reindex repairs it
        current_app.logger.exception("could not collect activities changed for the search index")
        return
    if ids:
        session.info.setdefault(PENDING_KEY, set()).update(ids)


@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_KEY, None)
    if not ids or not _enabled():
        return
    from directory.search.service import follow_changes

    follow_changes(ids)


@event.listens_for(FlaskSession, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
