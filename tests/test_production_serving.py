"""Production serving (issue 11, finding 1): nginx in front of gunicorn, and the one proxy hop.

Sync workers read a request from its first byte to its last: two clients that send their
headers slowly hold both workers of a two-worker gunicorn, and the site stops answering. The
nginx site of deploy/nginx.conf reads every request whole before passing it on. The tests below
start Debian's nginx with that file (local ports and paths substituted) in front of gunicorn
with deploy/gunicorn.conf.py, and show both sides: the slow clients block gunicorn alone, and
through nginx the site answers while they hold their connections.

Behind nginx the application sees nginx's address; PROXY_FIX_HOPS (1 in the production profile)
makes it take the client's address from the one X-Forwarded-For entry nginx sets.
"""

from __future__ import annotations

import gzip
import re
import shutil
import socket
import ssl
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import request
from icalendar import Calendar

from bench.slow_clients import (
    NGINX,
    PUBLIC_HOST,
    Target,
    fetch,
    free_port,
    prepare_instance,
    probes,
    running_gunicorn,
    running_nginx,
    slow_clients,
)
from directory.timeutil import oslo_now
from tests.conftest import require_tool

# The slow clients: six clients that send one header line a second, two that send half a form body
# a few bytes a second. Two of them are enough to hold both workers.
SLOW_HEADERS, SLOW_BODIES = 6, 2
# Nothing here waits this long on a working site; /healthz normally answers in milliseconds.
GENEROUS = 5.0


# --- the application trusts exactly one proxy hop, only when configured ------------------------


