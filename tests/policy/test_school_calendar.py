"""The school year as data: which weeks holidays close, which clash, and the last day to ask."""

from __future__ import annotations

from datetime import date

import pytest

from directory.policy.channel_policy import PolicyError, effective_policy, parse_settings
from directory.policy.routing import Offer, Policy, SchoolInfo, WeekUsage, decide
from directory.policy.school_calendar import (
    Holiday,
    blackout_weeks,
    clash_weeks,
    holiday_weeks,
    last_day_to_ask,
    parse_school_year,
    school_year_of,
    too_late,
)

AUTUMN = Holiday("Høstferie", date(2026, 9, 28), date(2026, 10, 2))  # Monday to Friday, W40
CHRISTMAS = Holiday("Juleferie", date(2026, 12, 21), date(2027, 1, 1))  # W52 and W53


def test_a_holiday_over_every_school_day_closes_its_week():
    assert blackout_weeks([AUTUMN]) == {"2026-W40"}


def test_a_holiday_over_two_weeks_and_the_weekend_closes_both():
    assert blackout_weeks([CHRISTMAS]) == {"2026-W52", "2026-W53"}


def test_a_week_with_some_holiday_days_clashes_but_stays_open():
    easter = Holiday("Påskeferie", date(2027, 3, 22), date(2027, 3, 29))  # W12 and Monday of W13
    assert blackout_weeks([easter]) == {"2027-W12"}
    clash = clash_weeks([easter])["2027-W13"]
    assert clash.days == (date(2027, 3, 29),)
    assert clash.names == ("Påskeferie",)
    assert "2027-W12" not in clash_weeks([easter])


def test_two_holidays_together_close_a_week_that_neither_closes_alone():
    planning = Holiday("Planleggingsdag", date(2026, 9, 28), date(2026, 9, 28))
    rest = Holiday("Høstferie", date(2026, 9, 29), date(2026, 10, 2))
    assert blackout_weeks([planning]) == frozenset()
    assert blackout_weeks([planning, rest]) == {"2026-W40"}
    assert holiday_weeks(planning, blackout_weeks([planning, rest])) == ["2026-W40"]


def test_a_holiday_only_on_a_weekend_touches_no_school_day():
    weekend = Holiday("Helg", date(2026, 10, 3), date(2026, 10, 4))
    assert blackout_weeks([weekend]) == frozenset()
    assert clash_weeks([weekend]) == {}


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 8, 1), "2026-2027"),
        (date(2027, 7, 31), "2026-2027"),
        (date(2026, 7, 31), "2025-2026"),
        (date(2027, 1, 1), "2026-2027"),
    ],
)
def test_the_school_year_runs_from_august_to_july(day, year):
    assert school_year_of(day) == year


@pytest.mark.parametrize(("value", "parsed"), [("2026-2027", "2026-2027"), ("2026-2028", None),
                                               ("2026/2027", None), ("", None)])  # fmt: skip
def test_a_school_year_is_two_years_that_follow(value, parsed):
    assert parse_school_year(value) == parsed


def test_the_last_day_to_ask_is_lead_days_before_the_monday():
    # Week 51 of 2026 begins on Monday 14 December.
    assert last_day_to_ask("2026-W51", 3) == date(2026, 12, 11)
    assert not too_late("2026-W51", 3, date(2026, 12, 11))
    assert too_late("2026-W51", 3, date(2026, 12, 12))


def test_no_lead_time_means_a_week_can_be_asked_for_while_it_lasts():
    assert last_day_to_ask("2026-W51", 0) is None
    assert not too_late("2026-W51", 0, date(2026, 12, 20))


def _backpack_decision(policy: Policy, week: str) -> str:
    offer = Offer("volunteer", True, 8, 10, has_flyer=True)
    school = SchoolInfo("fjell", 1, 7, has_facebook_page=False, accepts_backpack_post=True)
    return decide(offer, school, policy, WeekUsage(week)).reasons[-2].text


def test_the_routing_rule_closes_holiday_weeks_as_blackout_weeks():
    policy = Policy(holiday_weeks=frozenset({"2026-W40"}))
    assert (
        decide(
            Offer("volunteer", True, 8, 10, has_flyer=True),
            SchoolInfo("fjell", 1, 7, has_facebook_page=False, accepts_backpack_post=True),
            policy,
            WeekUsage("2026-W40"),
        ).channel
        == "directory_only"
    )
    assert "skoleferie" in _backpack_decision(policy, "2026-W40")
    # The school's own blackout weeks still count besides the holidays.
    own = Policy(holiday_weeks=frozenset({"2026-W40"}), blackout_weeks=frozenset({"2026-W41"}))
    assert "stengt for ranselpost" in _backpack_decision(own, "2026-W41")


def test_lead_days_is_a_setting_with_limits_and_defaults_to_none():
    assert parse_settings({"lead_days": 7}, complete=False) == {"lead_days": 7}
    for bad in (-1, 61, "7", True, 2.5):
        with pytest.raises(PolicyError) as info:
            parse_settings({"lead_days": bad}, complete=False)
        assert info.value.field == "lead_days"


def test_a_default_stored_before_lead_days_existed_has_no_lead_time():
    old_default = {
        "order": ["facebook", "backpack"],
        "facebook_enabled": True,
        "backpack_enabled": True,
        "backpack_weekly_quota": 2,
        "blackout_weeks": [],
        "municipal_in_messaging": False,
    }
    assert effective_policy(old_default, None).lead_days == 0
    assert effective_policy(old_default, {"lead_days": 3}).lead_days == 3
