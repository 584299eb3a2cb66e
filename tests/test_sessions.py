"""The login session: its cookie over HTTPS, and how long it lasts (issue #11, finding 9).

The cookie was Secure only when configured and never had the `__Host-` prefix; a staff or
admin session lasted its full 12 hours however long it lay unused.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from directory.extensions import db
from tests.conftest import PASSWORD, login

HTTPS = "https://localhost"
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
IDLE_MESSAGE = "Du ble logget ut fordi du ikke hadde brukt siden på en stund."


def session_cookie(response) -> tuple[str, dict[str, str]]:
    """The session cookie the response sets: its name, and its attributes (lower-case keys)."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if "directory_session=" in h]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    name_value, *attributes = (part.strip() for part in headers[0].split(";"))
    parsed = {}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        parsed[key.lower()] = value
    return name_value.split("=", 1)[0], parsed


def log_in_over(client, user, base_url: str):
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, base_url=base_url
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


# --- the cookie ---------------------------------------------------------------------------------


def test_over_https_the_cookie_is_secure_host_prefixed_and_for_the_whole_site(app, make_user):
    client = app.test_client()
    name, attributes = session_cookie(log_in_over(client, make_user(), HTTPS))
    assert name == "__Host-directory_session"
    assert "secure" in attributes
    assert attributes["path"] == "/"
    assert "domain" not in attributes  # __Host-: the browser keeps it only without Domain
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert client.get("/account", base_url=HTTPS).status_code == 200


def test_over_plain_http_on_the_own_machine_the_cookie_works_without_secure(app, make_user):
    # `make run` serves http://127.0.0.1:5000: a Secure cookie would never come back there.
    client = app.test_client()
    name, attributes = session_cookie(log_in_over(client, make_user(), "http://127.0.0.1:5000"))
    assert name == "directory_session"
    assert "secure" not in attributes
    assert client.get("/account", base_url="http://127.0.0.1:5000").status_code == 200


def test_the_production_profile_sets_a_secure_host_cookie(make_app):
    app = make_app(PROFILE="production")
    with app.app_context():
        from tests.conftest import quick_user

        user = quick_user("arrangor")
        db.session.commit()
        name, attributes = session_cookie(log_in_over(app.test_client(), user, HTTPS))
    assert name == "__Host-directory_session"
    assert "secure" in attributes and attributes["path"] == "/" and "domain" not in attributes


def test_the_production_profile_over_plain_http_keeps_the_cookie_secure_and_says_why_logins_fail(
    make_app, caplog
):
    """Served over plain http (TLS not set up, or the proxy's X-Forwarded-Proto not trusted),
    the cookie stays Secure: browsers drop it and the login does not stick, and the log says so
    (once per worker) instead of leaving it a mystery."""
    app = make_app(PROFILE="production")
    with app.app_context():
        from tests.conftest import quick_user

        user = quick_user("arrangor")
        db.session.commit()
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger=app.logger.name):
            name, attributes = session_cookie(log_in_over(client, user, "http://localhost"))
            log_in_over(client, user, "http://localhost")
    assert name == "__Host-directory_session" and "secure" in attributes
    warnings = [r for r in caplog.records if "plain http" in r.getMessage()]
    assert len(warnings) == 1


# --- idle timeout -------------------------------------------------------------------------------


@pytest.fixture
def staff(make_school, make_staff):
    return make_staff(make_school())


@pytest.fixture
def municipal_admin(make_user, municipality):
    user = make_user()
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


@pytest.fixture
def organiser(make_user, make_organisation):
    user = make_user()
    make_organisation(members=[user])
    return user


@pytest.mark.parametrize("role", ["staff", "municipal_admin"])
def test_a_staff_or_admin_session_unused_for_over_two_hours_ends_with_a_message(
    request, client, role
):
    user = request.getfixturevalue(role)
    with time_machine.travel(START, tick=False) as clock:
        assert login(client, user).status_code == 302
        clock.shift(timedelta(hours=2, minutes=1))
        response = client.get("/account")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert IDLE_MESSAGE in page
        # Said once: the next page is simply logged out.
        assert IDLE_MESSAGE not in client.get("/").get_data(as_text=True)


def test_using_the_site_keeps_a_staff_session_alive_until_the_absolute_lifetime(client, staff):
    with time_machine.travel(START, tick=False) as clock:
        assert login(client, staff).status_code == 302
        for _ in range(6):  # 6 × 1 h 55 min = 11 h 30 min, never two hours apart
            clock.shift(timedelta(hours=1, minutes=55))
            assert client.get("/account").status_code == 200
        clock.shift(timedelta(minutes=31))  # 12 h 1 min after the login
        assert client.get("/account").status_code == 302


def test_an_organisers_session_has_only_the_absolute_lifetime(client, organiser):
    with time_machine.travel(START, tick=False) as clock:
        assert login(client, organiser).status_code == 302
        clock.shift(timedelta(hours=11, minutes=59))
        assert client.get("/account").status_code == 200
        clock.shift(timedelta(minutes=2))
        assert client.get("/account").status_code == 302


def test_a_sessions_use_is_written_at_most_once_a_minute(app, client, staff):
    writes: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE USER_SESSION"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with time_machine.travel(START, tick=False) as clock:
            assert login(client, staff).status_code == 302
            for _ in range(5):  # five pages within 50 seconds: nothing to write
                clock.shift(timedelta(seconds=10))
                assert client.get("/account").status_code == 200
            assert writes == []
            clock.shift(timedelta(seconds=20))  # 70 s after the login
            assert client.get("/account").status_code == 200
            assert client.get("/account").status_code == 200
            assert len(writes) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
