"""The clash finder's rule: which other organisations' offers compete with an offer for the
same children at the same time in the same area.

A clash is a hint to the organiser, never a block. Two offers clash when they are run by
different organisations in the same municipality, their age ranges overlap, they are near each
other (within NEAR_KM when both have coordinates; the municipality alone decides otherwise),
and at least one of their occurrences in the window overlaps in time.

Pure: plain values in (age ranges, occurrence intervals as aware datetimes in local time,
municipality ids, coordinates), plain values out; standard library only. The caller expands
the schedules over the window (WINDOW_WEEKS) and formats the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from directory.policy.geo import great_circle_km

WINDOW_WEEKS = 8  # occurrences from now over the next eight weeks are compared
NEAR_KM = 5.0  # offers with coordinates further apart than this do not compete

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Offer:
    """One offer as the rule sees it. `occurrences` are (start, end) pairs, in time order or
    not, as aware datetimes in the local time zone (their weekday and clock time are read)."""

    key: int
    organisation_id: int
    municipality_id: int
    age_min: int
    age_max: int
    occurrences: tuple[Interval, ...]
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, order=True)
class Slot:
    """A weekly time the two offers share: ISO weekday (1 = Monday) and local clock times."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Clash:
    """Another offer that competes, and why: the ages both take (`same_ages` when the ranges
    are equal), the shared weekly times, and the distance when both have coordinates."""

    key: int
    age_min: int
    age_max: int
    same_ages: bool
    slots: tuple[Slot, ...]
    distance_km: float | None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance between two (latitude, longitude) points, in kilometres."""
    return great_circle_km(*a, *b)


def shared_slots(mine: Iterable[Interval], theirs: Iterable[Interval]) -> tuple[Slot, ...]:
    """The weekly times at which occurrences of both overlap, each overlap as the weekday and
    clock times of its shared part, without repeats, in week order. Touching ends (one ends at
    17:00, the other starts at 17:00) do not overlap."""
    a = sorted(mine)
    b = sorted(theirs)
    found: set[Slot] = set()
    j = 0
    for start, end in a:
        # Mine come in order of start: one of theirs that ended before this start cannot
        # overlap any later one of mine either.
        while j < len(b) and b[j][1] <= start:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            other_start, other_end = b[k]
            lo, hi = max(start, other_start), min(end, other_end)
            if lo < hi:
                found.add(Slot(lo.isoweekday(), lo.time(), hi.time()))
            k += 1
    return tuple(sorted(found))


def _coordinates(offer: Offer) -> tuple[float, float] | None:
    if offer.latitude is None or offer.longitude is None:
        return None
    return (float(offer.latitude), float(offer.longitude))


def clash(offer: Offer, other: Offer, *, near_km: float = NEAR_KM) -> Clash | None:
    """The clash between the offer and another one, or None when they do not compete."""
    if other.key == offer.key or other.organisation_id == offer.organisation_id:
        return None
    if other.municipality_id != offer.municipality_id:
        return None
    age_min, age_max = max(offer.age_min, other.age_min), min(offer.age_max, other.age_max)
    if age_min > age_max:
        return None
    here, there = _coordinates(offer), _coordinates(other)
    distance = distance_km(here, there) if here and there else None
    if distance is not None and distance > near_km:
        return None
    slots = shared_slots(offer.occurrences, other.occurrences)
    if not slots:
        return None
    same = (offer.age_min, offer.age_max) == (other.age_min, other.age_max)
    return Clash(other.key, age_min, age_max, same, slots, distance)


def find_clashes(offer: Offer, others: Sequence[Offer], *, near_km: float = NEAR_KM) -> list[Clash]:
    """The other offers that compete with the offer, the nearest and most overlapping first
    (those without a distance after those with one)."""
    found = [c for other in others if (c := clash(offer, other, near_km=near_km)) is not None]
    return sorted(
        found,
        key=lambda c: (c.distance_km is None, c.distance_km or 0.0, -len(c.slots), c.key),
    )
