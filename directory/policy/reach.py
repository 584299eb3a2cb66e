"""The organiser's "Nå ut via skolene" page as rules: which weeks can be asked for, which week
the page suggests, and what would let an offer reach schools it cannot reach now.

Pure: the routing rule's dataclasses in, plain values out; standard library only. Weeks are ISO
weeks ('2026-W50'), which sort as they follow each other.

A request is for one week. The current week can be asked for while it lasts (a school may
still share a post the same day), but it is never suggested: by the time a school has read and
approved a request, an ending week is gone. The page suggests the first week from next week on
in which at least one school can still be asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from directory.policy.request_states import is_requestable
from directory.policy.routing import Offer, Policy, SchoolInfo, WeekUsage, decide

REACH_WEEKS = 9  # the page offers this week and the next eight
SUGGEST_FROM = 1  # the first week the page suggests, counted from this week: next week

# What the organiser (or the municipality, for verification) can change about an offer.
VERIFY, FLYER, FACEBOOK_POST = "verify", "flyer", "facebook_post"
LEVERS = (VERIFY, FLYER, FACEBOOK_POST)


def suggested_week(
    weeks: Sequence[str], current: str, can_ask: Callable[[str], bool | None]
) -> str:
    """The week the page opens on: the first of `weeks` from SUGGEST_FROM weeks after
    `current` on in which `can_ask` says some school can be asked; the first of those weeks when
    none can. `can_ask` answers None when no week would do (nothing that stops every school
    depends on the week), which ends the search early."""
    later = [week for week in weeks if week > current][SUGGEST_FROM - 1 :] if SUGGEST_FROM else []
    candidates = later or list(weeks)
    for week in candidates:
        answer = can_ask(week)
        if answer:
            return week
        if answer is None:
            break
    return candidates[0]


def reachable_with(
    offer: Offer,
    schools: Iterable[tuple[SchoolInfo, Policy, WeekUsage]],
    *levers: str,
) -> int:
    """How many of the schools the offer could be asked at with the levers pulled: verified
    by the municipality, with a printable flyer, with its own Facebook post."""
    changes = {
        VERIFY: {"organisation_verified": True},
        FLYER: {"has_flyer": True},
        FACEBOOK_POST: {"has_facebook_post": True},
    }
    changed = offer
    for lever in levers:
        changed = replace(changed, **changes[lever])
    return sum(
        1
        for school, policy, usage in schools
        if is_requestable(decide(changed, school, policy, usage).channel)
    )
