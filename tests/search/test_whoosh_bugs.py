"""Regression tests for the two known bugs of whoosh-reloaded 2.7.5 (the pinned version).

Each bug gets two tests: one showing the library's behaviour (if one starts failing after an
upgrade, the bug is fixed upstream; keep the safe pattern anyway), and one showing that our
backend avoids it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from whoosh import fields, index
from whoosh import query as wq
from whoosh.searching import Searcher

from directory.search.base import ActivityDocument
from directory.search.query import SearchQuery
from directory.search.whoosh_backend import WhooshBackend
from directory.timeutil import utcnow


def small_index(path, docs: int = 50):
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True), body=fields.TEXT, category=fields.KEYWORD
    )
    ix = index.create_in(str(path), schema)
    with ix.writer() as writer:
        for n in range(docs):
            writer.add_document(
                id=str(n),
                body="fotball trening" if n % 2 else "sjakk",
                category="sport" if n % 3 else "musikk",
            )
    return ix


def document(n: int, **overrides) -> ActivityDocument:
    now = utcnow()
    values = dict(
        id=n, stamp=f"1.1.{n}", title=f"Fotball {n}" if n % 2 else f"Sjakk {n}", summary="",
        description="", tags="", organisation_name="Klubben", organisation_slug="klubben",
        organisation_kind="volunteer", verified=True, municipality="drammen",
        category="sport" if n % 3 else "musikk", age_min=6, age_max=12, weekdays=(2,),
        times=("after_school",), free=True, accessible=False, status="published",
        dates=(), next_start=now + timedelta(days=1), last_end=now + timedelta(days=90),
        published_at=now, upcoming=((now + timedelta(days=1), now + timedelta(days=1, hours=1)),),
    )  # fmt: skip
    values.update(overrides)
    return ActivityDocument(**values)


# --- Require(query, filter) ----------------------------------------------------------------


def test_library_require_with_a_filter_fails_with_the_default_optimisation(tmp_path):
    ix = small_index(tmp_path)
    with ix.searcher() as searcher:
        required = wq.Require(wq.Term("body", "fotball"), wq.Term("category", "sport"))
        with pytest.raises(AssertionError):
            searcher.search(required, limit=10)
        # The same question as a filter answers correctly (odd n, n not divisible by 3).
        expected = {str(n) for n in range(50) if n % 2 and n % 3}
        results = searcher.search(
            wq.Term("body", "fotball"), filter=wq.Term("category", "sport"), limit=None
        )
        assert {hit["id"] for hit in results} == expected
        assert len(searcher.search(required, limit=None, optimize=False)) == len(expected)


def test_our_backend_filters_without_require(tmp_path, monkeypatch):
    backend = WhooshBackend(tmp_path)
    backend.rebuild(document(n) for n in range(50))

    def forbidden(*args, **kwargs):
        raise AssertionError("Require() must not be used: see the whoosh-reloaded bug")

    monkeypatch.setattr(wq.Require, "__init__", forbidden)
    result = backend.query(
        SearchQuery(text="fotball", categories=("sport",), age=8, per_page=100), now=utcnow()
    )
    assert sorted(result.ids) == [n for n in range(50) if n % 2 and n % 3]
    assert result.total == len(result.ids)


# --- Searcher.refresh() after a merge ------------------------------------------------------


def test_library_refresh_after_a_merge_returns_duplicates(tmp_path):
    ix = small_index(tmp_path, docs=10)
    with ix.writer() as writer:
        for n in range(10, 20):
            writer.add_document(id=str(n), body="fotball", category="sport")
    searcher = ix.searcher()
    assert len(searcher.reader().segments()) == 2
    writer = ix.writer()
    writer.add_document(id="20", body="fotball", category="sport")
    writer.commit(optimize=True)  # merges the segments into one

    refreshed = searcher.refresh()
    seen = [hit["id"] for hit in refreshed.search(wq.Every(), limit=None)]
    assert len(set(seen)) == 21
    assert len(seen) > 21  # the merged-away segments are still read: duplicates
    refreshed.close()

    fresh = ix.searcher()
    assert len([hit["id"] for hit in fresh.search(wq.Every(), limit=None)]) == 21
    fresh.close()


def test_our_backend_reopens_instead_of_refreshing(tmp_path, monkeypatch):
    backend = WhooshBackend(tmp_path)
    backend.rebuild(document(n) for n in range(10))
    backend.index(document(n) for n in range(10, 20))
    everything = SearchQuery(per_page=100)
    assert backend.query(everything, now=utcnow()).total == 20  # a searcher is now open
    # A plain library searcher beside it, refreshed the buggy way, shows the writes below merge.
    library_refresh = Searcher.refresh
    witness = index.open_dir(str(tmp_path), indexname=backend.current_name()).searcher()

    def forbidden(self):
        raise AssertionError("Searcher.refresh() must not be used: see the whoosh-reloaded bug")

    monkeypatch.setattr(Searcher, "refresh", forbidden)
    for batch in range(6):
        # Replacing documents and adding new ones, commit after commit, merges segments.
        backend.index(document(n, stamp=f"2.{batch}.{n}") for n in range(5 * batch, 5 * batch + 15))
        expected = max(20, 5 * batch + 15)
        result = backend.query(everything, now=utcnow())
        assert result.total == expected
        assert len(result.ids) == len(set(result.ids)) == expected
        assert len(backend.stamps()) == expected
        witness = library_refresh(witness)
    assert len(list(witness.search(wq.Every(), limit=None))) > expected
    witness.close()
