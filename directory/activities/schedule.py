"""Expanding schedules (RRULE, RDATE, EXDATE in Europe/Oslo wall time) into occurrences.

Times are kept as Oslo wall-clock times, so a weekly 17:00 stays at 17:00 across the
daylight-saving changes; they become aware datetimes only when expanded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from dateutil.rrule import rruleset, rrulestr

from directory.timeutil import OSLO, utcnow

LOCAL_FORMAT = "%Y%m%dT%H%M%S"


class ScheduleLike(Protocol):
    dtstart: datetime
    duration_minutes: int
    rrule: str
    rdates: str
    exdates: str


@dataclass(frozen=True)
class Occurrence:
    """One time an activity happens, as aware Europe/Oslo datetimes."""

    start: datetime
    end: datetime


def parse_local_list(text: str | None) -> list[datetime]:
    """'20261124T170000 20261201T170000' as naive local datetimes."""
    return [datetime.strptime(item, LOCAL_FORMAT) for item in (text or "").split()]


def format_local_list(values: Iterable[datetime]) -> str:
    """Naive local datetimes as a space-separated, sorted, de-duplicated list."""
    return " ".join(sorted({v.strftime(LOCAL_FORMAT) for v in values}))


def build_rrule(frequency: str | None, until: date | None = None) -> str:
    """An RRULE value for 'weekly' or 'biweekly' (empty for a single date).

    UNTIL is the end of the given Oslo day, written in UTC as RFC 5545 requires when DTSTART
    carries a time zone.
    """
    if frequency not in ("weekly", "biweekly"):
        return ""
    parts = ["FREQ=WEEKLY"]
    if frequency == "biweekly":
        parts.append("INTERVAL=2")
    if until is not None:
        end_of_day = datetime.combine(until, time(23, 59, 59), tzinfo=OSLO).astimezone(UTC)
        parts.append("UNTIL=" + end_of_day.strftime("%Y%m%dT%H%M%SZ"))
    return ";".join(parts)


def validate_rrule(value: str) -> str | None:
    """None when the RRULE value can be expanded, else a short reason (in English, for logs)."""
    if not value:
        return None
    try:
        rrulestr(value, dtstart=datetime(2026, 1, 5, 17, 0, tzinfo=OSLO))
    except (ValueError, TypeError) as exc:
        return str(exc) or "invalid RRULE"
    return None


def _ruleset(schedule: ScheduleLike) -> rruleset:
    start = schedule.dtstart.replace(tzinfo=OSLO)
    rules = rruleset()
    if schedule.rrule:
        rules.rrule(rrulestr(schedule.rrule, dtstart=start))
    else:
        rules.rdate(start)
    for extra in parse_local_list(schedule.rdates):
        rules.rdate(extra.replace(tzinfo=OSLO))
    for skipped in parse_local_list(schedule.exdates):
        rules.exdate(skipped.replace(tzinfo=OSLO))
    return rules


def occurrences(
    schedule: ScheduleLike, window_start: datetime, window_end: datetime
) -> Iterator[Occurrence]:
    """The occurrences of one schedule that overlap [window_start, window_end)."""
    duration = timedelta(minutes=schedule.duration_minutes)
    for start in _ruleset(schedule).between(window_start - duration, window_end, inc=True):
        # Normalise the offset: dateutil keeps the tzinfo, zoneinfo resolves the wall time.
        start = start.replace(tzinfo=OSLO)
        end = (start.astimezone(UTC) + duration).astimezone(OSLO)
        if end > window_start and start < window_end:
            yield Occurrence(start, end)


def activity_occurrences(
    schedules: Iterable[ScheduleLike], window_start: datetime, window_end: datetime
) -> list[Occurrence]:
    """The occurrences of all of an activity's schedules in a window, in time order."""
    found = {o for s in schedules for o in occurrences(s, window_start, window_end)}
    return sorted(found, key=lambda o: o.start)


def next_occurrences(
    schedules: Iterable[ScheduleLike],
    *,
    after: datetime | None = None,
    limit: int = 5,
    horizon_days: int = 400,
) -> list[Occurrence]:
    """The next `limit` occurrences that have not ended by `after` (now by default)."""
    after = after or utcnow()
    found = activity_occurrences(schedules, after, after + timedelta(days=horizon_days))
    return found[:limit]


def next_start(schedules: Iterable[ScheduleLike], *, after: datetime | None = None):
    """The start of the next occurrence that has not ended, or None."""
    upcoming = next_occurrences(schedules, after=after, limit=1)
    return upcoming[0].start if upcoming else None


def first_start(schedules: Iterable[ScheduleLike]) -> datetime | None:
    """The earliest DTSTART or RDATE of all schedules, as an aware Oslo datetime."""
    starts = []
    for s in schedules:
        starts.append(s.dtstart)
        starts.extend(parse_local_list(s.rdates))
    return min(starts).replace(tzinfo=OSLO) if starts else None
