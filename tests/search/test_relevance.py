"""Norwegian relevance: compounds, inflections, typos, diacritics, title weight, "did you mean",
on the Whoosh index and on PostgreSQL alike.

Each test asserts which activities come back, and their order where the order matters.
"""

from __future__ import annotations

import pytest

from tests.search.conftest import ON_POSTGRESQL


@pytest.fixture(autouse=True, params=["whoosh", "postgres"])
def ranking_backend(request, app, monkeypatch):
    """Every test here runs on the Whoosh index and on PostgreSQL's full-text search, the two
    backends that rank, forgive typos and suggest (the database fallback does neither)."""
    if request.param == "postgres" and not ON_POSTGRESQL:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", request.param)
    return request.param


@pytest.fixture
def offers(make_activity):
    """A small directory with the words parents type."""
    for title, description in [
        ("Fotballtreningen for 10-åringer", "Vi trener på kunstgress."),
        ("Håndballtreninger hele året", "Ball og lek i hallen."),
        ("Svømmekurs for nybegynnere", "Lær å svømme trygt."),
        ("Barnekoret i Bragernes", "Vi synger sammen hver uke."),
        ("Fotball for jenter", "Lek med ball."),
        ("Sjakk på biblioteket", "Etter sjakken ser vi fotball på storskjerm."),
        ("Linedans for alle", "Musikk og bevegelse."),
    ]:
        make_activity(title=title, summary="", description=description)


def test_a_part_of_a_compound_finds_the_compound(offers, titles):
    assert sorted(titles("trening")) == [
        "Fotballtreningen for 10-åringer",
        "Håndballtreninger hele året",
    ]
    assert titles("kurs") == ["Svømmekurs for nybegynnere"]
    assert titles("kor") == ["Barnekoret i Bragernes"]
    assert titles("dans") == ["Linedans for alle"]


def test_the_first_part_of_a_compound_and_a_compound_query(offers, titles):
    assert titles("håndball") == ["Håndballtreninger hele året"]
    # The query compound also finds its parts written apart ("Fotball ... trener").
    assert titles("svømmekurs") == ["Svømmekurs for nybegynnere"]


def test_inflected_forms_find_each_other(offers, titles):
    found = titles("fotballen")
    assert found[:2] == ["Fotball for jenter", "Fotballtreningen for 10-åringer"]
    assert found[2:] == ["Sjakk på biblioteket"]  # only its description mentions fotball
    assert titles("treningene") == titles("trening")
    assert titles("koret") == ["Barnekoret i Bragernes"]
    assert titles("svømming") == ["Svømmekurs for nybegynnere"]


def test_title_match_ranks_above_a_description_only_match(offers, titles):
    assert titles("sjakk")[0] == "Sjakk på biblioteket"
    found = titles("fotball")
    assert found.index("Sjakk på biblioteket") == len(found) - 1


def test_a_filter_keeps_the_relevance_order_of_what_it_lets_through(offers, titles, make_activity):
    # The same words first without and then with filters: the index ranks the words' documents
    # once and each filter picks from that ranking, in its order.
    make_activity(title="Fotball for ungdom", summary="", description="", age_min=14, age_max=16)
    make_activity(title="Fotballskole", summary="", description="Fotball", price_nok=900)
    everything = titles("fotball")
    assert len(everything) == 5
    assert "Fotball for ungdom" not in titles("fotball", age=8)
    assert "Fotballskole" not in titles("fotball", free=True)
    for filters in (
        {"age": 8},
        {"free": True},
        {"per_page": 2},
        {"age": 8, "page": 2, "per_page": 1},
    ):
        found = titles("fotball", **filters)
        assert found and found == [t for t in everything if t in found]
    assert titles("fotball", per_page=2) == everything[:2]
    assert titles("fotball", page=2, per_page=2) == everything[2:4]


def test_every_word_must_match(offers, titles):
    assert titles("fotball jenter") == ["Fotball for jenter"]
    assert titles("fotball for jenter") == ["Fotball for jenter"]  # "for" is a stop word


def test_typos_are_tolerated_when_nothing_matches_exactly(offers, titles, search):
    assert set(titles("fotbal")) == {
        "Fotball for jenter",
        "Fotballtreningen for 10-åringer",
        "Sjakk på biblioteket",
    }
    assert titles("svømmekus") == ["Svømmekurs for nybegynnere"]
    assert titles("barnekorret") == ["Barnekoret i Bragernes"]
    assert titles("xq") == []  # too short to guess at


def test_diacritics_are_optional(offers, titles):
    assert titles("svommekurs") == ["Svømmekurs for nybegynnere"]
    assert titles("handball") == ["Håndballtreninger hele året"]
    assert titles("10-aringer") == ["Fotballtreningen for 10-åringer"]


def test_did_you_mean_when_the_words_match_nothing(offers, search):
    page = search("fotbll")
    assert page.suggestion == "fotball"
    assert {a.title for a in page.items} >= {"Fotball for jenter"}  # typo-tolerant results

    page = search("svomekurs jenter")
    assert page.suggestion == "svømmekurs jenter"

    assert search("fotball").suggestion is None
    nothing = search("zzzyyx")
    assert nothing.items == [] and nothing.total == 0 and nothing.suggestion is None


def test_prefix_search(offers, titles):
    found = titles("fotb*")
    assert set(found[:2]) == {"Fotball for jenter", "Fotballtreningen for 10-åringer"}
    assert found[2:] == ["Sjakk på biblioteket"]  # "fotball" in its description only
    assert titles("svøm*") == ["Svømmekurs for nybegynnere"]


def test_stop_words_alone_do_not_filter(offers, titles):
    assert len(titles("og for i")) == 7


def test_tags_and_organisation_name_are_searched(make_activity, make_organisation, titles):
    club = make_organisation(name="Strømsgodset IF")
    make_activity(title="Minifotball", organisation=club)
    make_activity(title="Keramikk", tags="leire, forming")
    assert titles("strømsgodset") == ["Minifotball"]
    assert titles("leire") == ["Keramikk"]


def test_the_database_fallback_understands_the_same_norwegian(offers, titles, monkeypatch, app):
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", "database")
    assert sorted(titles("trening")) == [
        "Fotballtreningen for 10-åringer",
        "Håndballtreninger hele året",
    ]
    assert titles("kurs") == ["Svømmekurs for nybegynnere"]
    assert titles("kor") == ["Barnekoret i Bragernes"]
    assert titles("svommekurs") == ["Svømmekurs for nybegynnere"]
    assert titles("handball") == ["Håndballtreninger hele året"]
    found = titles("fotballen")
    assert set(found[:2]) == {"Fotball for jenter", "Fotballtreningen for 10-åringer"}
    assert found[2:] == ["Sjakk på biblioteket"]
    assert titles("fotball jenter") == ["Fotball for jenter"]
    assert titles("fotb*")[-1] == "Sjakk på biblioteket"
