"""Throttling that holds (issue #11, finding 4).

Failed logins are counted per account (the e-mail tried) and per client address, in a store all
workers share: two gunicorn processes on the local Redis count as one. One address that is
blocked for one account does not shut its colleagues out; the per-address limit is generous.
What only a loop would hammer (the API, the search pages, the feeds) has a generous limit per
address too, answered with 429, Retry-After and a Norwegian message.
"""

from __future__ import annotations

import http.client
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from limits.storage import MemoryStorage

from tests.conftest import PASSWORD, _free_port, login, mail_link, require_redis

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A database number of its own on the local Redis: the tests empty it.
REDIS_URL = "redis://127.0.0.1:6379/13"
WRONG = "feil-passord-123"


# --- the local Redis and two workers sharing it ------------------------------------------------


@pytest.fixture(scope="module")
def redis_url():
    """The local Redis at 127.0.0.1:6379 on database 13; skip (fail in CI) when it is not there."""
    return require_redis(REDIS_URL)


@pytest.fixture
def redis_store(redis_url):
    """The test's Redis database, empty before and after."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _worker_environment(app, instance: Path, storage_uri: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY") and not k.startswith("DIRECTORY_")
    }
    env.update(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret-key",
            "DIRECTORY_INSTANCE_PATH": str(instance),
            "DIRECTORY_SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
            "DIRECTORY_UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            "DIRECTORY_RATELIMIT_STORAGE_URI": storage_uri,
            "DIRECTORY_WTF_CSRF_ENABLED": "false",
        }
    )
    return env


class Worker:
    """One gunicorn process with one sync worker: one worker of the site, on a port of its own
    so that the test decides which worker answers."""

    def __init__(self, app, directory: Path, storage_uri: str) -> None:
        self.port = _free_port()
        self.log = directory / f"gunicorn-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{self.port}",
            "directory:create_app()",
        ]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=_worker_environment(app, directory / "instance", storage_uri),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited at boot:\n{self.log.read_text()[-3000:]}")
            try:
                status, _headers, _body = request(self.port, "GET", "/login")
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return
        pytest.fail(f"gunicorn did not answer within 60 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def redis_workers(_app, redis_url, tmp_path_factory):
    """Two workers sharing the Redis store and the tests' database."""
    directory = tmp_path_factory.mktemp("workers")
    workers = [Worker(_app, directory, redis_url) for _ in range(2)]
    try:
        for worker in workers:
            worker.wait_until_ready()
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def request(port: int, method: str, path: str, form: dict | None = None, source="127.0.0.1"):
    """One HTTP request from the client address `source` (any 127.x address reaches loopback)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        body = urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1",), ("127.0.0.1", "127.0.0.2", "127.0.0.3")],
    ids=["one-address", "three-addresses"],
)
def test_failed_logins_at_one_account_are_counted_once_by_two_workers(
    make_user, redis_store, redis_workers, addresses
):
    make_user("kari@example.org")
    statuses = []
    for attempt in range(8):
        worker = redis_workers[attempt % 2]
        source = addresses[attempt % len(addresses)]
        status, headers, _body = request(
            worker.port, "POST", "/login", {"email": "kari@example.org", "password": WRONG}, source
        )
        statuses.append(status)
    assert statuses == [401] * 5 + [429] * 3
    assert int(headers["Retry-After"]) > 0
    assert redis_store.dbsize() > 0  # the count lives in Redis, not in a worker


def test_the_site_boots_with_a_redis_storage_uri(_app, redis_url, tmp_path):
    """README's DIRECTORY_RATELIMIT_STORAGE_URI=redis://… crashed every worker at boot."""
    result = subprocess.run(
        [sys.executable, "-c", "from directory import create_app; create_app()"],
        cwd=PROJECT_ROOT,
        env=_worker_environment(_app, tmp_path / "instance", redis_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]


# --- per account, per address (in this process, from made-up client addresses) -----------------


def post_login(client, email: str, password: str = WRONG, address: str = "192.0.2.1"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_one_account_is_limited_whatever_address_the_guesses_come_from(client, make_user):
    make_user("kari@example.org")
    statuses = [
        post_login(client, "kari@example.org", address=f"198.51.100.{n}").status_code
        for n in range(1, 8)
    ]
    assert statuses == [401] * 5 + [429] * 2
    # The owner too waits now, from a new address, even with the right password.
    assert post_login(client, "Kari@Example.org ", PASSWORD, "203.0.113.9").status_code == 429


def test_an_unknown_e_mail_is_limited_exactly_as_an_account(client, make_user):
    """Otherwise the 429 itself would tell which addresses have an account."""
    statuses = [
        post_login(client, "ingen@example.org", address=f"198.51.100.{n}").status_code
        for n in range(1, 8)
    ]
    assert statuses == [401] * 5 + [429] * 2


def test_an_account_blocked_behind_a_school_address_does_not_block_its_colleagues(
    client, make_user
):
    make_user("kari@example.org")
    colleague = make_user("ola@example.org")
    school = "203.0.113.20"
    for _ in range(5):
        post_login(client, "kari@example.org", address=school)
    assert post_login(client, "kari@example.org", address=school).status_code == 429
    assert post_login(client, "ola@example.org", "feil", address=school).status_code == 401
    response = post_login(client, colleague.email, PASSWORD, address=school)
    assert response.status_code == 302


def test_one_address_guessing_at_many_accounts_is_limited(client, app):
    limit = app.config["LOGIN_ADDRESS_RATE_LIMIT"]
    assert limit.startswith("30 per minute")  # the documented choice (README)
    statuses = [
        post_login(client, f"bruker{n}@example.org", address="198.51.100.77").status_code
        for n in range(31)
    ]
    assert statuses == [401] * 30 + [429]
    # Another address is not affected.
    assert post_login(client, "bruker0@example.org", address="198.51.100.78").status_code == 401


def test_a_throttled_login_says_how_long_to_wait(client, make_user):
    make_user("kari@example.org")
    for _ in range(5):
        post_login(client, "kari@example.org")
    response = post_login(client, "kari@example.org")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    body = response.get_data(as_text=True)
    assert "For mange forsøk" in body
    assert 'name="email"' in body  # the login form, with the message next to the password


def test_a_successful_login_gives_back_its_attempt(client, make_user):
    make_user("kari@example.org")
    for _ in range(4):
        post_login(client, "kari@example.org")
    assert post_login(client, "kari@example.org", PASSWORD).status_code == 302
    client.post("/logout")
    # Four failures and a success: the fifth failure is still allowed.
    assert post_login(client, "kari@example.org").status_code == 401
    assert post_login(client, "kari@example.org").status_code == 429


def test_a_password_reset_lets_the_owner_of_a_blocked_account_in(
    app, client, make_user, smtp_server
):
    """Somebody can keep an account's login shut by guessing; the owner's way in is the mailbox."""
    make_user("kari@example.org")
    for _ in range(6):
        post_login(client, "kari@example.org")
    assert post_login(client, "kari@example.org", PASSWORD).status_code == 429
    client.post("/account/password/reset", data={"email": "kari@example.org"}).close()
    link = mail_link(smtp_server.messages[0], "/account/password/reset/")
    new = "en ny og lang setning"
    assert client.post(link, data={"password": new, "password_confirm": new}).status_code == 302
    assert login(app.test_client(), "kari@example.org", new).status_code == 302


def _refused(*args, **kwargs):
    raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


class UnreachableStore(MemoryStorage):
    """A rate-limit store whose every call fails, as Redis's client does with the server down."""

    incr = get = get_expiry = clear = reset = check = _refused


def test_with_the_store_unreachable_the_site_answers_and_logins_are_limited_per_worker(
    client, make_user, monkeypatch, caplog
):
    from limits.strategies import FixedWindowRateLimiter

    from directory.accounts import throttle
    from directory.extensions import limiter

    store = UnreachableStore()
    monkeypatch.setattr(limiter, "_storage", store)
    monkeypatch.setattr(limiter, "_limiter", FixedWindowRateLimiter(store))
    monkeypatch.setattr(throttle, "_fallback", MemoryStorage())
    make_user("kari@example.org")
    assert client.get("/activities").status_code == 200
    assert client.get("/api/v1/categories").status_code == 200
    statuses = [post_login(client, "kari@example.org").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert "rate-limit store unreachable" in caplog.text


# --- what only a loop hammers --------------------------------------------------------------


@pytest.fixture
def tight(app, monkeypatch):
    """The per-address limits of the API, search and feeds set to 3 a minute."""
    for name in ("API_RATE_LIMIT", "SEARCH_RATE_LIMIT", "FEED_RATE_LIMIT"):
        monkeypatch.setitem(app.config, name, "3 per minute")


def test_the_api_answers_a_loop_with_429_in_json(client, tight):
    statuses = [client.get("/api/v1/categories").status_code for _ in range(3)]
    assert statuses == [200] * 3
    response = client.get("/api/v1/organisations")  # one limit for the whole API
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json() == {"error": "For mange forsøk. Vent litt og prøv igjen."}
    # Another address is not affected, and the health check is never limited.
    other = client.get("/api/v1/categories", environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert other.status_code == 200
    assert client.get("/healthz").status_code != 429


def test_the_search_pages_answer_a_loop_with_429_in_html(client, tight):
    assert [client.get(path).status_code for path in ("/", "/activities", "/?q=fotball")] == [
        200
    ] * 3
    response = client.get("/activities?q=sjakk")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.mimetype == "text/html"
    assert "For mange forsøk. Vent litt og prøv igjen." in response.get_data(as_text=True)


def test_the_feeds_answer_a_loop_with_429(client, tight, make_activity):
    activity = make_activity()
    for path in ("/calendar.ics", "/feed.atom", f"/activities/{activity.id}.ics"):
        assert client.get(path).status_code == 200
    response = client.get("/calendar.ics")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/embed").status_code == 429  # the widget counts as a feed


def test_a_person_browsing_never_meets_the_limits(client, app):
    # The defaults: far above what a person clicks in a minute (the README gives the numbers).
    for name, least in (
        ("API_RATE_LIMIT", 300),
        ("SEARCH_RATE_LIMIT", 120),
        ("FEED_RATE_LIMIT", 60),
    ):
        assert int(app.config[name].split()[0]) >= least, name
    assert all(client.get("/activities").status_code == 200 for _ in range(30))


# --- the memory store with more than one worker -------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "argv", "workers"),
    [
        ({}, ["flask", "run"], 1),
        ({"WEB_CONCURRENCY": "3"}, ["flask", "run"], 3),
        ({"GUNICORN_CMD_ARGS": "--bind 127.0.0.1:8000 --workers 4"}, ["/x/bin/gunicorn"], 4),
        ({}, ["/x/bin/gunicorn", "-w", "2", "directory:create_app()"], 2),
        ({}, ["/x/gunicorn/__main__.py", "--workers=5", "app"], 5),
        ({}, ["/x/bin/gunicorn", "-w2", "app"], 2),
        (
            {"WEB_CONCURRENCY": "3"},
            ["/x/bin/gunicorn", "-w", "2", "app"],
            2,
        ),  # as gunicorn reads it
        ({"WEB_CONCURRENCY": "many"}, ["gunicorn"], 1),
        ({}, ["flask", "run", "-w", "2"], 1),  # not gunicorn's option there
    ],
)
def test_the_worker_count_is_read_as_gunicorn_reads_it(environ, argv, workers):
    from directory.extensions import configured_workers

    assert configured_workers(environ, argv) == workers


def test_the_warning_names_the_shared_store_only_when_it_is_needed():
    from directory.extensions import storage_warning

    assert storage_warning("memory://", 1) is None
    assert storage_warning("redis://127.0.0.1:6379/0", 4) is None
    message = storage_warning("memory://", 2)
    assert "2 workers" in message and "RATELIMIT_STORAGE_URI" in message


def test_two_workers_on_the_memory_store_leave_a_warning_in_the_log(make_app, monkeypatch, caplog):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    with caplog.at_level(logging.WARNING):
        make_app(RATELIMIT_STORAGE_URI="memory://")
    assert any(
        "2 workers" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )
