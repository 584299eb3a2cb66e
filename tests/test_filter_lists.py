"""The search filters' lists (categories, municipalities, schools) are kept in each process
under the public data's version: a repeated search reads none of those tables for them, and a
change to any of them shows on the next request."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from directory.activities.models import Category
from directory.extensions import db
from tests.test_api import count_queries

# A statement reading a filter list; the cards' own load of their categories by id is not one.
LIST_READ = re.compile(r"\bFROM (category|municipality|school)\b", re.IGNORECASE)
CARD_LOAD = re.compile(r"\b(category|municipality)\.id IN \(", re.IGNORECASE)


def list_reads(client, path: str) -> list[str]:
    """The statements of one GET of `path` (it must answer 200) that read a filter list."""
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [s for s in statements if LIST_READ.search(s) and not CARD_LOAD.search(s)]


@pytest.fixture
def world(make_category, make_school, make_activity, municipality):
    sport = make_category(slug="idrett", name_nb="Idrett", name_en="Sports")
    old = make_category(slug="gammel", name_nb="Gammel", hidden=True)
    school = make_school(slug="bragernes", name="Bragernes skole", latitude=59.74, longitude=10.2)
    for n in range(3):
        make_activity(title=f"Fotball {n}", category=sport if n else old)
    return {"school": school, "municipality": municipality}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/activities?q=fotball",
        "/activities?school=bragernes&municipality=drammen&category=idrett",
        "/activities?near=bragernes&within_km=5",
        "/api/v1/activities",
        "/api/v1/activities?school=bragernes&municipality=drammen",
    ],
)
def test_a_repeated_search_reads_no_filter_list(client, world, path):
    client.get(path)
    assert list_reads(client, path) == []


def test_the_first_search_loads_the_lists(client, world):
    assert list_reads(client, "/activities")


def test_a_new_category_shows_on_the_next_request(client, world, make_category):
    assert "Sjakk" not in client.get("/activities").get_data(as_text=True)
    make_category(slug="sjakk", name_nb="Sjakk", name_en="Chess")
    assert 'value="sjakk"' in client.get("/activities").get_data(as_text=True)
    english = client.get("/activities?lang=en").get_data(as_text=True)
    assert "Chess" in english and "Sports" in english


def test_a_renamed_municipality_and_a_deactivated_school_show_on_the_next_request(
    client, world, make_municipality
):
    make_municipality(slug="lier", name="Lier")  # two municipalities: the choice is offered
    page = client.get("/activities").get_data(as_text=True)
    assert "Bragernes skole" in page and ">Drammen<" in page
    world["municipality"].name = "Drammen kommune"
    world["school"].active = False
    db.session.commit()
    page = client.get("/activities").get_data(as_text=True)
    assert ">Drammen kommune<" in page
    assert "Bragernes skole" not in page
    # A deactivated school has left the filters: as unknown.
    assert client.get("/activities?school=bragernes").status_code == 404
    assert client.get("/api/v1/activities?school=bragernes").status_code == 404


def test_a_category_shown_again_is_counted_on_the_next_request(client, world):
    assert client.get("/api/v1/activities").get_json()["facets"]["category"] == {"idrett": 2}
    old = db.session.scalar(select(Category).where(Category.slug == "gammel"))
    old.hidden = False
    db.session.commit()
    counts = client.get("/api/v1/activities").get_json()["facets"]["category"]
    assert counts == {"idrett": 2, "gammel": 1}