def _address_app(make_app, **config):
    """An app with a route that shows what it believes about the client."""
    app = make_app(PUBLIC_BASE_URL=f"https://{PUBLIC_HOST}", **config)

    @app.get("/_test/client")
    def _client():
        return {"remote_addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return app


def _from_nginx(app, path: str, forwarded_for: str, host: str = PUBLIC_HOST):
    """A request as nginx passes it on: from 127.0.0.1, with the X-Forwarded-* headers."""
    return app.test_client().get(
        path,
        base_url=f"http://{host}",
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={
            "X-Forwarded-For": forwarded_for,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": host,
        },
    )


def test_without_a_configured_proxy_forwarded_headers_are_ignored(make_app):
    app = _address_app(make_app)

    seen = _from_nginx(app, "/_test/client", "203.0.113.7").get_json()

    # Anyone can send X-Forwarded-For: without a proxy in front it must not pick the address.
    assert seen == {"remote_addr": "127.0.0.1", "scheme": "http", "host": PUBLIC_HOST}


def test_production_profile_sees_the_client_nginx_saw(make_app):
    app = _address_app(make_app, PROFILE="production")

    response = _from_nginx(app, "/_test/client", "203.0.113.7")

    assert response.get_json()["remote_addr"] == "203.0.113.7"
    assert response.get_json()["scheme"] == "https"
    # HTTPS as the browser sees it, so the app's HSTS header is sent through the proxy.
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_a_spoofed_forwarded_hop_is_not_trusted(make_app):
    app = _address_app(make_app, PROFILE="production")

    # The client sent "X-Forwarded-For: 198.51.100.66" itself; a proxy appending to it gives
    # two entries, of which only the last (the address the proxy saw) is trusted.
    seen = _from_nginx(app, "/_test/client", "198.51.100.66, 203.0.113.7").get_json()

    assert seen["remote_addr"] == "203.0.113.7"


def test_proxy_hops_follow_the_setting_in_any_profile(make_app):
    app = _address_app(make_app, PROXY_FIX_HOPS=1)

    seen = _from_nginx(app, "/_test/client", "203.0.113.9").get_json()

    assert seen["remote_addr"] == "203.0.113.9"


# --- nginx in front of gunicorn: slow clients -------------------------------------------------


def _require_tools() -> None:
    missing = [
        what
        for what, present in (
            ("nginx (apt-get install nginx)", Path(NGINX).exists()),
            ("openssl (for the test certificate)", shutil.which("openssl") is not None),
        )
        if not present
    ]
    if not missing:
        return
    require_tool("missing " + ", ".join(missing) + " (.ci/run installs them)")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn (deploy/gunicorn.conf.py, two sync workers, production profile, a new SQLite
    database with the demo data, so that the calendar has events) on 127.0.0.1, and nginx
    (deploy/nginx.conf over TLS) in front of it."""
    _require_tools()
    workdir = tmp_path_factory.mktemp("production")
    env = prepare_instance(workdir, demo=True)
    with ExitStack() as stack:
        gunicorn = stack.enter_context(running_gunicorn(env, workdir, workers=2))
        site = stack.enter_context(running_nginx(gunicorn.target.port))
        yield gunicorn, site


def _answered(target: Target) -> None:
    """Wait for gunicorn to be free again after a test that held it."""
    deadline = time.monotonic() + 60
    while fetch(target, "/healthz", timeout=GENEROUS).status != 200:
        assert time.monotonic() < deadline, f"{target.name} stopped answering /healthz"
        time.sleep(0.2)


def test_slow_clients_hold_gunicorn_alone(served):
    """The finding, as it stands without nginx: sync workers wait for the slow clients."""
    gunicorn, _site = served
    _answered(gunicorn.target)

    with slow_clients(gunicorn.target, SLOW_HEADERS, SLOW_BODIES) as clients:
        replies = probes(gunicorn.target, ["/healthz", "/"], spacing=0.2, timeout=GENEROUS)
        held = [client.held() for client in clients]

    assert all(held)
    assert [(path, reply.status, reply.error) for path, reply in replies] == [
        ("/healthz", None, "TimeoutError"),
        ("/", None, "TimeoutError"),
    ]
    _answered(gunicorn.target)  # and it recovers once they are gone


def test_through_nginx_the_site_answers_while_slow_clients_hold_their_connections(served):
    gunicorn, site = served
    _answered(gunicorn.target)
    paths = ["/healthz", "/", "/healthz", "/"]

    with slow_clients(site.https, SLOW_HEADERS, SLOW_BODIES) as clients:
        replies = probes(site.https, paths, spacing=0.2, timeout=30)
        held = [client.held() for client in clients]
        # nginx does not keep them for ever: a header must be complete within
        # client_header_timeout (10 s), however slowly it keeps coming.
        deadline = time.monotonic() + 30
        header_clients = clients[:SLOW_HEADERS]
        while any(c.held() for c in header_clients) and time.monotonic() < deadline:
            time.sleep(0.2)
        dropped = [c.dropped_after is not None for c in header_clients]

    assert [(path, reply.status) for path, reply in replies] == [(path, 200) for path in paths]
    # Answered while every slow client still held its connection, not after they gave up.
    assert all(held)
    assert all(dropped)


def test_nginx_refuses_an_upload_above_max_content_length_in_norwegian(served):
    _gunicorn, site = served
    too_large = 12 * 1024 * 1024 + 1  # MAX_CONTENT_LENGTH + 1

    # Only the header is sent: nginx answers from Content-Length, before any body arrives.
    reply = fetch(
        site.https,
        "/activities/1/edit",  # the activity form, with its image and flyer
        method="POST",
        headers={
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(too_large),
        },
    )

    assert reply.status == 413
    assert "Opplastingen er for stor" in reply.body.decode()


def test_nginx_answers_503_in_norwegian_while_gunicorn_is_down():
    _require_tools()

    with running_nginx(upstream_port=free_port()) as site:  # nothing listens there
        reply = fetch(site.https, "/activities")

    assert reply.status == 503
    assert reply.headers["retry-after"] == "30"
    assert "Tjenesten er midlertidig utilgjengelig" in reply.body.decode()


def test_nginx_compresses_text_and_serves_stylesheets_with_cache_headers(served):
    _gunicorn, site = served
    gzip = {"Accept-Encoding": "gzip"}

    page = fetch(site.https, "/", headers=gzip)
    api = fetch(site.https, "/api/v1/openapi.json", headers=gzip)
    css = fetch(site.https, "/static/site.css")

    assert (page.status, page.headers.get("content-encoding")) == (200, "gzip")
    assert (api.status, api.headers.get("content-encoding")) == (200, "gzip")
    assert css.status == 200
    assert css.body == (Path(__file__).resolve().parent.parent / "static" / "site.css").read_bytes()
    assert css.headers["cache-control"] == "public, max-age=3600"


def _without_dtstamp(calendar: bytes) -> bytes:
    """The calendar without its DTSTAMP lines: the time of writing, which two requests may not
    share."""
    return re.sub(rb"^DTSTAMP:[^\r\n]*\r\n", b"", calendar, flags=re.MULTILINE)


def _clear_of_midnight() -> None:
    """The calendar's content and ETag move with the day in Oslo, and the servers' clock cannot
    be stopped from here: within a minute of midnight, wait until the new day has begun."""
    now = oslo_now()
    left = 24 * 3600 - (now.hour * 3600 + now.minute * 60 + now.second)
    if left <= 60:
        time.sleep(left + 1)


def test_nginx_sends_the_calendar_gzipped_and_it_is_the_same_calendar(served):
    _gunicorn, site = served
    _clear_of_midnight()

    zipped = fetch(site.https, "/calendar.ics", headers={"Accept-Encoding": "gzip"})
    plain = fetch(site.https, "/calendar.ics")

    assert (zipped.status, zipped.headers.get("content-encoding")) == (200, "gzip")
    assert len(zipped.body) < len(plain.body) / 4
    calendar = gzip.decompress(zipped.body)
    assert Calendar.from_ical(calendar).walk("VEVENT")  # a calendar, with its events
    assert _without_dtstamp(calendar) == _without_dtstamp(plain.body)


def test_through_nginx_the_gzipped_calendars_etag_gives_a_304(served):
    _gunicorn, site = served
    gzip_accepted = {"Accept-Encoding": "gzip"}
    _clear_of_midnight()
    first = fetch(site.https, "/calendar.ics", headers=gzip_accepted)

    again = fetch(
        site.https,
        "/calendar.ics",
        headers={**gzip_accepted, "If-None-Match": first.headers["etag"]},
    )

    assert first.headers.get("content-encoding") == "gzip"
    assert (again.status, again.body) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]


def test_gunicorn_logs_the_client_nginx_saw_not_a_forged_address(served):
    gunicorn, site = served
    marker = uuid.uuid4().hex

    reply = fetch(
        site.https, f"/healthz?probe={marker}", headers={"X-Forwarded-For": "198.51.100.66"}
    )

    assert reply.status == 200
    deadline = time.monotonic() + 10
    while marker not in gunicorn.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    [line] = [line for line in gunicorn.log.read_text().splitlines() if marker in line]
    # nginx replaces X-Forwarded-For with the address it saw: here the test's own, 127.0.0.1.
    assert line.startswith("127.0.0.1 ")
    assert "198.51.100.66" not in line


def test_nginx_sends_plain_http_to_https_and_ignores_other_names(served):
    _gunicorn, site = served

    redirect = fetch(site.http, "/activities?q=fotball")
    other_name = fetch(site.http, "/", headers={"Host": "evil.example"})
    untrusted_tls = ssl.create_default_context()
    untrusted_tls.check_hostname = False
    untrusted_tls.verify_mode = ssl.CERT_NONE

    assert redirect.status == 301
    assert redirect.headers["location"] == f"https://{PUBLIC_HOST}/activities?q=fotball"
    assert other_name.status is None  # closed without an answer (444)
    with socket.create_connection(("127.0.0.1", site.https.port), timeout=5) as raw:
        # No certificate is even shown for a name the site does not have.
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            untrusted_tls.wrap_socket(raw, server_hostname="evil.example")
