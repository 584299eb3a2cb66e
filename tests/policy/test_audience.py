"""School grades as ages, and when an offer's ages meet them (no app needed)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from directory.policy.audience import ages_meet, fitting_grades, grade_ages, grades_ages

ages = st.integers(0, 30)


def test_a_grade_holds_the_two_ages_of_its_pupils():
    # Pupils start 1st grade the year they turn six.
    assert grade_ages(1) == (6, 7)
    assert grade_ages(10) == (15, 16)
    assert grades_ages(1, 7) == (6, 13)
    assert grades_ages(8, 10) == (13, 16)


def test_ranges_that_touch_at_one_age_meet():
    assert ages_meet(3, 6, 6, 13)  # ends at the youngest pupils' age
    assert ages_meet(13, 15, 6, 13)  # starts at the oldest pupils' age
    assert not ages_meet(3, 5, 6, 13)
    assert not ages_meet(14, 16, 6, 13)


@given(ages, ages, ages, ages)
def test_ranges_meet_exactly_when_they_share_an_age(a, b, c, d):
    low, high = sorted((a, b))
    other_low, other_high = sorted((c, d))
    shared = set(range(low, high + 1)) & set(range(other_low, other_high + 1))
    assert ages_meet(low, high, other_low, other_high) == bool(shared)


@given(st.lists(st.integers(1, 10), unique=True), ages, ages)
def test_fitting_grades_are_those_with_a_pupil_of_a_fitting_age(grades, a, b):
    low, high = sorted((a, b))
    fitting = fitting_grades(grades, low, high)
    assert fitting == [g for g in grades if any(low <= age <= high for age in grade_ages(g))]


def test_an_offer_for_six_year_olds_fits_the_first_grade_only():
    assert fitting_grades(range(1, 11), 3, 6) == [1]
    assert fitting_grades(range(1, 11), 16, 25) == [10]
    assert fitting_grades(range(1, 11), 0, 5) == []
