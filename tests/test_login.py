"""Logging in and out: fresh sessions, revocation, safe redirects, throttling."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, login


def test_login_with_right_password_redirects_to_dashboard(client, make_user):
    user = make_user("kari@example.org")
    response = login(client, "KARI@example.org ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account")
    page = client.get("/account")
    assert page.status_code == 200
    assert user.email in page.get_data(as_text=True)


def test_wrong_password_is_refused_in_norwegian(client, make_user):
    make_user("kari@example.org")
    response = login(client, "kari@example.org", "feil-passord")
    assert response.status_code == 401
    assert "Feil e-post eller passord." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    response = login(client, "ingen@example.org")
    assert response.status_code == 401
    assert "Feil e-post eller passord." in response.get_data(as_text=True)


def test_empty_form_shows_field_errors(client):
    response = client.post("/login", data={})
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Skriv inn e-postadressen din." in body
    assert "Skriv inn passordet ditt." in body


def test_logout_revokes_the_session_even_for_a_copied_cookie(app, make_user):
    make_user("kari@example.org")
    client = app.test_client()
    login(client, "kari@example.org")
    stolen = client.get_cookie("directory_session").value
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("directory_session", stolen)
    assert thief.get("/account").status_code == 302  # sent to the login page


def test_each_login_gets_a_new_session_token(app, make_user):
    make_user("kari@example.org")
    first, second = app.test_client(), app.test_client()
    login(first, "kari@example.org")
    login(second, "kari@example.org")
    assert (
        first.get_cookie("directory_session").value != second.get_cookie("directory_session").value
    )
    first.post("/logout")
    assert second.get("/account").status_code == 200  # the other device stays logged in


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/x",
    ],
)
def test_next_accepts_only_local_paths(client, make_user, target):
    make_user("kari@example.org")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "kari@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_next_local_path_is_followed(client, make_user):
    make_user("kari@example.org")
    response = client.post(
        "/login",
        query_string={"next": "/account?x=1"},
        data={"email": "kari@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/account?x=1"


def test_repeated_failures_are_throttled(client, make_user):
    make_user("kari@example.org")
    statuses = [login(client, "kari@example.org", "feil").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    assert "For mange forsøk" in login(client, "kari@example.org").get_data(as_text=True)


def test_password_is_stored_as_argon2id(make_user):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_successful_logins_do_not_count_against_the_throttle(client, make_user):
    make_user("kari@example.org")
    for _attempt in range(6):
        assert login(client, "kari@example.org").status_code == 302
        client.post("/logout")
    assert login(client, "kari@example.org", "feil").status_code == 401
