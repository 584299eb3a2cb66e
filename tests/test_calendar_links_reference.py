"""The calendar links found by walking the rules give what the 400-day expansion gave (issue 16).

The reference below is google_recurrence() and calendar_links() as they were: every occurrence
of the next 400 days expanded (twice) to keep the first, the rule's dates among them and the
extra dates. The links now come from the rule walked to its first date and the explicit dates
expanded alone; both are compared, link for link, on every kind of schedule and moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from dateutil.rrule import rrulestr
from hypothesis import example, given, settings
from hypothesis import strategies as st

from directory.activities.schedule import (
    Occurrence,
    activity_occurrences,
    format_local_list,
    occurrences,
    parse_local_list,
)
from directory.calendar import (
    GOOGLE_CALENDAR,
    LINK_HORIZON_DAYS,
    OUTLOOK_CALENDAR,
    TZID,
    CalendarLinks,
    _link_details,
    _rule_from,
    _utc_iso,
    _utc_stamp,
    calendar_links,
    google_recurrence,
    utc_until,
    webcal_url,
)
from directory.timeutil import OSLO

PAGE = "https://katalog.example/activities/7"
ICS = "https://katalog.example/activities/7.ics"


@dataclass
class S:
    dtstart: datetime
    duration_minutes: int = 60
    rrule: str = ""
    rdates: str = ""
    exdates: str = ""
    id: int = 1


@dataclass
class A:
    schedules: list[S] = field(default_factory=list)
    id: int = 7
    title: str = "Fotball for 3.–4. trinn"
    summary: str = "Trening med ball & lek"
    venue: str = "Kunstgressbanen"
    address: str = "Banegata 1, Drammen"


# --- the reference: the links as they were, from the whole horizon expanded -----------------


def old_upcoming(schedule, now: datetime) -> list[Occurrence]:
    return list(occurrences(schedule, now, now + timedelta(days=LINK_HORIZON_DAYS)))


def old_google_recurrence(schedule, now: datetime) -> tuple[Occurrence, list[str]] | None:
    upcoming = old_upcoming(schedule, now)
    if not upcoming:
        return None
    rule = None
    rule_dates: set[datetime] = set()
    if schedule.rrule:
        rule = rrulestr(utc_until(schedule.rrule), dtstart=schedule.dtstart.replace(tzinfo=OSLO))
        last = upcoming[-1].start
        window_start = upcoming[0].start - timedelta(minutes=schedule.duration_minutes)
        rule_dates = {d.astimezone(UTC) for d in rule.between(window_start, last, inc=True)}
    on_rule = [o for o in upcoming if o.start.astimezone(UTC) in rule_dates]
    first = on_rule[0] if on_rule else upcoming[0]
    lines: list[str] = []
    if rule is not None and on_rule and rule.after(first.start) is not None:
        lines.append("RRULE:" + _rule_from(schedule, first.start))
        lines += [
            f"EXDATE:{_utc_stamp(skipped.replace(tzinfo=OSLO))}"
            for skipped in parse_local_list(schedule.exdates)
            if skipped.replace(tzinfo=OSLO) > first.start
        ]
    lines += [f"RDATE:{_utc_stamp(o.start)}" for o in upcoming if o not in on_rule and o != first]
    return first, lines


def old_calendar_links(activity, *, activity_url, now, ics_url=None) -> CalendarLinks | None:
    found = []
    for schedule in activity.schedules:
        series = old_google_recurrence(schedule, now)
        if series is not None:
            found.append((series[0].start, series, schedule))
    if not found:
        return None
    found.sort(key=lambda item: item[0])
    _start, (first, lines), _schedule = found[0]
    remaining = activity_occurrences(
        [s for _s, _series, s in found], now, now + timedelta(days=LINK_HORIZON_DAYS)
    )
    repeats = len(remaining) > 1 or bool(lines)
    location = ", ".join(part for part in (activity.venue, activity.address) if part)
    details = _link_details(activity, activity_url)

    google: dict[str, str] = {
        "action": "TEMPLATE",
        "text": activity.title,
        "dates": f"{_utc_stamp(first.start)}/{_utc_stamp(first.end)}",
    }
    if lines:
        google["recur"] = "\n".join(lines)
    google["details"] = details
    if location:
        google["location"] = location
    google["ctz"] = TZID

    outlook_link = None
    if not repeats:
        outlook: dict[str, str] = {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": activity.title,
            "startdt": _utc_iso(first.start),
            "enddt": _utc_iso(first.end),
            "body": details,
        }
        if location:
            outlook["location"] = location
        outlook_link = f"{OUTLOOK_CALENDAR}?{urlencode(outlook)}"
    return CalendarLinks(
        google=f"{GOOGLE_CALENDAR}?{urlencode(google)}",
        outlook=outlook_link,
        repeats=repeats,
        partial=len(found) > 1,
        subscribe=webcal_url(ics_url) if ics_url else None,
    )


# --- the comparison ---------------------------------------------------------------------------


def assert_same_links(schedules: list[S], now: datetime) -> None:
    for schedule in schedules:
        assert google_recurrence(schedule, now) == old_google_recurrence(schedule, now), (
            schedule,
            now,
        )
    activity = A(schedules)
    expected = old_calendar_links(activity, activity_url=PAGE, now=now, ics_url=ICS)
    assert calendar_links(activity, activity_url=PAGE, now=now, ics_url=ICS) == expected, now


def both_zones(moment: datetime) -> list[datetime]:
    """A moment as the page passes it (UTC) and as an Oslo time."""
    local = moment.replace(tzinfo=OSLO)
    return [local, local.astimezone(UTC)]


# Each case: schedules, and the moments to ask from. 2026: summer time from 29 March 02:00 to
# 25 October 03:00; 2027: from 28 March to 31 October.
CASES = {
    "weekly, open-ended": (
        [S(datetime(2025, 9, 2, 17, 0), 90, "FREQ=WEEKLY")],
        [datetime(2026, 3, 20), datetime(2026, 3, 31, 18, 0), datetime(2026, 10, 27, 18, 31)],
    ),
    "weekly with exdates and rdates before, after and on rule dates": (
        [
            S(
                datetime(2026, 1, 6, 17, 0),
                90,
                "FREQ=WEEKLY",
                rdates="20260105T170000 20260326T180000 20260331T170000 20260402T180000",
                exdates="20260324T170000 20260407T170000 20260402T180000",
            )
        ],
        [
            datetime(2026, 1, 1),
            datetime(2026, 3, 20, 10, 0),
            datetime(2026, 3, 24, 17, 30),
            datetime(2026, 3, 26, 19, 29),
            datetime(2026, 3, 31, 18, 31),
        ],
    ),
    "biweekly until the end of a day, across the autumn change": (
        [S(datetime(2026, 9, 1, 17, 0), 60, "FREQ=WEEKLY;INTERVAL=2;UNTIL=20261124T225959Z")],
        [
            datetime(2026, 8, 1),
            datetime(2026, 10, 1),
            datetime(2026, 11, 10, 17, 59),
            datetime(2026, 11, 24, 17, 59),
            datetime(2026, 11, 25),
        ],
    ),
    "biweekly counted, dates called off and an extra date after the last": (
        [
            S(
                datetime(2026, 9, 1, 17, 0),
                90,
                "FREQ=WEEKLY;INTERVAL=2;COUNT=6",
                rdates="20261203T170000",
                exdates="20260929T170000 20261110T170000",
            )
        ],
        [datetime(2026, 9, 20), datetime(2026, 11, 1), datetime(2026, 11, 25)],
    ),
    "counted daily rule through the spring change night": (
        [S(datetime(2026, 3, 27, 23, 30), 240, "FREQ=DAILY;COUNT=4")],
        [datetime(2026, 3, 28, 1, 0), datetime(2026, 3, 29, 3, 30), datetime(2026, 3, 30, 3)],
    ),
    "daily in the hour that autumn repeats and spring skips": (
        [S(datetime(2026, 3, 25, 2, 30), 45, "FREQ=DAILY;UNTIL=20261101T000000Z")],
        [datetime(2026, 3, 28, 3), datetime(2026, 10, 24, 3), datetime(2026, 10, 25, 2, 40)],
    ),
    "an extra date in the skipped hour, the rule's date an hour later names the same instant": (
        [
            S(
                datetime(2026, 3, 1, 3, 30),
                60,
                "FREQ=WEEKLY",
                rdates="20260329T023000",
                exdates="20260329T033000",
            ),
            S(datetime(2026, 3, 1, 3, 30), 60, "FREQ=WEEKLY;COUNT=5", rdates="20260329T023000"),
            S(datetime(2026, 3, 1, 2, 30), 30, "FREQ=WEEKLY", rdates="20260329T033000"),
            # The rule's date an hour earlier, called off: the same instant only when it is
            # no earlier than the first upcoming start less the duration.
            S(
                datetime(2026, 3, 1, 2, 30),
                30,
                "FREQ=WEEKLY",
                rdates="20260329T033000",
                exdates="20260329T023000",
            ),
            S(
                datetime(2026, 3, 1, 2, 30),
                60,
                "FREQ=WEEKLY",
                rdates="20260329T033000",
                exdates="20260329T023000",
            ),
            # The rule's last date an hour later, called off: later than every upcoming start.
            S(
                datetime(2026, 3, 1, 3, 30),
                60,
                "FREQ=WEEKLY;COUNT=5",
                rdates="20260329T023000",
                exdates="20260329T033000",
            ),
        ],
        [datetime(2026, 3, 20), datetime(2026, 3, 29, 1, 0), datetime(2026, 3, 29, 4, 0)],
    ),
    "one-offs, one of them in the changed hour of the autumn night": (
        [
            S(datetime(2026, 10, 25, 1, 30), 120),
            S(datetime(2026, 10, 25, 2, 30), 30),
            S(datetime(2026, 11, 2, 9, 0), 30, rdates="20261103T090000 20270405T090000"),
        ],
        [datetime(2026, 10, 24), datetime(2026, 10, 25, 2, 45), datetime(2026, 11, 3, 9, 15)],
    ),
    "several schedules sharing an occurrence": (
        [
            S(datetime(2026, 1, 5, 17, 0), 60, "FREQ=WEEKLY;BYDAY=MO,WE", id=1),
            S(datetime(2026, 1, 7, 17, 0), 60, "FREQ=WEEKLY", id=2),
            S(datetime(2026, 3, 30, 17, 0), 60, "FREQ=WEEKLY;COUNT=2", id=3),
            S(datetime(2026, 4, 4, 10, 0), 45, id=4),
        ],
        [datetime(2026, 3, 27), datetime(2026, 4, 1, 17, 30), datetime(2026, 12, 30)],
    ),
    "two one-offs at the same time: one date, no repetition": (
        [S(datetime(2026, 6, 1, 17, 0), 60, id=1), S(datetime(2026, 6, 1, 17, 0), 60, id=2)],
        [datetime(2026, 5, 1), datetime(2026, 6, 1, 17, 59)],
    ),
    "a rule that ended, and one starting beyond the horizon": (
        [
            S(datetime(2025, 1, 7, 17, 0), 60, "FREQ=WEEKLY;UNTIL=20250601T215959Z", id=1),
            S(datetime(2027, 9, 1, 17, 0), 60, "FREQ=WEEKLY", id=2),
            S(datetime(2027, 9, 1, 17, 0), 60, id=3),
        ],
        [datetime(2026, 3, 1), datetime(2026, 8, 1), datetime(2026, 9, 1)],
    ),
    "rare and far: yearly, monthly on the 31st": (
        [
            S(datetime(2025, 1, 1, 9, 0), 60, "FREQ=YEARLY", rdates="20260601T090000"),
            S(datetime(2026, 1, 31, 9, 0), 60, "FREQ=MONTHLY", exdates="20260331T090000"),
        ],
        [datetime(2026, 2, 2), datetime(2026, 5, 1), datetime(2026, 12, 31, 10)],
    ),
    "a long occurrence still going on": (
        [
            S(
                datetime(2026, 6, 29, 9, 0),
                60 * 24 * 5,
                "FREQ=WEEKLY;COUNT=3",
                rdates="20260701T090000",
            )
        ],
        [datetime(2026, 7, 2), datetime(2026, 7, 10, 8, 0), datetime(2026, 7, 18, 8, 0)],
    ),
    "every date excluded, finished rules and the past": (
        [
            S(datetime(2026, 3, 2, 12, 0), 60, "FREQ=WEEKLY;COUNT=2", exdates="20260302T120000"),
            S(datetime(2026, 3, 2, 12, 0), 60, "FREQ=WEEKLY;COUNT=2", exdates="20260309T120000"),
            S(
                datetime(2026, 3, 2, 12, 0),
                60,
                "FREQ=WEEKLY;COUNT=2",
                exdates="20260302T120000 20260309T120000",
            ),
            S(datetime(2020, 1, 1, 10, 0)),
        ],
        [datetime(2026, 3, 1), datetime(2026, 3, 3), datetime(2026, 3, 10)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_walking_the_rules_gives_the_links_the_expansion_gave(name):
    schedules, moments = CASES[name]
    for moment in moments:
        for now in both_zones(moment):
            assert_same_links(schedules, now)
            for schedule in schedules:  # and each schedule alone
                assert_same_links([schedule], now)


def test_the_cases_give_every_kind_of_link():
    """The comparison above would prove little if every case ended the same way."""
    seen = set()
    for schedules, moments in CASES.values():
        for moment in moments:
            now = moment.replace(tzinfo=OSLO)
            links = calendar_links(A(schedules), activity_url=PAGE, now=now)
            series = [google_recurrence(s, now) for s in schedules]
            lines = [line for found in series if found for line in found[1]]
            seen.add("none" if links is None else "repeats" if links.repeats else "once")
            seen.update(line.split(":")[0] for line in lines)
            if links is not None and links.partial:
                seen.add("partial")
            if any(found and not found[1] for found in series) and links and links.repeats:
                seen.add("repeats without lines")
    assert seen == {
        "none",
        "once",
        "repeats",
        "RRULE",
        "EXDATE",
        "RDATE",
        "partial",
        "repeats without lines",
    }


def test_an_extra_date_in_the_skipped_hour_is_the_rules_own():
    """02:30 on 29 March 2026 does not exist: it names 01:30 UTC, the rule's 03:30 that day."""
    schedule = CASES[
        "an extra date in the skipped hour, the rule's date an hour later names the same instant"
    ][0][0]
    first, lines = google_recurrence(schedule, datetime(2026, 3, 29, 1, 0, tzinfo=OSLO))
    assert _utc_stamp(first.start) == "20260329T013000Z"
    assert [line for line in lines if not line.startswith("EXDATE")] == ["RRULE:FREQ=WEEKLY"]


