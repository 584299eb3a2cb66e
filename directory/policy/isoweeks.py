"""ISO weeks as the directory writes them ('2026-W48'): the week of a day and its Monday.

Pure and standard library only, so that the rules in this package and the rest of the code
(directory.weeks) share one definition.
"""

from __future__ import annotations

from datetime import date


def week_of(day: date) -> str:
    """The ISO week of a day as '2026-W48'."""
    year, number, _weekday = day.isocalendar()
    return f"{year}-W{number:02d}"


def week_monday(week: str) -> date:
    """The Monday of a valid ISO week '2026-W48'."""
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)
