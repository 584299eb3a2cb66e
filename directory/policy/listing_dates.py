"""Listings that stay current: how long a published activity counts as confirmed, when its
organisation is reminded, and when it has expired.

An activity is confirmed until a date (`confirmed_until`, an Oslo date). Publishing or renewing
sets it to the end of the current season (autumn ends 31 December, spring 30 June), never more
than six months ahead; a season that ends within MIN_CONFIRMED_DAYS gives way to the next one, so
that a renewal near a season's end is not due again at once. The organisation is reminded
REMINDER_DAYS before the date; the day after it the activity leaves the public lists.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

# Reminders go out this many days before `confirmed_until`, the most urgent last.
REMINDER_DAYS = (14, 3)
# A season ending sooner than this after today is skipped for the next one.
MIN_CONFIRMED_DAYS = 30
MAX_MONTHS_AHEAD = 6


def season_end(day: date) -> date:
    """The last day of the season `day` falls in: 30 June (spring) or 31 December (autumn)."""
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where the month is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_confirmed_until(today: date) -> date:
    """The date a listing published or renewed `today` is confirmed until."""
    end = season_end(today)
    if (end - today).days < MIN_CONFIRMED_DAYS:
        end = season_end(end + timedelta(days=1))
    return min(end, add_months(today, MAX_MONTHS_AHEAD))


def listing_is_current(confirmed_until: date | None, today: date) -> bool:
    """Whether a listing still counts as confirmed on `today` (no date: never asked, current)."""
    return confirmed_until is None or today <= confirmed_until


def is_expired(confirmed_until: date | None, today: date) -> bool:
    """Whether the listing's confirmation has run out (today is past its date)."""
    return not listing_is_current(confirmed_until, today)


def reminder_due(confirmed_until: date | None, today: date) -> int | None:
    """Which reminder (days before, from REMINDER_DAYS) is due on `today`: the most urgent one
    whose day has come, or None when none has or the listing has already expired. A reminder
    missed (no run that day) is sent late, never a less urgent one after a more urgent one."""
    if confirmed_until is None or today > confirmed_until:
        return None
    left = (confirmed_until - today).days
    due = [days for days in REMINDER_DAYS if left <= days]
    return min(due) if due else None
