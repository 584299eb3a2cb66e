"""The reach-count rules: which links count, and how a count may be shown."""

from __future__ import annotations

from datetime import date

import pytest

from directory.policy.reach_counts import (
    REACH_CHANNELS,
    SHOWN_FROM,
    UNDER,
    is_reach_channel,
    shown_count,
    week_is_countable,
)


def test_counts_under_five_are_not_shown_as_numbers():
    assert SHOWN_FROM == 5
    assert [shown_count(n) for n in (0, 1, 4, 5, 17)] == [UNDER, UNDER, UNDER, 5, 17]


@pytest.mark.parametrize(
    ("value", "counts"),
    [
        ("school_messaging", True),
        ("facebook_share", True),
        ("backpack_post", True),
        ("overview", True),
        ("directory_only", False),
        ("not_eligible", False),
        ("", False),
        (None, False),
    ],
)
def test_only_the_channels_the_exports_write_count(value, counts):
    assert is_reach_channel(value) is counts
    assert (value in REACH_CHANNELS) is counts


@pytest.mark.parametrize(
    ("today", "counts"),
    [
        (date(2026, 8, 30), False),  # more than 12 weeks before its Monday
        (date(2026, 8, 31), True),  # 12 weeks before: an export made early
        (date(2026, 11, 18), True),
        (date(2027, 6, 1), True),  # a flyer kept on the fridge
        (date(2027, 11, 28), True),  # the last day of the 52nd week after
        (date(2027, 11, 29), False),
        (date(2031, 1, 6), False),  # a link to a week long gone
    ],
)
def test_a_link_counts_from_a_while_before_its_week_to_a_year_after(today, counts):
    assert week_is_countable(date(2026, 11, 23), today) is counts
