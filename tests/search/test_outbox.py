"""The index outbox: every change that needs the index queues its activities in search_backlog in
the same transaction as the data, so a process killed at any point after the commit (before or
during the index write) leaves the work queued for `reindex --pending` and the next write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select
from whoosh.writing import SegmentWriter

from directory.activities.models import Activity
from directory.extensions import db
from directory.search import service
from directory.search.models import SearchBacklog
from directory.search.service import check_index, get_backend
from tests.search.test_sync import backlog
from tests.test_import import csv_bytes, org_number, row

ACTIVITIES = 40

# Runs `flask import-activities` in a process of its own that kills itself with SIGKILL (what
# kill -9 does) at the worst moments: right after the import's commit, before the index hears of
# it ("commit"), or right after the index has it, before the queue is cleared ("index").
KILLED_IMPORT = textwrap.dedent(
    """
    import json, os, signal, sys
    from flask_sqlalchemy.session import Session
    from sqlalchemy import event
    from whoosh.writing import SegmentWriter
    from directory import create_app

    def die(*args):
        os.kill(os.getpid(), signal.SIGKILL)

    if sys.argv[1] == "commit":
        # First among the after_commit listeners: the index write never starts.
        event.listen(Session, "after_commit", die, insert=True)
    else:
        index_commit = SegmentWriter.commit
        SegmentWriter.commit = lambda writer, *a, **k: die(index_commit(writer, *a, **k))
    app = create_app(json.loads(os.environ["TEST_APP_CONFIG"]))
    app.test_cli_runner().invoke(args=sys.argv[2:])
    sys.exit("the import was not killed")
    """
)


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def many_rows() -> list[dict]:
    """A file of ACTIVITIES activities of three new organisations."""
    clubs = [org_number(f"9{n}123456") for n in range(3)]
    return [
        row(
            title=f"Trening {n}",
            organisation_name=f"Klubb {n % 3}",
            organisation_number=clubs[n % 3],
            category="",
            starts_at=f"2030-09-{n % 28 + 1:02d}T17:00",
            ends_at=f"2030-09-{n % 28 + 1:02d}T18:00",
        )
        for n in range(ACTIVITIES)
    ]


def killed_import(app, tmp_path, municipality, *, after: str = "commit") -> None:
    """Import many_rows() in a process killed right after the commit or the index write."""
    path = tmp_path / "aktiviteter.csv"
    path.write_bytes(csv_bytes(many_rows()))
    config = {
        key: app.config[key]
        for key in (
            "SQLALCHEMY_DATABASE_URI",
            "SEARCH_INDEX_DIR",
            "SEARCH_BACKEND",
            "UPLOAD_FOLDER",
            "SECRET_KEY",
        )
    } | {"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"}
    slug = municipality.slug
    db.session.commit()
    db.session.remove()  # no open transaction of ours holds the database
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, after, "import-activities", str(path),
         "--municipality", slug],
        env={**os.environ, "TEST_APP_CONFIG": json.dumps(config)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def imported_ids() -> list[int]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(Activity.id)))


def test_a_kill_after_the_import_commit_leaves_every_activity_queued_for_reindex_pending(
    app, tmp_path, municipality
):
    killed_import(app, tmp_path, municipality)
    ids = imported_ids()
    assert len(ids) == ACTIVITIES  # the import was committed
    assert check_index().missing == ids  # and the index never heard of it

    assert [entry.activity_id for entry in backlog()] == ids
    seen = run(app, "check-index")
    assert seen.exit_code == 1
    assert f"Mangler i indeksen ({ACTIVITIES}):" in seen.output
    assert f"{ACTIVITIES} aktiviteter venter i køen" in seen.output

    caught_up = run(app, "reindex", "--pending")
    assert caught_up.exit_code == 0, caught_up.output
    assert f"{ACTIVITIES} aktiviteter fra køen er skrevet til søkeindeksen." in caught_up.output
    assert backlog() == []
    checked = run(app, "check-index")
    assert checked.exit_code == 0, checked.output
    assert checked.output == "Indeksen stemmer med databasen.\n"


def test_after_a_kill_the_next_write_catches_up(app, tmp_path, municipality, make_activity):
    killed_import(app, tmp_path, municipality)
    other = make_activity(title="Klatring")  # an ordinary change, written after its commit
    assert backlog() == []
    assert set(get_backend().stamps()) == {*imported_ids()} | {other.id}
    assert check_index().clean


@pytest.fixture
def sync_dies(monkeypatch):
    """The after-commit index write never happens (the process died right after the commit)."""
    monkeypatch.setattr("directory.search.service.follow_changes", lambda ids: False)


def test_the_queue_entry_is_part_of_the_transaction(app, make_activity, make_organisation):
    activity = make_activity(title="Klatring")
    activity.title = "Buldring"
    db.session.flush()
    # Visible inside the transaction, before the commit: it commits (or not) with the data.
    queued = db.session.scalars(select(SearchBacklog.activity_id)).all()
    assert queued == [activity.id]
    db.session.rollback()
    assert db.session.scalars(select(SearchBacklog)).all() == []
    assert check_index().clean


def test_a_kill_after_an_ordinary_commit_leaves_the_change_queued(sync_dies, make_activity):
    activity = make_activity(title="Klatring")
    assert [entry.activity_id for entry in backlog()] == [activity.id]
    assert check_index().missing == [activity.id]


def test_a_kill_right_after_the_index_write_leaves_the_work_queued(app, tmp_path, municipality):
    killed_import(app, tmp_path, municipality, after="index")
    ids = imported_ids()
    assert len(ids) == ACTIVITIES
    assert [entry.activity_id for entry in backlog()] == ids  # not cleared: written again
    caught_up = run(app, "reindex", "--pending")
    assert f"{ACTIVITIES} aktiviteter fra køen er skrevet til søkeindeksen." in caught_up.output
    assert backlog() == []
    assert check_index().clean


@pytest.fixture
def after_index_commit(monkeypatch):
    """after_index_commit(action): run action() once, right after the next index commit."""
    commit = SegmentWriter.commit
    pending = []

    def commit_then_act(writer, *args, **kwargs):
        commit(writer, *args, **kwargs)
        if pending:
            pending.pop()()

    monkeypatch.setattr(SegmentWriter, "commit", commit_then_act)
    return pending.append


def test_a_change_during_the_index_write_stays_queued(
    app, monkeypatch, after_index_commit, make_activity, titles
):
    """A change committed between the sync's reading and its clearing of the queue is not lost,
    even when its own process dies before it writes the index."""
    activity = make_activity(title="Klatring")

    def another_worker_commits_and_dies():
        with app.app_context(), monkeypatch.context() as dying:  # a session of its own
            dying.setattr("directory.search.service.follow_changes", lambda ids: False)
            other = db.session.get(Activity, activity.id)
            other.title = "Buldring"
            db.session.commit()
            db.session.remove()

    after_index_commit(another_worker_commits_and_dies)
    activity.summary = "Inne på klatreveggen"
    db.session.commit()
    assert [entry.activity_id for entry in backlog()] == [activity.id]
    assert check_index().stale == [activity.id]
    assert run(app, "reindex", "--pending").exit_code == 0
    assert titles("buldring") == ["Buldring"]
    assert check_index().clean


def test_a_slow_writer_never_puts_back_an_older_version(app, monkeypatch, make_activity, titles):
    """Writer A has read an activity when worker B commits a newer version of it. Whatever the
    order of their index writes, the index must not end with A's older version while the
    backlog is empty (nothing would ever repair it before the nightly rebuild)."""
    monkeypatch.setitem(app.config, "SEARCH_WRITER_TIMEOUT", 0.2)
    activity = make_activity(title="Klatring")
    load = service.load_public_activities
    interleaved = []

    def load_then_let_another_worker_commit(session, ids):
        found = load(session, ids)  # writer A has the old version in hand
        if not interleaved:
            interleaved.append(True)
            with app.app_context():  # worker B: its own session, commit and index write
                other = db.session.get(Activity, activity.id)
                other.title = "Buldring"
                db.session.commit()
                db.session.remove()
        return found

    monkeypatch.setattr(service, "load_public_activities", load_then_let_another_worker_commit)
    activity.summary = "Inne på klatreveggen"
    db.session.commit()  # writer A
    monkeypatch.undo()

    db.session.expire_all()
    assert db.session.get(Activity, activity.id).title == "Buldring"
    if not backlog():
        assert check_index().clean, "the index kept an older version and nothing is queued"
    assert run(app, "reindex", "--pending").exit_code == 0
    assert titles("buldring") == ["Buldring"]
    assert check_index().clean
