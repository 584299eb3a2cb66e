"""Near a school (issue 13): `near`, `within_km` and `sort=distance` parsed once, answered by
the API with `distance_km`, and shown on the search page as a filter, a sort and a card chip."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from werkzeug.datastructures import MultiDict

from directory.search.query import (
    QueryError,
    SearchQuery,
    clean_search_args,
    parse_search_args,
    query_to_args,
)
from tests.test_search_pages import card, error_next_to, link, params, read, titles

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday; the offers meet next Tuesday
SCHOOL = (59.7439, 10.2045)


def parse(app, *pairs: tuple[str, str]) -> SearchQuery:
    with app.test_request_context():
        return parse_search_args(MultiDict(pairs))


# --- parsing ---------------------------------------------------------------------------------


def test_near_defaults_to_the_distance_order_and_takes_a_distance(app):
    query = parse(app, ("near", "Fjell-Skole"), ("within_km", "2,5"))
    assert (query.near, query.within_km, query.sort) == ("fjell-skole", 2.5, "distance")
    assert query.has_filters  # the distance limit narrows; the school alone does not
    assert not parse(app, ("near", "fjell-skole")).has_filters
    assert parse(app, ("near", "fjell-skole"), ("q", "kor")).sort == "distance"
    assert parse(app, ("near", "fjell-skole"), ("sort", "soonest")).sort == "soonest"


@pytest.mark.parametrize(("raw", "km"), [("2", 2.0), ("2.5", 2.5), ("2,5", 2.5), ("100", 100.0),
                                         ("0,1", 0.1), ("007", 7.0)])  # fmt: skip
def test_within_km_takes_a_decimal_point_or_comma(app, raw, km):
    assert parse(app, ("near", "fjell"), ("within_km", raw)).within_km == km


@pytest.mark.parametrize("raw", ["0", "0,0", "-1", "100.5", "101", "2 km", "1e1", "nan", "inf",
                                 "2,5,5", ".5", "1000", "½"])  # fmt: skip
def test_a_bad_within_km_is_refused_in_norwegian(app, raw):
    with pytest.raises(QueryError) as caught:
        parse(app, ("near", "fjell"), ("within_km", raw))
    assert caught.value.param == "within_km"
    assert caught.value.message.startswith("Avstanden må være et tall større enn 0 og høyst 100")


def test_distance_needs_a_school(app):
    with pytest.raises(QueryError) as sort:
        parse(app, ("sort", "distance"))
    assert sort.value.param == "sort"
    with pytest.raises(QueryError) as within:
        parse(app, ("within_km", "2"))
    assert within.value.param == "within_km"
    assert "skole" in within.value.message
    with pytest.raises(QueryError) as bad:
        parse(app, ("near", "a/b"))
    assert bad.value.param == "near"


def test_clean_urls_leave_out_the_default_order_and_stay_clean(app):
    query = parse(app, ("near", "fjell"), ("within_km", "2.0"), ("sort", "distance"))
    assert query_to_args(query) == {"near": "fjell", "within_km": "2"}
    assert query_to_args(parse(app, ("near", "fjell"), ("sort", "soonest")))["sort"] == "soonest"
    sent = MultiDict([("near", "fjell"), ("within_km", ""), ("sort", "distance"), ("q", "")])
    clean = clean_search_args(sent)
    assert clean == [("near", "fjell")]
    assert clean_search_args(MultiDict(clean)) == clean
    # Without a school the distance order is no default: it stays, to be refused by the parser.
    assert clean_search_args(MultiDict([("sort", "distance")])) == [("sort", "distance")]
    assert clean_search_args(MultiDict([("near", "fjell"), ("sort", "soonest")])) == [
        ("near", "fjell"),
        ("sort", "soonest"),
    ]


# --- the world -------------------------------------------------------------------------------


def at(lat: float, lon: float) -> dict:
    """A venue of its own at this point (activities at one venue share its coordinates)."""
    return {"venue": f"Stedet {lat}", "address": f"Veien {lat}",
            "latitude": Decimal(str(lat)), "longitude": Decimal(str(lon))}  # fmt: skip


@pytest.fixture
def world(app, make_school, make_activity):
    with time_machine.travel(NOW, tick=False):
        make_school(slug="fjell", name="Fjell skole", latitude=SCHOOL[0], longitude=SCHOOL[1])
        make_school(slug="punktlos", name="Punktløs skole")
        make_activity(title="Langt unna", **at(59.8000, 10.2045))
        make_activity(title="Uten sted", venue="", address="")
        make_activity(title="Nær skolen", **at(59.7450, 10.2050))
        make_activity(title="Et stykke unna", **at(59.7546, 10.2045))
        yield


# --- the API ---------------------------------------------------------------------------------


def test_the_api_orders_by_distance_and_gives_distance_km(client, world):
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/activities?near=fjell").get_json()
    distances = [(i["title"], i["distance_km"]) for i in body["items"]]
    assert distances == [("Nær skolen", 0.13), ("Et stykke unna", 1.19),
                         ("Langt unna", 6.24), ("Uten sted", None)]  # fmt: skip


def test_the_api_filters_within_km_and_counts_the_same(client, world):
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/activities?near=fjell&within_km=2").get_json()
    assert [i["title"] for i in body["items"]] == ["Nær skolen", "Et stykke unna"]
    assert body["total"] == 2
    assert body["facets"]["free"] == {"1": 2}


def test_the_api_has_null_distances_without_near(client, world):
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/activities").get_json()
    assert {i["distance_km"] for i in body["items"]} == {None}


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("sort=distance", 400, "sort"),
        ("within_km=2", 400, "within_km"),
        ("near=fjell&within_km=0", 400, "within_km"),
        ("near=fjell&within_km=abc", 400, "within_km"),
        ("near=atlantis", 404, "near"),
        ("near=punktlos", 400, "near"),
    ],
)
def test_the_api_refuses_bad_distance_parameters(client, world, query, status, parameter):
    response = client.get(f"/api/v1/activities?{query}")
    assert response.status_code == status
    assert response.get_json()["parameter"] == parameter


def test_a_school_without_coordinates_is_explained(client, world):
    body = client.get("/api/v1/activities?near=punktlos").get_json()
    assert body["error"] == (
        "Skolen Punktløs skole har ingen koordinater ennå, så avstand kan ikke regnes ut."
    )
    assert client.get("/calendar.ics?near=punktlos").status_code == 400


# --- the search page -------------------------------------------------------------------------


def test_the_page_offers_schools_with_coordinates_and_distances(client, world):
    page = read(client.get("/activities"))
    near = next(c for c in page.controls if c.get("name") == "near")
    within = next(c for c in page.controls if c.get("name") == "within_km")
    assert page.labels[near["id"]] == "Nær skole"
    assert page.labels[within["id"]] == "Innen"
    html = client.get("/activities").get_data(as_text=True)
    near_options = re.search(r'<select id="near".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)">([^<]*)<', near_options) == [
        ("", "Ingen skole valgt"),
        ("fjell", "Fjell skole"),  # not Punktløs skole: nothing to measure from
    ]
    assert '<option value="2">2,0 km</option>' in html


def test_the_cards_show_the_distance_nearest_first(client, world):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/activities?near=fjell")
    assert response.status_code == 200
    assert titles(response) == ["Nær skolen", "Et stykke unna", "Langt unna", "Uten sted"]
    assert "1,2 km" in card(response, "Et stykke unna")
    assert "0,1 km" in card(response, "Nær skolen")
    assert " km" not in card(response, "Uten sted")
    page = read(response)
    assert page.selected["near"] == ["fjell"]
    assert page.selected["sort"] == [""]  # «Nærmest skolen», the default with a school
    assert "Nærmest skolen" in response.get_data(as_text=True)


def test_the_distance_limit_is_a_chip_and_zero_results_suggest_dropping_it(client, world):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/activities?near=fjell&within_km=0.1")
        assert titles(response) == []
        page = read(response)
        assert params(link(page, "Fjern Innen 0,1 km ×")) == {"near": ["fjell"]}
        assert params(link(page, "Fjern Nær Fjell skole ×")) == {}  # the limit goes with it
        loosen = link(page, "Uten «innen 0,1 km»: 4 aktiviteter")
        assert not [text for _attrs, text in page.links if text.startswith("Uten «nær")]
    assert params(loosen) == {"near": ["fjell"]}


def test_a_distance_limit_without_a_school_is_a_400_in_norwegian(client, world):
    response = client.get("/activities?within_km=2&age=9")
    assert response.status_code == 400
    assert error_next_to(response, "within_km") == (
        "Avstandsgrensen krever en skole å måle fra: velg «Nær skole» også."
    )
    assert params(link(read(response), "Søk uten feilene")) == {"age": ["9"]}


def test_a_bad_distance_limit_is_a_400_next_to_its_field(client, world):
    response = client.get("/activities?near=fjell&within_km=mange")
    assert response.status_code == 400
    assert error_next_to(response, "within_km").startswith("Avstanden må være et tall")


def test_a_school_without_coordinates_is_a_400_page(client, world):
    response = client.get("/activities?near=punktlos&within_km=2")
    assert response.status_code == 400
    assert "har ingen koordinater ennå" in error_next_to(response, "near")
    assert params(link(read(response), "Søk uten feilene")) == {}


def test_api_answers_with_distances_conform_to_the_document(client, world):
    from directory.api.openapi import openapi_document
    from tests.test_openapi import ResponseValidator

    with time_machine.travel(NOW, tick=False):
        response = client.get("/api/v1/activities?near=fjell&within_km=10")
    body = ResponseValidator(openapi_document()).validate(response)
    assert {type(i["distance_km"]) for i in body["items"]} == {float}
