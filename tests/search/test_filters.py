"""Every filter, the facet counts, each sort and pagination, on the index and on the database.

The same tests run against both backends (the `backend_kind` fixture), so the database fallback
answers exactly like the index for everything but typo tolerance.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from directory.search.service import UnknownFilterValue, rebuild_index
from directory.timeutil import oslo_now, utcnow
from tests.search.conftest import aware, local_days_ahead, next_iso_weekday_at

WEEKLY = "FREQ=WEEKLY"


@pytest.fixture
def sport(make_category):
    return make_category(slug="sport", name_nb="Sport")


@pytest.fixture
def musikk(make_category):
    return make_category(slug="musikk", name_nb="Musikk")


def weekly(iso_weekday: int, hour: int, minute: int = 0, **extra) -> dict:
    return {"dtstart": next_iso_weekday_at(iso_weekday, hour, minute), "rrule": WEEKLY, **extra}


def once(days: int, hour: int = 17) -> dict:
    return {"dtstart": local_days_ahead(days, hour), "rrule": "", "duration_minutes": 60}


@pytest.fixture
def week(make_activity, sport, musikk, make_organisation):
    """Four weekly offers at different times, ages, prices and categories."""
    korpset = make_organisation(slug="korpset", name="Skolekorpset")
    make_activity(
        title="Tirsdagsfotball",
        age_min=8,
        age_max=12,
        price_nok=0,
        category=sport,
        schedule=weekly(2, 17),
    )
    make_activity(
        title="Kveldskor",
        age_min=10,
        age_max=15,
        price_nok=200,
        category=musikk,
        accessible=True,
        organisation=korpset,
        schedule=weekly(3, 18, 30),
    )
    make_activity(title="Lørdagssjakk", age_min=6, age_max=9, price_nok=0, schedule=weekly(6, 11))
    make_activity(title="Morgensvømming", age_min=3, age_max=6, price_nok=100, category=sport,
                  schedule=weekly(1, 10))  # fmt: skip


def test_no_filters_lists_everything_soonest_first(backend_kind, week, search):
    page = search()
    assert page.total == 4
    starts = [page.next_starts[a.id] for a in page.items]
    assert starts == sorted(starts)
    assert page.degraded is False


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (2, []),
        (3, ["Morgensvømming"]),
        (6, ["Lørdagssjakk", "Morgensvømming"]),
        (7, ["Lørdagssjakk"]),
        (8, ["Lørdagssjakk", "Tirsdagsfotball"]),
        (12, ["Kveldskor", "Tirsdagsfotball"]),
        (15, ["Kveldskor"]),
        (16, []),
    ],
)
def test_age_lies_within_the_range_edges_included(backend_kind, week, titles, age, expected):
    assert sorted(titles(age=age)) == expected


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        (1, ["Lørdagssjakk", "Morgensvømming"]),  # ages 6-7
        (2, ["Lørdagssjakk", "Tirsdagsfotball"]),  # ages 7-8
        (4, ["Kveldskor", "Lørdagssjakk", "Tirsdagsfotball"]),  # ages 9-10
        (7, ["Kveldskor", "Tirsdagsfotball"]),  # ages 12-13
        (10, ["Kveldskor"]),  # ages 15-16
        (11, []),  # ages 16-17
    ],
)
def test_grade_overlaps_its_two_ages(backend_kind, week, titles, grade, expected):
    assert sorted(titles(grade=grade)) == expected


def test_category_free_accessible_organisation(backend_kind, week, titles):
    assert sorted(titles(categories=("sport",))) == ["Morgensvømming", "Tirsdagsfotball"]
    assert sorted(titles(categories=("sport", "musikk"))) == [
        "Kveldskor",
        "Morgensvømming",
        "Tirsdagsfotball",
    ]
    assert titles(categories=("ukjent",)) == []
    assert sorted(titles(free=True)) == ["Lørdagssjakk", "Tirsdagsfotball"]
    assert titles(accessible=True) == ["Kveldskor"]
    assert titles(organisation="korpset") == ["Kveldskor"]
    assert titles(free=True, categories=("sport",)) == ["Tirsdagsfotball"]


def test_weekdays_any_of_the_chosen(backend_kind, week, titles):
    assert titles(weekdays=(2,)) == ["Tirsdagsfotball"]
    assert sorted(titles(weekdays=(1, 6))) == ["Lørdagssjakk", "Morgensvømming"]
    assert titles(weekdays=(7,)) == []


def test_time_of_day(backend_kind, week, titles):
    assert titles(times=("after_school",)) == ["Tirsdagsfotball"]
    assert titles(times=("evening",)) == ["Kveldskor"]
    assert titles(times=("weekend",)) == ["Lørdagssjakk"]
    assert sorted(titles(times=("after_school", "weekend"))) == ["Lørdagssjakk", "Tirsdagsfotball"]


@pytest.mark.parametrize(
    ("iso_weekday", "hour", "minute", "label"),
    [
        (1, 12, 59, None),
        (1, 13, 0, "after_school"),
        (5, 17, 59, "after_school"),
        (4, 18, 0, "evening"),
        (5, 23, 0, "evening"),
        (6, 9, 0, "weekend"),
        (7, 19, 0, "weekend"),
    ],
)
def test_time_of_day_edges(backend_kind, make_activity, titles, iso_weekday, hour, minute, label):
    make_activity(title="Aktiviteten", schedule=weekly(iso_weekday, hour, minute))
    for name in ("after_school", "evening", "weekend"):
        assert titles(times=(name,)) == (["Aktiviteten"] if name == label else [])


def test_school_means_its_grades_and_its_municipality(
    backend_kind, make_activity, make_school, make_municipality, make_organisation, titles
):
    school = make_school(slug="bragernes", grade_min=1, grade_max=4)  # ages 6-10
    lier = make_organisation(municipality=make_municipality(slug="lier", name="Lier"))
    make_activity(title="For store", age_min=11, age_max=14)
    make_activity(title="Passer øverst", age_min=10, age_max=12)
    make_activity(title="For små", age_min=3, age_max=5)
    make_activity(title="Passer nederst", age_min=2, age_max=6)
    make_activity(title="Annen kommune", age_min=8, age_max=8, organisation=lier)
    assert sorted(titles(school="bragernes")) == ["Passer nederst", "Passer øverst"]
    assert sorted(titles(municipality="lier")) == ["Annen kommune"]
    assert titles(school="bragernes", municipality="lier") == []
    assert school.municipality.slug == "drammen"


def test_unknown_school_organisation_or_municipality_is_an_error(backend_kind, search):
    for param in ("school", "organisation", "municipality"):
        with pytest.raises(UnknownFilterValue) as caught:
            search(**{param: "finnes-ikke"})
        assert caught.value.param == param
        assert "finnes-ikke" in str(caught.value)


def test_date_range_edges_are_inclusive(backend_kind, make_activity, titles):
    make_activity(title="Om ti dager", schedule=once(10))
    make_activity(title="Om tjue dager", schedule=once(20))
    day10 = local_days_ahead(10, 0).date()
    day20 = local_days_ahead(20, 0).date()
    one = timedelta(days=1)
    assert titles(date_from=day10, date_to=day10) == ["Om ti dager"]
    assert titles(date_from=day10 + one, date_to=day20 - one) == []
    assert titles(date_from=day10 + one) == ["Om tjue dager"]
    assert titles(date_to=day20 - one) == ["Om ti dager"]
    assert titles(date_from=day10, date_to=day20) == ["Om ti dager", "Om tjue dager"]
    assert titles(date_from=day20 + one) == []


def test_ended_and_not_public_activities_are_left_out(
    backend_kind, make_activity, make_organisation, titles
):
    make_activity(title="Over", schedule=once(-3))
    make_activity(title="Utkast", status="draft")
    make_activity(title="Arkivert", status="archived")
    make_activity(title="Avlyst", status="cancelled")
    make_activity(title="Avvist", organisation=make_organisation(verification="rejected"))
    make_activity(title="Venter", organisation=make_organisation(verification="pending"))
    assert sorted(titles()) == ["Avlyst", "Venter"]


def test_an_occurrence_in_progress_still_counts(backend_kind, make_activity, search):
    started = oslo_now().replace(tzinfo=None, second=0, microsecond=0) - timedelta(minutes=30)
    make_activity(title="Pågår", schedule={"dtstart": started, "rrule": "", "duration_minutes": 90})
    page = search()
    assert [a.title for a in page.items] == ["Pågår"]
    assert page.next_starts[page.items[0].id] < utcnow()


def test_facet_counts_are_within_the_current_result(backend_kind, week, search):
    everything = search().facets
    assert everything["category"] == {"sport": 2, "musikk": 1}
    assert everything["weekday"] == {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0, "6": 1, "7": 0}
    assert everything["time"] == {"after_school": 1, "evening": 1, "weekend": 1}
    assert everything["free"] == {"1": 2}
    assert everything["accessible"] == {"1": 1}

    free = search(free=True).facets
    assert free["category"] == {"sport": 1}
    assert free["weekday"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0, "6": 1, "7": 0}
    assert free["time"] == {"after_school": 1, "evening": 0, "weekend": 1}
    assert free["free"] == {"1": 2}
    assert free["accessible"] == {"1": 0}


def test_multi_select_facets_leave_their_own_choice_out(backend_kind, week, search):
    page = search(categories=("sport",), weekdays=(2, 3))
    assert [a.title for a in page.items] == ["Tirsdagsfotball"]
    facets = page.facets
    # Category counts ignore the category choice: ticking Musikk too would bring Kveldskor.
    assert facets["category"] == {"sport": 1, "musikk": 1}
    # Weekday counts ignore the weekday choice: Monday would bring Morgensvømming.
    assert facets["weekday"] == {"1": 1, "2": 1, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0}
    # Groups without a choice, and the single checkboxes, count within the result.
    assert facets["time"] == {"after_school": 1, "evening": 0, "weekend": 0}
    assert facets["free"] == {"1": 1}
    assert facets["accessible"] == {"1": 0}


def test_sort_soonest_then_title(backend_kind, make_activity, titles):
    make_activity(title="B senere", schedule=once(5))
    make_activity(title="Å samme dag", schedule=once(2))
    make_activity(title="A samme dag", schedule=once(2))
    make_activity(title="Ø samme dag", schedule=once(2))
    # Same start: by title in Norwegian order (æ, ø, å after z).
    assert titles() == ["A samme dag", "Ø samme dag", "Å samme dag", "B senere"]


def test_sort_newest_published_first(backend_kind, make_activity, titles):
    now = utcnow()
    make_activity(title="Eldst", published_at=now - timedelta(days=3))
    make_activity(title="Nyest", published_at=now - timedelta(hours=1))
    make_activity(title="Midt", published_at=now - timedelta(days=1))
    assert titles(sort="newest") == ["Nyest", "Midt", "Eldst"]


def test_sort_relevance_with_text(backend_kind, make_activity, titles):
    make_activity(title="Tegnekurs", description="Vi tegner og maler.", schedule=once(2))
    make_activity(title="Keramikk", description="Forming og tegning i leire.", schedule=once(1))
    assert titles("tegning", sort="relevance") == ["Tegnekurs", "Keramikk"]
    assert titles("tegning", sort="soonest") == ["Keramikk", "Tegnekurs"]


def test_pagination(backend_kind, make_activity, search):
    for n in range(5):
        make_activity(title=f"Aktivitet {n}", schedule=once(n + 1))
    pages = [search(per_page=2, page=p) for p in (1, 2, 3, 4)]
    assert [[a.title for a in p.items] for p in pages] == [
        ["Aktivitet 0", "Aktivitet 1"],
        ["Aktivitet 2", "Aktivitet 3"],
        ["Aktivitet 4"],
        [],
    ]
    assert {p.total for p in pages} == {5}
    assert pages[0].pages == 3 and pages[0].page == 1 and pages[0].per_page == 2


def test_next_start_shown_comes_from_the_schedule(backend_kind, make_activity, search):
    activity = make_activity(title="Ukentlig", schedule=weekly(2, 17))
    page = search()
    expected = aware(next_iso_weekday_at(2, 17))
    assert page.next_starts[activity.id] == expected


def test_every_page_of_a_large_result_follows_the_soonest_order(
    backend_kind, quiet_search, make_activity, make_organisation, search
):
    # Enough offers, indexed at once as `flask reindex` does, that the Whoosh index reads the
    # first pages off its documents sorted once by the soonest start instead of sorting the
    # result (the last page is sorted out of the result); one of them cancelled, which comes
    # last.
    club = make_organisation()
    for n in range(36):
        make_activity(
            title=f"Kurs {n:02d}",
            organisation=club,
            schedule=once(1 + (n * 7) % 36, hour=9 + n % 9),
            status="cancelled" if n == 5 else "published",
        )
    rebuild_index()
    pages = [search(per_page=10, page=p) for p in (1, 2, 3, 4)]
    listed = [a for page in pages for a in page.items]
    assert pages[0].total == 36
    assert len(listed) == 36 and len({a.id for a in listed}) == 36
    assert listed[-1].title == "Kurs 05"  # the cancelled one
    starts = [page.next_starts[a.id] for page in pages for a in page.items][:-1]
    assert starts == sorted(starts)
