"""Channel policies as data: validation, fixed rules, overrides, exact round trips."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory.policy.channel_policy import (
    FIXED,
    PolicyError,
    default_settings,
    effective_policy,
    parse_settings,
    policy_to_dict,
)
from directory.policy.routing import Offer, SchoolInfo, WeekUsage, decide

SCHOOL = SchoolInfo("fjell-skole", 1, 7, has_facebook_page=True, accepts_backpack_post=True)
CLUB = Offer("volunteer", True, 8, 12, has_facebook_post=True, has_flyer=True)
CULTURE_SCHOOL = Offer("municipal", True, 8, 12, has_flyer=True)


def test_the_default_is_the_drammen_answer():
    """Facebook first, then two flyers a week; municipal offers stay out of the messaging app."""
    policy = effective_policy(default_settings(), None)
    assert decide(CLUB, SCHOOL, policy, WeekUsage("2026-W48", 0)).channel == "facebook_share"
    flyer_only = replace(CLUB, has_facebook_post=False)
    assert decide(flyer_only, SCHOOL, policy, WeekUsage("2026-W48", 1)).channel == "backpack_post"
    assert decide(flyer_only, SCHOOL, policy, WeekUsage("2026-W48", 2)).channel == (
        "directory_only"
    )
    assert decide(CULTURE_SCHOOL, SCHOOL, policy, WeekUsage("2026-W48", 0)).channel == (
        "backpack_post"
    )


def test_override_changes_only_what_it_names():
    policy = effective_policy(
        default_settings(), {"order": ["backpack", "facebook"], "blackout_weeks": ["2026-W52"]}
    )
    assert policy.order == ("backpack", "facebook")
    assert policy.blackout_weeks == frozenset({"2026-W52"})
    assert policy.backpack_weekly_quota == 2


@pytest.mark.parametrize("key", sorted(FIXED))
def test_loosening_a_fixed_rule_is_refused_with_a_reason(key):
    with pytest.raises(PolicyError) as raised:
        parse_settings({key: True}, complete=False)
    assert raised.value.field == key
    assert "kan" in raised.value.text  # "kan ikke endres" / "kan aldri" / "kan bare"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"order": ["facebook"]}, "order"),
        ({"order": ["facebook", "vigilo"]}, "order"),
        ({"order": "facebook,backpack"}, "order"),
        ({"backpack_weekly_quota": -1}, "backpack_weekly_quota"),
        ({"backpack_weekly_quota": 21}, "backpack_weekly_quota"),
        ({"backpack_weekly_quota": "2"}, "backpack_weekly_quota"),
        ({"backpack_weekly_quota": True}, "backpack_weekly_quota"),
        ({"blackout_weeks": ["2026-52"]}, "blackout_weeks"),
        ({"blackout_weeks": ["2026-W54"]}, "blackout_weeks"),
        ({"blackout_weeks": ["2026-W00"]}, "blackout_weeks"),
        (
            {"blackout_weeks": [f"{2020 + n // 52}-W{n % 52 + 1:02d}" for n in range(61)]},
            "blackout_weeks",
        ),
        ({"blackout_weeks": "2026-W52"}, "blackout_weeks"),
        ({"facebook_enabled": "yes"}, "facebook_enabled"),
        ({"sms_enabled": True}, "sms_enabled"),
    ],
)
def test_malformed_settings_name_the_field(data, field):
    with pytest.raises(PolicyError) as raised:
        parse_settings(data, complete=False)
    assert raised.value.field == field


def test_the_limits_themselves_are_accepted():
    weeks = [f"{2020 + n // 52}-W{n % 52 + 1:02d}" for n in range(60)]
    settings = parse_settings(
        {"backpack_weekly_quota": 20, "blackout_weeks": [*weeks[:-2], "2026-W01", "2026-W53"]},
        complete=False,
    )
    assert settings["backpack_weekly_quota"] == 20
    assert {"2026-W01", "2026-W53"} <= settings["blackout_weeks"]
    assert parse_settings({"backpack_weekly_quota": 0}, complete=False) == {
        "backpack_weekly_quota": 0
    }


def test_a_default_must_be_complete():
    data = default_settings()
    del data["backpack_enabled"]
    with pytest.raises(PolicyError) as raised:
        parse_settings(data, complete=True)
    assert raised.value.field == "backpack_enabled"


def test_the_first_missing_setting_is_named():
    data = default_settings()
    del data["municipal_in_messaging"], data["order"]
    with pytest.raises(PolicyError) as raised:
        parse_settings(data, complete=True)
    assert raised.value.field == "order"
    assert raised.value.text == "Innstillingen «order» mangler."


def test_an_incomplete_municipal_default_is_refused_even_with_an_override():
    data = default_settings()
    del data["backpack_weekly_quota"]
    with pytest.raises(PolicyError):
        effective_policy(data, {"backpack_weekly_quota": 3})


def test_not_a_mapping():
    with pytest.raises(PolicyError):
        parse_settings(["order"], complete=False)


settings = st.fixed_dictionaries(
    {},
    optional={
        "order": st.sampled_from([["facebook", "backpack"], ["backpack", "facebook"]]),
        "facebook_enabled": st.booleans(),
        "backpack_enabled": st.booleans(),
        "backpack_weekly_quota": st.integers(0, 20),
        "blackout_weeks": st.lists(
            st.builds("{}-W{:02d}".format, st.integers(2020, 2035), st.integers(1, 53)),
            max_size=5,
            unique=True,
        ),
        "municipal_in_messaging": st.booleans(),
    },
)


@given(settings)
def test_round_trip_is_exact(data):
    parsed = parse_settings(data, complete=False)
    assert parse_settings(policy_to_dict(parsed), complete=False) == parsed
    expected = dict(data)
    if "blackout_weeks" in expected:
        expected["blackout_weeks"] = sorted(expected["blackout_weeks"])
    assert policy_to_dict(parsed) == expected
