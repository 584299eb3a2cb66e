"""The routing rule, rule by rule, with the cases from the Drammen answer (no app needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

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

BARNESKOLE = SchoolInfo("fjell-skole", 1, 7, has_facebook_page=True, accepts_backpack_post=True)
NO_FACEBOOK = replace(BARNESKOLE, slug="rodskog-skole", has_facebook_page=False)
WEEK = WeekUsage("2026-W48", backpack_used=0)
DEFAULT = Policy()
ALLOWS_MUNICIPAL = Policy(municipal_in_messaging=True)

CLUB = Offer("volunteer", True, 8, 12)
CLUB_WITH_POST = replace(CLUB, has_facebook_post=True)
CLUB_WITH_FLYER = replace(CLUB, has_flyer=True)
CULTURE_SCHOOL = Offer("municipal", True, 8, 12, has_flyer=True)
SFO_NOTICE = Offer("school", True, 6, 10, school_slug="fjell-skole", school_business=True)

CASES = [
    # (id, offer, school, policy, usage, channel, rule)
    ("the school's own SFO notice", SFO_NOTICE, BARNESKOLE, DEFAULT, WEEK,
     "school_messaging", "school-own"),
    ("culture school where municipal offers are allowed", CULTURE_SCHOOL, BARNESKOLE,
     ALLOWS_MUNICIPAL, WEEK, "school_messaging", "messaging-reserved"),
    ("culture school where they are not: backpack", CULTURE_SCHOOL, BARNESKOLE, DEFAULT, WEEK,
     "backpack_post", "backpack"),
    ("culture school with a Facebook post where they are not: Facebook",
     replace(CULTURE_SCHOOL, has_facebook_post=True), BARNESKOLE, DEFAULT, WEEK,
     "facebook_share", "facebook"),
    ("club with its own post, school with a page", CLUB_WITH_POST, BARNESKOLE, DEFAULT, WEEK,
     "facebook_share", "facebook"),
    ("club without a post but with a flyer", CLUB_WITH_FLYER, BARNESKOLE, DEFAULT, WEEK,
     "backpack_post", "backpack"),
    ("club with a post at a school without a page falls to backpack",
     replace(CLUB_WITH_POST, has_flyer=True), NO_FACEBOOK, DEFAULT, WEEK,
     "backpack_post", "backpack"),
    ("the week's quota used", CLUB_WITH_FLYER, BARNESKOLE, DEFAULT,
     WeekUsage("2026-W48", backpack_used=2), "directory_only", "fallback"),
    ("a blackout week", CLUB_WITH_FLYER, BARNESKOLE,
     Policy(blackout_weeks=frozenset({"2026-W48"})), WEEK, "directory_only", "fallback"),
    ("ages 14-16 at a 1-7 school", Offer("volunteer", True, 14, 16, has_flyer=True), BARNESKOLE,
     DEFAULT, WEEK, "not_eligible", "audience"),
    ("a commercial organiser", Offer("commercial", True, 8, 12, has_facebook_post=True),
     BARNESKOLE, DEFAULT, WEEK, "directory_only", "commercial"),
    ("an unverified organisation", replace(CLUB_WITH_POST, organisation_verified=False),
     BARNESKOLE, DEFAULT, WEEK, "directory_only", "unverified"),
    ("nothing to share or print", CLUB, BARNESKOLE, DEFAULT, WEEK, "directory_only", "fallback"),
    ("backpack first when the school says so", replace(CLUB_WITH_POST, has_flyer=True),
     BARNESKOLE, Policy(order=("backpack", "facebook")), WEEK, "backpack_post", "backpack"),
    ("Facebook switched off", CLUB_WITH_POST, BARNESKOLE, Policy(facebook_enabled=False), WEEK,
     "directory_only", "fallback"),
    ("a volunteer club is never in messaging, even where municipal offers are allowed",
     CLUB_WITH_FLYER, BARNESKOLE, ALLOWS_MUNICIPAL, WEEK, "backpack_post", "backpack"),
    ("another school's SFO notice is not this school's business",
     replace(SFO_NOTICE, school_slug="gulskogen-skole"), BARNESKOLE, DEFAULT, WEEK,
     "directory_only", "fallback"),
    ("an 'urgent' club message is treated as a leisure offer", replace(CLUB_WITH_POST, urgent=True),
     BARNESKOLE, DEFAULT, WEEK, "facebook_share", "facebook"),
    ("the school's own urgent message", replace(SFO_NOTICE, school_business=False, urgent=True),
     BARNESKOLE, DEFAULT, WEEK, "school_messaging", "school-own"),
    ("ages touching the edge: 13-15 at a 1-7 school (ages 6-13)",
     Offer("volunteer", True, 13, 15, has_flyer=True), BARNESKOLE, DEFAULT, WEEK,
     "backpack_post", "backpack"),
    ("ages ending at the youngest pupils' age: 3-6 at a 1-7 school (ages 6-13)",
     Offer("volunteer", True, 3, 6, has_flyer=True), BARNESKOLE, DEFAULT, WEEK,
     "backpack_post", "backpack"),
    ("ages ending a year before: 2-5 at a 1-7 school (ages 6-13)",
     Offer("volunteer", True, 2, 5, has_flyer=True), BARNESKOLE, DEFAULT, WEEK,
     "not_eligible", "audience"),
    ("backpack post switched off by the policy, the school takes it", CLUB_WITH_FLYER, BARNESKOLE,
     Policy(backpack_enabled=False), WEEK, "directory_only", "fallback"),
    ("the school's own leisure offer goes the ordinary way",
     Offer("school", True, 8, 12, has_flyer=True, school_slug="fjell-skole"), BARNESKOLE,
     ALLOWS_MUNICIPAL, WEEK, "backpack_post", "backpack"),
    ("backpack post switched on, the school does not take it", CLUB_WITH_FLYER,
     replace(BARNESKOLE, accepts_backpack_post=False), DEFAULT, WEEK, "directory_only",
     "fallback"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("offer", "school", "policy", "usage", "channel", "rule"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rule_table(offer, school, policy, usage, channel, rule):
    decision = decide(offer, school, policy, usage)
    assert (decision.channel, decision.rule) == (channel, rule)
    assert decision.reasons[-1].rule == rule
    assert [r.rule for r in decision.reasons] == sorted(
        {r.rule for r in decision.reasons}, key=[r.rule for r in decision.reasons].index
    )


def test_reasons_name_the_deciding_fact():
    no_page = decide(replace(CLUB_WITH_POST), NO_FACEBOOK, DEFAULT, WEEK)
    assert "Skolen har ingen Facebook-side." in no_page.reason_texts
    quota = decide(CLUB_WITH_FLYER, BARNESKOLE, DEFAULT, WeekUsage("2026-W48", 2))
    assert "Ukekvoten for ranselpost (2) er brukt opp i uke 48." in quota.reason_texts
    audience = decide(Offer("volunteer", True, 14, 16), BARNESKOLE, DEFAULT, WEEK)
    assert audience.reason_texts[-1] == (
        "Tilbudet er for 14–16 år, men skolen har 1.–7. trinn (6–13 år)."
    )
    blackout = decide(
        CLUB_WITH_FLYER, BARNESKOLE, Policy(blackout_weeks=frozenset({"2026-W48"})), WEEK
    )
    assert "Uke 48 er stengt for ranselpost ved skolen." in blackout.reason_texts


def test_a_plain_offer_is_neither_urgent_nor_school_business():
    decision = decide(CLUB_WITH_FLYER, BARNESKOLE, DEFAULT, WeekUsage("2026-W48"))
    assert decision.reason_texts[0] == "Avsenderen er ikke skolen selv."
    # A new week has no flyers in it yet.
    assert decision.reason_texts[-1] == (
        "Tilbudet har en trykkbar flyer, og skolen har plass til ranselpost i uke 48 "
        "(0 av 2 brukt)."
    )


def test_the_messaging_reason_tells_municipal_offers_from_the_others():
    municipal = decide(CULTURE_SCHOOL, BARNESKOLE, DEFAULT, WEEK)
    assert (
        "Vigilo er forbeholdt skolesaker; skolen tar ikke kommunale fritidstilbud der."
        in municipal.reason_texts
    )
    club = decide(CLUB_WITH_FLYER, BARNESKOLE, ALLOWS_MUNICIPAL, WEEK)
    assert (
        "Vigilo er forbeholdt skolesaker; fritidstilbud fra lag og foreninger sendes aldri der."
        in club.reason_texts
    )


# Where a verified organisation's offer with a post and a flyer goes, by the organisation's kind,
# at a school that allows municipal offers in the messaging app.
ROUTE_BY_KIND = {
    "volunteer": "facebook_share",
    "municipal": "school_messaging",
    "school": "facebook_share",  # another school's, or not school business
    "commercial": "directory_only",
}


@pytest.mark.parametrize("kind", ORGANISATION_KINDS)
def test_every_kind_of_organisation_has_its_route(kind):
    offer = Offer(kind, True, 8, 12, has_facebook_post=True, has_flyer=True)
    assert decide(offer, BARNESKOLE, ALLOWS_MUNICIPAL, WEEK).channel == ROUTE_BY_KIND[kind]


def test_the_kinds_with_a_route_are_the_kinds_an_organisation_can_have():
    assert set(ROUTE_BY_KIND) == set(ORGANISATION_KINDS)


def test_every_considered_rule_gives_one_reason_in_rule_order():
    decision = decide(CLUB, BARNESKOLE, DEFAULT, WEEK)
    assert [r.rule for r in decision.reasons] == list(RULES)
    assert all(r.text.endswith(".") for r in decision.reasons)


def test_messaging_label_comes_from_the_municipality():
    school = replace(BARNESKOLE, messaging_label="Transponder")
    decision = decide(SFO_NOTICE, school, DEFAULT, WEEK)
    assert "Transponder" in decision.reasons[0].text


def test_every_channel_and_every_rule_settles_some_case():
    decisions = [decide(*case[1:5]) for case in CASES]
    assert {d.channel for d in decisions} == set(CHANNELS)
    assert {d.rule for d in decisions} == set(RULES)


@pytest.mark.parametrize(
    ("policy", "school"),
    [
        (Policy(backpack_enabled=False), BARNESKOLE),
        (DEFAULT, replace(BARNESKOLE, accepts_backpack_post=False)),
    ],
    ids=["policy-off", "school-off"],
)
def test_backpack_post_needs_both_the_policy_and_the_school(policy, school):
    decision = decide(CLUB_WITH_FLYER, school, policy, WEEK)
    assert decision.channel == "directory_only"
    assert "Skolen tar ikke imot ranselpost." in decision.reason_texts


def test_the_audience_reason_gives_the_ages_at_the_lower_edge():
    fits = decide(Offer("volunteer", True, 3, 6), BARNESKOLE, DEFAULT, WEEK)
    assert fits.reasons[1].text == (
        "Tilbudet for 3–6 år passer for elever på skolen (1.–7. trinn)."
    )
    below = decide(Offer("volunteer", True, 2, 5), BARNESKOLE, DEFAULT, WEEK)
    assert below.reason_texts[-1] == (
        "Tilbudet er for 2–5 år, men skolen har 1.–7. trinn (6–13 år)."
    )
