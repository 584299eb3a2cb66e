"""The index follows the database: changes reach it after commit, never on rollback, and what
could not be written is recorded and caught up."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select
from whoosh.filedb.filestore import FileStorage

from directory.activities.models import Activity
from directory.extensions import db
from directory.search.base import SearchUnavailable
from directory.search.models import SearchBacklog
from directory.search.query import SearchQuery
from directory.search.service import (
    catch_up_backlog,
    check_index,
    get_backend,
    rebuild_index,
)
from directory.search.whoosh_backend import WhooshBackend
from directory.timeutil import utcnow
from tests.search.conftest import next_iso_weekday_at


def indexed() -> dict[int, str]:
    return get_backend().stamps()


def assert_in_sync() -> None:
    diff = check_index()
    assert diff.clean, diff


def backlog() -> list[SearchBacklog]:
    db.session.expire_all()
    return list(db.session.scalars(select(SearchBacklog).order_by(SearchBacklog.activity_id)))


@pytest.fixture
def admin(make_user, municipality):
    user = make_user("admin@drammen.kommune.no")
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


def test_a_published_activity_is_indexed_when_committed(make_activity, titles):
    activity = make_activity(title="Klatring")
    assert activity.id in indexed()
    assert titles("klatring") == ["Klatring"]
    assert_in_sync()


def test_status_changes_through_the_pages_reach_the_index(
    client, login_as, make_user, make_organisation, make_activity, titles
):
    owner = make_user()
    activity = make_activity(
        title="Klatring", status="draft", organisation=make_organisation(owners=[owner])
    )
    assert titles("klatring") == []
    login_as(owner)
    for action, listed in [
        ("publish", True),
        ("unpublish", False),
        ("publish", True),
        ("cancel", True),  # cancelled activities stay listed, marked
        ("archive", False),
    ]:
        db.session.refresh(activity)  # the page shows the version of the last change
        response = client.post(
            f"/activities/{activity.id}/{action}", data={"version": activity.version}
        )
        assert response.status_code == 302, action
        assert titles("klatring") == (["Klatring"] if listed else []), action
        assert_in_sync()


def test_edits_of_the_activity_its_schedule_category_and_organisation_reach_the_index(
    make_activity, make_category, titles
):
    activity = make_activity(title="Klatring")
    activity.title = "Buldring"
    db.session.commit()
    assert titles("klatring") == []
    assert titles("buldring") == ["Buldring"]

    # Only the schedule row changes: the activity's version does not move, the stamp does.
    activity.schedules[0].dtstart = next_iso_weekday_at(6, 11)
    db.session.commit()
    assert titles(times=("weekend",)) == ["Buldring"]
    assert titles(times=("after_school",)) == []

    category = make_category(slug="klatring")
    activity.category = category
    db.session.commit()
    category.slug = "klatresport"
    db.session.commit()
    assert titles(categories=("klatresport",)) == ["Buldring"]

    activity.organisation.name = "Klatreklubben Fjellet"
    db.session.commit()
    assert titles("fjellet") == ["Buldring"]
    assert_in_sync()


def test_a_deleted_activity_leaves_the_index(make_activity, titles):
    activity = make_activity(title="Klatring")
    activity_id = activity.id
    db.session.delete(activity)
    db.session.commit()
    assert activity_id not in indexed()
    assert titles("klatring") == []
    assert_in_sync()


def test_rejecting_an_organisation_removes_its_activities_and_verifying_brings_them_back(
    client, login_as, admin, make_organisation, make_activity, titles
):
    club = make_organisation(name="Klubben", verification="pending")
    make_activity(title="Klatring", organisation=club)
    make_activity(title="Buldring", organisation=club)
    assert sorted(titles()) == ["Buldring", "Klatring"]
    login_as(admin)
    response = client.post(f"/admin/organisations/{club.id}/reject", data={"reason": "Ukjent."})
    assert response.status_code == 302
    assert titles() == []
    assert_in_sync()
    assert client.post(f"/admin/organisations/{club.id}/verify").status_code == 302
    assert sorted(titles()) == ["Buldring", "Klatring"]
    assert_in_sync()


def test_a_rollback_leaves_the_index_unchanged(make_activity, make_organisation, titles):
    activity = make_activity(title="Klatring")
    club = make_organisation()
    before = indexed()
    activity.title = "Buldring"
    db.session.add(Activity(organisation=club, title="Ny", age_min=1, age_max=2,
                            status="published"))  # fmt: skip
    db.session.flush()
    db.session.rollback()
    assert indexed() == before
    # What the rolled-back flush touched is forgotten, not written with the next commit.
    other = make_activity(title="Svømming")
    assert set(indexed()) == set(before) | {other.id}
    assert titles("buldring") == []
    assert titles("klatring") == ["Klatring"]
    assert_in_sync()


@pytest.fixture
def short_timeout(app, monkeypatch):
    monkeypatch.setitem(app.config, "SEARCH_WRITER_TIMEOUT", 0.2)


@pytest.fixture
def lock_index(short_timeout):
    """Hold the index's writer lock (as a long write in another worker would)."""
    held = []

    def hold():
        backend = get_backend()
        holder = backend._open(backend.current_name()).writer()
        held.append(holder)
        return holder

    yield hold
    for holder in held:
        if not holder.is_closed:
            holder.cancel()


