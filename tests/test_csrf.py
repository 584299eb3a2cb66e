"""With CSRF protection on (as in production), state changes need the form's token."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from directory.accounts.models import PendingRegistration
from directory.accounts.operations import create_user
from directory.activities.models import Activity, Schedule
from directory.extensions import db, limiter
from directory.organisations.models import Membership, Organisation
from directory.schools.models import Municipality
from tests.conftest import PASSWORD, csrf_token_from, next_weekday_at

MESSAGE = "Skjemaet var utløpt eller ugyldig. Last inn siden på nytt og prøv igjen."


@pytest.fixture
def csrf_app(make_app):
    """An app with CSRF protection on, its context pushed for setting up data."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()


@pytest.fixture
def world(csrf_app):
    """A municipality, an organisation with an owner, and a draft activity."""
    municipality = Municipality(slug="drammen", name="Drammen")
    owner = create_user("eier@example.org", "Eva Eier", PASSWORD)
    organisation = Organisation(
        municipality=municipality, slug="bragernes-il", name="Bragernes IL", kind="volunteer"
    )
    activity = Activity(
        organisation=organisation,
        title="Fotball",
        summary="Trening",
        age_min=8,
        age_max=10,
        status="draft",
    )
    activity.schedules.append(Schedule(dtstart=next_weekday_at(1, 17), rrule="FREQ=WEEKLY"))
    db.session.add_all(
        [municipality, organisation, activity, Membership(user=owner, organisation=organisation)]
    )
    db.session.commit()
    return {
        "municipality_id": municipality.id,
        "owner_email": owner.email,
        "activity_id": activity.id,
    }


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _logged_in(client) -> bool:
    return client.get("/account").status_code == 200


def _log_in(client, email: str) -> None:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def _registration(world) -> dict:
    return {
        "name": "Nils Ny",
        "email": "ny@example.org",
        "password": PASSWORD,
        "password_repeat": PASSWORD,
        "municipality": str(world["municipality_id"]),
        "org_name": "Nytt Lag",
        "kind": "volunteer",
    }


# Each action: how to prepare the client, where the form is, where it posts, what it sends,
# and how to tell whether it took effect.
ACTIONS = {
    "login": {
        "form": lambda w: "/login",
        "post": lambda w: "/login",
        "data": lambda w: {"email": w["owner_email"], "password": PASSWORD},
        "done": lambda client, w: _logged_in(client),
    },
    "logout": {
        "login": True,
        "form": lambda w: "/account",
        "post": lambda w: "/logout",
        "data": lambda w: {},
        "done": lambda client, w: not _logged_in(client),
    },
    "register": {
        "form": lambda w: "/register",
        "post": lambda w: "/register",
        "data": _registration,
        # A new address is sent a link: nothing but the pending registration exists until then.
        "status": 200,
        "done": lambda client, w: _count(PendingRegistration) == 1,
    },
    "publish": {
        "login": True,
        "form": lambda w: f"/activities/{w['activity_id']}",
        "post": lambda w: f"/activities/{w['activity_id']}/publish",
        "data": lambda w: {"version": "1", "return_to": "detail"},
        "done": lambda client, w: _status(w["activity_id"]) == "published",
    },
}


def _status(activity_id: int) -> str:
    return db.session.scalar(select(Activity.status).where(Activity.id == activity_id))


def _prepare(client, world, action: dict) -> None:
    if action.get("login"):
        _log_in(client, world["owner_email"])


@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("token", [None, "", "forfalsket-token"])
def test_a_post_without_a_valid_token_is_refused_and_changes_nothing(csrf_app, world, name, token):
    action = ACTIONS[name]
    client = csrf_app.test_client()
    _prepare(client, world, action)
    client.get(action["form"](world))  # the visitor has a session with a real token
    data = action["data"](world)
    if token is not None:
        data["csrf_token"] = token

    response = client.post(action["post"](world), data=data)

    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert not action["done"](client, world)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_same_post_with_the_forms_token_works(csrf_app, world, name):
    action = ACTIONS[name]
    client = csrf_app.test_client()
    _prepare(client, world, action)
    token = csrf_token_from(client.get(action["form"](world)).get_data(as_text=True))
    data = action["data"](world) | {"csrf_token": token}

    response = client.post(action["post"](world), data=data)

    assert response.status_code == action.get("status", 302), response.get_data(as_text=True)[:800]
    assert action["done"](client, world)


def test_a_token_from_another_session_is_refused(csrf_app, world):
    stranger = csrf_app.test_client()
    token = csrf_token_from(stranger.get("/login").get_data(as_text=True))
    victim = csrf_app.test_client()
    victim.get("/login")
    response = victim.post(
        "/login",
        data={"email": world["owner_email"], "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert not _logged_in(victim)
