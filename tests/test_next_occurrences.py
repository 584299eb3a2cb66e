"""The next occurrences walked rule by rule give what the 400-day expansion gave (issue 16):
exdates, rdates, counted and until rules, one-offs, durations and the daylight-saving changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory.activities.schedule import (
    Occurrence,
    ScheduleLike,
    activity_occurrences,
    format_local_list,
    next_occurrences,
    next_start,
    next_start_span,
)
from directory.timeutil import OSLO


@dataclass
class S:
    dtstart: datetime
    duration_minutes: int = 60
    rrule: str = ""
    rdates: str = ""
    exdates: str = ""


def expanded_next_occurrences(
    schedules: list[ScheduleLike], *, after: datetime, limit: int = 5, horizon_days: int = 400
) -> list[Occurrence]:
    """The function as it was: every occurrence of the horizon, then the first `limit`."""
    found = activity_occurrences(schedules, after, after + timedelta(days=horizon_days))
    return found[:limit]


# Each case: schedules, and the moments to ask from. 2026: summer time from 29 March 02:00
# to 25 October 03:00; 2027: from 28 March.
CASES = {
    "weekly with exdates and an rdate": (
        [
            S(
                datetime(2026, 1, 6, 17, 0),
                90,
                "FREQ=WEEKLY",
                rdates="20260326T180000 20260402T180000",
                exdates="20260324T170000 20260331T170000 20260407T170000",
            )
        ],
        [datetime(2026, 3, 20, 10, 0), datetime(2026, 3, 24, 17, 30), datetime(2026, 3, 31)],
    ),
    "biweekly until the end of a day, across the autumn change": (
        [S(datetime(2026, 9, 1, 17, 0), 60, "FREQ=WEEKLY;INTERVAL=2;UNTIL=20261124T225959Z")],
        [datetime(2026, 10, 1), datetime(2026, 11, 10, 17, 59), datetime(2026, 11, 25)],
    ),
    "counted daily rule through the spring change night": (
        [S(datetime(2026, 3, 27, 23, 30), 240, "FREQ=DAILY;COUNT=4")],
        [datetime(2026, 3, 28, 1, 0), datetime(2026, 3, 29, 3, 30), datetime(2026, 3, 30, 3)],
    ),
    "one-offs, one of them in the changed hour of the autumn night": (
        [
            S(datetime(2026, 10, 25, 1, 30), 120),
            S(datetime(2026, 10, 25, 2, 30), 30),
            S(datetime(2026, 11, 2, 9, 0), 30, rdates="20261103T090000"),
        ],
        [datetime(2026, 10, 24), datetime(2026, 10, 25, 2, 45), datetime(2026, 11, 3, 9, 15)],
    ),
    "several schedules sharing an occurrence": (
        [
            S(datetime(2026, 1, 5, 17, 0), 60, "FREQ=WEEKLY;BYDAY=MO,WE"),
            S(datetime(2026, 1, 7, 17, 0), 60, "FREQ=WEEKLY"),
            S(datetime(2026, 3, 30, 17, 0), 60, "FREQ=WEEKLY;COUNT=2"),
            S(datetime(2026, 4, 4, 10, 0), 45),
        ],
        [datetime(2026, 3, 27), datetime(2026, 4, 1, 17, 30), datetime(2026, 12, 30)],
    ),
    "a long occurrence still going on": (
        [S(datetime(2026, 6, 29, 9, 0), 60 * 24 * 5, "FREQ=WEEKLY;COUNT=3")],
        [datetime(2026, 7, 2), datetime(2026, 7, 10, 8, 0)],
    ),
    "rare and far: yearly, monthly on the 31st, past the horizon": (
        [
            S(datetime(2025, 1, 1, 9, 0), 60, "FREQ=YEARLY"),
            S(datetime(2026, 1, 31, 9, 0), 60, "FREQ=MONTHLY"),
            S(datetime(2027, 6, 1, 9, 0), 60),
        ],
        [datetime(2026, 2, 2), datetime(2026, 5, 1)],
    ),
    "every date excluded and finished rules": (
        [
            S(datetime(2026, 3, 2, 12, 0), 60, "FREQ=WEEKLY;COUNT=2", exdates="20260302T120000"),
            S(datetime(2026, 3, 2, 12, 0), 60, "FREQ=WEEKLY;COUNT=2", exdates="20260309T120000"),
            S(datetime(2020, 1, 1, 10, 0)),
        ],
        [datetime(2026, 3, 1), datetime(2026, 3, 3), datetime(2026, 3, 10)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("limit", [1, 3, 5])
def test_walking_the_rules_gives_what_the_expansion_gave(name, limit):
    schedules, moments = CASES[name]
    for moment in moments:
        for after in (moment.replace(tzinfo=OSLO), moment.replace(tzinfo=OSLO).astimezone(UTC)):
            expected = expanded_next_occurrences(schedules, after=after, limit=limit)
            assert next_occurrences(schedules, after=after, limit=limit) == expected, after


def test_the_cases_cover_the_daylight_saving_changes():
    schedules, moments = CASES["counted daily rule through the spring change night"]
    found = next_occurrences(schedules, after=moments[0].replace(tzinfo=OSLO))
    assert [o.start.strftime("%d %H:%M") for o in found] == [
        "27 23:30",
        "28 23:30",
        "29 23:30",
        "30 23:30",
    ]
    # Four hours of real time each: the night into 29 March ends an hour later on the clock.
    assert [o.end.strftime("%d %H:%M") for o in found] == [
        "28 03:30",
        "29 04:30",
        "30 03:30",
        "31 03:30",
    ]


def test_the_horizon_still_bounds_the_next_occurrences():
    yearly = [S(datetime(2025, 1, 1, 9, 0), 60, "FREQ=YEARLY")]
    after = datetime(2026, 2, 2, tzinfo=OSLO)
    assert next_occurrences(yearly, after=after, limit=5) == [
        Occurrence(
            datetime(2027, 1, 1, 9, 0, tzinfo=OSLO), datetime(2027, 1, 1, 10, 0, tzinfo=OSLO)
        )
    ]
    assert len(next_occurrences(yearly, after=after, limit=5, horizon_days=800)) == 2


@given(
    start=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    duration=st.sampled_from([30, 60, 90, 150, 60 * 26]),
    rule=st.sampled_from(
        [
            "",
            "FREQ=WEEKLY",
            "FREQ=WEEKLY;INTERVAL=2",
            "FREQ=WEEKLY;COUNT=4",
            "FREQ=DAILY;COUNT=10",
            "FREQ=WEEKLY;UNTIL=20270301T225959Z",
        ]
    ),
    skipped=st.sets(st.integers(0, 8), max_size=3),
    extra=st.sets(st.integers(1, 60), max_size=2),
    after=st.datetimes(datetime(2026, 1, 1), datetime(2028, 1, 1)),
    limit=st.integers(1, 6),
)
def test_walking_agrees_with_the_expansion_for_any_schedule(
    start, duration, rule, skipped, extra, after, limit
):
    exdates = format_local_list(start + timedelta(weeks=k) for k in skipped) if rule else ""
    rdates = format_local_list(start + timedelta(days=d, hours=1) for d in extra)
    schedules = [S(start, duration, rule, rdates, exdates)]
    after = after.replace(tzinfo=OSLO)
    expected = expanded_next_occurrences(schedules, after=after, limit=limit)
    assert next_occurrences(schedules, after=after, limit=limit) == expected


@given(
    start=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    duration=st.sampled_from([30, 90, 60 * 26]),
    rule=st.sampled_from(["", "FREQ=WEEKLY", "FREQ=DAILY;COUNT=10", "FREQ=WEEKLY;INTERVAL=2"]),
    other_hours=st.integers(1, 200),
    after=st.datetimes(datetime(2026, 1, 1), datetime(2028, 1, 1)),
    later=st.floats(0, 1),
)
def test_a_kept_next_start_holds_until_its_span_ends(
    start, duration, rule, other_hours, after, later
):
    # The search pages keep each activity's next start until the span says it may change: at
    # any moment before that, it is still what next_start() would answer.
    schedules = [S(start, duration, rule), S(start + timedelta(hours=other_hours), 60, rule)]
    after = after.replace(tzinfo=OSLO)
    found, until = next_start_span(schedules, after=after)
    assert found == next_start(schedules, after=after)
    if until is None:
        assert found is None
        return
    assert after < until and found < until
    moment = after + (until - after) * later
    if moment < until:
        assert next_start(schedules, after=moment) == found


# --- the activity page keeps its schedule facts ------------------------------------------------


def _page_dates(client, activity_id: int) -> tuple[list[str], str]:
    """The activity page's next dates (ISO starts) and its Google Calendar link's dates."""
    import re
    from urllib.parse import parse_qs, urlsplit

    html = client.get(f"/activities/{activity_id}").get_data(as_text=True)
    starts = re.findall(r'<li><time datetime="([^"]+)">', html)
    google = re.search(r'<a href="([^"]+)" rel="nofollow noopener noreferrer">Google', html)
    query = parse_qs(urlsplit(google.group(1).replace("&amp;", "&")).query)
    return starts, query["dates"][0]


def test_the_activity_pages_next_dates_move_on_once_one_has_ended(client, make_activity):
    """The page keeps its next dates while the public data stays the same, but only until the
    first of them has ended: then the next visit shows the dates after it, with no change."""
    import time_machine

    monday = datetime(2026, 12, 7, 12, tzinfo=OSLO)
    with time_machine.travel(monday, tick=False):
        weekly = make_activity(
            schedule={"dtstart": datetime(2026, 12, 8, 17), "rrule": "FREQ=WEEKLY;COUNT=10"}
        )
        starts, dates = _page_dates(client, weekly.id)
        assert _page_dates(client, weekly.id) == (starts, dates)  # the second visit: kept
    assert starts[:2] == ["2026-12-08T17:00:00+01:00", "2026-12-15T17:00:00+01:00"]
    assert dates.startswith("20261208T160000Z/")
    # Tuesday 18:30: the first date has ended (17:00–18:00).
    with time_machine.travel(datetime(2026, 12, 8, 18, 30, tzinfo=OSLO), tick=False):
        starts, dates = _page_dates(client, weekly.id)
    assert starts[0] == "2026-12-15T17:00:00+01:00"
    assert dates.startswith("20261215T160000Z/")
    # Back before it (a clock set back): never a date kept from later.
    with time_machine.travel(monday, tick=False):
        assert _page_dates(client, weekly.id)[0][0] == "2026-12-08T17:00:00+01:00"
