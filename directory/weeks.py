"""ISO weeks as staff pick them: lists of weeks with their dates, «Uke 50: 7.–13. desember».

Forms still post and store ISO weeks ('2026-W50'), so the API, the CSV files and the policy
files read them as before; people see and pick a week by its number and dates instead of
typing it. Every list is counted from `today` (Oslo's date unless a day is given), so a test
freezes the clock or passes the day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from babel.dates import format_interval
from flask_babel import get_locale

from directory.i18n import gettext as _
from directory.policy.isoweeks import week_monday, week_of
from directory.timeutil import oslo_now

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
YEAR_OF_WEEKS = 52  # the policy forms offer this week and the next 51


def parse_week(value: object) -> str | None:
    """'2026-W48' when the value is a real ISO week (week 53 only in years that have one)."""
    match = WEEK_PATTERN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        return None
    return f"{year:04d}-W{number:02d}"


def today_in_oslo(today: date | None = None) -> date:
    """The given day, else today's date in Oslo."""
    return today or oslo_now().date()


def add_weeks(week: str, count: int) -> str:
    """The week `count` weeks after a valid ISO week (before it when negative)."""
    return week_of(week_monday(week) + timedelta(weeks=count))


def this_week(today: date | None = None) -> str:
    """The ISO week of today in Oslo (or of the given day)."""
    return week_of(today_in_oslo(today))


def coming_weeks(count: int, today: date | None = None, *, start: int = 0) -> list[str]:
    """`count` weeks in order, the first `start` weeks after this one (0: this week)."""
    first = add_weeks(this_week(today), start)
    return [add_weeks(first, n) for n in range(count)]


def week_dates(week: str) -> str:
    """The week's Monday to Sunday in the visitor's language: '7.–13. desember'."""
    monday = week_monday(week)
    locale = get_locale() or "nb"
    return format_interval(monday, monday + timedelta(days=6), "MMMMd", locale=locale)


def week_choice_label(week: str, today: date | None = None) -> str:
    """A week as lists show it: 'Uke 50: 7.–13. desember', with the year when it is not this
    year ('Uke 2, 2027: 4.–10. januar')."""
    year, number = (int(part) for part in week.split("-W"))
    if year == int(this_week(today)[:4]):
        return _("Uke %(number)s: %(dates)s", number=number, dates=week_dates(week))
    return _(
        "Uke %(number)s, %(year)s: %(dates)s", number=number, year=year, dates=week_dates(week)
    )


def week_in_text(week: str, today: date | None = None) -> str:
    """A week inside a sentence: 'uke 50 (7.–13. desember)', with the year when it is not
    this year ('uke 2 i 2027 (4.–10. januar)')."""
    year, number = (int(part) for part in week.split("-W"))
    if year == int(this_week(today)[:4]):
        return _("uke %(number)s (%(dates)s)", number=number, dates=week_dates(week))
    return _(
        "uke %(number)s i %(year)s (%(dates)s)", number=number, year=year, dates=week_dates(week)
    )


def week_choices(weeks: Iterable[str], today: date | None = None) -> list[tuple[str, str]]:
    """(ISO week, label) for each valid week, in order and once each."""
    valid = sorted({w for w in (parse_week(w) for w in weeks) if w is not None})
    return [(week, week_choice_label(week, today)) for week in valid]


def not_a_week_message() -> str:
    """A posted week that is not one of the form's: never echoed back, just what to do."""
    return _("Velg en uke fra listen.")
