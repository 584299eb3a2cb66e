"""Great-circle distances between known places."""

from __future__ import annotations

import pytest

from directory.policy.geo import great_circle_km

DRAMMEN = (59.7439, 10.2045)  # Bragernes torg
OSLO = (59.9111, 10.7528)  # Oslo S


def test_the_same_point_is_no_distance():
    assert great_circle_km(*DRAMMEN, *DRAMMEN) == 0.0


def test_drammen_to_oslo_is_about_35_km_either_way():
    there = great_circle_km(*DRAMMEN, *OSLO)
    back = great_circle_km(*OSLO, *DRAMMEN)
    assert 35.0 <= there <= 36.0
    assert there == pytest.approx(back)


def test_one_degree_of_latitude_is_about_111_km():
    assert great_circle_km(59.0, 10.0, 60.0, 10.0) == pytest.approx(111.195, abs=0.01)


def test_antipodes_are_half_the_circumference():
    assert great_circle_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(20015.1, abs=0.1)
