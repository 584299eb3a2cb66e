"""Schedule expansion, including across the daylight-saving changes in Europe/Oslo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from directory.activities.schedule import (
    build_rrule,
    format_local_list,
    next_occurrences,
    next_start,
    occurrences,
    validate_rrule,
)
from directory.timeutil import OSLO


@dataclass
class S:
    dtstart: datetime
    duration_minutes: int = 60
    rrule: str = ""
    rdates: str = ""
    exdates: str = ""


def window(y1, m1, d1, y2, m2, d2):
    return datetime(y1, m1, d1, tzinfo=OSLO), datetime(y2, m2, d2, tzinfo=OSLO)


def test_weekly_keeps_wall_time_across_autumn_change():
    # 2026-10-25 03:00 CEST -> 02:00 CET. A Tuesday 17:00 activity stays at 17:00.
    s = S(datetime(2026, 10, 13, 17, 0), rrule="FREQ=WEEKLY")
    found = list(occurrences(s, *window(2026, 10, 1, 2026, 11, 4)))
    assert [o.start.strftime("%d %H:%M") for o in found] == [
        "13 17:00",
        "20 17:00",
        "27 17:00",
        "03 17:00",
    ]
    assert found[0].start.utcoffset() == timedelta(hours=2)
    assert found[2].start.utcoffset() == timedelta(hours=1)
    assert found[2].start.astimezone(UTC).hour == 16


def test_weekly_keeps_wall_time_across_spring_change():
    # 2027-03-28 02:00 CET -> 03:00 CEST.
    s = S(datetime(2027, 3, 21, 10, 0), rrule="FREQ=WEEKLY;COUNT=3")
    found = list(occurrences(s, *window(2027, 3, 1, 2027, 5, 1)))
    assert [o.start.astimezone(UTC).hour for o in found] == [9, 8, 8]
    assert all(o.start.hour == 10 for o in found)


def test_duration_spans_the_changed_hour_in_real_time():
    # An event 01:30 to 03:30 local on the autumn night lasts 2 hours of real time.
    s = S(datetime(2026, 10, 25, 1, 30), duration_minutes=120)
    (o,) = occurrences(s, *window(2026, 10, 24, 2026, 10, 26))
    # Same-zone subtraction in Python is by wall clock, so measure real time in UTC.
    assert o.end.astimezone(UTC) - o.start.astimezone(UTC) == timedelta(hours=2)
    assert (o.end.hour, o.end.fold) == (2, 1)  # the second 02:30 of the night


def test_biweekly_until_and_exdate():
    rule = build_rrule("biweekly", date(2026, 12, 31))
    assert rule.startswith("FREQ=WEEKLY;INTERVAL=2;UNTIL=")
    assert rule.endswith("Z")
    s = S(
        datetime(2026, 11, 3, 18, 0),
        rrule=rule,
        exdates=format_local_list([datetime(2026, 12, 1, 18, 0)]),
    )
    found = [o.start.date().isoformat() for o in occurrences(s, *window(2026, 11, 1, 2027, 2, 1))]
    assert found == ["2026-11-03", "2026-11-17", "2026-12-15", "2026-12-29"]


def test_single_date_with_extra_dates():
    s = S(datetime(2026, 6, 1, 12, 0), rdates="20260603T120000 20260605T120000")
    found = list(occurrences(s, *window(2026, 5, 1, 2026, 7, 1)))
    assert [o.start.day for o in found] == [1, 3, 5]
    before = datetime(2026, 5, 1, tzinfo=OSLO)
    assert next_start([s], after=before) == datetime(2026, 6, 1, 12, 0, tzinfo=OSLO)


def test_next_start_skips_what_has_ended():
    s = S(datetime(2026, 1, 6, 17, 0), rrule="FREQ=WEEKLY", duration_minutes=60)
    after = datetime(2026, 1, 13, 17, 30, tzinfo=OSLO)  # during the 13th's occurrence
    assert next_start([s], after=after) == datetime(2026, 1, 13, 17, 0, tzinfo=OSLO)
    after = datetime(2026, 1, 13, 18, 0, tzinfo=OSLO)
    assert next_start([s], after=after) == datetime(2026, 1, 20, 17, 0, tzinfo=OSLO)


def test_finished_schedule_has_no_next_start():
    s = S(datetime(2020, 1, 1, 10, 0))
    assert next_start([s]) is None


def test_validate_rrule():
    assert validate_rrule("FREQ=WEEKLY;BYDAY=TU") is None
    assert validate_rrule("FREQ=SOMETIMES") is not None
    assert validate_rrule("") is None


@given(
    start=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    duration=st.sampled_from([30, 60, 90, 150]),
    rule=st.sampled_from(["", "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2", "FREQ=WEEKLY;COUNT=4"]),
    skipped=st.sets(st.integers(1, 8), max_size=3),
    after=st.datetimes(datetime(2026, 1, 1), datetime(2028, 1, 1)),
)
def test_next_start_agrees_with_the_full_expansion(start, duration, rule, skipped, after):
    exdates = format_local_list(start + timedelta(weeks=k) for k in skipped) if rule else ""
    schedules = [S(start, duration, rule, "", exdates)]
    after = after.replace(tzinfo=OSLO)
    full = next_occurrences(schedules, after=after, limit=1, horizon_days=800)
    assert next_start(schedules, after=after) == (full[0].start if full else None)
