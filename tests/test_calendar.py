"""iCalendar output: one activity's .ics, parsed back and expanded across daylight-saving changes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import recurring_ical_events
import time_machine
from dateutil.rrule import rrulestr
from icalendar import Calendar

from directory.activities.schedule import build_rrule, format_local_list, occurrences
from directory.calendar import (
    activity_calendar,
    calendar_links,
    ics_filename,
    markdown_to_text,
    timezone_bounds,
    utc_until,
    webcal_url,
)
from directory.extensions import db
from directory.timeutil import OSLO, utcnow

# Autumn 2026 (25 October) and spring 2027 (28 March) daylight-saving changes both fall inside.
WINDOW_START = datetime(2026, 9, 1, tzinfo=OSLO)
WINDOW_END = datetime(2027, 6, 1, tzinfo=OSLO)

WEEKLY = {"dtstart": datetime(2026, 9, 1, 17, 0), "duration_minutes": 90, "rrule": "FREQ=WEEKLY"}
BIWEEKLY = {
    "dtstart": datetime(2026, 10, 6, 18, 0),
    "duration_minutes": 60,
    "rrule": build_rrule("biweekly", date(2027, 4, 20)),
    "exdates": format_local_list([datetime(2026, 11, 3, 18, 0), datetime(2027, 3, 30, 18, 0)]),
}
# For the calendar links: Sunday 22 November 2026, with the next Tuesday (24th) called off.
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WEEKLY_FROM_SEPTEMBER = {
    "dtstart": datetime(2026, 9, 1, 17, 0),
    "duration_minutes": 90,
    "rrule": build_rrule("weekly", date(2027, 6, 15)),
    "exdates": format_local_list(
        datetime(y, m, d, 17, 0)
        for y, m, d in ((2026, 10, 6), (2026, 11, 24), (2026, 12, 15), (2027, 4, 6))
    ),
}
SINGLE_WITH_RDATES = {
    "dtstart": datetime(2026, 10, 20, 10, 0),
    "duration_minutes": 120,
    "rrule": "",
    "rdates": format_local_list([datetime(2026, 11, 3, 10, 0), datetime(2027, 3, 30, 12, 30)]),
}


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def instants(pairs) -> set[tuple[datetime, datetime]]:
    return {(s.astimezone(UTC), e.astimezone(UTC)) for s, e in pairs}


def ics(client, activity_id: int, **headers):
    return client.get(f"/activities/{activity_id}.ics", headers=headers)


# --- occurrences survive the round trip ----------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [WEEKLY, BIWEEKLY, SINGLE_WITH_RDATES],
    ids=["weekly", "biweekly-exdate-until", "single-with-rdates"],
)
def test_ics_expands_to_the_same_occurrences_as_the_schedule(client, make_activity, schedule):
    activity = make_activity(schedule=schedule)
    stored = activity.schedules[0]
    expected = instants((o.start, o.end) for o in occurrences(stored, WINDOW_START, WINDOW_END))
    response = ics(client, activity.id)
    assert response.status_code == 200
    calendar = parse(response.data)
    events = recurring_ical_events.of(calendar).between(WINDOW_START, WINDOW_END)
    found = instants((e.start, e.end) for e in events)
    assert found == expected
    assert len(expected) >= 3
    # The wall-clock time holds across both changes while the UTC offset moves.
    offsets = {s.astimezone(OSLO).utcoffset() for s, _e in expected}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


def test_biweekly_rule_keeps_until_in_utc_and_lists_excluded_dates(client, make_activity):
    activity = make_activity(schedule=BIWEEKLY)
    text = ics(client, activity.id).get_data(as_text=True)
    unfolded = text.replace("\r\n ", "")
    assert "RRULE:FREQ=WEEKLY;UNTIL=20270420T215959Z;INTERVAL=2" in unfolded
    assert "EXDATE;TZID=Europe/Oslo:20261103T180000,20270330T180000" in unfolded
    assert "DTSTART;TZID=Europe/Oslo:20261006T180000" in unfolded
    starts = {
        e.start.astimezone(OSLO).date()
        for e in recurring_ical_events.of(parse(text.encode())).between(WINDOW_START, WINDOW_END)
    }
    assert date(2026, 11, 3) not in starts and date(2027, 3, 30) not in starts
    assert max(starts) == date(2027, 4, 20)  # UNTIL is the end of that day, inclusive


def test_single_date_with_rdates_has_rdate_lines_and_no_rule(client, make_activity):
    activity = make_activity(schedule=SINGLE_WITH_RDATES)
    unfolded = ics(client, activity.id).get_data(as_text=True).replace("\r\n ", "")
    assert "RRULE" not in unfolded
    assert "RDATE;TZID=Europe/Oslo:20261103T100000,20270330T123000" in unfolded


def test_every_schedule_becomes_one_event_with_a_stable_uid(client, make_activity):
    from directory.activities.models import Schedule

    activity = make_activity(schedule=WEEKLY)
    activity.schedules.append(Schedule(**SINGLE_WITH_RDATES))
    db.session.commit()
    first = parse(ics(client, activity.id).data)
    second = parse(ics(client, activity.id).data)
    uids = [str(e["UID"]) for e in first.walk("VEVENT")]
    assert len(uids) == 2 and len(set(uids)) == 2
    assert uids == [str(e["UID"]) for e in second.walk("VEVENT")]
    schedule_ids = sorted(s.id for s in activity.schedules)
    assert sorted(uids) == sorted(
        f"activity-{activity.id}-schedule-{sid}@localhost" for sid in schedule_ids
    )


# --- the calendar's properties -------------------------------------------------------------


def test_ics_is_valid_rfc5545_with_calendar_and_event_properties(
    client, make_activity, make_organisation, make_category
):
    organisation = make_organisation(name="Drammen Turn", email="leder@example.org")
    category = make_category(name_nb="Idrett", slug="idrett")
    activity = make_activity(
        organisation=organisation,
        category=category,
        title="Turn for de minste",
        summary="Lek og turn",
        description="Ta med **drikkeflaske**.\n\n- joggesko\n- klær å bevege seg i",
        venue="Marienlysthallen",
        address="Marienlystgata 1, Drammen",
        latitude=Decimal("59.744076"),
        longitude=Decimal("10.204456"),
        schedule=WEEKLY,
    )
    response = ics(client, activity.id)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.mimetype_params.get("charset") == "utf-8"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="turn-for-de-minste.ics"'
    )
    raw = response.data
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line ends in CRLF
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded at 75 octets

    calendar = parse(raw)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Aktivitetskatalogen//")
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Turn for de minste"
    assert str(calendar["NAME"]) == "Turn for de minste"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Oslo"

    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Turn for de minste"
    description = str(event["DESCRIPTION"])
    assert description.startswith("Lek og turn\n\nTa med drikkeflaske.")
    assert "• joggesko\n• klær å bevege seg i" in description
    assert "**" not in description and "<" not in description
    assert description.endswith(f"http://localhost/activities/{activity.id}")
    assert str(event["URL"]) == f"http://localhost/activities/{activity.id}"
    assert str(event["LOCATION"]) == "Marienlysthallen, Marienlystgata 1, Drammen"
    assert event["GEO"].latitude == pytest.approx(59.744076)
    assert event["GEO"].longitude == pytest.approx(10.204456)
    organizer = event["ORGANIZER"]
    assert organizer.params["CN"] == "Drammen Turn"
    assert "leder@example.org" not in raw.decode() and "mailto:" not in str(organizer)
    assert [str(c) for c in event["CATEGORIES"].cats] == ["Idrett"]
    assert str(event["STATUS"]) == "CONFIRMED"
    db.session.refresh(activity)
    assert int(event["SEQUENCE"]) == activity.version
    assert event["LAST-MODIFIED"].dt == activity.updated_at.replace(microsecond=0)
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert event["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert event["DTEND"].dt == datetime(2026, 9, 1, 18, 30, tzinfo=OSLO)


def test_ics_has_no_geo_without_coordinates(client, make_activity):
    activity = make_activity(schedule=WEEKLY)
    (event,) = parse(ics(client, activity.id).data).walk("VEVENT")
    assert "GEO" not in event


def test_vtimezone_is_present_and_bounded_to_the_years_needed(client, make_activity):
    activity = make_activity(schedule=BIWEEKLY)  # 2026-10-06 until 2027-04-20
    body = ics(client, activity.id).get_data(as_text=True)
    calendar = parse(body.encode())
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Oslo"
    block = body[body.index("BEGIN:VTIMEZONE") : body.index("END:VTIMEZONE")]
    transitions = [
        datetime.strptime(value, "%Y%m%dT%H%M%S")
        for line in block.split("\r\n")
        if line.startswith(("DTSTART", "RDATE"))
        for value in line.split(":", 1)[1].split(",")
    ]
    years = {t.year for t in transitions}
    assert min(years) == 2026 and max(years) <= 2028
    # Both changes of the season the activity runs in are described.
    assert datetime(2026, 10, 25).date() in {t.date() for t in transitions}
    assert datetime(2027, 3, 28).date() in {t.date() for t in transitions}
    # The calendar carries the zone itself; nothing refers to an unknown TZID.
    assert calendar.get_missing_tzids() == set()


def test_vtimezone_onsets_are_the_real_transitions_in_the_offset_before_them(client, make_activity):
    activity = make_activity(schedule=BIWEEKLY)
    calendar = parse(ics(client, activity.id).data)
    (timezone,) = calendar.walk("VTIMEZONE")
    checked = 0
    for observance in timezone.subcomponents:
        offset_from = observance["TZOFFSETFROM"].td
        offset_to = observance["TZOFFSETTO"].td
        if offset_from == offset_to:
            continue
        rdates = observance.get("RDATE", [])
        rdates = rdates if isinstance(rdates, list) else [rdates]
        onsets = [observance["DTSTART"].dt] + [d.dt for item in rdates for d in item.dts]
        for local in onsets:
            instant = (local - offset_from).replace(tzinfo=UTC)
            assert (instant - timedelta(seconds=1)).astimezone(OSLO).utcoffset() == offset_from
            assert instant.astimezone(OSLO).utcoffset() == offset_to
            checked += 1
    assert checked >= 4  # spring and autumn of 2026 and 2027


def test_the_files_own_vtimezone_gives_the_same_instants(client, make_activity):
    """A client that ignores the zone name and reads only the VTIMEZONE gets the same times."""
    activity = make_activity(schedule=WEEKLY)
    body = ics(client, activity.id).get_data(as_text=True)
    body = body.replace("X-WR-TIMEZONE:Europe/Oslo\r\n", "").replace("Europe/Oslo", "Fra/Filen")
    calendar = parse(body.encode())
    events = recurring_ical_events.of(calendar).between(WINDOW_START, WINDOW_END)
    assert "Fra/Filen" in repr(events[0].start.tzinfo)  # not the zone database's Europe/Oslo
    expected = instants(
        (o.start, o.end) for o in occurrences(activity.schedules[0], WINDOW_START, WINDOW_END)
    )
    assert instants((e.start, e.end) for e in events) == expected


def test_timezone_bounds_cover_open_ended_rules_a_few_years_ahead():
    class S:
        def __init__(self, **kw):
            self.rdates = ""
            self.exdates = ""
            self.rrule = ""
            self.duration_minutes = 60
            self.__dict__.update(kw)

    class A:
        def __init__(self, *schedules):
            self.schedules = list(schedules)

    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    single = A(S(dtstart=datetime(2025, 6, 1, 10)))
    assert timezone_bounds([single], now) == (date(2025, 1, 1), date(2026, 1, 1))
    ended = A(S(dtstart=datetime(2026, 1, 6, 17), rrule=build_rrule("weekly", date(2027, 2, 1))))
    assert timezone_bounds([ended], now) == (date(2026, 1, 1), date(2028, 1, 1))
    counted = A(S(dtstart=datetime(2026, 12, 1, 17), rrule="FREQ=WEEKLY;COUNT=10"))
    assert timezone_bounds([counted], now) == (date(2026, 1, 1), date(2028, 1, 1))
    open_ended = A(S(dtstart=datetime(2026, 1, 6, 17), rrule="FREQ=WEEKLY"))
    assert timezone_bounds([open_ended], now) == (date(2026, 1, 1), date(2029, 1, 1))
    assert timezone_bounds([], now) == (date(2026, 1, 1), date(2027, 1, 1))


def test_cancelled_activity_is_status_cancelled_with_its_note(client, make_activity):
    activity = make_activity(
        status="cancelled", cancellation_note="Hallen er stengt.", schedule=WEEKLY
    )
    (event,) = parse(ics(client, activity.id).data).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]).startswith("Avlyst: ")
    assert str(event["DESCRIPTION"]).startswith("Hallen er stengt.")


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_non_public_activity_has_no_ics(client, make_activity, status):
    activity = make_activity(status=status, schedule=WEEKLY)
    assert ics(client, activity.id).status_code == 404


def test_activity_of_rejected_organisation_has_no_ics(client, make_activity, make_organisation):
    activity = make_activity(organisation=make_organisation(verification="rejected"))
    assert ics(client, activity.id).status_code == 404


def test_unknown_activity_has_no_ics(client):
    assert client.get("/activities/999999.ics").status_code == 404


def test_draft_ics_is_404_even_for_its_own_organisation(
    client, make_activity, make_organisation, make_user, login_as
):
    owner = make_user()
    activity = make_activity(organisation=make_organisation(owners=[owner]), status="draft")
    login_as(owner)
    assert ics(client, activity.id).status_code == 404


def test_user_text_is_escaped_in_ics(client, make_activity, make_organisation):
    organisation = make_organisation(name='Lag "Sol"; Vik, Drammen')
    activity = make_activity(
        organisation=organisation,
        title="Kor; sang, og \\ moro\nBEGIN:VEVENT",
        schedule=WEEKLY,
    )
    calendar = parse(ics(client, activity.id).data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1  # the title could not inject a second event
    assert str(events[0]["SUMMARY"]) == "Kor; sang, og \\ moro\nBEGIN:VEVENT"
    assert events[0]["ORGANIZER"].params["CN"] == 'Lag "Sol"; Vik, Drammen'


# --- conditional requests ------------------------------------------------------------------


def test_ics_etag_gives_304_and_changes_with_the_activity(client, make_activity):
    activity = make_activity(schedule=WEEKLY)
    first = ics(client, activity.id)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = ics(client, activity.id, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    db.session.refresh(activity)
    activity.title = "Nytt navn"
    db.session.commit()
    changed = ics(client, activity.id, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_ics_last_modified_gives_304(client, make_activity):
    activity = make_activity(schedule=WEEKLY)
    first = ics(client, activity.id)
    last_modified = first.headers["Last-Modified"]
    db.session.refresh(activity)
    assert last_modified == activity.updated_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert ics(client, activity.id, **{"If-Modified-Since": last_modified}).status_code == 304
    earlier = (activity.updated_at - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert ics(client, activity.id, **{"If-Modified-Since": earlier}).status_code == 200


def test_ics_sets_no_cookie(client, make_activity):
    activity = make_activity(schedule=WEEKLY)
    assert "Set-Cookie" not in ics(client, activity.id).headers


# --- the activity page's calendar buttons ----------------------------------------------------


def google_link_in(html: str) -> dict[str, list[str]]:
    google = re.search(r'href="(https://calendar\.google\.com[^"]+)"', html).group(1)
    return parse_qs(urlsplit(google.replace("&amp;", "&")).query)


def test_activity_page_links_to_ics_google_and_a_subscription(client, make_activity):
    activity = make_activity(title="Sjakk & brus", venue="Biblioteket", address="Gata 2")
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert f'href="/activities/{activity.id}.ics"' in html
    assert "Legg i kalender" in html
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert f'href="webcal://localhost/activities/{activity.id}.ics"' in html
    query = google_link_in(html)
    assert query["text"] == ["Sjakk & brus"]
    assert query["recur"] == ["RRULE:FREQ=WEEKLY"]


def test_weekly_activity_page_says_outlook_cannot_repeat_and_offers_no_outlook_link(
    client, make_activity
):
    activity = make_activity(schedule=WEEKLY_FROM_SEPTEMBER)
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "outlook.live.com" not in html
    assert "Outlook på nettet kan ikke få med gjentakelsene fra en lenke." in html
    assert "«Legg i kalender»" in html and "«Abonner i kalenderen»" in html


def test_single_date_activity_page_offers_outlook(client, make_activity):
    activity = make_activity(schedule={"dtstart": datetime(2026, 12, 1, 17, 0), "rrule": ""})
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    outlook = re.search(r'href="(https://outlook\.live\.com[^"]+)"', html).group(1)
    query = parse_qs(urlsplit(outlook.replace("&amp;", "&")).query)
    assert query["startdt"] == ["2026-12-01T16:00:00Z"]
    assert "Outlook på nettet kan ikke" not in html


def test_google_link_expands_to_the_ics_occurrences_from_the_next_one_on(client, make_activity):
    """The Google link's series, expanded in the zone it names, is the .ics from now on:
    it starts at the next date, keeps 17:00 across the spring change and skips the called-off
    dates."""
    activity = make_activity(schedule=WEEKLY_FROM_SEPTEMBER)
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
        body = ics(client, activity.id).data
    query = google_link_in(html)
    assert query["ctz"] == ["Europe/Oslo"]
    start, end = (datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                  for v in query["dates"][0].split("/"))  # fmt: skip
    assert start == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 24 November is called off
    series = rrulestr(query["recur"][0], dtstart=start.astimezone(OSLO), forceset=True)
    from_link = {(s.astimezone(UTC), s.astimezone(UTC) + (end - start)) for s in series}

    horizon = datetime(2027, 7, 1, tzinfo=OSLO)
    events = recurring_ical_events.of(parse(body)).between(NOW, horizon)
    from_ics = instants((e.start, e.end) for e in events)
    assert from_link == from_ics
    assert datetime(2027, 4, 6, 15, 0, tzinfo=UTC) not in {s for s, _e in from_link}
    assert datetime(2027, 4, 13, 15, 0, tzinfo=UTC) in {s for s, _e in from_link}  # summer time


def test_cancelled_activity_page_has_ics_but_no_add_links(client, make_activity):
    activity = make_activity(status="cancelled")
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert f'href="/activities/{activity.id}.ics"' in html
    assert "calendar.google.com" not in html


def test_draft_page_has_no_calendar_links(
    client, make_activity, make_organisation, make_user, login_as
):
    owner = make_user()
    activity = make_activity(organisation=make_organisation(owners=[owner]), status="draft")
    login_as(owner)
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert ".ics" not in html and "calendar.google.com" not in html


# --- pure helpers ---------------------------------------------------------------------------


class FakeSchedule:
    def __init__(self, dtstart, duration_minutes=90, rrule="", rdates="", exdates=""):
        self.id = 1
        self.dtstart = dtstart
        self.duration_minutes = duration_minutes
        self.rrule = rrule
        self.rdates = rdates
        self.exdates = exdates


class FakeActivity:
    def __init__(self, schedules, **kw):
        self.id = 7
        self.title = "Fotball for 3.–4. trinn"
        self.summary = "Trening med ball & lek"
        self.venue = "Kunstgressbanen"
        self.address = "Banegata 1, Drammen"
        self.schedules = schedules
        self.__dict__.update(kw)


def google_and_outlook(activity, now):
    links = calendar_links(activity, activity_url="https://katalog.example/activities/7", now=now)
    assert links is not None
    return (
        parse_qs(urlsplit(links.google).query),
        parse_qs(urlsplit(links.outlook).query),
        links,
    )


def test_google_link_starts_at_the_next_occurrence_with_rule_and_called_off_dates():
    activity = FakeActivity([FakeSchedule(**WEEKLY_FROM_SEPTEMBER)])
    google, _outlook, links = google_and_outlook(activity, NOW)
    # 24 November is called off, so the series starts on 1 December at 17:00 (16:00 UTC).
    assert google["dates"] == ["20261201T160000Z/20261201T173000Z"]
    assert google["recur"] == [
        "RRULE:FREQ=WEEKLY;UNTIL=20270615T215959Z\n"
        "EXDATE:20261215T160000Z\n"
        "EXDATE:20270406T150000Z"  # summer time: 17:00 in Oslo is 15:00 UTC
    ]
    assert "recur=RRULE%3AFREQ%3DWEEKLY%3BUNTIL%3D20270615T215959Z%0AEXDATE%3A" in links.google
    assert google["ctz"] == ["Europe/Oslo"]
    assert links.repeats and links.outlook is None and not links.partial


def test_google_link_keeps_the_count_of_dates_left():
    schedule = FakeSchedule(datetime(2026, 9, 1, 17, 0), rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=20")
    google, _outlook, _links = google_and_outlook(FakeActivity([schedule]), NOW)
    # Every other Tuesday from 1 September: 24 November is the 7th, so 14 are left.
    assert google["dates"] == ["20261124T160000Z/20261124T173000Z"]
    assert google["recur"] == ["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=14"]


def test_single_date_gets_outlook_and_no_recurrence():
    activity = FakeActivity([FakeSchedule(datetime(2026, 12, 1, 17, 0))])
    google, outlook, links = google_and_outlook(activity, NOW)
    assert google["action"] == ["TEMPLATE"]
    assert google["text"] == ["Fotball for 3.–4. trinn"]
    assert google["dates"] == ["20261201T160000Z/20261201T173000Z"]
    assert google["location"] == ["Kunstgressbanen, Banegata 1, Drammen"]
    assert google["details"] == ["Trening med ball & lek\n\nhttps://katalog.example/activities/7"]
    assert "recur" not in google
    assert not links.repeats
    assert outlook["subject"] == ["Fotball for 3.–4. trinn"]
    assert outlook["startdt"] == ["2026-12-01T16:00:00Z"]
    assert outlook["enddt"] == ["2026-12-01T17:30:00Z"]
    assert outlook["location"] == ["Kunstgressbanen, Banegata 1, Drammen"]
    assert "Trening+med+ball+%26+lek" in links.google
    assert "&text=Fotball+for+3.%E2%80%934.+trinn" in links.google


def test_extra_dates_are_rdates_and_the_last_one_left_gets_outlook():
    activity = FakeActivity([FakeSchedule(datetime(2026, 12, 1, 17, 0), rdates="20270407T170000")])
    google, _outlook, links = google_and_outlook(activity, NOW)
    assert google["dates"] == ["20261201T160000Z/20261201T173000Z"]
    assert google["recur"] == ["RDATE:20270407T150000Z"]
    assert links.outlook is None

    # After the winter date only the summer one is left: 17:00 in Oslo is 15:00 UTC.
    google, outlook, links = google_and_outlook(activity, datetime(2026, 12, 2, tzinfo=UTC))
    assert google["dates"] == ["20270407T150000Z/20270407T163000Z"]
    assert "recur" not in google
    assert outlook["startdt"] == ["2027-04-07T15:00:00Z"]


def test_a_finished_rule_with_an_extra_date_left_starts_at_that_date():
    rule = build_rrule("weekly", date(2026, 11, 10))
    schedule = FakeSchedule(datetime(2026, 9, 1, 17, 0), rrule=rule, rdates="20261208T180000")
    google, outlook, _links = google_and_outlook(FakeActivity([schedule]), NOW)
    assert google["dates"] == ["20261208T170000Z/20261208T183000Z"]
    assert "recur" not in google
    assert outlook["startdt"] == ["2026-12-08T17:00:00Z"]


def test_several_schedules_google_gets_the_next_one_and_says_it_is_partial():
    tuesdays = FakeSchedule(datetime(2026, 9, 1, 17, 0), rrule="FREQ=WEEKLY")
    thursdays = FakeSchedule(datetime(2026, 9, 3, 18, 0), rrule="FREQ=WEEKLY")
    google, _outlook, links = google_and_outlook(FakeActivity([thursdays, tuesdays]), NOW)
    assert google["dates"] == ["20261124T160000Z/20261124T173000Z"]
    assert links.partial and links.repeats and links.outlook is None


def test_no_calendar_links_when_nothing_is_left():
    activity = FakeActivity([FakeSchedule(datetime(2025, 1, 7, 17, 0))])
    assert calendar_links(activity, activity_url="x", now=utcnow()) is None


def test_webcal_url():
    assert webcal_url("https://katalog.example/calendar.ics?age=9") == (
        "webcal://katalog.example/calendar.ics?age=9"
    )
    assert (
        webcal_url("http://127.0.0.1:5000/calendar.ics") == "webcal://127.0.0.1:5000/calendar.ics"
    )
    assert webcal_url("webcal://x/calendar.ics") == "webcal://x/calendar.ics"


def test_ics_filename_is_an_ascii_slug():
    assert ics_filename("Svømming for små – høst!") == "svomming-for-sma-host.ics"
    assert ics_filename('"; rm -rf /') == "rm-rf.ics"


def test_utc_until_converts_local_and_date_only_until():
    assert utc_until("FREQ=WEEKLY;UNTIL=20270427T215959Z") == "FREQ=WEEKLY;UNTIL=20270427T215959Z"
    assert utc_until("FREQ=WEEKLY;UNTIL=20261215T180000") == "FREQ=WEEKLY;UNTIL=20261215T170000Z"
    assert utc_until("FREQ=WEEKLY;UNTIL=20270601") == "FREQ=WEEKLY;UNTIL=20270601T215959Z"


def test_markdown_to_text():
    assert markdown_to_text("") == ""
    assert markdown_to_text("# Hei\n\nDette er *viktig* & [lenke](https://x.no).") == (
        "Hei\nDette er viktig & lenke."
    )
    # Plain text: raw HTML is not interpreted, it stays the characters the organiser typed.
    assert markdown_to_text("<script>alert(1)</script>") == "<script>alert(1)</script>"


def test_empty_calendar_is_still_a_valid_calendar():
    body = activity_calendar([], base_url="https://katalog.example", now=utcnow())
    calendar = parse(body)
    assert calendar.walk("VEVENT") == []
    assert len(calendar.walk("VTIMEZONE")) == 1
