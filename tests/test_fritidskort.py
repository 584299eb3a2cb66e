"""Fritidskort and low-threshold offers: the three flags through the form, the search pages and
the API on both backends, the CSV import, and the leisure-card readiness rule and hint."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from directory.activities.display import season_sessions
from directory.activities.models import Activity, Schedule
from directory.admin.operations import municipality_fingerprint
from directory.extensions import db
from directory.policy.fritidskort import PRICE, SESSIONS, Shortfall, check_readiness
from directory.schools.models import Municipality
from tests.conftest import next_weekday_at, quick_user, sign_in
from tests.test_activities_manage import form_data
from tests.test_import import HEADER, csv_bytes, row

FLAGS = ("fritidskort", "trial_session", "equipment_provided")


# --- the readiness rule, pure ---------------------------------------------------------------


def test_an_offer_meeting_every_rule_is_ready():
    verdict = check_readiness(sessions=12, price_nok=1500, min_sessions=10, max_price=2000)
    assert verdict.ok and verdict.has_rules


def test_each_rule_that_fails_says_what_is_required_and_what_the_offer_has():
    verdict = check_readiness(sessions=8, price_nok=2500, min_sessions=10, max_price=2000)
    assert verdict.shortfalls == (Shortfall(SESSIONS, 10, 8), Shortfall(PRICE, 2000, 2500))


def test_rules_not_set_are_met_by_every_offer():
    verdict = check_readiness(sessions=1, price_nok=9999, min_sessions=None, max_price=None)
    assert verdict.ok and not verdict.has_rules


def test_the_season_counts_every_session_of_a_ten_week_schedule():
    schedule = Schedule(
        dtstart=next_weekday_at(1, 17), duration_minutes=60, rrule="FREQ=WEEKLY;COUNT=10"
    )
    schedule.rdates = schedule.exdates = ""
    assert season_sessions([schedule]) == 10


# --- the organiser's form and the hint ------------------------------------------------------


def test_the_form_saves_the_three_flags_and_the_page_shows_them(client, login_as, member, org):
    login_as(member)
    response = client.post(
        f"/organisations/{org.slug}/activities/new",
        data=form_data(fritidskort="y", trial_session="y", equipment_provided="y"),
    )
    assert response.status_code == 302
    activity = db.session.scalars(select(Activity)).one()
    assert (activity.fritidskort, activity.trial_session, activity.equipment_provided) == (
        True,
        True,
        True,
    )
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Gratis prøvetime" in page and "Fritidskortet" in page
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert "Kan betales med fritidskortet" in form and "Utstyr lånes ut eller trengs ikke" in form


def test_the_form_says_which_leisure_card_rule_the_offer_misses(
    client, login_as, member, org, municipality
):
    municipality.fritidskort_min_sessions = 12
    municipality.fritidskort_max_price = 1000
    db.session.commit()
    login_as(member)
    # Weekly for ten weeks at 250 kr: too few sessions, the price is fine.
    client.post(f"/organisations/{org.slug}/activities/new", data=form_data(fritidskort="y"))
    activity = db.session.scalars(select(Activity)).one()
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert "Minst 12 ganger kreves, tilbudet har 10" in form
    municipality.fritidskort_min_sessions = 10
    db.session.commit()
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert "Tilbudet oppfyller kommunens krav til fritidskortet" in form


# --- search: pages and API, both backends ---------------------------------------------------


@pytest.fixture
def offers(make_activity):
    make_activity(title="Korps med fritidskort", fritidskort=True, equipment_provided=True)
    make_activity(title="Dans med prøvetime", trial_session=True)
    make_activity(title="Vanlig sjakk")


@pytest.mark.parametrize("backend", ["whoosh", "database"])
@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("fritidskort", {"Korps med fritidskort"}),
        ("trial", {"Dans med prøvetime"}),
        ("equipment", {"Korps med fritidskort"}),
    ],
)
def test_each_filter_narrows_the_api_and_the_page(
    app, client, offers, monkeypatch, backend, param, expected
):
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", backend)
    body = client.get(f"/api/v1/activities?{param}=1").get_json()
    assert {item["title"] for item in body["items"]} == expected
    everything = client.get("/api/v1/activities").get_json()
    assert everything["facets"][param] == {"1": 1}
    page = client.get(f"/activities?{param}=1").get_data(as_text=True)
    assert all(title in page for title in expected) and "Vanlig sjakk" not in page


def test_the_api_item_carries_the_flags(client, offers):
    items = client.get("/api/v1/activities?fritidskort=1").get_json()["items"]
    assert [(i["fritidskort"], i["trial_session"], i["equipment_provided"]) for i in items] == [
        (True, False, True)
    ]


def test_a_bad_flag_value_is_a_400(client, offers):
    response = client.get("/api/v1/activities?trial=kanskje")
    assert response.status_code == 400
    assert client.get("/activities?trial=kanskje").status_code == 400


# --- CSV import ---------------------------------------------------------------------------


@pytest.fixture
def run_import(import_activities_file, make_category):
    make_category(slug="idrett", name_nb="Idrett")
    return import_activities_file


def test_the_import_reads_yes_and_no_in_every_spelling(run_import):
    assert set(FLAGS) <= set(HEADER)
    rows = [
        row(fritidskort="ja", trial_session="1", equipment_provided="true"),
        row(title="Uten", fritidskort="nei", trial_session="0", equipment_provided="false"),
    ]
    result = run_import(csv_bytes(rows))
    assert result.exit_code == 0, result.output
    flags = {
        a.title: tuple(getattr(a, f) for f in FLAGS) for a in db.session.scalars(select(Activity))
    }
    assert flags == {"Fotballtrening for 2016-kullet": (True, True, True), "Uten": (False,) * 3}


def test_a_bad_flag_in_the_import_is_named_and_nothing_is_written(run_import):
    result = run_import(csv_bytes([row(), row(title="Feil", trial_session="kanskje")]))
    assert result.exit_code == 1
    assert "linje 3: trial_session «kanskje» må være ja/nei" in result.output
    assert db.session.scalar(select(func.count(Activity.id))) == 0


# --- the municipality's rules -------------------------------------------------------------


@pytest.fixture
def admin(client, municipality):
    user = quick_user("admin", admin_municipality_id=municipality.id)
    db.session.commit()
    sign_in(client, user)
    return user


def _settings(municipality, **overrides) -> dict:
    return {
        "name": municipality.name,
        "messaging_label": "Vigilo",
        "org_number": "921234554",
        "contact_email": "personvern@drammen.kommune.no",
        "version": municipality_fingerprint(municipality),
        **overrides,
    }


def test_the_admin_sets_the_leisure_card_rules(client, admin, municipality):
    response = client.post(
        "/admin/settings",
        data=_settings(municipality, fritidskort_min_sessions="10", fritidskort_max_price="2000"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Municipality, municipality.id)
    assert (saved.fritidskort_min_sessions, saved.fritidskort_max_price) == (10, 2000)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fritidskort_min_sessions", "ti", "Skriv antall ganger som et helt tall"),
        ("fritidskort_min_sessions", "0", "Antall ganger må være et helt tall fra 1 til 500"),
        ("fritidskort_max_price", "-5", "Prisen må være et helt antall kroner fra 0 til 100"),
    ],
)
def test_bad_rules_are_refused_with_a_message(client, admin, municipality, field, value, message):
    response = client.post("/admin/settings", data=_settings(municipality, **{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Municipality, municipality.id).fritidskort_min_sessions is None
