"""bench/scale_bench.py at a tiny size: it loads, builds, measures and prints its comparison.

The numbers themselves are not checked (a benchmark prints them, it never asserts them); what is
checked is that a run gives every row for every backend, that the backends found the same
activities, and that no request failed. SQLite with Whoosh and the database backend here; the
PostgreSQL run needs a PostgreSQL server (DATABASE_URL), in a database of its own.
"""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy.engine import make_url

from bench import scale_bench

NUMBERS = re.compile(r"^\s*\d+\.\d / +\d+\.\d")


def bench(url: str, backends: str, *extra: str) -> tuple[list[str], list[scale_bench.Measured]]:
    """Run the bench on `url` at 300 activities; the printed lines and the measurements."""
    args = scale_bench.parser().parse_args(
        ["--activities", "300", "--organisations", "40", "--queries", "3",
         "--http-requests", "2", "--database-runs", "2", "--backends", backends,
         "--database-url", url, *extra]
    )  # fmt: skip
    lines: list[str] = []
    return lines, scale_bench.run(args, out=lines.append)


def cells(lines: list[str], label: str) -> list[str]:
    """The cells of the table row starting with `label`, one per backend."""
    (line,) = [
        line
        for line in lines
        if "|" in line and line.split("|")[0].strip() in (label, f"{label} [p95 <= 50]")
    ]
    return [cell.strip() for cell in line.split("|")[1:]]


def test_whoosh_and_database_side_by_side_on_sqlite(tmp_path):
    lines, results = bench(
        f"sqlite:///{tmp_path / 'scale.sqlite3'}", "whoosh,postgres,database",
        "--http-backends", "whoosh",
    )  # fmt: skip

    assert [r.kind for r in results] == ["whoosh", "postgres", "database"]
    assert not any(r.error for r in results)
    assert cells(lines, "search data: rebuild_index()")[1] == "needs PostgreSQL"
    whoosh, database = results[0], results[2]
    assert whoosh.indexed and whoosh.indexed == scale_bench_public(lines)
    for _key, label, _target in scale_bench.KINDS:
        row = cells(lines, label)
        assert NUMBERS.match(row[0]) and NUMBERS.match(row[2]), row
        assert row[1] == "needs PostgreSQL"
    # Both backends found the same activities for the first query of each kind.
    assert whoosh.totals == database.totals
    assert whoosh.totals["home"] > 0 and whoosh.totals["plain"] > 0
    for path in scale_bench.HTTP_URLS:  # over HTTP through Whoosh only: a gunicorn costs seconds
        row = cells(lines, path)
        assert NUMBERS.match(row[0]) and "failed" not in row[0], row
        assert row[1:] == ["needs PostgreSQL", "-"]
    assert any(line.startswith("Targets (issue 15)") for line in lines)


def scale_bench_public(lines: list[str]) -> int:
    """The number of public activities the heading reports."""
    match = re.search(r"\(([\d,]+) public", lines[1])
    assert match, lines[1]
    return int(match.group(1).replace(",", ""))


def test_postgres_backend_beside_whoosh():
    url = os.environ.get("DATABASE_URL", "")
    if not scale_bench.is_postgres(url):
        pytest.skip("needs PostgreSQL")
    # A database of its own next to the test database: the bench drops and recreates it.
    own = make_url(url).set(database=f"{make_url(url).database}_scale_bench")
    own_url = own.render_as_string(hide_password=False)
    try:
        lines, results = bench(own_url, "whoosh,postgres", "--no-http")
    finally:
        scale_bench.drop_database(own_url)

    whoosh, postgres = results
    assert not whoosh.error and not postgres.error, (whoosh.error, postgres.error)
    assert postgres.unavailable is None
    assert postgres.indexed == whoosh.indexed
    assert re.fullmatch(
        r"[\d.]+ MB, of which indexes [\d.]+ MB", cells(lines, "search data size")[1]
    )
    assert any(line.strip().startswith("PostgreSQL search tables: search_") for line in lines)
    for _key, label, _target in scale_bench.KINDS:
        assert all(NUMBERS.match(cell) for cell in cells(lines, label)), label
