"""The clash finder's rule: other organisations' offers for the same ages, near, at once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from directory.policy.clashes import (
    Offer,
    Slot,
    clash,
    distance_km,
    find_clashes,
    shared_slots,
)

OSLO = ZoneInfo("Europe/Oslo")
TUESDAY = datetime(2026, 12, 8, tzinfo=OSLO)  # a Tuesday


def weekly(first: datetime, start: str, end: str, weeks: int = 4):
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return tuple(
        (
            (first + timedelta(weeks=n)).replace(hour=h1, minute=m1),
            (first + timedelta(weeks=n)).replace(hour=h2, minute=m2),
        )
        for n in range(weeks)
    )


def offer(key=1, org=1, municipality=1, ages=(8, 12), times=None, at=None) -> Offer:
    lat, lon = at or (None, None)
    return Offer(
        key=key,
        organisation_id=org,
        municipality_id=municipality,
        age_min=ages[0],
        age_max=ages[1],
        occurrences=times if times is not None else weekly(TUESDAY, "17:00", "18:30"),
        latitude=lat,
        longitude=lon,
    )


MINE = offer()


def test_same_ages_at_an_overlapping_tuesday_time_clash_with_the_shared_time():
    other = offer(key=2, org=2, times=weekly(TUESDAY, "18:00", "19:30"))
    found = clash(MINE, other)
    assert found is not None
    assert found.same_ages and (found.age_min, found.age_max) == (8, 12)
    assert found.slots == (Slot(2, time(18, 0), time(18, 30)),)
    assert found.distance_km is None


def test_overlapping_ages_clash_with_the_shared_range():
    found = clash(MINE, offer(key=2, org=2, ages=(10, 15)))
    assert found is not None and not found.same_ages
    assert (found.age_min, found.age_max) == (10, 12)


def test_different_ages_do_not_clash():
    assert clash(MINE, offer(key=2, org=2, ages=(13, 16))) is None


def test_times_that_only_touch_or_are_on_another_day_do_not_clash():
    assert clash(MINE, offer(key=2, org=2, times=weekly(TUESDAY, "18:30", "20:00"))) is None
    wednesday = TUESDAY + timedelta(days=1)
    assert clash(MINE, offer(key=2, org=2, times=weekly(wednesday, "17:00", "18:30"))) is None


def test_another_municipality_or_the_same_organisation_does_not_clash():
    assert clash(MINE, offer(key=2, org=2, municipality=2)) is None
    assert clash(MINE, offer(key=2, org=1)) is None
    assert clash(MINE, MINE) is None


def test_coordinates_further_apart_than_the_limit_do_not_clash():
    here = offer(at=(59.7440, 10.2045))  # Drammen
    near = offer(key=2, org=2, at=(59.7500, 10.2300))  # about 1.6 km away
    far = offer(key=3, org=3, at=(59.9139, 10.7522))  # Oslo
    assert clash(here, near).distance_km < 2
    assert clash(here, far) is None
    assert clash(here, offer(key=4, org=4)) is not None  # no coordinates: the area decides


def test_distance_is_great_circle():
    assert abs(distance_km((59.7440, 10.2045), (59.9139, 10.7522)) - 35.5) < 1


def test_slots_are_weekly_times_without_repeats_in_week_order():
    mine = weekly(TUESDAY, "17:00", "18:30") + weekly(TUESDAY - timedelta(days=1), "17:00", "18:00")
    theirs = weekly(TUESDAY - timedelta(days=1), "16:00", "17:30") + weekly(
        TUESDAY, "16:00", "21:00"
    )
    assert shared_slots(mine, theirs) == (
        Slot(1, time(17, 0), time(17, 30)),
        Slot(2, time(17, 0), time(18, 30)),
    )


def test_a_long_occurrence_of_theirs_overlaps_several_of_mine():
    mine = ((TUESDAY.replace(hour=10), TUESDAY.replace(hour=11)),) + (
        (TUESDAY.replace(hour=14), TUESDAY.replace(hour=15)),
    )
    theirs = ((TUESDAY.replace(hour=9), TUESDAY.replace(hour=9, minute=30)),) + (
        (TUESDAY.replace(hour=8), TUESDAY.replace(hour=16)),
    )
    assert len(shared_slots(mine, theirs)) == 2


def test_find_clashes_lists_the_nearest_first_and_leaves_out_the_rest():
    here = offer(at=(59.7440, 10.2045))
    others = [
        offer(key=2, org=2),
        offer(key=3, org=3, at=(59.7500, 10.2300)),
        offer(key=4, org=4, at=(59.7441, 10.2046)),
        offer(key=5, org=5, ages=(1, 3)),
    ]
    assert [c.key for c in find_clashes(here, others)] == [4, 3, 2]


def test_no_occurrences_means_no_clash():
    assert find_clashes(offer(times=()), [offer(key=2, org=2)]) == []