def test_a_locked_index_does_not_break_the_commit_and_is_caught_up(
    lock_index, make_activity, titles
):
    activity = make_activity(title="Klatring")
    holder = lock_index()
    activity.title = "Buldring"
    db.session.commit()  # must not raise
    (entry,) = backlog()
    assert entry.activity_id == activity.id
    assert entry.attempts == 1
    assert "locked" in entry.last_error
    assert check_index().stale == [activity.id]

    activity.summary = "Inne på klatreveggen"
    db.session.commit()
    (entry,) = backlog()
    assert entry.attempts == 2

    holder.cancel()
    other = make_activity(title="Svømming")  # the next successful write catches up
    assert backlog() == []
    assert titles("buldring") == ["Buldring"]
    assert other.id in indexed()
    assert_in_sync()


def test_reindex_pending_catches_up_the_backlog(lock_index, make_activity, titles):
    holder = lock_index()
    first = make_activity(title="Klatring")
    second = make_activity(title="Buldring")
    assert [e.activity_id for e in backlog()] == [first.id, second.id]
    with pytest.raises(SearchUnavailable):
        catch_up_backlog()  # still locked
    holder.cancel()
    assert catch_up_backlog() == 2
    assert backlog() == []
    assert sorted(titles()) == ["Buldring", "Klatring"]
    assert_in_sync()


def test_a_missing_index_is_recorded_and_a_rebuild_clears_the_backlog(app, make_activity):
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    activity = make_activity(title="Klatring")  # the commit succeeds
    assert [e.activity_id for e in backlog()] == [activity.id]
    assert rebuild_index() == 1
    assert backlog() == []
    assert_in_sync()


def test_sync_can_be_switched_off_for_bulk_loads_and_the_changes_stay_queued(
    app, monkeypatch, make_activity
):
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)
    activity = make_activity(title="Klatring")
    assert check_index().missing == [activity.id]
    assert [e.activity_id for e in backlog()] == [activity.id]
    assert rebuild_index() == 1
    assert backlog() == []
    assert_in_sync()


def test_with_the_database_backend_nothing_is_queued(app, monkeypatch, make_activity):
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", "database")
    make_activity(title="Klatring")
    assert backlog() == []


def test_another_worker_sees_the_writes(app, make_activity):
    other_worker = WhooshBackend(app.config["SEARCH_INDEX_DIR"])
    assert other_worker.query(SearchQuery(), now=utcnow()).total == 0  # its searcher is open
    activity = make_activity(title="Klatring")
    assert other_worker.query(SearchQuery(), now=utcnow()).ids == [activity.id]
    other_worker.close()


def test_searches_keep_answering_during_a_rebuild(app, make_activity):
    first = make_activity(title="Klatring")
    second = make_activity(title="Buldring")
    backend = get_backend()
    seen_during = []

    def progress(step):
        seen_during.append(backend.query(SearchQuery(), now=utcnow()).total)

    assert rebuild_index(progress=progress) == 2
    assert seen_during == [2, 2]  # the old index answered while the new one was written
    assert sorted(backend.query(SearchQuery(), now=utcnow()).ids) == sorted([first.id, second.id])
    assert_in_sync()


def test_only_one_rebuild_runs_at_a_time(app, make_activity):
    make_activity(title="Klatring")
    backend = get_backend()
    storage_lock = FileStorage(app.config["SEARCH_INDEX_DIR"]).lock("REBUILD_LOCK")
    assert storage_lock.acquire(blocking=False)  # as another `flask reindex` would hold it
    try:
        with pytest.raises(SearchUnavailable):
            rebuild_index()
    finally:
        storage_lock.release()
    assert backend.query(SearchQuery(), now=utcnow()).total == 1  # the index was left alone
    assert rebuild_index() == 1
