"""Parsing the search filters from a query string: one meaning everywhere, clear errors."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from directory.search.query import QueryError, SearchQuery, parse_search_args, query_to_args


def parse(app, **kwargs):
    args = MultiDict()
    for key, value in kwargs.items():
        for item in value if isinstance(value, list) else [value]:
            args.add(key.rstrip("_"), item)
    with app.test_request_context():
        return parse_search_args(args)


def test_empty_query_means_no_filters_sorted_by_soonest(app):
    query = parse(app)
    assert query == SearchQuery(sort="soonest")
    assert not query.has_filters


def test_text_defaults_to_relevance(app):
    assert parse(app, q="  fotball ").sort == "relevance"
    assert parse(app, q="fotball").text == "fotball"


def test_every_filter(app):
    query = parse(
        app, q="kor", age="9", grade="4", category=["musikk", "dans,idrett"],
        weekday=["tir", "4", "TUE"], time=["weekend", "after_school"], free="1",
        accessible="ja", school="fjell-skole", organisation="fjell-ballklubb",
        municipality="drammen", from_="2026-11-23", to="2026-12-01", sort="newest",
        page="3", per_page="50",
    )  # fmt: skip
    assert query.age == 9 and query.grade == 4
    assert query.categories == ("musikk", "dans", "idrett")
    assert query.weekdays == (2, 4)
    assert query.times == ("after_school", "weekend")
    assert query.free and query.accessible
    assert (query.school, query.organisation, query.municipality) == (
        "fjell-skole", "fjell-ballklubb", "drammen",
    )  # fmt: skip
    assert (query.date_from, query.date_to) == (date(2026, 11, 23), date(2026, 12, 1))
    assert (query.sort, query.page, query.per_page) == ("newest", 3, 50)


def test_round_trip_through_link_arguments(app):
    query = parse(app, q="kor", age="9", category=["musikk"], weekday=["2"], free="1", page="2")
    args = MultiDict()
    for key, value in query_to_args(query).items():
        for item in value if isinstance(value, list) else [value]:
            args.add(key, str(item))
    with app.test_request_context():
        assert parse_search_args(args) == query


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("age", "ni"), ("age", "-1"), ("age", "26"), ("age", "9.5"), ("age", "٩"),
        ("grade", "0"), ("grade", "14"), ("weekday", "8"), ("weekday", "someday"),
        ("time", "night"), ("free", "kanskje"), ("from", "23.11.2026"), ("from", "2026-02-30"),
        ("to", "2026-1-1"), ("sort", "random"), ("page", "0"), ("page", "abc"),
        ("page", str(10**30)), ("per_page", "101"), ("school", "../etc"),
        ("municipality", "x" * 101), ("q", "x" * 201), ("q", "a\x00b"), ("category", "<b>"),
    ],
)  # fmt: skip
def test_bad_values_name_the_parameter(app, param, value):
    with pytest.raises(QueryError) as raised:
        parse(app, **{param + ("_" if param == "from" else ""): value})
    assert raised.value.param == param
    assert raised.value.message


def test_to_before_from_is_refused(app):
    with pytest.raises(QueryError) as raised:
        parse(app, from_="2026-12-01", to="2026-11-01")
    assert raised.value.param == "to"


def test_a_single_value_parameter_given_twice_is_refused(app):
    with pytest.raises(QueryError):
        parse(app, age=["8", "9"])


def test_messages_are_in_norwegian(app):
    with pytest.raises(QueryError) as raised:
        parse(app, age="ni")
    assert raised.value.message == "Alderen må være et helt tall fra 0 til 25."
