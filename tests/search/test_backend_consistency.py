"""The backends agree: the same directory searched the same way finds the same offers.

The differences found between the Whoosh index and PostgreSQL are settled here: «svømmekurs»
and «svommekurs» find the same offers; «kor» finds a choir, not «Røde Kors» or «korps»; «fotbal»
suggests «fotball». Then many searches, with and without text and filters, give the same totals,
the same activities and the same facet counts on every backend.
"""

from __future__ import annotations

import random

import pytest

from directory.search.query import SearchQuery
from directory.search.service import rebuild_index, search_activities
from tests.search.conftest import ON_POSTGRESQL, local_days_ahead, next_iso_weekday_at

BACKENDS = ["whoosh", "postgres", "database"] if ON_POSTGRESQL else ["whoosh", "database"]
SUGGESTING = ["whoosh", "postgres"] if ON_POSTGRESQL else ["whoosh"]


@pytest.fixture
def swimming_and_singing(make_activity, make_organisation):
    make_activity(title="Svømmekurs for nybegynnere", description="Lær å svømme trygt.")
    make_activity(title="Svommekurs på Konnerud", description="Skrevet uten ø.")
    make_activity(title="Svømming for viderekomne", description="Et kurs i crawl.")
    make_activity(title="Barnekoret i Bragernes", description="Vi synger sammen.")
    make_activity(title="Leksehjelp", description="Frivillige fra Røde Kors hjelper deg.")
    make_activity(title="Skolekorpset øver", description="Korps for 4.–7. trinn.")
    make_activity(title="Fotball for jenter", description="Lek med ball.")
    make_activity(title="Fotballtrening", description="Trening på kunstgress.")


def use(app, monkeypatch, backend: str) -> None:
    """Search with this backend from now on, its index built from what the fixtures wrote."""
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", backend)
    rebuild_index()


def _titles(app, monkeypatch, backend: str, text: str) -> set[str]:
    use(app, monkeypatch, backend)
    page = search_activities(SearchQuery(text=text, sort="relevance", per_page=100))
    assert page.degraded is False
    return {a.title for a in page.items}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_word_with_or_without_its_norwegian_letters_finds_the_same(
    swimming_and_singing, app, monkeypatch, backend
):
    swimming = {
        "Svømmekurs for nybegynnere",
        "Svommekurs på Konnerud",
        "Svømming for viderekomne",  # «svømming» and «kurs» written apart
    }
    assert _titles(app, monkeypatch, backend, "svømmekurs") == swimming
    assert _titles(app, monkeypatch, backend, "svommekurs") == swimming


@pytest.mark.parametrize("backend", BACKENDS)
def test_kor_finds_the_choir_not_the_red_cross_or_the_band(
    swimming_and_singing, app, monkeypatch, backend
):
    assert _titles(app, monkeypatch, backend, "kor") == {"Barnekoret i Bragernes"}
    assert _titles(app, monkeypatch, backend, "kors") == {"Leksehjelp"}
    assert _titles(app, monkeypatch, backend, "korps") == {"Skolekorpset øver"}


@pytest.mark.parametrize("backend", SUGGESTING)
def test_a_misspelt_word_gets_the_same_suggestion(swimming_and_singing, app, monkeypatch, backend):
    use(app, monkeypatch, backend)
    for typed, meant in [
        ("fotbal", "fotball"),
        ("nybegynere", "nybegynnere"),
        ("barnekorret", "barnekoret"),
    ]:
        page = search_activities(SearchQuery(text=typed, sort="relevance"))
        assert page.suggestion == meant, typed
    assert search_activities(SearchQuery(text="fotball", sort="relevance")).suggestion is None


# --- many searches, every backend the same -------------------------------------------------

WORDS = "fotball svømming kor sjakk dans klatring gitar teater".split()
COMPOUND_TAILS = ["trening", "kurs", "gruppe"]
TAILS = [*COMPOUND_TAILS, "for jenter", "på biblioteket", "i hallen"]


@pytest.fixture
def directory(make_activity, make_category, make_organisation):
    """Forty offers drawn with a fixed seed: texts, ages, prices, flags, days and times. Every
    word is spelt right: the database fallback forgives no typos, the others only when nothing
    else matches."""
    rng = random.Random(20261205)
    categories = [make_category(slug=s, name_nb=s.title()) for s in ("idrett", "musikk", "kultur")]
    clubs = [make_organisation(slug=f"klubb-{n}", name=f"Klubb {n}") for n in range(3)]
    for n in range(40):
        word = rng.choice(WORDS)
        title = f"{word.capitalize()}{rng.choice(COMPOUND_TAILS)}" if rng.random() < 0.4 else word
        title = f"{title} {rng.choice(TAILS)}".capitalize()
        weekday, hour = rng.randint(1, 7), rng.choice([10, 14, 16, 18, 19])
        one_off = rng.random() < 0.2
        low = rng.randint(3, 14)
        make_activity(
            title=title,
            description=f"{rng.choice(WORDS)} og {rng.choice(WORDS)} for alle. Nr. {n}.",
            organisation=rng.choice(clubs),
            category=rng.choice([*categories, None]),
            age_min=low,
            age_max=low + rng.randint(0, 6),
            price_nok=rng.choice([0, 0, 150, 400]),
            accessible=rng.random() < 0.4,
            fritidskort=rng.random() < 0.3,
            status="cancelled" if rng.random() < 0.1 else "published",
            schedule=(
                {"dtstart": local_days_ahead(rng.randint(1, 30), hour), "rrule": ""}
                if one_off
                else {"dtstart": next_iso_weekday_at(weekday, hour), "rrule": "FREQ=WEEKLY"}
            ),
        )


QUERIES = [
    {},
    {"text": "fotball"},
    {"text": "trening"},
    {"text": "kurs", "free": True},
    {"text": "svøm*"},
    {"text": "sjakk gruppe"},
    {"text": "klatring", "age": 10},
    {"categories": ("idrett", "musikk")},
    {"weekdays": (2, 4), "times": ("after_school",)},
    {"times": ("weekend",), "accessible": True},
    {"grade": 3, "fritidskort": True},
    {"organisation": "klubb-1", "sort": "newest"},
    {"text": "teater", "categories": ("kultur",), "weekdays": (1, 2, 3)},
]


@pytest.mark.parametrize("query", QUERIES, ids=[str(q) for q in QUERIES])
def test_every_backend_finds_the_same_offers_and_counts(directory, app, monkeypatch, query):
    answers = {}
    for backend in BACKENDS:
        use(app, monkeypatch, backend)
        sort = query.get("sort") or ("relevance" if query.get("text") else "soonest")
        page = search_activities(SearchQuery(**{**query, "sort": sort, "per_page": 100}))
        assert page.degraded is False
        cancelled = [a.status == "cancelled" for a in page.items]
        assert cancelled == sorted(cancelled), backend  # cancelled ones last everywhere
        answers[backend] = (page.total, {a.id for a in page.items}, page.facets)
        if sort == "soonest":
            answers[backend] += ([a.id for a in page.items],)  # one order, ties by title
    first = answers[BACKENDS[0]]
    assert first[0] > 0 or query.get("organisation")  # the draw gives every search something
    for backend in BACKENDS[1:]:
        assert answers[backend] == first, backend
