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


def _first_occurrences(
    schedule: ScheduleLike, after: datetime, before: datetime, limit: int
) -> list[Occurrence]:
    """The schedule's first `limit` occurrences that overlap [after, before): those of
    occurrences(schedule, after, before), walked from the start instead of expanded whole."""
    duration = timedelta(minutes=schedule.duration_minutes)
    found: list[Occurrence] = []
    # The same bounds as occurrences()' between(after - duration, before, inc=True).
    for start in _ruleset(schedule).xafter(after - duration, inc=True):
        if start > before:
            break
        start = start.replace(tzinfo=OSLO)
        end = (start.astimezone(UTC) + duration).astimezone(OSLO)
        if end > after and start < before:
            found.append(Occurrence(start, end))
            if len(found) >= limit:
                break
    return found


def next_occurrences(
    schedules: Iterable[ScheduleLike],
    *,
    after: datetime | None = None,
    limit: int = 5,
    horizon_days: int = 400,
) -> list[Occurrence]:
    """The next `limit` occurrences that have not ended by `after` (now by default) and start
    within `horizon_days`.

    Each rule is walked from `after` and stops at its `limit`-th occurrence: the horizon only
    bounds the walk (a rule whose every date is excluded, a yearly one) and is never expanded.
    """
    if limit < 1:
        return []
    after = after or utcnow()
    before = after + timedelta(days=horizon_days)
    found = {o for s in schedules for o in _first_occurrences(s, after, before, limit)}
    return sorted(found, key=lambda o: (o.start, o.end))[:limit]


def next_start(schedules: Iterable[ScheduleLike], *, after: datetime | None = None):
    """The start of the next occurrence that has not ended, or None.

    Asks each rule for its first start after `after` less the duration, instead of expanding
    the whole horizon: this runs for every result on every search page.
    """
    return next_start_span(schedules, after=after)[0]


def next_start_span(
    schedules: Iterable[ScheduleLike], *, after: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """next_start(), and until when it stays the answer: the first end among each rule's next
    occurrence (before that, no rule's next occurrence has ended, so none has another); None
    when no rule has one left (the answer stays None)."""
    after = after or utcnow()
    starts = []
    ends = []
    for schedule in schedules:
        duration = timedelta(minutes=schedule.duration_minutes)
        start = _ruleset(schedule).after(after - duration, inc=False)
        if start is not None:
            start = start.replace(tzinfo=OSLO)
            starts.append(start)
            ends.append(start.astimezone(UTC) + duration)
    return (min(starts), min(ends)) if starts else (None, None)


UNTIL_UTC_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class RuleSummary:
    """A schedule's recurrence in the terms of the organiser's form.

    repeat is 'once', 'weekly' or 'biweekly', or None when the RRULE says more than the form
    can (another frequency, several weekdays, ...); until is the last Oslo day, or None.
    """

    repeat: str | None
    until: date | None


def _rule_parts(rrule: str) -> dict[str, str]:
    parts = {}
    for item in rrule.split(";"):
        if "=" in item:
            key, value = item.split("=", 1)
            parts[key.strip().upper()] = value.strip()
    return parts


def _parse_until(value: str) -> datetime | date:
    """An UNTIL value: aware UTC datetime, naive local datetime, or a date."""
    if value.endswith("Z"):
        return datetime.strptime(value, UNTIL_UTC_FORMAT).replace(tzinfo=UTC)
    if "T" in value:
        return datetime.strptime(value, LOCAL_FORMAT)
    return datetime.strptime(value, "%Y%m%d").date()


def _until_local_date(value: str) -> date:
    parsed = _parse_until(value)
    if isinstance(parsed, datetime):
        return parsed.astimezone(OSLO).date() if parsed.tzinfo else parsed.date()
    return parsed


_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def summarise_rule(schedule: ScheduleLike) -> RuleSummary:
    """The schedule's recurrence as once/weekly/biweekly with a last day, where it fits."""
    if not schedule.rrule:
        return RuleSummary("once", None)
    parts = _rule_parts(schedule.rrule)
    interval = parts.get("INTERVAL", "1")
    byday = parts.get("BYDAY")
    fits = (
        parts.get("FREQ") == "WEEKLY"
        and interval in ("1", "2")
        and set(parts) <= {"FREQ", "INTERVAL", "UNTIL", "COUNT", "BYDAY", "WKST"}
        and (byday is None or byday == _WEEKDAY_CODES[schedule.dtstart.weekday()])
    )
    until = None
    try:
        if "UNTIL" in parts:
            until = _until_local_date(parts["UNTIL"])
        elif "COUNT" in parts:
            rule = rrulestr(schedule.rrule, dtstart=schedule.dtstart)
            until = list(rule)[-1].date()
    except (ValueError, IndexError):
        fits = False
    repeat = ("biweekly" if interval == "2" else "weekly") if fits else None
    return RuleSummary(repeat, until)


def rule_dates(first: date, repeat: str, until: date | None) -> list[date]:
    """The dates a once/weekly/biweekly rule produces from `first` up to `until`."""
    if repeat not in ("weekly", "biweekly") or until is None:
        return [first]
    step = timedelta(weeks=2 if repeat == "biweekly" else 1)
    found, day = [], first
    while day <= until:
        found.append(day)
        day += step
    return found


@dataclass(frozen=True)
class ShiftedSchedule:
    """A schedule's values moved by whole weeks."""

    dtstart: datetime
    rrule: str
    rdates: str
    exdates: str


def shift_schedule(schedule: ScheduleLike, weeks: int) -> ShiftedSchedule:
    """The schedule moved forward by whole weeks, so every date keeps its weekday.

    UNTIL moves in Oslo wall time, so an end-of-day limit stays at the end of the day even
    when the new date falls on the other side of a daylight-saving change.
    """
    delta = timedelta(weeks=weeks)
    parts = []
    for item in schedule.rrule.split(";") if schedule.rrule else []:
        key, _sep, value = item.partition("=")
        if key.strip().upper() == "UNTIL":
            until = _parse_until(value.strip())
            if isinstance(until, datetime) and until.tzinfo is not None:
                local = until.astimezone(OSLO).replace(tzinfo=None) + delta
                value = local.replace(tzinfo=OSLO).astimezone(UTC).strftime(UNTIL_UTC_FORMAT)
            elif isinstance(until, datetime):
                value = (until + delta).strftime(LOCAL_FORMAT)
            else:
                value = (until + delta).strftime("%Y%m%d")
            item = f"UNTIL={value}"
        parts.append(item)
    return ShiftedSchedule(
        dtstart=schedule.dtstart + delta,
        rrule=";".join(parts),
        rdates=format_local_list(d + delta for d in parse_local_list(schedule.rdates)),
        exdates=format_local_list(d + delta for d in parse_local_list(schedule.exdates)),
    )
