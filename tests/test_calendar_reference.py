"""The calendar written as text gives what the icalendar-built one gave, read back by icalendar.

The reference below is the serializer as it was before the events were written by hand (icalendar
components, a fresh Markdown rendering per description, counted rules expanded): both outputs are
parsed and compared event by event on varied data (escapes, line breaks, non-ASCII text and long
lines that fold at every position, translations, cancellations, every kind of rule).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar
from sqlalchemy import select

from directory.activities.models import Activity
from directory.activities.schedule import UNTIL_UTC_FORMAT, format_local_list, parse_local_list
from directory.calendar import (
    MAX_COUNTED,
    OPEN_ENDED_YEARS,
    PRODID,
    TZID,
    _rule_parts,
    activity_calendar,
    activity_url,
    event_uid,
    markdown_to_text,
    organisation_url,
    oslo_timezone,
    timezone_bounds,
    utc_until,
)
from directory.demo import load_demo
from directory.extensions import db
from directory.timeutil import OSLO

NOW = datetime(2026, 11, 22, 12, 0, 30, 123456, tzinfo=UTC)
BASE_URL = "https://aktiviteter.example.no/katalog"

# --- the reference: the serializer before the events were written as text -------------------


def reference_calendar(
    activities,
    *,
    base_url,
    now,
    name="Aktivitetskatalogen",
    locale="nb",
    cancelled_label="Avlyst",
    refresh_interval=None,
    texts=None,
) -> bytes:
    from icalendar import vText

    activities = list(activities)
    base_url = base_url.rstrip("/")
    from urllib.parse import urlsplit

    host = urlsplit(base_url).hostname or "localhost"
    stamp = now.astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = " ".join(name.split())
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", TZID)
    if refresh_interval is not None:
        calendar.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh_interval)
    first, last = reference_timezone_bounds(activities, now)
    calendar.add_component(oslo_timezone(first, last))
    for activity in activities:
        for schedule in activity.schedules:
            calendar.add_component(
                _reference_event(
                    activity,
                    schedule,
                    base_url=base_url,
                    host=host,
                    stamp=stamp,
                    locale=locale,
                    cancelled_label=cancelled_label,
                    text=(texts or {}).get(activity.id),
                )
            )
    return calendar.to_ical()


def _reference_event(activity, schedule, *, base_url, host, stamp, locale, cancelled_label, text):
    from icalendar import Event, vCalAddress, vRecur

    cancelled = activity.status == "cancelled"
    start = schedule.dtstart.replace(tzinfo=OSLO)
    end = (start.astimezone(UTC) + timedelta(minutes=schedule.duration_minutes)).astimezone(OSLO)
    page = activity_url(base_url, activity)
    if text is not None:
        page = f"{page}?content={text.language}"
    event = Event()
    event.add("uid", event_uid(activity, schedule, host))
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    if schedule.rrule:
        event.add("rrule", vRecur.from_ical(utc_until(schedule.rrule)))
    rdates = parse_local_list(schedule.rdates)
    if rdates:
        event.add("rdate", [d.replace(tzinfo=OSLO) for d in rdates])
    exdates = parse_local_list(schedule.exdates)
    if exdates:
        event.add("exdate", [d.replace(tzinfo=OSLO) for d in exdates])
    own_title = text.title if text is not None else activity.title
    title = f"{cancelled_label}: {own_title}" if cancelled else own_title
    language = {"LANGUAGE": text.language} if text is not None else None
    event.add("summary", title, parameters=language)
    event.add("description", _reference_description(activity, page, text), parameters=language)
    location = ", ".join(part for part in (activity.venue, activity.address) if part)
    if location:
        event.add("location", location)
    if activity.latitude is not None and activity.longitude is not None:
        event.add("geo", (float(activity.latitude), float(activity.longitude)))
    event.add("url", page)
    organizer = vCalAddress(organisation_url(base_url, activity.organisation.slug))
    organizer.params["CN"] = activity.organisation.name
    event.add("organizer", organizer)
    if activity.category is not None:
        event.add("categories", [activity.category.name_in(locale)])
    event.add("last-modified", activity.updated_at.astimezone(UTC).replace(microsecond=0))
    event.add("sequence", activity.version)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("class", "PUBLIC")
    event.add("transp", "OPAQUE")
    return event


def _reference_description(activity, page, text=None) -> str:
    source = text if text is not None else activity
    parts = [source.summary.strip(), markdown_to_text(source.description)]
    if activity.status == "cancelled" and activity.cancellation_note:
        parts.insert(0, activity.cancellation_note.strip())
    parts.append(page)
    return "\n\n".join(part for part in parts if part)


def _reference_last_date(schedule, now) -> date:
    dates = [schedule.dtstart.date()] + [d.date() for d in parse_local_list(schedule.rdates)]
    open_ended = False
    if schedule.rrule:
        parts = dict(_rule_parts(utc_until(schedule.rrule)))
        if "UNTIL" in parts:
            until = datetime.strptime(parts["UNTIL"], UNTIL_UTC_FORMAT).replace(tzinfo=UTC)
            dates.append(until.astimezone(OSLO).date())
        elif parts.get("COUNT", "").isdigit() and int(parts["COUNT"]) <= MAX_COUNTED:
            rule = rrulestr(schedule.rrule, dtstart=schedule.dtstart)
            dates.append(list(rule)[-1].date())
        else:
            open_ended = True
    last = max(dates) + timedelta(days=schedule.duration_minutes // (24 * 60))
    if open_ended:
        year = max(now.astimezone(OSLO).year, schedule.dtstart.year) + OPEN_ENDED_YEARS
        last = max(last, date(year, 12, 31))
    return last


def reference_timezone_bounds(activities, now) -> tuple[date, date]:
    firsts, lasts = [], []
    for activity in activities:
        for schedule in activity.schedules:
            starts = [schedule.dtstart] + parse_local_list(schedule.rdates)
            firsts.append(min(starts).date())
            lasts.append(_reference_last_date(schedule, now))
    this_year = now.astimezone(OSLO).year
    first_year = min(firsts).year if firsts else this_year
    last_year = max(lasts).year if lasts else this_year
    return date(first_year, 1, 1), date(last_year + 1, 1, 1)


# --- varied data -----------------------------------------------------------------------------


class Category(SimpleNamespace):
    def name_in(self, locale: str) -> str:
        return {"nn": self.name_nn, "en": self.name_en}.get(locale, self.name_nb)


RULES = [
    "",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;COUNT=30",
    "FREQ=WEEKLY;INTERVAL=2;COUNT=12",
    "FREQ=DAILY;COUNT=400",
    "FREQ=DAILY;INTERVAL=3;COUNT=1",
    "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=25",
    "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=7",
    "FREQ=YEARLY;COUNT=3",
    "FREQ=WEEKLY;WKST=MO;COUNT=60",
    "FREQ=WEEKLY;COUNT=5000",  # beyond MAX_COUNTED: open-ended
    "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270420T215959Z",
    "FREQ=WEEKLY;UNTIL=20270615T170000",  # an older import's local UNTIL
    "FREQ=WEEKLY;UNTIL=20280101",  # a date-only UNTIL
    "freq=weekly;count=10",
]
# Escapes, line breaks of every kind, quotes, carets and characters of one to four octets.
PIECES = [
    "komma, semikolon; kolon:",
    "bak\\skråstrek \\N og \\n",
    "linje\r\nskift\rog\nmer",
    'sitat "her" og ^caret^',
    "æøå ÆØÅ – «norsk» ’apostrof’",
    "emoji 😀🎉 og ĳ",
    "**fet** og _kursiv_ [lenke](https://example.org/a?b=1&c=2)",
    "- punkt én\n- punkt to\n\n1. første\n2. andre",
    "> sitat\n\n    kode; her",
    "<script>alert(1)</script> &amp; &lt;",
    "ø" * 50,
    "\\" * 9 + "^" * 9,
]


def _text(rng: random.Random, padding: int) -> str:
    # The padding shifts what follows across every position of a 75-octet line.
    return "x" * padding + " ".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))


def varied_activities(count: int, seed: int = 16):
    rng = random.Random(seed)
    activities = []
    schedule_id = 0
    for n in range(1, count + 1):
        schedules = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            schedule_id += 1
            start = datetime(2026, 9, 1, 17, 0) + timedelta(
                days=rng.randint(-400, 400), minutes=rng.choice((0, 15, 30))
            )
            rrule = rng.choice(RULES)
            extra = sorted(start + timedelta(days=7 * k) for k in rng.sample(range(1, 40), 3))
            schedules.append(
                SimpleNamespace(
                    id=schedule_id,
                    dtstart=start,
                    duration_minutes=rng.choice((45, 90, 24 * 60 + 30, 3 * 24 * 60)),
                    rrule=rrule,
                    rdates=format_local_list(extra[:1]) if rng.random() < 0.3 else "",
                    exdates=format_local_list(extra[1:]) if rng.random() < 0.4 else "",
                )
            )
        name = rng.choice(("Konnerud IL", 'Klubb "Ørn", avd. 2', "Lag: ^A^", "O’Hara's lag"))
        activities.append(
            SimpleNamespace(
                id=n,
                version=rng.randint(1, 9),
                title=_text(rng, rng.randint(0, 80)) or f"Aktivitet {n}",
                summary=_text(rng, rng.randint(0, 80)),
                description=_text(rng, rng.randint(0, 80)),
                status=rng.choice(("published", "published", "cancelled")),
                cancellation_note=rng.choice(("", "Avlyst på grunn av vær; beklager.")),
                venue=rng.choice(("", "Idrettshallen", "Hall, bane 2")),
                address=rng.choice(("", "Idrettsveien 1, 3015 Drammen")),
                latitude=rng.choice((None, Decimal("59.744076"), Decimal("-0.5"))),
                longitude=rng.choice((None, Decimal("10.204456"), Decimal("0"))),
                organisation=SimpleNamespace(name=f"{name} {n}", slug=f"organisasjon-{n}"),
                category=rng.choice(
                    (
                        None,
                        Category(name_nb="Idrett", name_nn="Idrett", name_en="Sport"),
                        Category(name_nb="Kunst, kultur", name_nn="Kunst; kultur", name_en="Art"),
                    )
                ),
                updated_at=datetime(2026, 11, 1, 8, 30, 15, 500, tzinfo=UTC) + timedelta(minutes=n),
                schedules=schedules,
            )
        )
    return activities


# --- comparing -------------------------------------------------------------------------------

PROPERTIES = (
    "UID", "DTSTAMP", "DTSTART", "DTEND", "RRULE", "RDATE", "EXDATE", "SUMMARY", "DESCRIPTION",
    "LOCATION", "URL", "STATUS", "GEO", "ORGANIZER", "CATEGORIES", "LAST-MODIFIED", "SEQUENCE",
    "CLASS", "TRANSP",
)  # fmt: skip


def _value(prop):
    if prop is None:
        return None
    if isinstance(prop, list):
        return [_value(p) for p in prop]
    if hasattr(prop, "dts"):  # RDATE, EXDATE
        return [(d.dt, d.dt.tzinfo and str(d.dt.tzinfo)) for d in prop.dts]
    if hasattr(prop, "dt"):
        return (prop.dt, prop.dt.tzinfo and str(prop.dt.tzinfo))
    if hasattr(prop, "cats"):
        return list(prop.cats)
    if hasattr(prop, "to_ical"):
        return (prop.to_ical(), dict(getattr(prop, "params", {})))
    return prop


def parsed(body: bytes):
    calendar = Calendar.from_ical(body)
    head = {key: calendar[key].to_ical() for key in calendar}
    zones = [c.to_ical() for c in calendar.walk("VTIMEZONE")]
    events = [
        {key: _value(event.get(key)) for key in PROPERTIES} for event in calendar.walk("VEVENT")
    ]
    return head, zones, events


def assert_same(new: bytes, old: bytes) -> None:
    new_head, new_zones, new_events = parsed(new)
    old_head, old_zones, old_events = parsed(old)
    assert new_head == old_head
    assert new_zones == old_zones
    assert [e["UID"] for e in new_events] == [e["UID"] for e in old_events]
    for new_event, old_event in zip(new_events, old_events, strict=True):
        assert new_event == old_event
    for line in new.split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # never folded inside a character
    # icalendar reads an unescaped comma or semicolon in a TEXT value back as it is; RFC 5545
    # does not allow one.
    unfolded = new.decode().replace("\r\n ", "")
    for line in unfolded.split("\r\n"):
        name, _params, value = _split_line(line)
        if name in ("SUMMARY", "DESCRIPTION", "LOCATION", "CATEGORIES"):
            assert not _unescaped(value, ";," if name != "CATEGORIES" else ";"), line


def _split_line(line: str) -> tuple[str, str, str]:
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head = line[:i]
            return head.split(";", 1)[0], head, line[i + 1 :]
    return line, "", ""


def _unescaped(value: str, specials: str) -> bool:
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in specials:
            return True
    return False


def test_the_text_calendar_reads_back_as_the_icalendar_one():
    activities = varied_activities(200)
    assert sum(len(a.schedules) for a in activities) > 300
    texts = {
        n: SimpleNamespace(
            language=language,
            title=f"Title {n}; in English, «quoted»",
            summary="Summary, with ^ and \\",
            description="- one\n- two, three\n\nÆ" * n,
        )
        for n, language in ((3, "en"), (4, "nn"), (5, "uk"))
    }
    for options in (
        {},
        {"name": "Aktiviteter  for\nbarn, og unge", "refresh_interval": timedelta(hours=6)},
        {"locale": "en", "cancelled_label": "Cancelled", "texts": texts},
    ):
        old = reference_calendar(activities, base_url=BASE_URL, now=NOW, **options)
        new = activity_calendar(activities, base_url=BASE_URL, now=NOW, **options)
        assert_same(new, old)
        # With the descriptions, rules and time zone remembered: the same calendar again.
        assert activity_calendar(activities, base_url=BASE_URL, now=NOW, **options) == new


def test_each_schedule_needs_the_same_time_zone_years():
    # One activity at a time: in a whole calendar the open-ended rules' horizon hides the rest.
    for activity in varied_activities(300):
        for schedule in activity.schedules:
            alone = SimpleNamespace(schedules=[schedule])
            assert timezone_bounds([alone], NOW) == reference_timezone_bounds([alone], NOW)


def test_an_empty_calendar_is_the_same():
    assert_same(
        activity_calendar([], base_url=BASE_URL, now=NOW),
        reference_calendar([], base_url=BASE_URL, now=NOW),
    )


def test_a_changed_description_is_never_served_from_the_cache():
    activity = varied_activities(1, seed=3)[0]
    activity.status = "published"
    activity.description = "Første tekst"
    before = Calendar.from_ical(activity_calendar([activity], base_url=BASE_URL, now=NOW))
    activity.description = "Andre *tekst*"  # the same id and version: a bulk edit, say
    after = Calendar.from_ical(activity_calendar([activity], base_url=BASE_URL, now=NOW))
    [old_event], [new_event] = before.walk("VEVENT"), after.walk("VEVENT")
    assert "Første tekst" in str(old_event["DESCRIPTION"])
    assert "Andre tekst" in str(new_event["DESCRIPTION"])
    assert "Første" not in str(new_event["DESCRIPTION"])


@pytest.mark.usefixtures("remove_new_uploads")
def test_the_demo_calendar_is_the_same(app):
    load_demo()
    db.session.commit()
    activities = db.session.scalars(select(Activity).order_by(Activity.id)).all()
    assert len(activities) > 20
    assert_same(
        activity_calendar(activities, base_url=BASE_URL, now=NOW),
        reference_calendar(activities, base_url=BASE_URL, now=NOW),
    )
    # Each translated activity in each of its languages, as /activities/<id>.ics?content= has it.
    translated = [(a, t) for a in activities for t in a.translations]
    assert translated
    for activity, text in translated:
        options = {"name": text.title, "texts": {activity.id: text}}
        assert_same(
            activity_calendar([activity], base_url=BASE_URL, now=NOW, **options),
            reference_calendar([activity], base_url=BASE_URL, now=NOW, **options),
        )
