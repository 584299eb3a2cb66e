"""The school year as data: holidays, the weeks they close, and the last day to ask for a week.

Pure: dates in, ISO weeks and dates out; standard library only.

A week is a *holiday week* (a blackout week for every school channel of the municipality) when
each of its school days, Monday to Friday, falls in a holiday; the holidays may be several (a
planning day on Monday and the autumn break after it close the week together). A week in which
only some school days are holidays is a *holiday clash*: it stays open, and the reach page warns
that fewer pupils and staff are there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from directory.policy.isoweeks import week_monday, week_of

SCHOOL_DAYS = 5  # Monday to Friday
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
FIRST_MONTH = 8  # a school year runs from August to July
MAX_LEAD_DAYS = 60
MAX_HOLIDAY_DAYS = 120  # the summer break is the longest, about nine weeks


@dataclass(frozen=True)
class Holiday:
    """One holiday: its name and its first and last day (both included)."""

    name: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class WeekClash:
    """A week in which some, not all, school days are holidays: which ones, of which holidays."""

    week: str
    days: tuple[date, ...]
    names: tuple[str, ...]


def school_year_of(day: date) -> str:
    """The school year a day belongs to: August to July, '2026-2027'."""
    start = day.year if day.month >= FIRST_MONTH else day.year - 1
    return f"{start}-{start + 1}"


def parse_school_year(value: str) -> str | None:
    """'2026-2027' when the value names two years that follow each other, else None."""
    match = SCHOOL_YEAR.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match.group(2)) != int(match.group(1)) + 1:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def school_year_bounds(school_year: str) -> tuple[date, date]:
    """The first and last day of a school year: 1 August to 31 July."""
    start = int(school_year[:4])
    return date(start, FIRST_MONTH, 1), date(start + 1, FIRST_MONTH, 1) - timedelta(days=1)


def holiday_school_days(holidays: Iterable[Holiday]) -> dict[date, list[str]]:
    """Every school day (Monday to Friday) that some holiday covers, with the holidays' names."""
    days: dict[date, list[str]] = {}
    for holiday in holidays:
        day = holiday.first_day
        while day <= holiday.last_day:
            if day.weekday() < SCHOOL_DAYS and holiday.name not in days.setdefault(day, []):
                days[day].append(holiday.name)
            day += timedelta(days=1)
    return days


def blackout_weeks(holidays: Iterable[Holiday]) -> frozenset[str]:
    """The weeks whose every school day is a holiday day."""
    days = holiday_school_days(holidays)
    weeks: dict[str, int] = {}
    for day in days:
        weeks[week_of(day)] = weeks.get(week_of(day), 0) + 1
    return frozenset(week for week, count in weeks.items() if count == SCHOOL_DAYS)


def clash_weeks(holidays: Iterable[Holiday]) -> dict[str, WeekClash]:
    """The weeks with some, not all, school days in a holiday, by week."""
    days = holiday_school_days(holidays)
    by_week: dict[str, list[date]] = {}
    for day in sorted(days):
        by_week.setdefault(week_of(day), []).append(day)
    clashes = {}
    for week, week_days in by_week.items():
        if len(week_days) < SCHOOL_DAYS:
            names = tuple(dict.fromkeys(name for day in week_days for name in days[day]))
            clashes[week] = WeekClash(week, tuple(week_days), names)
    return clashes


def holiday_weeks(holiday: Holiday, closed: frozenset[str]) -> list[str]:
    """The blackout weeks (of `closed`, the whole calendar's) that this holiday touches."""
    weeks = []
    day = holiday.first_day
    while day <= holiday.last_day:
        week = week_of(day)
        if week in closed and week not in weeks:
            weeks.append(week)
        day += timedelta(days=1)
    return weeks


def last_day_to_ask(week: str, lead_days: int) -> date | None:
    """The last day a request for the week may arrive: `lead_days` days before its Monday.
    None when the school asks for no lead time (a week can be asked for while it lasts)."""
    if lead_days <= 0:
        return None
    return week_monday(week) - timedelta(days=lead_days)


def too_late(week: str, lead_days: int, today: date) -> bool:
    """Whether a request for the week arriving today misses the school's lead time."""
    deadline = last_day_to_ask(week, lead_days)
    return deadline is not None and today > deadline
