"""Near a school (issue 13): distance order, the `within_km` filter and the distances shown,
on the index and on the database alike (the `backend_kind` fixture)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from directory.search.query import QueryError
from directory.search.service import UnknownFilterValue
from tests.search.conftest import local_days_ahead

SCHOOL = (59.7439, 10.2045)


def once(days: int, hour: int = 17) -> dict:
    return {"dtstart": local_days_ahead(days, hour), "rrule": "", "duration_minutes": 60}


def at(lat: float, lon: float) -> dict:
    """A venue of its own at this point (activities at one venue share its coordinates)."""
    return {
        "venue": f"Stedet {lat} {lon}",
        "address": f"Veien {lat} {lon}",
        "latitude": Decimal(str(lat)),
        "longitude": Decimal(str(lon)),
    }


NOWHERE = {"venue": "", "address": ""}  # no venue, so no coordinates


@pytest.fixture
def school(make_school):
    return make_school(slug="bragernes", name="Bragernes skole", latitude=SCHOOL[0],
                       longitude=SCHOOL[1], grade_min=8, grade_max=10)  # fmt: skip


@pytest.fixture
def around(make_activity):
    """Offers at about 0.1, 1.8 and 6.2 km from the school, one without coordinates, and a
    cancelled one closest of all. Small children: the school's grades (8-10) do not fit."""
    make_activity(title="Langt", age_min=3, age_max=5, schedule=once(1), **at(59.8000, 10.2045))
    make_activity(title="Uten sted", age_min=3, age_max=5, schedule=once(2), **NOWHERE)
    make_activity(title="Midt", age_min=3, age_max=5, price_nok=100, schedule=once(3),
                  **at(59.7600, 10.2045))  # fmt: skip
    make_activity(title="Nær", age_min=3, age_max=5, schedule=once(4), **at(59.7450, 10.2050))
    make_activity(title="Avlyst nær", age_min=3, age_max=5, status="cancelled", schedule=once(5),
                  **at(59.7440, 10.2046))  # fmt: skip


def test_distance_order_nearest_first_without_coordinates_then_cancelled_last(
    backend_kind, school, around, titles
):
    expected = ["Nær", "Midt", "Langt", "Uten sted", "Avlyst nær"]
    assert titles(near="bragernes", sort="distance") == expected


def test_near_measures_without_filtering_by_the_schools_grades(
    backend_kind, school, around, search
):
    page = search(near="bragernes", sort="soonest")
    assert [a.title for a in page.items] == ["Langt", "Uten sted", "Midt", "Nær", "Avlyst nær"]
    distances = {a.title: page.distances[a.id] for a in page.items}
    assert distances["Nær"] == pytest.approx(0.13, abs=0.01)
    assert distances["Midt"] == pytest.approx(1.79, abs=0.01)
    assert distances["Langt"] == pytest.approx(6.24, abs=0.01)
    assert distances["Uten sted"] is None


def test_without_near_there_are_no_distances(backend_kind, school, around, search):
    assert search().distances == {}


def test_within_km_filters_the_total_and_the_facets(backend_kind, school, around, search):
    page = search(near="bragernes", within_km=2.0, sort="distance")
    assert [a.title for a in page.items] == ["Nær", "Midt", "Avlyst nær"]
    assert page.total == 3
    assert page.facets["free"] == {"1": 2}  # Nær and Avlyst nær; Midt costs
    assert [a.title for a in search(near="bragernes", within_km=0.1).items] == ["Avlyst nær"]
    assert search(near="bragernes", within_km=100.0, sort="distance").total == 4


def test_ties_in_distance_go_by_the_soonest_start(backend_kind, school, make_activity, titles):
    make_activity(title="Senere", schedule=once(6), **at(59.7500, 10.2045))
    make_activity(title="Tidligere", schedule=once(2), **at(59.7500, 10.2045))
    make_activity(title="Uten sted senere", schedule=once(5), **NOWHERE)
    make_activity(title="Uten sted tidligere", schedule=once(1), **NOWHERE)
    assert titles(near="bragernes", sort="distance") == [
        "Tidligere", "Senere", "Uten sted tidligere", "Uten sted senere",
    ]  # fmt: skip


def test_an_unknown_or_inactive_near_school_is_unknown(backend_kind, make_school, search):
    make_school(slug="nedlagt", active=False, latitude=59.7, longitude=10.2)
    for slug in ("finnes-ikke", "nedlagt"):
        with pytest.raises(UnknownFilterValue) as caught:
            search(near=slug, sort="distance")
        assert caught.value.param == "near"


def test_a_near_school_without_coordinates_is_a_bad_request(backend_kind, make_school, search):
    make_school(slug="uten-punkt", name="Punktløs skole")
    with pytest.raises(QueryError) as caught:
        search(near="uten-punkt", sort="distance")
    assert caught.value.param == "near"
    assert "Punktløs skole har ingen koordinater ennå" in caught.value.message


def test_a_moved_venue_makes_the_indexed_point_stale(app, make_activity):
    """The coordinates are in the stamp: a venue's move rewrites them on its activities without
    bumping their version, and check-index still sees the index is behind."""
    from sqlalchemy import update

    from directory.activities.models import Activity
    from directory.extensions import db
    from directory.search.service import check_index

    activity = make_activity(title="Flytter", **at(59.7450, 10.2050))
    assert check_index().clean
    db.session.execute(
        update(Activity)
        .where(Activity.id == activity.id)
        .values(latitude=Decimal("59.7500"))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    assert check_index().stale == [activity.id]
