"""The password rule (ASVS 6.2) and changing one's password: the rule refuses short, long, common
and self-describing passwords with their own message; a change ends the account's other
sessions but keeps the current one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from directory.accounts.models import User, UserSession
from directory.accounts.passwords import common_passwords, password_problem
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.policy.passwords import PasswordProblem, check_password
from tests.conftest import PASSWORD, login

NEW = "tre lange ord og en hest"


# --- the rule, pure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a" * 9, PasswordProblem.TOO_SHORT),
        ("a" * 201, PasswordProblem.TOO_LONG),
        ("QwertyUiop", PasswordProblem.COMMON),
        ("kari.nordmann@example.org", PasswordProblem.EMAIL),
        ("KARI.NORDMANN", PasswordProblem.EMAIL),
        ("Kari Nordmann", PasswordProblem.NAME),
        ("a" * 10, None),
        ("æøå " * 50, None),  # 200 characters, not bytes
        ("🐴🔋 kari nordmann 42", None),  # any characters; the name inside a phrase is fine
    ],
)
def test_the_rule_names_the_first_problem(password, problem):
    found = check_password(
        password,
        common=frozenset({"qwertyuiop"}),
        email="Kari.Nordmann@example.org",
        name="Kari Nordmann",
    )
    assert found == problem


def test_the_shipped_list_holds_a_hundred_thousand_common_passwords():
    common = common_passwords()
    assert len(common) == 100_000
    assert {"123456", "password", "qwertyuiop", "1234567890"} <= common
    assert common_passwords() is common  # read once per process


def test_each_problem_has_its_own_bokmal_message(app):
    with app.test_request_context("/"):
        assert "mest brukte" in password_problem("1234567890")
        assert "minst 10 tegn" in password_problem("kort")
        assert "e-postadressen din" in password_problem("ola@example.org", email="ola@example.org")
        assert "navnet ditt" in password_problem("Ola Nordmann1", name="ola nordmann1")
        assert password_problem(NEW, email="ola@example.org", name="Ola") is None


# --- changing the password ------------------------------------------------------------------


@pytest.fixture
def kari(make_user):
    return make_user("kari@example.org", name="Kari Nordmann")


def change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "password": new,
            "password_confirm": new if confirm is None else confirm,
        },
    )


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, client, kari):
    other_device = app.test_client()
    assert login(other_device, kari).status_code == 302
    assert login(client, kari).status_code == 302

    response = change(client)

    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # still signed in here
    assert other_device.get("/account").status_code == 302  # sent to the login page
    assert db.session.scalar(select(db.func.count(UserSession.id))) == 1
    assert login(app.test_client(), kari, NEW).status_code == 302
    assert login(app.test_client(), kari, PASSWORD).status_code == 401
    user = db.session.get(User, kari.id)
    assert user.password_changed_at is not None
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.change_password")
    ).all()
    assert PASSWORD not in str(event.data) and NEW not in str(event.data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current": "feil-passord-123"}, "Passordet er feil."),
        ({"new": "kort", "confirm": "kort"}, "Passordet må ha minst 10 tegn."),
        ({"new": "1234567890", "confirm": "1234567890"}, "blant de mest brukte"),
        ({"new": "kari@example.org", "confirm": "kari@example.org"}, "e-postadressen din"),
        ({"new": "Kari Nordmann", "confirm": "Kari Nordmann"}, "navnet ditt"),
        ({"confirm": "noe helt annet her"}, "Passordene er ikke like."),
        ({"current": ""}, "Skriv inn passordet du har nå."),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(client, kari, login_as, data, message):
    login_as(kari)
    before = db.session.get(User, kari.id).password_hash
    response = change(client, **data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, kari.id).password_hash == before


def test_the_dashboard_links_to_the_change_password_page(client, kari, login_as):
    login_as(kari)
    assert 'href="/account/password"' in client.get("/account").get_data(as_text=True)


def test_guessing_the_current_password_is_throttled(client, kari, login_as):
    login_as(kari)
    statuses = [change(client, current="feil-passord-123").status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]
    db.session.expire_all()
    assert login(client.application.test_client(), kari, PASSWORD).status_code == 302
