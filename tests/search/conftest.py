"""Helpers for the search tests: activities with chosen texts and times, and one search call."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from directory.search.query import SearchQuery
from directory.search.service import search_activities
from directory.timeutil import OSLO, oslo_now


def local_days_ahead(days: int, hour: int, minute: int = 0) -> datetime:
    """A naive Oslo wall time `days` from today at the given hour (a schedule's dtstart)."""
    day = oslo_now().replace(tzinfo=None) + timedelta(days=days)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def next_iso_weekday_at(iso_weekday: int, hour: int, minute: int = 0) -> datetime:
    """The next given ISO weekday (1 = Monday), at least a day ahead, as a naive Oslo time."""
    today = oslo_now().replace(tzinfo=None)
    days = (iso_weekday - today.isoweekday()) % 7 or 7
    return local_days_ahead(days, hour, minute)


def aware(naive_local: datetime) -> datetime:
    """A naive Oslo wall time as an aware datetime."""
    return naive_local.replace(tzinfo=OSLO)


@pytest.fixture
def search(app):
    """search(text="", **filters) -> ResultPage through the service (the configured backend)."""

    def run(text: str = "", *, now: datetime | None = None, **filters):
        if "sort" not in filters:
            filters["sort"] = "relevance" if text else "soonest"
        return search_activities(SearchQuery(text=text, **filters), now=now)

    return run


@pytest.fixture
def titles(search):
    """titles(text, **filters) -> the titles of the first page, in order."""

    def run(text: str = "", **filters) -> list[str]:
        return [a.title for a in search(text, **filters).items]

    return run


ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.fixture(params=["whoosh", "postgres", "database"])
def backend_kind(request, app, monkeypatch):
    """Run a test against each backend: the Whoosh index, PostgreSQL's full-text search (on
    PostgreSQL only), and the database fallback."""
    if request.param == "postgres" and not ON_POSTGRESQL:
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", request.param)
    return request.param
