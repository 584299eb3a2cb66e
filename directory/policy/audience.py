"""School grades as ages, and whether an offer's ages meet them.

The routing rule's audience check, the grades an organiser may address at a school and the
search by grade all match ages to grades through `grade_ages`.
"""

from __future__ import annotations

from collections.abc import Iterable


def grade_ages(grade: int) -> tuple[int, int]:
    """The youngest and oldest pupils' age in a grade: pupils start 1st grade the year they turn
    six, so grade g has pupils aged g+5 and g+6."""
    return grade + 5, grade + 6


def grades_ages(grade_min: int, grade_max: int) -> tuple[int, int]:
    """The youngest and oldest pupils' age over a range of grades."""
    return grade_ages(grade_min)[0], grade_ages(grade_max)[1]


def ages_meet(age_min: int, age_max: int, other_min: int, other_max: int) -> bool:
    """Whether two age ranges (both ends included) share at least one age."""
    return age_min <= other_max and other_min <= age_max


def fitting_grades(grades: Iterable[int], age_min: int, age_max: int) -> list[int]:
    """The grades whose pupils' ages meet the range age_min–age_max, in the order given."""
    return [g for g in grades if ages_meet(*grade_ages(g), age_min, age_max)]
