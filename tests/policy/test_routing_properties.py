"""Invariants of the routing rule over random offers, schools, policies and weeks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from directory.policy.channel_policy import default_settings, effective_policy
from directory.policy.routing import (
    CHANNELS,
    ORGANISATION_KINDS,
    RULES,
    Offer,
    Policy,
    SchoolInfo,
    WeekUsage,
    decide,
)

SLUGS = st.sampled_from(["fjell-skole", "gulskogen-skole", "rodskog-skole"])
WEEKS = st.sampled_from(["2026-W47", "2026-W48", "2026-W52", "2027-W01"])


@st.composite
def offers(draw):
    low = draw(st.integers(0, 25))
    return Offer(
        organisation_kind=draw(st.sampled_from(ORGANISATION_KINDS)),
        organisation_verified=draw(st.booleans()),
        age_min=low,
        age_max=draw(st.integers(low, 25)),
        has_facebook_post=draw(st.booleans()),
        has_flyer=draw(st.booleans()),
        school_slug=draw(st.none() | SLUGS),
        school_business=draw(st.booleans()),
        urgent=draw(st.booleans()),
    )


@st.composite
def schools(draw):
    low = draw(st.integers(1, 10))
    return SchoolInfo(
        slug=draw(SLUGS),
        grade_min=low,
        grade_max=draw(st.integers(low, 10)),
        has_facebook_page=draw(st.booleans()),
        accepts_backpack_post=draw(st.booleans()),
    )


@st.composite
def overrides(draw):
    """A school's override: any subset of the settings a school may change."""
    candidates = {
        "order": st.sampled_from([["facebook", "backpack"], ["backpack", "facebook"]]),
        "facebook_enabled": st.booleans(),
        "backpack_enabled": st.booleans(),
        "backpack_weekly_quota": st.integers(0, 20),
        "blackout_weeks": st.lists(WEEKS, max_size=3),
        "municipal_in_messaging": st.booleans(),
    }
    keys = draw(st.sets(st.sampled_from(sorted(candidates))))
    return {key: draw(candidates[key]) for key in keys}


usages = st.builds(WeekUsage, WEEKS, st.integers(0, 25))
policies = overrides().map(lambda o: effective_policy(default_settings(), o))


@given(offers(), schools(), policies, usages)
def test_volunteer_and_commercial_never_reach_messaging(offer, school, policy, usage):
    if offer.organisation_kind in ("volunteer", "commercial"):
        assert decide(offer, school, policy, usage).channel != "school_messaging"


@given(offers(), schools(), policies, usages)
def test_commercial_offers_never_get_a_school_channel(offer, school, policy, usage):
    if offer.organisation_kind == "commercial":
        assert decide(offer, school, policy, usage).channel in ("directory_only", "not_eligible")


@given(offers(), schools(), policies, usages)
def test_audience_outside_the_grades_is_not_eligible(offer, school, policy, usage):
    own = offer.organisation_kind == "school" and offer.school_slug == school.slug
    outside = offer.age_max < school.grade_min + 5 or offer.age_min > school.grade_max + 6
    if outside and not (own and (offer.school_business or offer.urgent)):
        assert decide(offer, school, policy, usage).channel == "not_eligible"


@given(offers(), schools(), policies, usages)
def test_deterministic_with_known_rules_and_reasons(offer, school, policy, usage):
    first = decide(offer, school, policy, usage)
    assert first == decide(offer, school, policy, usage)
    assert first.channel in CHANNELS
    assert first.rule in RULES
    assert first.reasons and all(r.rule in RULES and r.text for r in first.reasons)
    assert first.reasons[-1].rule == first.rule


@given(offers(), schools(), overrides(), usages)
def test_an_override_cannot_get_past_a_fixed_rule(offer, school, override, usage):
    """Whatever a school sets, the fixed rules decide as they do under the default."""
    default = decide(offer, school, Policy(), usage)
    overridden = decide(offer, school, effective_policy(default_settings(), override), usage)
    if default.rule in ("school-own", "audience", "commercial", "unverified"):
        assert (overridden.channel, overridden.rule) == (default.channel, default.rule)
    if overridden.channel == "school_messaging":
        assert offer.organisation_kind in ("school", "municipal")


@given(offers(), schools(), policies, usages)
def test_urgent_messaging_only_from_the_school_itself(offer, school, policy, usage):
    decision = decide(offer, school, policy, usage)
    if decision.rule == "school-own":
        assert offer.organisation_kind == "school" and offer.school_slug == school.slug
