"""The subscribable calendar (/calendar.ics) and the Atom feed (/feed.atom), with their filters."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest
import time_machine
from flask import request
from icalendar import Calendar
from sqlalchemy import update

from directory.activities.models import Activity
from directory.activities.schedule import build_rrule
from directory.data_version import DataVersion, current
from directory.extensions import db
from directory.feeds import links, views
from directory.organisations.models import Organisation
from directory.search.query import parse_search_args
from directory.timeutil import utcnow
from tests.conftest import next_weekday_at

ATOM = "{http://www.w3.org/2005/Atom}"
HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"


def summaries(body: bytes) -> list[str]:
    return [str(e["SUMMARY"]) for e in Calendar.from_ical(body).walk("VEVENT")]


def atom(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def entry_titles(root: ET.Element) -> list[str]:
    return [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]


@pytest.fixture
def week(make_activity, make_organisation):
    """A few public activities on the coming days, and some that must never show."""
    monday = next_weekday_at(0, 17)
    made = {
        "Torsdag": make_activity(
            title="Torsdag", price_nok=300, age_min=10, age_max=14,
            schedule={"dtstart": monday + timedelta(days=3)},
        ),
        "Mandag": make_activity(
            title="Mandag", price_nok=0, age_min=6, age_max=9,
            schedule={"dtstart": monday},
        ),
        "Onsdag avlyst": make_activity(
            title="Onsdag avlyst", status="cancelled", price_nok=0, age_min=8, age_max=12,
            schedule={"dtstart": monday + timedelta(days=2)},
        ),
    }  # fmt: skip
    make_activity(title="Utkastet", status="draft")
    make_activity(title="Arkivert", status="archived")
    make_activity(title="Fra avvist lag", organisation=make_organisation(verification="rejected"))
    make_activity(
        title="Ferdig for lengst",
        schedule={
            "dtstart": datetime(2021, 1, 5, 17, 0),
            "rrule": build_rrule("weekly", date(2021, 3, 1)),
        },
    )
    return made


# --- /calendar.ics ---------------------------------------------------------------------------


def test_calendar_feed_has_public_upcoming_activities_soonest_first(client, week):
    response = client.get("/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.mimetype_params.get("charset") == "utf-8"
    # Cancelled after the others, as in every list of the search (issue 12).
    assert summaries(response.data) == ["Mandag", "Torsdag", "Avlyst: Onsdag avlyst"]
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "REFRESH-INTERVAL" in calendar  # subscribers are told how often to fetch it again
    cancelled = [e for e in calendar.walk("VEVENT") if "Onsdag" in str(e["SUMMARY"])]
    assert str(cancelled[0]["STATUS"]) == "CANCELLED"


def test_calendar_feed_filters_free(client, week):
    body = client.get("/calendar.ics?free=1").data
    assert summaries(body) == ["Mandag", "Avlyst: Onsdag avlyst"]


def test_calendar_feed_filters_age(client, week):
    assert summaries(client.get("/calendar.ics?age=9").data) == ["Mandag", "Avlyst: Onsdag avlyst"]
    assert summaries(client.get("/calendar.ics?age=13").data) == ["Torsdag"]
    assert summaries(client.get("/calendar.ics?age=20").data) == []


def test_calendar_feed_filters_organisation(client, make_activity, make_organisation):
    club = make_organisation(slug="sjakklubben", name="Sjakklubben")
    make_activity(title="Sjakk", organisation=club)
    make_activity(title="Fotball")
    assert summaries(client.get("/calendar.ics?organisation=sjakklubben").data) == ["Sjakk"]


def test_empty_calendar_feed_is_still_a_calendar(client):
    response = client.get("/calendar.ics?age=3")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    assert calendar.walk("VEVENT") == [] and len(calendar.walk("VTIMEZONE")) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("age=ni", "Alderen må være et helt tall fra 0 til 25."),
        ("age=99", "Alderen må være et helt tall fra 0 til 25."),
        ("weekday=fredagskveld", "Ukedagen «fredagskveld» er ukjent."),
        ("free=kanskje", "Parameteren «free» må være 1 eller 0."),
        ("from=2026-13-01", "Parameteren «from» må være en dato på formen ÅÅÅÅ-MM-DD."),
        ("time=natt", "Tidspunktet «natt» er ukjent."),
        ("q=" + "x" * 201, "Søketeksten kan ha høyst 200 tegn."),
        ("age=9&age=10", "Parameteren «age» kan bare gis én gang."),
    ],
)
@pytest.mark.parametrize("path", ["/calendar.ics", "/feed.atom", "/embed"])
def test_bad_filters_are_400_with_a_message(client, path, query, message):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/calendar.ics", "/feed.atom", "/embed"])
def test_unknown_organisation_is_404(client, path):
    assert client.get(f"{path}?organisation=finnes-ikke").status_code == 404


def test_calendar_feed_stops_at_its_limit(client, week, monkeypatch):
    monkeypatch.setattr(views, "CALENDAR_LIMIT", 2)
    # A cancelled activity is the first to be left out (it comes after the others).
    assert summaries(client.get("/calendar.ics").data) == ["Mandag", "Torsdag"]


def test_calendar_feed_uids_are_stable(client, week):
    def uids():
        return [
            str(e["UID"])
            for e in Calendar.from_ical(client.get("/calendar.ics").data).walk("VEVENT")
        ]

    first = uids()
    assert len(set(first)) == 3
    assert uids() == first


def test_calendar_feed_etag_and_304(client, week):
    first = client.get("/calendar.ics?free=1")
    etag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=300" in first.headers["Cache-Control"]
    again = client.get("/calendar.ics?free=1", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # Another filter is another representation.
    other = client.get("/calendar.ics?age=13")
    assert other.headers["ETag"] != etag
    assert client.get("/calendar.ics?age=13", headers={"If-None-Match": etag}).status_code == 200


def test_calendar_feed_changes_when_an_activity_leaves_it(client, week):
    # The public data last changed an hour ago (HTTP dates have whole seconds only).
    db.session.execute(update(DataVersion).values(changed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    first = client.get("/calendar.ics")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert (
        client.get("/calendar.ics", headers={"If-Modified-Since": last_modified}).status_code == 304
    )

    mandag = week["Mandag"]
    db.session.refresh(mandag)
    mandag.status = "archived"
    mandag.updated_at = utcnow()
    db.session.commit()

    by_etag = client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert by_etag.status_code == 200
    assert "Mandag" not in summaries(by_etag.data)
    # A client that only remembers the date is told about the change as well.
    by_date = client.get("/calendar.ics", headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 200


def test_a_repeated_calendar_is_assembled_from_kept_events_with_a_new_stamp(
    client, week, monkeypatch
):
    first = client.get("/calendar.ics").data

    def no_events(*args, **kwargs):
        raise AssertionError("wrote the events of a calendar this process already has")

    monkeypatch.setattr(views, "activity_events", no_events)
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        again = client.get("/calendar.ics").data
    stamps = {str(e["DTSTAMP"].dt) for e in Calendar.from_ical(again).walk("VEVENT")}
    assert summaries(again) == summaries(first)
    assert len(stamps) == 1 and stamps != {
        str(e["DTSTAMP"].dt) for e in Calendar.from_ical(first).walk("VEVENT")
    }


def test_an_edit_shows_in_the_next_calendar(client, week):
    client.get("/calendar.ics")
    torsdag = week["Torsdag"]
    db.session.refresh(torsdag)
    torsdag.title = "Torsdagstrening"
    db.session.commit()
    assert summaries(client.get("/calendar.ics").data) == [
        "Mandag", "Torsdagstrening", "Avlyst: Onsdag avlyst",
    ]  # fmt: skip


def test_each_language_has_its_own_kept_events(client, week):
    assert "Avlyst: Onsdag avlyst" in summaries(client.get("/calendar.ics").data)
    assert "Cancelled: Onsdag avlyst" in summaries(client.get("/calendar.ics?lang=en").data)


@pytest.mark.parametrize("path", ["/calendar.ics?free=1", "/feed.atom", "/embed?age=10"])
def test_a_current_copy_is_answered_304_before_any_search(client, week, monkeypatch, path):
    etag = client.get(path).headers["ETag"]

    def no_search(*args, **kwargs):
        raise AssertionError("searched for a copy the client already has")

    monkeypatch.setattr(views, "_search", no_search)
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag


def test_the_data_version_rises_with_public_data_only(client, week, make_user):
    before, _changed = current()
    make_user()  # an account is not public data
    assert current()[0] == before
    mandag = week["Mandag"]
    db.session.refresh(mandag)
    mandag.title = "Mandagsklubben"
    db.session.commit()
    assert current()[0] == before + 1


def test_feeds_set_no_cookie(client, week):
    for path in ("/calendar.ics", "/feed.atom", "/calendar.ics?free=1"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path


def test_feed_urls_for_a_search_include_a_webcal_subscription(app):
    with app.test_request_context("/activities?age=9&free=1&page=3&sort=newest"):
        urls = links.feed_urls(parse_search_args(request.args))
    assert urls.calendar == "http://localhost/calendar.ics?age=9&free=1"
    assert urls.webcal == "webcal://localhost/calendar.ics?age=9&free=1"
    assert urls.atom == "http://localhost/feed.atom?age=9&free=1"
    assert urls.embed == "http://localhost/embed?age=9&free=1"


def test_public_base_url_is_used_for_links_and_uids(make_app):
    app = make_app(PUBLIC_BASE_URL="https://aktiviteter.example.no")
    from directory.activities.models import Schedule
    from directory.schools.models import Municipality

    with app.app_context():
        municipality = Municipality(slug="m1", name="M1", messaging_label="Vigilo")
        organisation = Organisation(
            municipality=municipality, slug="lag-1", name="Lag 1", kind="volunteer",
            verification="verified",
        )  # fmt: skip
        activity = Activity(
            organisation=organisation, title="Korps", age_min=8, age_max=12, status="published"
        )
        activity.schedules.append(
            Schedule(dtstart=next_weekday_at(2, 18), duration_minutes=60, rrule="FREQ=WEEKLY")
        )
        db.session.add(activity)
        db.session.commit()
        activity_id = activity.id
        body = app.test_client().get(f"/activities/{activity_id}.ics").data
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["URL"]) == f"https://aktiviteter.example.no/activities/{activity_id}"
    assert str(event["UID"]).endswith("@aktiviteter.example.no")


# --- /feed.atom ------------------------------------------------------------------------------


def test_atom_feed_is_valid_with_entries_newest_published_first(
    client, make_activity, make_category
):
    category = make_category(slug="musikk", name_nb="Musikk")
    now = utcnow()
    make_activity(title="Eldst", published_at=now - timedelta(days=10))
    newest = make_activity(
        title="Nyest", published_at=now - timedelta(hours=1), category=category,
        summary="Spill i korps", age_min=9, age_max=13, price_nok=0,
    )  # fmt: skip
    make_activity(title="I midten", published_at=now - timedelta(days=3))
    make_activity(title="Utkast", status="draft")

    response = client.get("/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = atom(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id")
    assert root.findtext(f"{ATOM}title")
    assert root.findtext(f"{ATOM}updated").endswith("Z")
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == "http://localhost/feed.atom"
    assert links["alternate"] == "http://localhost/"
    assert entry_titles(root) == ["Nyest", "I midten", "Eldst"]

    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == f"http://localhost/activities/{newest.id}"
    assert entry.find(f"{ATOM}link").get("href") == f"http://localhost/activities/{newest.id}"
    assert entry.find(f"{ATOM}link").get("rel") == "alternate"
    db.session.refresh(newest)
    assert entry.findtext(f"{ATOM}updated") == newest.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert entry.findtext(f"{ATOM}published") == newest.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == newest.organisation.name
    summary = entry.findtext(f"{ATOM}summary")
    assert summary.startswith("Spill i korps")
    assert "9–13 år" in summary and "Gratis" in summary
    assert entry.find(f"{ATOM}category").get("term") == "musikk"
    assert entry.find(f"{ATOM}category").get("label") == "Musikk"


def test_atom_feed_applies_filters_and_links_to_them(client, week):
    root = atom(client.get("/feed.atom?free=1").data)
    assert sorted(entry_titles(root)) == ["Avlyst: Onsdag avlyst", "Mandag"]
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == "http://localhost/feed.atom?free=1"
    assert links["alternate"] == "http://localhost/?free=1"


def test_atom_feed_escapes_user_text(client, make_activity, make_organisation):
    title = '<script>alert("x")</script> & "sitater" \'enkle\''
    organisation = make_organisation(name="Lag <b>fet</b> & co")
    make_activity(title=title, summary="1 < 2 & 3 > 2\x0b", organisation=organisation)
    body = client.get("/feed.atom").data
    assert b"<script>" not in body and b"<b>" not in body
    assert b"&lt;script&gt;" in body
    entry = atom(body).find(f"{ATOM}entry")  # parses: the text could not break the XML
    assert entry.findtext(f"{ATOM}title") == title
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Lag <b>fet</b> & co"
    assert entry.findtext(f"{ATOM}summary").startswith("1 < 2 & 3 > 2 ")


def test_atom_feed_stops_at_its_limit(client, week, monkeypatch):
    monkeypatch.setattr(views, "ATOM_LIMIT", 2)
    assert len(entry_titles(atom(client.get("/feed.atom").data))) == 2


def test_atom_feed_etag_and_last_modified_304(client, week):
    first = client.get("/feed.atom")
    assert first.status_code == 200
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get("/feed.atom", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feed.atom", headers={"If-Modified-Since": last_modified}).status_code == 304
    earlier = (datetime.strptime(last_modified, HTTP_DATE) - timedelta(minutes=1)).strftime(
        HTTP_DATE
    )
    assert client.get("/feed.atom", headers={"If-Modified-Since": earlier}).status_code == 200
