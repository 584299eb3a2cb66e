"""The reach page's rules: the week it suggests, and what would let an offer reach schools."""

from __future__ import annotations

from directory.policy.reach import FACEBOOK_POST, FLYER, VERIFY, reachable_with, suggested_week
from directory.policy.routing import Offer, Policy, SchoolInfo, WeekUsage

WEEKS = ["2026-W49", "2026-W50", "2026-W51", "2026-W52"]


def test_the_ending_week_is_never_suggested():
    assert suggested_week(WEEKS, "2026-W49", lambda week: True) == "2026-W50"


def test_the_first_week_a_school_can_be_asked_is_suggested():
    asked = []

    def can_ask(week):
        asked.append(week)
        return week == "2026-W52" or False

    assert suggested_week(WEEKS, "2026-W49", can_ask) == "2026-W52"
    assert asked == ["2026-W50", "2026-W51", "2026-W52"]  # the ending week is not even tried


def test_when_no_week_would_do_the_search_stops_at_next_week():
    asked = []

    def can_ask(week):
        asked.append(week)
        return None  # nothing in the way depends on the week

    assert suggested_week(WEEKS, "2026-W49", can_ask) == "2026-W50"
    assert asked == ["2026-W50"]


def test_when_every_week_is_full_next_week_is_suggested():
    assert suggested_week(WEEKS, "2026-W49", lambda week: False) == "2026-W50"


FJELL = SchoolInfo("fjell", 1, 7, has_facebook_page=True, accepts_backpack_post=True)
VIK = SchoolInfo("vik", 1, 7, has_facebook_page=False, accepts_backpack_post=False)
DANVIK = SchoolInfo("danvik", 1, 7, has_facebook_page=False, accepts_backpack_post=True)
SCHOOLS = [(school, Policy(), WeekUsage("2026-W50")) for school in (FJELL, VIK, DANVIK)]


def test_the_levers_count_the_schools_they_would_open():
    new_club = Offer("volunteer", organisation_verified=False, age_min=8, age_max=10)
    assert reachable_with(new_club, SCHOOLS) == 0
    assert reachable_with(new_club, SCHOOLS, VERIFY) == 0
    assert reachable_with(new_club, SCHOOLS, FLYER) == 0  # unverified: the directory only
    assert reachable_with(new_club, SCHOOLS, VERIFY, FLYER) == 2
    assert reachable_with(new_club, SCHOOLS, VERIFY, FACEBOOK_POST) == 1


def test_no_lever_opens_the_schools_to_a_commercial_offer():
    shop = Offer("commercial", organisation_verified=True, age_min=8, age_max=10)
    assert reachable_with(shop, SCHOOLS, VERIFY, FLYER, FACEBOOK_POST) == 0
