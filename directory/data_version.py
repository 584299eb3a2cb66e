"""The public data's version: one number that every commit changing public data raises.

Whatever the public sees (activities, their schedules and translations, organisations, venues,
categories, municipalities, schools, their holidays and channel policies) is the same while this
number is the same, so an answer made from public data can be named by it: the calendars', the
Atom feed's and the widget's ETags are checked against it before any search runs, and their
Last-Modified is when it last changed (no `max(updated_at)` over whole tables).

The number lives in the database (the table data_version, one row), so every host and worker
sees the same one. A flush that touches a public model marks its session; the commit raises the
number in its own transaction, just before it commits (one UPDATE of one row), so the new number
is committed exactly with the new data. A request reads it once (on SQLite outside its own
transaction, see _read_sqlite(): never older than the data it then reads). Statements that bypass
the ORM do not raise it: they must call bump() themselves.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import TypeVar

from flask import current_app, g, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import BigInteger, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from directory.dbtypes import UTCDateTime
from directory.extensions import db
from directory.shelf import Shelf
from directory.timeutil import utcnow

CHANGED_KEY = "public_data_changed"
REQUEST_KEY = "_public_data_version"
KEPT_KEY = "directory.kept_by_version"  # in app.extensions: (version, {name: value})
ROW_ID = 1
T = TypeVar("T")


class DataVersion(db.Model):
    """The one row holding the public data's version and when it last changed."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


@cache
def _public_models() -> tuple[type, ...]:
    from directory.activities.models import Activity, ActivityTranslation, Category, Schedule
    from directory.organisations.models import Organisation
    from directory.schools.models import ChannelPolicy, Municipality, School, SchoolHoliday
    from directory.venues.models import Venue

    return (
        Activity, ActivityTranslation, Category, Schedule, Organisation, ChannelPolicy,
        Municipality, School, SchoolHoliday, Venue,
    )  # fmt: skip


def touches_public_data(session: Session) -> bool:
    """Whether the session's pending flush changes a public model."""
    public = _public_models()
    return any(isinstance(obj, public) for obj in (*session.new, *session.dirty, *session.deleted))


def bump(connection) -> None:
    """Raise the version, in the connection's transaction (the row is made when missing)."""
    table = DataVersion.__table__
    now = utcnow()  # the column's type stores it as naive UTC
    raised = connection.execute(
        update(table)
        .where(table.c.id == ROW_ID)
        .values(version=table.c.version + 1, changed_at=now)
    )
    if not raised.rowcount:
        connection.execute(insert(table).values(id=ROW_ID, version=1, changed_at=now))


_CURRENT = select(DataVersion.version, DataVersion.changed_at).where(DataVersion.id == ROW_ID)


def current() -> tuple[int, datetime | None]:
    """(version, when it last changed) as committed; (0, None) before any change.

    Read once per request (the answer cache, the filter lists and the feeds all ask), and
    again after a commit of the request's own."""
    kept = g.get(REQUEST_KEY) if has_app_context() else None
    if kept is not None:
        return kept
    found = _read_sqlite()
    if found is None:
        # Through the session's connection (its transaction), without the ORM's layer.
        row = db.session.connection().execute(_CURRENT).first()
        found = (row.version, row.changed_at) if row else (0, None)
    if has_app_context():
        setattr(g, REQUEST_KEY, found)
    return found


_SQLITE = threading.local()  # this thread's own connection to an SQLite file, for the version


def _read_sqlite() -> tuple[int, datetime | None] | None:
    """The version from an SQLite database, through a connection this thread keeps for it, in
    autocommit (each read sees the last commit, as WAL mode allows while others write); None
    for another database, or when it cannot be read so (the session then reads it, and reports
    what is wrong as for any query).

    A search page whose cards, lists and facts this process keeps then asks the database for
    nothing else: without this it would open a session and take a pooled connection for one
    row. A commit between this read and the request's own reads only makes the request newer
    than its version, never older: what it keeps is dropped at the next version."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return None
    held = getattr(_SQLITE, "held", None)
    try:
        if held is None or held[0] != os.getpid() or held[1] is not engine:
            release()  # another app's database (tests), or the connection of a parent process
            held = None
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            held = _SQLITE.held = (os.getpid(), engine, connection)
        row = held[2].execute(_CURRENT).first()
    except SQLAlchemyError:
        if held is not None:
            held[2].invalidate()
        _SQLITE.held = None
        return None
    return (row.version, row.changed_at) if row else (0, None)


def release() -> None:
    """Let go of this thread's connection for the version: closed if this process opened it
    (before a fork, so that no forked process shares it), dropped if a parent process did."""
    held = getattr(_SQLITE, "held", None)
    _SQLITE.held = None
    if held is not None and held[0] == os.getpid():
        held[2].close()


def kept(name: str, make: Callable[[], T]) -> T:
    """What this process keeps while the public data stays as it is (the filter lists, the
    rendered result cards): made by `make()` once per version, and all dropped together when
    the version moves on. Costs the version's query, once per request."""
    version = current()
    store = current_app.extensions.get(KEPT_KEY)
    if store is None or store[0] != version:
        store = (version, {})
        current_app.extensions[KEPT_KEY] = store
    values = store[1]
    if name not in values:
        values[name] = make()
    return values[name]


def kept_shelf(name: str, entries_setting: str, *, switchable: bool = True) -> Shelf | None:
    """A shelf kept under `name` (see kept()), of at most as many entries as the configuration
    `entries_setting` says; None when it is `switchable` and CARD_CACHE is off."""
    config = current_app.config
    if switchable and not config["CARD_CACHE"]:
        return None
    return kept(name, lambda: Shelf(int(config[entries_setting])))


def forget_kept() -> None:
    """Drop what this process keeps (for a database emptied behind the version's back, as the
    tests do: the version starts over with it)."""
    current_app.extensions.pop(KEPT_KEY, None)
    g.pop(REQUEST_KEY, None)


@event.listens_for(FlaskSession, "before_flush")
def _before_flush(session: Session, flush_context, instances) -> None:
    if touches_public_data(session):
        session.info[CHANGED_KEY] = True


@event.listens_for(FlaskSession, "before_commit")
def _before_commit(session: Session) -> None:
    session.flush()  # the last changes mark the session too
    if session.info.pop(CHANGED_KEY, False):
        bump(session.connection())


@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session: Session) -> None:
    if has_app_context():
        g.pop(REQUEST_KEY, None)  # this commit, or another since, may have raised it


@event.listens_for(FlaskSession, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)
