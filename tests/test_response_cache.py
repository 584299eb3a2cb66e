"""The cache of anonymous answers: a second visitor's page costs one query; an edit shows at once;
nothing is cached for a signed-in user; a client with the answer gets a 304."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from directory.extensions import db
from directory.organisations.models import Membership
from directory.response_cache import Entry, ResponseCache, cache_of
from tests.conftest import login

# Answers are kept per minute (RESPONSE_CACHE_SECONDS): the clock stands still in these tests, a
# few seconds into a minute, so that two visits never fall on either side of a minute's turn.
STILL = datetime(2026, 3, 10, 12, 0, 5, tzinfo=UTC)


@pytest.fixture
def cached(app, monkeypatch):
    """The answer cache on, empty before and after the test, and the clock stopped."""
    monkeypatch.setitem(app.config, "RESPONSE_CACHE", True)
    cache_of(app).clear()
    with time_machine.travel(STILL, tick=False):
        yield cache_of(app)
    cache_of(app).clear()


@contextmanager
def statements():
    found: list[str] = []

    def listener(conn, cursor, statement, *args):
        found.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield found
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


PAGES = ["/", "/activities?q=klatring", "/api/v1/activities", "/organisations"]


@pytest.mark.parametrize("path", PAGES)
def test_the_second_anonymous_visit_is_answered_from_the_cache(cached, client, make_activity, path):
    make_activity(title="Klatring for nybegynnere")
    first = client.get(path)
    assert first.status_code == 200
    with statements() as second_run:
        second = client.get(path)
    assert second.status_code == 200
    assert second.data == first.data
    assert len(second_run) == 1  # the public data's version, nothing else
    assert second.headers["ETag"] == first.headers["ETag"]
    assert "Content-Security-Policy" in second.headers  # the headers of every answer
    assert "Set-Cookie" not in second.headers


def test_an_edit_shows_at_once(cached, client, make_activity):
    activity = make_activity(title="Klatring for nybegynnere")
    assert b"Klatring for nybegynnere" in client.get("/").data
    activity.title = "Buldring for nybegynnere"
    db.session.commit()
    page = client.get("/").data
    assert b"Buldring for nybegynnere" in page and b"Klatring for nybegynnere" not in page


def test_the_clock_moves_the_answer_on(cached, client, make_activity):
    make_activity(title="Klatring")
    first = client.get("/api/v1/activities")
    with time_machine.travel(STILL + timedelta(seconds=61), tick=False):
        again = client.get("/api/v1/activities")
    assert again.headers["ETag"] != first.headers["ETag"]


def test_a_client_with_the_answer_gets_a_304(cached, client, make_activity):
    make_activity(title="Klatring")
    etag = client.get("/api/v1/activities").headers["ETag"]
    again = client.get("/api/v1/activities", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_languages_are_answers_of_their_own(cached, client, make_activity):
    make_activity(title="Klatring")
    bokmal = client.get("/")
    english = client.get("/?lang=en")
    assert bokmal.data != english.data
    assert client.get("/?lang=en").data == english.data


def test_nothing_is_cached_for_a_signed_in_user(
    cached, client, make_activity, make_user, make_organisation
):
    club = make_organisation()
    make_activity(title="Klatring", organisation=club)
    user = make_user()
    db.session.add(Membership(user=user, organisation=club, role="owner"))
    db.session.commit()
    login(client, user)
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert len(cached) == 0
    with statements() as again:
        client.get("/")
    assert len(again) > 1  # made again, for this user


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    cache = ResponseCache(max_bytes=4000)
    for n in range(10):
        cache.put(str(n), Entry(b"x" * 700, (("Content-Type", "text/html"),), str(n)))
    assert cache.size <= 4000
    assert cache.get("0") is None and cache.get("9") is not None
    cache.put("big", Entry(b"x" * 2000, (), "big"))  # over a quarter: never kept
    assert cache.get("big") is None