# Around the daylight-saving changes most of the time, and anywhere in two years otherwise.
_CHANGES = [datetime(2026, 3, 29, 2), datetime(2026, 10, 25, 2), datetime(2027, 3, 28, 2)]
_moments = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)),
    st.builds(
        lambda change, minutes: change + timedelta(minutes=minutes),
        st.sampled_from(_CHANGES),
        st.integers(-60 * 24 * 15, 60 * 24 * 15),
    ),
).map(lambda d: d.replace(second=0, microsecond=0))
_RULES = [
    "",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=WEEKLY;COUNT=4",
    "FREQ=DAILY;COUNT=10",
    "FREQ=DAILY",
    "FREQ=WEEKLY;UNTIL=20270301T225959Z",
    "FREQ=WEEKLY;UNTIL=20260401T215959Z",
]
_schedules = st.builds(
    lambda start, duration, rule, skipped, extra, shifted: S(
        start,
        duration,
        rule,
        # rdates: some on the rule's own dates (whole weeks on), some an hour or a day off them
        format_local_list(start + timedelta(weeks=w) for w in extra)
        + " "
        + format_local_list(start + timedelta(days=d, hours=h) for d, h in shifted),
        format_local_list(start + timedelta(weeks=k) for k in skipped),
    ),
    start=_moments,
    duration=st.sampled_from([30, 60, 90, 150, 60 * 26]),
    rule=st.sampled_from(_RULES),
    skipped=st.sets(st.integers(0, 8), max_size=3),
    extra=st.sets(st.integers(0, 8), max_size=2),
    shifted=st.sets(st.tuples(st.integers(0, 60), st.integers(-2, 2)), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(schedules=st.lists(_schedules, min_size=1, max_size=3), now=_moments, utc=st.booleans())
@example(
    schedules=[S(datetime(2026, 3, 1, 3, 30), 60, "FREQ=WEEKLY", "20260329T023000")],
    now=datetime(2026, 3, 29, 1, 0),
    utc=False,
)
def test_walking_agrees_with_the_expansion_for_any_schedules(schedules, now, utc):
    now = now.replace(tzinfo=OSLO)
    assert_same_links(schedules, now.astimezone(UTC) if utc else now)
