"""The public JSON API under /api/v1."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import event

from directory.extensions import db
from directory.timeutil import OSLO, oslo_now
from tests.conftest import next_weekday_at
from tests.test_search_pages import read


def _in_days(days: int, hour: int = 17) -> datetime:
    """A naive Oslo wall time `days` from today at `hour`."""
    today = oslo_now().replace(tzinfo=None, hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def _single(days: int, hour: int = 17) -> dict:
    return {"dtstart": _in_days(days, hour), "rrule": "", "duration_minutes": 60}


@contextmanager
def count_queries():
    """Count the SQL statements executed inside the block."""
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


# --- GET /api/v1/activities ---------------------------------------------------------------


def test_list_has_the_documented_shape(client, make_activity, make_category, make_organisation):
    category = make_category(slug="idrett")
    organisation = make_organisation(name="Bragernes IL", slug="bragernes-il", kind="volunteer")
    activity = make_activity(
        organisation=organisation,
        category=category,
        title="Fotball for 8–10 år",
        summary="Trening hver tirsdag",
        age_min=8,
        age_max=10,
        price_nok=450,
        facebook_post_url="https://www.facebook.com/bragernes/posts/1",
        flyer_filename="abc123.pdf",
        schedule=_single(3),
    )

    response = client.get("/api/v1/activities")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 20
    [item] = body["items"]
    assert item == {
        "id": activity.id,
        "title": "Fotball for 8–10 år",
        "summary": "Trening hver tirsdag",
        "organisation": {
            "slug": "bragernes-il",
            "name": "Bragernes IL",
            "kind": "volunteer",
            "verified": True,
        },
        "category": "idrett",
        "age_min": 8,
        "age_max": 10,
        "is_free": False,
        "price_nok": 450,
        "fritidskort": False,
        "trial_session": False,
        "equipment_provided": False,
        "next_start": _in_days(3).replace(tzinfo=OSLO).isoformat(),
        "has_flyer": True,
        "facebook_post_url": "https://www.facebook.com/bragernes/posts/1",
        "status": "published",
        "url": f"http://localhost/activities/{activity.id}",
        "venue": "Idrettshallen",
        "address": "Idrettsveien 1, 3015 Drammen",
        "content_languages": [],  # no text in other languages
        "distance_km": None,  # no `near` school to measure from
    }


@pytest.mark.parametrize(
    ("today", "offset"),
    [(datetime(2026, 1, 12, 9, tzinfo=OSLO), 1), (datetime(2026, 6, 15, 9, tzinfo=OSLO), 2)],
    ids=["winter", "summer"],
)
def test_next_start_carries_the_oslo_offset_of_its_season(client, make_activity, today, offset):
    with time_machine.travel(today, tick=False):
        make_activity(schedule={"dtstart": next_weekday_at(1, 17), "rrule": "FREQ=WEEKLY"})
        item = client.get("/api/v1/activities").get_json()["items"][0]
    start = datetime.fromisoformat(item["next_start"])
    assert start.utcoffset() == timedelta(hours=offset)
    assert (start.hour, start.minute) == (17, 0)


def test_list_is_soonest_first_and_leaves_out_what_has_ended(client, make_activity):
    later = make_activity(title="Senere", schedule=_single(10))
    sooner = make_activity(title="Snart", schedule=_single(2))
    # Began two weeks ago; its next occurrence is tomorrow.
    make_activity(title="Ukentlig", schedule={"dtstart": _in_days(-13), "rrule": "FREQ=WEEKLY"})
    make_activity(title="Ferdig", schedule=_single(-3))
    make_activity(
        title="Avsluttet serie",
        schedule={"dtstart": _in_days(-60), "rrule": "FREQ=WEEKLY;COUNT=3"},
    )

    body = client.get("/api/v1/activities").get_json()

    assert [i["title"] for i in body["items"]] == ["Ukentlig", "Snart", "Senere"]
    assert body["total"] == 3
    assert {i["id"] for i in body["items"]} >= {later.id, sooner.id}


def test_an_occurrence_in_progress_is_still_listed(client, make_activity):
    now = oslo_now().replace(tzinfo=None, second=0, microsecond=0)
    make_activity(
        title="Pågår", schedule={"dtstart": now - timedelta(minutes=30), "duration_minutes": 120}
    )
    assert [i["title"] for i in client.get("/api/v1/activities").get_json()["items"]] == ["Pågår"]


def test_only_public_activities_are_listed(client, make_activity, make_organisation):
    make_activity(title="Publisert", status="published")
    make_activity(title="Avlyst", status="cancelled")
    make_activity(title="Utkast", status="draft")
    make_activity(title="Arkivert", status="archived")
    make_activity(
        title="Fra avvist organisasjon", organisation=make_organisation(verification="rejected")
    )
    make_activity(
        title="Fra ubekreftet organisasjon",
        organisation=make_organisation(verification="pending"),
    )

    items = client.get("/api/v1/activities").get_json()["items"]

    assert sorted(i["title"] for i in items) == [
        "Avlyst",
        "Fra ubekreftet organisasjon",
        "Publisert",
    ]
    assert {i["status"] for i in items} == {"published", "cancelled"}
    unverified = next(i for i in items if i["title"] == "Fra ubekreftet organisasjon")
    assert unverified["organisation"]["verified"] is False


def test_free_activity_and_missing_category(client, make_activity):
    make_activity(price_nok=0, category=None, flyer_filename=None, facebook_post_url=None)
    [item] = client.get("/api/v1/activities").get_json()["items"]
    assert item["is_free"] is True and item["price_nok"] == 0
    assert item["category"] is None
    assert item["has_flyer"] is False and item["facebook_post_url"] is None


def test_pages_split_the_list_and_report_the_total(client, make_activity):
    for day in range(1, 6):
        make_activity(title=f"Dag {day}", schedule=_single(day))

    first = client.get("/api/v1/activities?per_page=2").get_json()
    second = client.get("/api/v1/activities?per_page=2&page=2").get_json()
    last = client.get("/api/v1/activities?per_page=2&page=3").get_json()
    beyond = client.get("/api/v1/activities?per_page=2&page=9").get_json()

    assert [i["title"] for i in first["items"]] == ["Dag 1", "Dag 2"]
    assert [i["title"] for i in second["items"]] == ["Dag 3", "Dag 4"]
    assert [i["title"] for i in last["items"]] == ["Dag 5"]
    assert beyond["items"] == [] and beyond["total"] == 5 and beyond["page"] == 9
    assert (second["total"], second["page"], second["per_page"]) == (5, 2, 2)


def test_per_page_may_be_one_hundred(client, make_activity):
    make_activity()
    body = client.get("/api/v1/activities?per_page=100").get_json()
    assert body["per_page"] == 100 and body["total"] == 1


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=99999999999999999999999999999999x", "page"),
        ("page=10001", "page"),
        ("page=1&page=2", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=ti", "per_page"),
        ("age=26", "age"),
        ("age=ni", "age"),
        ("grade=0", "grade"),
        ("grade=14", "grade"),
        ("weekday=8", "weekday"),
        ("weekday=fredag", "weekday"),
        ("time=morning", "time"),
        ("free=kanskje", "free"),
        ("accessible=2", "accessible"),
        ("from=2026-02-30", "from"),
        ("from=01.03.2026", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-03-02&to=2026-03-01", "to"),
        ("sort=x", "sort"),
        ("sort=price", "sort"),
        ("q=" + "a" * 201, "q"),
        ("category=idrett%3Bdrop", "category"),
        ("school=%C3%A5sen%20skole", "school"),
        ("organisation=a/b", "organisation"),
        ("municipality=" + "x" * 101, "municipality"),
        ("category=" + ",".join(f"k{n}" for n in range(21)), "category"),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/v1/activities?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "parameter"}
    assert body["parameter"] == parameter
    assert len(body["error"]) > 10 and body["error"].endswith(".")


def test_a_nul_character_is_a_json_400(client):
    response = client.get("/api/v1/activities?q=fot%00ball")
    assert response.status_code == 400
    assert "NUL" in response.get_json()["error"]


def test_empty_and_unknown_parameters_are_ignored(client, make_activity):
    make_activity(title="Fotballtrening")
    response = client.get(
        "/api/v1/activities?page=&per_page=&municipality=&age=&sort=&q=fotball&colour=blue"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 1)
    assert [i["title"] for i in body["items"]] == ["Fotballtrening"]


def test_municipality_filters_the_list(client, make_activity, make_organisation, make_municipality):
    make_activity(title="I Drammen")
    other = make_municipality(slug="lier", name="Lier")
    make_activity(title="I Lier", organisation=make_organisation(municipality=other))

    lier = client.get("/api/v1/activities?municipality=lier").get_json()
    drammen = client.get("/api/v1/activities?municipality=drammen").get_json()

    assert [i["title"] for i in lier["items"]] == ["I Lier"] and lier["total"] == 1
    assert [i["title"] for i in drammen["items"]] == ["I Drammen"]


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("municipality", "Kommunen «atlantis» finnes ikke."),
        ("school", "Skolen «atlantis» finnes ikke."),
        ("organisation", "Organisasjonen «atlantis» finnes ikke."),
    ],
)
def test_an_unknown_place_or_organisation_is_a_json_404(client, municipality, parameter, message):
    response = client.get(f"/api/v1/activities?{parameter}=atlantis")
    assert response.status_code == 404
    assert response.get_json() == {"error": message, "parameter": parameter}


def test_listing_takes_a_fixed_number_of_queries(client, make_activity, make_category):
    category = make_category()
    make_activity(category=category)
    with count_queries() as few:
        assert client.get("/api/v1/activities").get_json()["total"] == 1
    for _ in range(12):
        make_activity(category=category)
    with count_queries() as many:
        assert client.get("/api/v1/activities").get_json()["total"] == 13
    assert len(many) == len(few)


# --- GET /api/v1/activities/<id> ----------------------------------------------------------


def test_detail_has_everything_public(client, make_activity, make_category):
    activity = make_activity(
        category=make_category(slug="musikk"),
        title="Korøvelse",
        description="**Syng** med oss <script>alert(1)</script>",
        latitude=Decimal("59.743900"),
        longitude=Decimal("10.204500"),
        accessibility="Trinnfri adkomst",
        languages="norsk, engelsk",
        registration_url="https://example.org/pamelding",
        capacity=25,
        image_filename="bilde.jpg",
        flyer_filename="flyer.pdf",
        schedule={
            "dtstart": next_weekday_at(2, 18),
            "rrule": "FREQ=WEEKLY",
            "duration_minutes": 90,
        },
    )
    skipped = next_weekday_at(2, 18) + timedelta(days=7)
    activity.schedules[0].exdates = skipped.strftime("%Y%m%dT%H%M%S")
    db.session.commit()

    response = client.get(f"/api/v1/activities/{activity.id}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == activity.id and body["title"] == "Korøvelse"
    assert body["category"] == "musikk"
    assert body["url"] == f"http://localhost/activities/{activity.id}"
    assert body["description"] == "**Syng** med oss <script>alert(1)</script>"
    assert "<strong>Syng</strong>" in body["description_html"]
    assert "<script" not in body["description_html"]
    assert body["latitude"] == pytest.approx(59.7439)
    assert body["longitude"] == pytest.approx(10.2045)
    assert body["accessibility"] == "Trinnfri adkomst"
    assert body["languages"] == ["norsk", "engelsk"]
    assert body["registration_url"] == "https://example.org/pamelding"
    assert body["capacity"] == 25
    assert body["image_url"] == "http://localhost/media/bilde.jpg"
    assert body["flyer_url"] == "http://localhost/media/flyer.pdf"
    assert body["has_flyer"] is True
    assert body["municipality"] == "drammen"
    assert body["venue"] == "Idrettshallen"

    [schedule] = body["schedules"]
    assert schedule["dtstart"] == next_weekday_at(2, 18).replace(tzinfo=OSLO).isoformat()
    assert schedule["duration_minutes"] == 90
    assert schedule["rrule"] == "FREQ=WEEKLY"
    assert schedule["exdates"] == [skipped.replace(tzinfo=OSLO).isoformat()]

    occurrences = body["next_occurrences"]
    assert len(occurrences) == 10
    starts = [datetime.fromisoformat(o["start"]) for o in occurrences]
    assert starts == sorted(starts)
    assert skipped.replace(tzinfo=OSLO) not in starts
    first_end = datetime.fromisoformat(occurrences[0]["end"])
    assert first_end - starts[0] == timedelta(minutes=90)
    assert body["next_start"] == occurrences[0]["start"]


def test_detail_of_an_activity_without_media_or_future(client, make_activity):
    activity = make_activity(image_filename=None, flyer_filename=None, schedule=_single(-5))
    body = client.get(f"/api/v1/activities/{activity.id}").get_json()
    assert body["image_url"] is None and body["flyer_url"] is None
    assert body["next_start"] is None and body["next_occurrences"] == []
    assert body["latitude"] is None and body["longitude"] is None


def test_a_cancelled_activity_is_shown_as_cancelled(client, make_activity):
    activity = make_activity(status="cancelled", cancellation_note="Treneren er syk")
    body = client.get(f"/api/v1/activities/{activity.id}").get_json()
    assert body["status"] == "cancelled"
    assert body["cancellation_note"] == "Treneren er syk"


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_a_non_public_activity_is_a_json_404(client, make_activity, status):
    activity = make_activity(status=status)
    response = client.get(f"/api/v1/activities/{activity.id}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Aktiviteten finnes ikke."}


def test_an_activity_of_a_rejected_organisation_is_a_json_404(
    client, make_activity, make_organisation
):
    activity = make_activity(organisation=make_organisation(verification="rejected"))
    assert client.get(f"/api/v1/activities/{activity.id}").status_code == 404


def test_a_logged_in_member_does_not_see_drafts_through_the_api(
    client, make_activity, make_organisation, make_user, login_as
):
    user = make_user()
    activity = make_activity(status="draft", organisation=make_organisation(owners=[user]))
    login_as(user)
    assert client.get(f"/api/v1/activities/{activity.id}").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/activities/999999", "/api/v1/activities/abc"])
def test_unknown_activity_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.get_json()


# --- organisations and schools --------------------------------------------------------------


def test_organisations_are_listed_without_rejected_ones(
    client, make_organisation, make_municipality, make_activity
):
    # The clubs directory (issue 13): organisations with a public activity, as /organisations.
    for organisation in (
        make_organisation(name="Bragernes IL", slug="bragernes-il", verification="verified"),
        make_organisation(
            name="Anker Kor", slug="anker-kor", kind="volunteer", verification="pending"
        ),
        make_organisation(name="Svindel AS", slug="svindel", verification="rejected"),
        make_organisation(
            name="Lier kulturskole",
            slug="lier-kulturskole",
            kind="municipal",
            municipality=make_municipality(slug="lier", name="Lier"),
        ),
    ):
        make_activity(organisation=organisation, status="cancelled")
    make_organisation(name="Tomt lag", slug="tomt-lag")  # no public activity: not listed

    body = client.get("/api/v1/organisations").get_json()

    assert [o["slug"] for o in body["items"]] == ["anker-kor", "bragernes-il", "lier-kulturskole"]
    assert body["items"][0] == {
        "slug": "anker-kor",
        "name": "Anker Kor",
        "kind": "volunteer",
        "verified": False,
        "url": "http://localhost/organisations/anker-kor",
        "municipality": "drammen",
        "categories": [],
        "current_offers": 0,  # cancelled: public, but not an offer
        "logo_url": None,
    }
    lier = client.get("/api/v1/organisations?municipality=lier").get_json()
    assert [o["slug"] for o in lier["items"]] == ["lier-kulturskole"]
    assert client.get("/api/v1/organisations?municipality=nope").status_code == 404


def test_schools_are_listed_with_grades_and_channels(client, make_school, make_municipality):
    make_school(slug="brandenga", name="Brandenga skole", grade_min=1, grade_max=10)
    make_school(
        slug="fjell",
        name="Fjell skole",
        grade_min=1,
        grade_max=7,
        facebook_page_url=None,
        accepts_backpack_post=False,
    )
    make_school(
        slug="lier-u",
        name="Lier ungdomsskole",
        grade_min=8,
        grade_max=10,
        municipality=make_municipality(slug="lier", name="Lier"),
    )

    body = client.get("/api/v1/schools").get_json()

    assert [s["slug"] for s in body["items"]] == ["brandenga", "fjell", "lier-u"]
    assert body["items"][1] == {
        "slug": "fjell",
        "name": "Fjell skole",
        "grades": [1, 2, 3, 4, 5, 6, 7],
        "has_facebook_page": False,
        "accepts_backpack_post": False,
        "municipality": "drammen",
    }
    assert body["items"][0]["grades"] == list(range(1, 11))
    assert body["items"][0]["has_facebook_page"] is True
    lier = client.get("/api/v1/schools?municipality=lier").get_json()
    assert [s["slug"] for s in lier["items"]] == ["lier-u"]
    assert lier["items"][0]["grades"] == [8, 9, 10]


def test_school_list_reveals_no_pupil_numbers(client, make_school):
    make_school()
    [school] = client.get("/api/v1/schools").get_json()["items"]
    assert not {"pupils", "classes", "grade_counts"} & set(school)


# --- errors are JSON -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/", "/api/v2/activities"])
def test_unknown_api_paths_are_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Siden eller objektet finnes ikke."}


@pytest.mark.parametrize(
    "path", ["/api/v1/activities", "/api/v1/organisations", "/api/v1/schools", "/healthz"]
)
def test_writing_to_the_api_is_a_json_405(client, path):
    response = client.post(path, json={"title": "x"})
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Metoden er ikke tillatt her."}
    assert "GET" in response.headers["Allow"]


def test_api_405_also_holds_with_csrf_on(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().delete("/api/v1/activities")
    assert response.status_code == 405
    assert response.get_json() == {"error": "Metoden er ikke tillatt her."}


@pytest.mark.parametrize("path", ["/api/v1/schools"])
def test_unpaged_lists_ignore_paging_parameters(client, make_organisation, make_school, path):
    make_organisation()
    make_school()
    response = client.get(f"{path}?page=abc&per_page=1000")
    assert response.status_code == 200
    assert len(response.get_json()["items"]) == 1


def test_activities_starting_together_are_ordered_by_title(client, make_activity):
    for title in ("Bading", "akrobatikk", "Ćelle"):
        make_activity(title=title, schedule=_single(4))
    items = client.get("/api/v1/activities").get_json()["items"]
    assert [i["title"] for i in items] == ["akrobatikk", "Bading", "Ćelle"]


# --- search filters, facets, suggestion ------------------------------------------------------


@pytest.fixture
def offers(make_activity, make_category, make_organisation, make_school, make_municipality):
    """Four offers that differ in text, age, category, day, time of day and price."""
    idrett = make_category(slug="idrett", name_nb="Idrett")
    musikk = make_category(slug="musikk", name_nb="Musikk")
    klubb = make_organisation(slug="bragernes-il", name="Bragernes IL")
    make_school(slug="fjell", grade_min=1, grade_max=4)  # ages 6-10
    make_activity(
        title="Fotballtrening",
        organisation=klubb,
        category=idrett,
        age_min=8,
        age_max=10,
        price_nok=0,
        schedule={"dtstart": next_weekday_at(1, 17), "rrule": "FREQ=WEEKLY"},  # Tue 17:00
    )
    make_activity(
        title="Fotball for ungdom",
        organisation=klubb,
        category=idrett,
        age_min=13,
        age_max=16,
        price_nok=300,
        schedule={"dtstart": next_weekday_at(3, 19), "rrule": "FREQ=WEEKLY"},  # Thu 19:00
    )
    make_activity(
        title="Barnekoret",
        category=musikk,
        age_min=7,
        age_max=11,
        price_nok=0,
        accessible=True,
        schedule={"dtstart": next_weekday_at(5, 11), "rrule": "FREQ=WEEKLY"},  # Sat 11:00
    )
    make_activity(
        title="Sjakk i Lier",
        organisation=make_organisation(municipality=make_municipality(slug="lier")),
        age_min=6,
        age_max=12,
        price_nok=100,
        schedule={"dtstart": next_weekday_at(1, 14), "rrule": "FREQ=WEEKLY"},  # Tue 14:00
    )


def _titles(client, query: str) -> list[str]:
    response = client.get(f"/api/v1/activities?{query}")
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=fotball", {"Fotballtrening", "Fotball for ungdom"}),
        ("q=fotball&age=9", {"Fotballtrening"}),
        ("q=fotball&age=9&category=idrett", {"Fotballtrening"}),
        ("q=kor", {"Barnekoret"}),  # a compound's part, inflected
        ("age=9", {"Fotballtrening", "Barnekoret", "Sjakk i Lier"}),
        ("grade=9", {"Fotball for ungdom"}),  # ages 14-15
        ("category=idrett,musikk", {"Fotballtrening", "Fotball for ungdom", "Barnekoret"}),
        ("weekday=tir", {"Fotballtrening", "Sjakk i Lier"}),
        ("weekday=4&weekday=6", {"Fotball for ungdom", "Barnekoret"}),
        ("time=after_school", {"Fotballtrening", "Sjakk i Lier"}),
        ("time=evening", {"Fotball for ungdom"}),
        ("time=weekend", {"Barnekoret"}),
        ("free=1", {"Fotballtrening", "Barnekoret"}),
        ("accessible=1", {"Barnekoret"}),
        ("school=fjell", {"Fotballtrening", "Barnekoret"}),  # ages 6-10 in Drammen
        ("organisation=bragernes-il", {"Fotballtrening", "Fotball for ungdom"}),
        ("municipality=lier", {"Sjakk i Lier"}),
        ("free=1&time=weekend&age=8", {"Barnekoret"}),
        ("q=fotball&time=weekend", set()),
    ],
)
def test_search_filters_select_the_activities(client, offers, query, expected):
    assert set(_titles(client, query)) == expected


def test_the_list_answers_like_the_search_pages_service(app, client, offers):
    """The API and the HTML pages share one parser and one service: same ids, same order."""
    from werkzeug.datastructures import MultiDict

    from directory.search.query import parse_search_args
    from directory.search.service import search_activities

    for query in (
        "",
        "q=fotball",
        "age=9&sort=newest",
        "free=1&per_page=1&page=2",
        "category=idrett&category=musikk&weekday=2",
    ):
        body = client.get(f"/api/v1/activities?{query}").get_json()
        args = MultiDict([pair.split("=") for pair in query.split("&") if pair])
        page = search_activities(parse_search_args(args))
        assert [i["id"] for i in body["items"]] == [a.id for a in page.items]
        assert (body["total"], body["page"], body["per_page"]) == (
            page.total,
            page.page,
            page.per_page,
        )
        assert body["facets"] == page.facets


def test_facets_count_within_the_result(client, offers):
    body = client.get("/api/v1/activities?age=9").get_json()
    assert body["total"] == 3
    facets = body["facets"]
    assert facets["category"] == {"idrett": 1, "musikk": 1}
    assert facets["weekday"] == {"1": 0, "2": 2, "3": 0, "4": 0, "5": 0, "6": 1, "7": 0}
    assert facets["time"] == {"after_school": 2, "evening": 0, "weekend": 1}
    assert facets["free"] == {"1": 2} and facets["accessible"] == {"1": 1}


FACET_LABEL = re.compile(
    r"^(category|weekday|time|free|accessible|fritidskort|trial|equipment)-(.+)$"
)
# "(3)", or "(+3)" for an unticked value of a group with a choice: as many more results.
COUNT_IN_LABEL = re.compile(r"\(\+?(\d+)\)$")


def _page_facets(response) -> dict[str, dict[str, int]]:
    """The counts the search page shows in its filter labels ("Musikk (3)"), by facet and value."""
    counts: dict[str, dict[str, int]] = {}
    for control_id, text in read(response).labels.items():
        facet, count = FACET_LABEL.match(control_id), COUNT_IN_LABEL.search(text)
        if facet and count:
            counts.setdefault(facet[1], {})[facet[2]] = int(count[1])
    return counts


def _nonzero(facets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    # The API leaves categories without a match out; the page shows them with (0).
    return {name: {k: n for k, n in values.items() if n} for name, values in facets.items()}


@pytest.mark.parametrize("backend", ["whoosh", "database"])
def test_facet_counts_are_the_search_pages_counts(
    app, client, offers, make_activity, make_category, monkeypatch, backend
):
    """Two categories and two weekdays ticked: the API counts what the page shows, each
    multi-select group leaving its own choice out."""
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", backend)
    make_activity(
        title="Tegnekurs",
        category=make_category(slug="kunst", name_nb="Kunst"),
        age_min=8,
        age_max=12,
        price_nok=0,
        schedule={"dtstart": next_weekday_at(1, 15), "rrule": "FREQ=WEEKLY"},  # Tue 15:00
    )
    query = "category=idrett&category=musikk&weekday=2&weekday=6"

    body = client.get(f"/api/v1/activities?{query}").get_json()
    page = client.get(f"/activities?{query}")

    assert page.status_code == 200
    assert {i["title"] for i in body["items"]} == {"Fotballtrening", "Barnekoret"}
    assert body["degraded"] is False
    shown = _page_facets(page)
    assert set(shown) == {
        "category", "weekday", "time", "free", "accessible", "fritidskort", "trial", "equipment",
    }  # fmt: skip
    assert _nonzero(body["facets"]) == _nonzero(shown)
    assert body["facets"]["weekday"] == shown["weekday"]
    # What both say: ticking Kunst too would bring Tegnekurs, Thursday Fotball for ungdom.
    assert shown["category"] == {"idrett": 1, "kunst": 1, "musikk": 1}
    assert shown["weekday"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0, "6": 1, "7": 0}
    assert shown["time"] == {"after_school": 1, "evening": 0, "weekend": 1}
    assert shown["free"] == {"1": 2} and shown["accessible"] == {"1": 1}
    # The page says an unticked value adds results ("+1"); here none of them is shown yet.
    assert read(page).labels["category-kunst"] == "Kunst (+1)"


def test_a_misspelling_gets_a_suggestion(client, offers):
    body = client.get("/api/v1/activities?q=fotbal").get_json()
    assert body["suggestion"] == "fotball"
    assert {i["title"] for i in body["items"]} == {"Fotballtrening", "Fotball for ungdom"}
    exact = client.get("/api/v1/activities?q=fotball").get_json()
    assert exact["suggestion"] is None and exact["degraded"] is False


def test_relevance_puts_title_matches_first_and_sort_changes_the_order(client, make_activity):
    make_activity(
        title="Lek og moro", description="Vi spiller fotball innimellom", schedule=_single(1)
    )
    make_activity(title="Fotballskole", schedule=_single(9))
    assert _titles(client, "q=fotball") == ["Fotballskole", "Lek og moro"]
    assert _titles(client, "q=fotball&sort=soonest") == ["Lek og moro", "Fotballskole"]


def test_without_an_index_the_database_answers_and_says_so(app, client, offers):
    import shutil

    from directory.search.service import get_backend

    get_backend().close()
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    body = client.get("/api/v1/activities?q=fotball&age=9").get_json()
    assert body["degraded"] is True
    assert [i["title"] for i in body["items"]] == ["Fotballtrening"]
    assert body["facets"]["free"] == {"1": 1}
