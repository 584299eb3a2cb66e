"""The cache of anonymous answers: a second visitor's page costs one query; an edit shows at once;
nothing is cached for a signed-in user; a client with the answer gets a 304. With
RESPONSE_CACHE_URL the answers live in Redis, shared by every host; Redis down is a miss."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from directory import create_app, response_cache
from directory.extensions import db
from directory.organisations.models import Membership
from directory.response_cache import REDIS_PREFIX, Entry, RedisCache, ResponseCache, cache_of
from tests.conftest import login, require_redis

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
def statements(app=None):
    """The SQL statements run meanwhile on the database engine of `app` (default: the test's)."""
    found: list[str] = []
    if app is None:
        engine = db.engine
    else:
        with app.app_context():
            engine = db.engine

    def listener(conn, cursor, statement, *args):
        found.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", listener)


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


def test_answers_from_the_cache_are_not_counted_against_the_rate_limit(
    cached, app, client, make_activity, monkeypatch
):
    """An answer the cache gives costs less than counting it: only the answers made count,
    for the API (limited as a whole) as for the search pages (limited in their view)."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "2 per minute")
    make_activity(title="Klatring for nybegynnere")
    assert [client.get("/api/v1/activities").status_code for _ in range(5)] == [200] * 5
    assert client.get("/api/v1/activities?q=klatring").status_code == 200  # the second made
    assert client.get("/api/v1/activities?q=bryting").status_code == 429  # a third is one too many


def test_the_activity_page_keeps_each_visitors_way_back_to_their_own_search(
    cached, client, make_activity
):
    # The page links back to the search it was reached from (its Referer): two visitors coming
    # from two searches each get the link to theirs, the second from the cache too.
    activity = make_activity(title="Fotball for jenter")
    page = f"/activities/{activity.id}"
    searches = ["/activities?q=fotball", "/activities?q=jenter"]
    for _visit in range(2):
        for search in searches:
            answer = client.get(page, headers={"Referer": f"http://localhost{search}"})
            assert f'href="{search}' in answer.get_data(as_text=True)
    assert len(cached) == 2


def test_an_answer_that_varies_on_a_header_its_key_lacks_is_not_kept(
    cached, client, make_activity, monkeypatch
):
    # Were the Referer left out of the activity page's key, its answer (Vary: Referer) would
    # be replayed to visitors from other searches: it is not kept at all.
    monkeypatch.setitem(response_cache.CACHEABLE, "activities.show_activity", ())
    activity = make_activity(title="Fotball for jenter")
    answer = client.get(f"/activities/{activity.id}", headers={"Referer": "http://localhost/"})
    assert "Referer" in answer.headers["Vary"]
    assert len(cached) == 0


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


# --- in Redis, shared by every host (RESPONSE_CACHE_URL) -----------------------------------------

# A database number of its own on the local Redis; the tests empty only the answers' prefix.
REDIS_URL = "redis://127.0.0.1:6379/12"
REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture(scope="module")
def redis_url():
    """The local Redis at 127.0.0.1:6379 on database 12; skip (fail in CI) when it is not there."""
    return require_redis(REDIS_URL)


@pytest.fixture
def redis_store(redis_url):
    """A client of the tests' Redis database, to look at what the answer cache keeps there."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _host(make_app, app, cache_url):
    """Another app ("host") on the test's database and search index, with the cache at cache_url."""
    return make_app(
        RESPONSE_CACHE=True,
        RESPONSE_CACHE_URL=cache_url,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"],
    )


@pytest.fixture
def hosts(app, make_app, redis_url):
    """Two hosts sharing the Redis answer cache, its answers emptied before and after, and the
    clock stopped."""
    both = [_host(make_app, app, redis_url) for _ in range(2)]
    cache_of(both[0]).clear()
    with time_machine.travel(STILL, tick=False):
        yield both
    cache_of(both[0]).clear()


def _answers(store) -> list[bytes]:
    return list(store.scan_iter(match=REDIS_PREFIX + "*"))


@pytest.mark.parametrize("path", PAGES)
def test_an_answer_made_on_one_host_is_served_from_redis_on_the_next(hosts, make_activity, path):
    make_activity(title="Klatring for nybegynnere")
    first = hosts[0].test_client().get(path)
    assert first.status_code == 200
    assert isinstance(cache_of(hosts[1]), RedisCache)
    with statements(hosts[1]) as second_run:
        second = hosts[1].test_client().get(path)
    assert second.status_code == 200
    assert second.data == first.data
    assert len(second_run) == 1  # the public data's version, nothing else
    assert second.headers["ETag"] == first.headers["ETag"]
    assert "Content-Security-Policy" in second.headers
    assert "Set-Cookie" not in second.headers


def test_an_edit_shows_at_once_on_every_host(hosts, make_activity):
    activity = make_activity(title="Klatring for nybegynnere")
    for host in hosts:
        assert b"Klatring for nybegynnere" in host.test_client().get("/").data
    activity.title = "Buldring for nybegynnere"
    db.session.commit()
    for host in hosts:
        page = host.test_client().get("/").data
        assert b"Buldring for nybegynnere" in page and b"Klatring for nybegynnere" not in page


def test_a_client_with_the_answer_gets_a_304_from_another_host(hosts, make_activity):
    make_activity(title="Klatring")
    etag = hosts[0].test_client().get("/api/v1/activities").headers["ETag"]
    again = hosts[1].test_client().get("/api/v1/activities", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_nothing_is_kept_in_redis_for_a_signed_in_user(
    hosts, redis_store, make_activity, make_user, make_organisation
):
    club = make_organisation()
    make_activity(title="Klatring", organisation=club)
    user = make_user()
    db.session.add(Membership(user=user, organisation=club, role="owner"))
    db.session.commit()
    client = hosts[0].test_client()
    login(client, user)
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert _answers(redis_store) == []


def test_an_unreadable_entry_in_redis_is_a_miss(hosts, redis_store, make_activity):
    make_activity(title="Klatring for nybegynnere")
    first = hosts[0].test_client().get("/")
    for name in _answers(redis_store):
        redis_store.set(name, b"\x00\x00\xff\xffnot an answer")
    again = hosts[1].test_client().get("/")
    assert again.status_code == 200
    assert again.data == first.data


@pytest.fixture
def host_without_redis(app, make_app):
    """A host whose Redis refuses every connection (built before the test's rows: it empties the
    database)."""
    return _host(make_app, app, REDIS_DOWN)


def test_with_redis_down_the_pages_are_made_as_without_a_cache(
    host_without_redis, make_activity, caplog
):
    host = host_without_redis
    activity = make_activity(title="Klatring for nybegynnere")
    client = host.test_client()
    with caplog.at_level(logging.WARNING, logger="directory.response_cache"):
        for _ in range(3):
            page = client.get("/")
            assert page.status_code == 200 and b"Klatring for nybegynnere" in page.data
        activity.title = "Buldring for nybegynnere"
        db.session.commit()
        page = client.get("/")
    assert page.status_code == 200
    assert b"Buldring for nybegynnere" in page.data and b"Klatring for nybegynnere" not in page.data
    warnings = [r for r in caplog.records if r.name == "directory.response_cache"]
    assert len(warnings) == 1  # once, not for every request
    assert "Redis" in warnings[0].getMessage()


def test_an_unusable_cache_url_stops_the_start_with_the_setting_named(app, make_app):
    with pytest.raises(RuntimeError, match="DIRECTORY_RESPONSE_CACHE_URL"):
        make_app(RESPONSE_CACHE_URL="http://127.0.0.1:6379/0")


@pytest.mark.parametrize(("value", "kind"), [(REDIS_DOWN, RedisCache), ("", ResponseCache)])
def test_the_environment_chooses_where_answers_are_kept(monkeypatch, tmp_path, value, kind):
    monkeypatch.setenv("DIRECTORY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("DIRECTORY_RESPONSE_CACHE_URL", value)
    built = create_app()
    assert isinstance(cache_of(built), kind)
    assert built.config["RESPONSE_CACHE_URL"] == value
