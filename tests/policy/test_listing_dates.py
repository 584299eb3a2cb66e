"""How long a listing counts as confirmed, when it is reminded about, and when it expires."""

from __future__ import annotations

from datetime import date

import pytest

from directory.policy.listing_dates import (
    add_months,
    default_confirmed_until,
    is_expired,
    listing_is_current,
    reminder_due,
    season_end,
)


@pytest.mark.parametrize(
    ("today", "end"),
    [
        (date(2026, 1, 1), date(2026, 6, 30)),
        (date(2026, 6, 30), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 12, 31)),
        (date(2026, 12, 31), date(2026, 12, 31)),
    ],
)
def test_the_season_ends_on_30_june_or_31_december(today, end):
    assert season_end(today) == end


def test_a_listing_published_in_the_autumn_is_confirmed_until_new_years_eve():
    assert default_confirmed_until(date(2026, 9, 1)) == date(2026, 12, 31)


def test_a_listing_published_in_the_spring_is_confirmed_until_the_end_of_june():
    assert default_confirmed_until(date(2027, 2, 10)) == date(2027, 6, 30)


def test_near_the_end_of_a_season_the_next_one_counts_but_never_more_than_six_months_ahead():
    # 16 days before New Year: the spring season, cut at six months from today.
    assert default_confirmed_until(date(2026, 12, 15)) == date(2027, 6, 15)
    # 20 days before midsummer's season end: the autumn season ends within six months.
    assert default_confirmed_until(date(2027, 6, 10)) == date(2027, 12, 10)


def test_a_renewed_listing_is_never_due_for_a_reminder_at_once():
    day = date(2026, 1, 1)
    while day.year < 2028:
        assert reminder_due(default_confirmed_until(day), day) is None, day
        day = date.fromordinal(day.toordinal() + 1)


def test_six_months_from_the_end_of_a_long_month_is_the_end_of_a_short_one():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_a_listing_is_current_up_to_and_including_its_date():
    until = date(2026, 12, 31)
    assert listing_is_current(until, date(2026, 12, 31))
    assert not listing_is_current(until, date(2027, 1, 1))
    assert is_expired(until, date(2027, 1, 1))


def test_a_listing_without_a_date_never_expires():
    assert listing_is_current(None, date(2099, 1, 1))
    assert reminder_due(None, date(2099, 1, 1)) is None


@pytest.mark.parametrize(
    ("days_left", "due"),
    [(30, None), (15, None), (14, 14), (4, 14), (3, 3), (0, 3), (-1, None)],
)
def test_the_reminder_due_is_the_most_urgent_whose_day_has_come(days_left, due):
    until = date(2026, 12, 31)
    today = date.fromordinal(until.toordinal() - days_left)
    assert reminder_due(until, today) == due
