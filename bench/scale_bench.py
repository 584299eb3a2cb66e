"""Scale benchmark: 100,000 activities on PostgreSQL, searched through each backend side by side.

    .venv/bin/python bench/scale_bench.py [--activities 100000] [--backends whoosh,postgres]
        [--queries 200] [--http-requests 200] [--http-backends ...] [--no-http]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_scale] [--keep]
        [--schema create-all|migrate] [--database-runs 5] [--organisations 2000] [--seed 7]

1. Load. Drops and recreates the database (unless --keep finds it loaded), creates the
   extensions unaccent and pg_trgm, the schema (db.create_all() from the models; the
   migrations, as `flask db upgrade`, with --schema migrate), and inserts municipalities,
   organisations, categories, schools and N activities with weekly, twice-weekly and one-off
   schedules (Norwegian-like text from bench/search_bench.py) by SQLAlchemy Core executemany,
   SEARCH_SYNC off; then VACUUM ANALYZE, as autovacuum would do soon after.
2. Search data. For each backend, `rebuild_index()` as `flask reindex` runs it, timed: Whoosh
   into a temporary SEARCH_INDEX_DIR, PostgreSQL into its tables (SEARCH_BACKEND = "postgres");
   the size of each (on disk; pg_total_relation_size of the search tables and pg_indexes_size
   of their indexes). The "database" backend (SQL and Python, no index) has nothing to build.
3. In process: median and p95 over --queries runs of each kind (after a warm-up, the kinds
   interleaved) through directory.search.service.search_activities(SearchQuery(...)) in an app
   context, the page of activities loaded and the facets counted as the views have them: plain
   text (rotating words), filtered (text + category + age), filter only (weekday + free),
   prefix ("fotb*", ...) and the home listing (no text, soonest, first page of 20).
4. HTTP: gunicorn with two sync workers per backend on 127.0.0.1 (rate limits off), a warm-up,
   then --http-requests sequential GETs of each URL (a new connection each): median, p95, req/s.

Prints one table with the backends side by side and the issue's targets (filtered search and
home listing p95 <= 50 ms in process at 100k); numbers only, nothing is asserted. The "database"
backend expands every schedule in Python (seconds per search at 100k), so it gets
--database-runs runs and requests instead. A backend that cannot run (the PostgreSQL backend on
SQLite, or before it exists) is reported as such. Below 10,000 activities the defaults are 20
runs and requests (a quick run: --activities 2000 takes well under a minute); SQLite works too
(--database-url sqlite:////tmp/scale.sqlite3). The database is left in place for inspection.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from search_bench import (  # noqa: E402
    CATEGORIES,
    PLACES,
    PREFIX_QUERIES,
    QUERY_WORDS,
    directory_size,
    offer_row,
    percentile,
)
from slow_clients import stop_process  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_scale"
BACKENDS = ("whoosh", "postgres", "database")
MUNICIPALITIES = (
    ("drammen", "Drammen"), ("lier", "Lier"), ("asker", "Asker"), ("baerum", "Bærum"),
    ("kongsberg", "Kongsberg"), ("holmestrand", "Holmestrand"), ("ovre-eiker", "Øvre Eiker"),
    ("modum", "Modum"), ("hole", "Hole"), ("ringerike", "Ringerike"),
)  # fmt: skip
SCHOOLS = 12
CENTRE = (59.7439, 10.2045)  # Bragernes, Drammen
RADIUS_KM = 20.0
BATCH = 5000  # rows per executemany
WARM_UP = 20  # in-process queries per kind before the clock runs (database backend: 1)
HTTP_WARM_UP = 10  # requests per URL per backend before measuring (database backend: 1)
TARGET_P95_MS = 50.0  # issue 15: filtered search and home listing, in process, at 100k
STARTUP_TIMEOUT = 120.0
REQUEST_TIMEOUT = 600.0
GUNICORN_TIMEOUT = 600  # the database backend's listing takes tens of seconds at 100k

# (key, label, target) of the in-process kinds, in the order printed.
KINDS = (
    ("plain", 'plain text ("fotball", ...)', None),
    ("filtered", "filtered: text + category + age", TARGET_P95_MS),
    ("filter_only", "filter only: weekday + free", None),
    ("prefix", 'prefix ("fotb*", ...)', None),
    ("home", "home listing (soonest, 20, facets)", TARGET_P95_MS),
)
HTTP_URLS = (
    "/",
    "/activities?q=fotball",
    "/activities?q=fotball&category=idrett&age=10",
    "/api/v1/activities?q=fotball",
)


# --- the database --------------------------------------------------------------------------------


def is_postgres(url: str) -> bool:
    """Whether the URL names a PostgreSQL database."""
    return url.startswith(("postgres://", "postgresql://", "postgresql+"))


def _psycopg_url(url: str):
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql+psycopg")


def _maintenance(url: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database (no transaction), {name} filled in
    with the URL's database name."""
    from sqlalchemy import create_engine, text

    target = _psycopg_url(url)
    name = target.database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"database name {name!r}: use letters, digits and _ only")
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement.format(name=name)))
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    """Drop the database the URL names (SQLite: delete the file)."""
    if not is_postgres(url):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        return
    _maintenance(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate_database(url: str) -> None:
    """Drop and create the database the URL names (SQLite: an empty file is made on use)."""
    drop_database(url)
    if is_postgres(url):
        _maintenance(url, 'CREATE DATABASE "{name}"')


def create_extensions(url: str) -> None:
    """CREATE EXTENSION IF NOT EXISTS unaccent and pg_trgm (the PostgreSQL backend needs them)."""
    if not is_postgres(url):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(_psycopg_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for extension in ("unaccent", "pg_trgm"):
                conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
    finally:
        engine.dispose()


def vacuum_analyze(url: str) -> None:
    """VACUUM ANALYZE the whole database, as autovacuum would soon after a bulk load."""
    if not is_postgres(url):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(_psycopg_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def make_app(url: str, backend: str, workdir: Path):
    """An app on the bench database answering through `backend`, with SEARCH_SYNC off."""
    from directory import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-only-secret",
            "SEARCH_BACKEND": backend,
            "SEARCH_INDEX_DIR": str(workdir / "search-index"),
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            "SEARCH_SYNC": False,
            # Limits stay as configured: this app answers no requests, and RATELIMIT_ENABLED
            # would switch off the one limiter every app of the process shares.
        }
    )


def create_schema(schema: str) -> None:
    """The schema, in an app context: the migrations (`flask db upgrade`) or db.create_all()."""
    from directory.extensions import db

    if schema == "migrate":
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
    else:
        db.create_all()


# --- the data ------------------------------------------------------------------------------------


def random_point(rng: random.Random) -> tuple[Decimal, Decimal]:
    """A point uniformly within RADIUS_KM of the centre, with six decimals as stored."""
    distance = RADIUS_KM * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    lat = CENTRE[0] + distance * math.cos(bearing) / 111.2
    lon = CENTRE[1] + distance * math.sin(bearing) / (111.2 * math.cos(math.radians(CENTRE[0])))
    return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")


@dataclass
class Rows:
    """Every row to insert, by table."""

    municipality: list[dict] = field(default_factory=list)
    category: list[dict] = field(default_factory=list)
    school: list[dict] = field(default_factory=list)
    organisation: list[dict] = field(default_factory=list)
    activity: list[dict] = field(default_factory=list)
    schedule: list[dict] = field(default_factory=list)


def generate(count: int, organisations: int, rng: random.Random) -> Rows:
    """Municipalities, categories, schools, organisations and `count` activities with schedules
    starting within the next weeks (some already under way): 70 % weekly, 10 % twice a week,
    20 % one-off; about half with coordinates; a few cancelled, drafts or expired listings."""
    from directory.timeutil import oslo_now, utcnow

    rows = Rows()
    rows.municipality = [
        {"id": n, "slug": slug, "name": name}
        for n, (slug, name) in enumerate(MUNICIPALITIES, start=1)
    ]
    rows.category = [
        {"id": n, "slug": slug, "name_nb": slug.capitalize(), "name_nn": slug, "name_en": slug}
        for n, slug in enumerate(CATEGORIES, start=1)
    ]
    for n in range(1, SCHOOLS + 1):
        lat, lon = random_point(rng)
        lower = n % 3 != 0
        rows.school.append(
            {
                "id": n,
                "municipality_id": 1 + n % len(MUNICIPALITIES),
                "slug": f"skole-{n}",
                "name": f"{PLACES[n % len(PLACES)]} {'barneskole' if lower else 'ungdomsskole'} {n}",
                "grade_min": 1 if lower else 8,
                "grade_max": 7 if lower else 10,
                "latitude": float(lat),
                "longitude": float(lon),
            }
        )
    for n in range(1, organisations + 1):
        verification = rng.choices(("verified", "pending", "rejected"), (90, 8, 2))[0]
        rows.organisation.append(
            {
                "id": n,
                "municipality_id": rng.randint(1, len(MUNICIPALITIES)),
                "slug": f"organisasjon-{n}",
                "name": f"{rng.choice(PLACES)} {rng.choice(('IL', 'musikklag', 'klubb'))} {n}",
                "kind": rng.choice(("volunteer", "volunteer", "municipal", "commercial")),
                "verification": verification,
            }
        )
    now = utcnow()
    local_now = oslo_now().replace(tzinfo=None, minute=0, second=0, microsecond=0)
    today = local_now.date()
    for n in range(1, count + 1):
        offer = offer_row(rng, n, organisations)
        lat, lon = random_point(rng) if rng.random() < 0.5 else (None, None)
        confirmed: date | None = None
        if rng.random() < 0.3:  # a dated listing; one in ten of them expired
            confirmed = today + timedelta(days=rng.randint(-60, -1) if rng.random() < 0.1 else
                                          rng.randint(14, 200))  # fmt: skip
        rows.activity.append(
            {
                **offer,
                "latitude": lat,
                "longitude": lon,
                "accessible": rng.random() < 0.2,
                "fritidskort": rng.random() < 0.3,
                "trial_session": rng.random() < 0.25,
                "equipment_provided": rng.random() < 0.3,
                "status": rng.choices(("published", "cancelled", "draft"), (93, 3, 4))[0],
                "published_at": now - timedelta(days=rng.randint(0, 200)),
                "confirmed_until": confirmed,
            }
        )
        start = local_now.replace(hour=rng.choice((10, 13, 15, 16, 17, 18, 19))) + timedelta(
            days=rng.randint(-20, 35)
        )
        kind = rng.random()
        if kind < 0.7:
            rule = f"FREQ=WEEKLY;COUNT={rng.randint(8, 30)}"
        elif kind < 0.8:
            rule = "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=24"
        else:
            rule = ""
            start = start + timedelta(days=25)  # a one-off is still ahead
        rows.schedule.append(
            {
                "activity_id": n,
                "dtstart": start,
                "duration_minutes": rng.choice((45, 60, 90, 120)),
                "rrule": rule,
            }
        )
    return rows


def insert_rows(rows: Rows) -> int:
    """Insert every row by Core executemany, BATCH rows a statement, in one transaction;
    returns how many rows. On PostgreSQL the id sequences are moved past the explicit ids."""
    from sqlalchemy import text

    from directory.activities.models import Activity, Category, Schedule
    from directory.extensions import db
    from directory.organisations.models import Organisation
    from directory.schools.models import Municipality, School

    tables = (
        (Municipality.__table__, rows.municipality),
        (Category.__table__, rows.category),
        (School.__table__, rows.school),
        (Organisation.__table__, rows.organisation),
        (Activity.__table__, rows.activity),
        (Schedule.__table__, rows.schedule),
    )
    total = 0
    with db.engine.begin() as conn:
        for table, data in tables:
            for start in range(0, len(data), BATCH):
                conn.execute(table.insert(), data[start : start + BATCH])
            total += len(data)
        if conn.dialect.name == "postgresql":
            for table, _data in tables[:-1]:  # the schedules took their ids from the sequence
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
    return total


# --- the backends --------------------------------------------------------------------------------


def backend_unavailable(kind: str, url: str) -> str | None:
    """Why a backend cannot run here, or None."""
    if kind != "postgres":
        return None
    if not is_postgres(url):
        return "needs PostgreSQL"
    try:
        __import__("directory.search.postgres_backend")
    except ImportError:
        return "not available yet"
    return None


def search_tables(url: str) -> list[str]:
    """The PostgreSQL backend's tables (directory.search.models) that exist in the database."""
    from sqlalchemy import create_engine, inspect

    from directory.search.models import SearchDocument, SearchText, SearchWord

    names = [model.__tablename__ for model in (SearchDocument, SearchText, SearchWord)]
    engine = create_engine(_psycopg_url(url))
    try:
        existing = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return [name for name in names if name in existing]


def postgres_sizes(url: str, tables: list[str]) -> dict[str, int]:
    """Bytes of the tables (with TOAST and indexes), of their indexes alone, of the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_psycopg_url(url))
    try:
        with engine.connect() as conn:
            total = indexes = 0
            for name in tables:
                total += conn.scalar(text("SELECT pg_total_relation_size(:t)"), {"t": name})
                indexes += conn.scalar(text("SELECT pg_indexes_size(:t)"), {"t": name})
            database = conn.scalar(text("SELECT pg_database_size(current_database())"))
            version = conn.scalar(text("SHOW server_version"))
    finally:
        engine.dispose()
    return {"total": total, "indexes": indexes, "database": database, "version": version}


@dataclass
class Measured:
    """What one backend measured: build, size, in-process and HTTP timings, totals seen."""

    kind: str
    unavailable: str | None = None
    build_s: float | None = None
    indexed: int | None = None
    size: str = ""
    runs: int = 0
    timings: dict[str, tuple[float, float]] = field(default_factory=dict)  # median, p95 ms
    totals: dict[str, int] = field(default_factory=dict)  # matches of each kind's first query
    http: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)
    http_requests: int = 0
    error: str | None = None
    note: str = ""


def build(kind: str, url: str, workdir: Path, result: Measured) -> None:
    """Build the backend's search data with rebuild_index(), timed, and note its size."""
    from directory.search.service import rebuild_index

    app = make_app(url, kind, workdir)
    with app.app_context():
        started = time.perf_counter()
        result.indexed = rebuild_index()
        result.build_s = time.perf_counter() - started
        from directory.extensions import db

        db.session.remove()
        db.engine.dispose()
    if kind == "whoosh":
        result.size = f"{directory_size(workdir / 'search-index') / 1e6:.1f} MB on disk"
    elif kind == "postgres":
        vacuum_analyze(url)
        tables = search_tables(url)
        sizes = postgres_sizes(url, tables)
        result.size = (
            f"{sizes['total'] / 1e6:.1f} MB, of which indexes {sizes['indexes'] / 1e6:.1f} MB"
        )
        result.note = (
            f"PostgreSQL search tables: {', '.join(tables) or 'none found'} "
            "(pg_total_relation_size: heap, TOAST and indexes; pg_indexes_size: the indexes)"
        )
    else:
        result.size = "none (reads the tables)"


def queries(n: int, seed: int) -> dict[str, list]:
    """n queries of each kind, as the views build them (default orders of parse_search_args)."""
    from directory.search.query import SearchQuery

    rng = random.Random(seed)
    return {
        "plain": [SearchQuery(text=QUERY_WORDS[i % len(QUERY_WORDS)]) for i in range(n)],
        "filtered": [
            SearchQuery(
                text=QUERY_WORDS[i % len(QUERY_WORDS)],
                categories=(rng.choice(CATEGORIES),),
                age=rng.randint(6, 14),
            )
            for i in range(n)
        ],
        "filter_only": [
            SearchQuery(weekdays=(1 + i % 7,), free=True, sort="soonest") for i in range(n)
        ],
        "prefix": [SearchQuery(text=PREFIX_QUERIES[i % len(PREFIX_QUERIES)]) for i in range(n)],
        "home": [SearchQuery(sort="soonest") for _ in range(n)],
    }


def measure_in_process(
    kind: str, url: str, workdir: Path, runs: int, warm_up: int, seed: int, result: Measured
) -> None:
    """Median and p95 (ms) of each kind through search_activities, after a warm-up; each query
    ends with the session removed, as a request does."""
    from directory.extensions import db
    from directory.search.service import search_activities

    app = make_app(url, kind, workdir)
    result.runs = runs
    by_kind = queries(runs, seed)
    with app.app_context():
        for name, _label, _target in KINDS:
            for query in by_kind[name][:warm_up]:
                search_activities(query)
                db.session.remove()
            result.totals[name] = search_activities(by_kind[name][0]).total
            db.session.remove()
        # As deploy/gunicorn.conf.py does in each worker: what was allocated before (here also
        # the load's rows) is out of the garbage collector's reach, so a full collection does
        # not walk this process's leftovers in the middle of a search.
        gc.collect()
        gc.freeze()
        # Kinds interleaved, one of each in turn, so that drift affects all alike.
        timings: dict[str, list[float]] = {name: [] for name, _l, _t in KINDS}
        for i in range(runs):
            for name, _label, _target in KINDS:
                started = time.perf_counter()
                search_activities(by_kind[name][i])
                timings[name].append((time.perf_counter() - started) * 1000)
                db.session.remove()
        db.engine.dispose()
    gc.unfreeze()
    for name, values in timings.items():
        result.timings[name] = (statistics.median(values), percentile(values, 0.95))


# --- HTTP ----------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, path: str) -> tuple[int, float]:
    """GET a path on a new connection (a sync worker closes each): status and seconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


@contextmanager
def gunicorn(url: str, kind: str, workdir: Path, workers: int) -> Iterator[int]:
    """gunicorn (sync workers) serving the app with this backend on a free port; its port."""
    port = free_port()
    instance = workdir / f"instance-{kind}"
    instance.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DIRECTORY_INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SECRET_KEY": "benchmark-only-secret",
        "DIRECTORY_SEARCH_BACKEND": kind,
        "DIRECTORY_SEARCH_INDEX_DIR": str(workdir / "search-index"),
        "DIRECTORY_RATELIMIT_ENABLED": "false",  # one client, thousands of requests a minute
        # The search, not the answer cache (directory/response_cache.py; bench/floor.py
        # measures both), answers each request.
        "DIRECTORY_RESPONSE_CACHE": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    log = workdir / f"gunicorn-{kind}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line, local only
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--workers", str(workers),
                "--worker-class", "sync",
                "--timeout", str(GUNICORN_TIMEOUT),
                "--bind", f"127.0.0.1:{port}",
                "--log-level", "warning",
                "directory:create_app()",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({process.returncode}): {log.read_text()}")
            try:
                if fetch(port, "/healthz")[0] in (200, 503):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in time: {log.read_text()}")
            time.sleep(0.2)
        yield port
    finally:
        stop_process(process)


def measure_http(
    kind: str, url: str, workdir: Path, requests: int, warm_up: int, result: Measured
) -> None:
    """Median and p95 (ms), requests/s and failures of sequential GETs of each URL."""
    result.http_requests = requests
    with gunicorn(url, kind, workdir, workers=2) as port:
        for path in HTTP_URLS:
            for _ in range(warm_up):
                fetch(port, path)
        for path in HTTP_URLS:
            timings, failures = [], 0
            started = time.perf_counter()
            for _ in range(requests):
                try:
                    status, seconds = fetch(port, path)
                except OSError:
                    failures += 1
                    continue
                timings.append(seconds * 1000)
                failures += status != 200
            elapsed = time.perf_counter() - started
            if timings:
                result.http[path] = (
                    statistics.median(timings),
                    percentile(timings, 0.95),
                    len(timings) / elapsed,
                    failures,
                )


# --- the report ----------------------------------------------------------------------------------


def report(
    args: argparse.Namespace, load: dict, results: list[Measured], out: Callable[[str], None]
) -> None:
    """The side-by-side table."""
    width = 2 + max(
        len("search data: rebuild_index()"),
        *(len(label) + 11 for _k, label, _t in KINDS),
        *(len(path) for path in HTTP_URLS),
    )
    cell = 32
    names = [r.kind for r in results]

    def row(label: str, cells: list[str]) -> None:
        out(f"{label:<{width}}| " + " | ".join(f"{c:<{cell}}" for c in cells))

    out("")
    out(
        f"Scale benchmark: {args.activities:,} activities ({load['public']:,} public, "
        f"{load['listed']:,} listed now), {args.organisations:,} organisations, "
        f"{len(MUNICIPALITIES)} municipalities, {SCHOOLS} schools, {len(CATEGORIES)} categories "
        f"on {load['engine']}"
    )
    out(
        f"Machine: {os.cpu_count()} CPUs; load average at the start {load['loadavg']}, "
        f"at the end {_loadavg()} (other processes' load shows in the latencies)"
    )
    if not load["rows"]:
        out("Load: none, the database as loaded before (--keep)")
    else:
        out(
            f"Load: schema ({args.schema}) {load['schema_s']:.1f} s; rows generated in "
            f"{load['generate_s']:.1f} s; {load['rows']:,} rows inserted (Core executemany, "
            f"{BATCH:,} a statement, SEARCH_SYNC off) in {load['insert_s']:.1f} s "
            f"({load['rows'] / max(load['insert_s'], 1e-9):,.0f} rows/s); "
            f"VACUUM ANALYZE {load['analyze_s']:.1f} s"
            + (f"; database {load['db_mb']:.0f} MB" if load.get("db_mb") else "")
        )
    out("")
    row("", names)
    out("-" * (width + (cell + 3) * len(names)))
    row(
        "search data: rebuild_index()",
        [
            r.unavailable
            or (
                "nothing to build"
                if r.kind == "database"
                else f"{r.build_s:.1f} s, {r.indexed:,} documents"
                if r.build_s is not None
                else "-"
            )
            for r in results
        ],
    )
    row("search data size", [r.unavailable or r.size for r in results])
    for r in results:
        if r.note:
            out(f"  {r.note}")
        if r.error:
            out(f"  {r.kind} failed: {r.error}")
    out("")
    runs = ", ".join(f"{r.kind} {r.runs}" for r in results if r.runs)
    out(f"In process, search_activities(): median / p95 ms (runs per kind: {runs}; warm-up first)")
    for key, label, target in KINDS:
        text = label + (f" [p95 <= {target:.0f}]" if target else "")
        cells = []
        for r in results:
            if r.unavailable or key not in r.timings:
                cells.append(r.unavailable or "-")
                continue
            median, p95 = r.timings[key]
            mark = ""
            if target:
                mark = "  target met" if p95 <= target else "  over target"
            cells.append(f"{median:8.1f} / {p95:8.1f}{mark}")
        row(text, cells)
    row(
        "matches: plain filt. only prefix home",
        [
            r.unavailable or " ".join(str(r.totals.get(k, "-")) for k, _l, _t in KINDS)
            for r in results
        ],
    )
    if not args.no_http:
        out("")
        reqs = ", ".join(f"{r.kind} {r.http_requests}" for r in results if r.http_requests)
        out(
            "HTTP, gunicorn 2 sync workers, one client, sequential GETs (a new connection each): "
            f"median / p95 ms, req/s (requests per URL: {reqs})"
        )
        for path in HTTP_URLS:
            cells = []
            for r in results:
                if r.unavailable or path not in r.http:
                    cells.append(r.unavailable or "-")
                    continue
                median, p95, rps, failures = r.http[path]
                failed = f", {failures} failed" if failures else ""
                rate = f"{rps:6.1f}" if rps >= 1 else f"{rps:6.3f}"
                cells.append(f"{median:7.1f} / {p95:7.1f}, {rate}/s{failed}")
            row(path, cells)
    out("")
    out(
        "Targets (issue 15): filtered search p95 <= 50 ms and home listing p95 <= 50 ms, in "
        f"process, at 100,000 activities{'' if args.activities == 100_000 else ' (this run: ' + format(args.activities, ',') + ')'}."
    )
    out(
        "Kinds: plain = one word of " + ", ".join(QUERY_WORDS) + "; filtered = the same + one "
        "category + an age 6-14; filter only = one weekday + free, soonest; prefix = "
        + ", ".join(PREFIX_QUERIES)
        + "; home = no text, soonest, page 1 of 20. Each with its page of activities loaded and "
        "facets counted."
    )


# --- main ----------------------------------------------------------------------------------------


def _loadavg() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def load_database(args: argparse.Namespace, workdir: Path) -> dict:
    """Create and fill the database (or reuse it with --keep when it has activities)."""
    from sqlalchemy import func, select

    from directory.activities.listings import listed_conditions
    from directory.activities.models import Activity
    from directory.extensions import db
    from directory.organisations.models import Organisation
    from directory.search.documents import public_conditions

    url = args.database_url
    info = {
        "loadavg": _loadavg(),
        "schema_s": 0.0,
        "generate_s": 0.0,
        "insert_s": 0.0,
        "analyze_s": 0.0,
        "rows": 0,
    }
    existing = 0
    if args.keep:
        app = make_app(url, "database", workdir)
        with app.app_context():
            try:
                existing = db.session.scalar(select(func.count(Activity.id))) or 0
            except Exception:  # no such table: load afresh
                existing = 0
            db.session.remove()
            db.engine.dispose()
    if existing:
        print(f"--keep: reusing the {existing:,} activities in the database", flush=True)
        args.activities = existing
    else:
        recreate_database(url)
        create_extensions(url)
        app = make_app(url, "database", workdir)
        with app.app_context():
            started = time.perf_counter()
            create_schema(args.schema)
            info["schema_s"] = time.perf_counter() - started
            started = time.perf_counter()
            rows = generate(args.activities, args.organisations, random.Random(args.seed))
            info["generate_s"] = time.perf_counter() - started
            print(f"generated in {info['generate_s']:.1f} s; inserting ...", flush=True)
            started = time.perf_counter()
            info["rows"] = insert_rows(rows)
            info["insert_s"] = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
        started = time.perf_counter()
        vacuum_analyze(url)
        info["analyze_s"] = time.perf_counter() - started
    app = make_app(url, "database", workdir)
    with app.app_context():
        info["public"] = db.session.scalar(
            select(func.count(Activity.id)).join(Organisation).where(*public_conditions())
        )
        info["listed"] = db.session.scalar(
            select(func.count(Activity.id)).join(Organisation).where(*listed_conditions())
        )
        info["engine"] = f"{db.engine.dialect.name} ({db.engine.url.render_as_string()})"
        db.session.remove()
        db.engine.dispose()
    if is_postgres(url):
        sizes = postgres_sizes(url, [])
        info["db_mb"] = sizes["database"] / 1e6
        info["engine"] = f"PostgreSQL {sizes['version']} ({_psycopg_url(url).database})"
    return info


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> list[Measured]:
    """Load, build, measure, report; returns the measurements."""
    kinds = [k.strip() for k in args.backends.split(",") if k.strip()]
    for kind in kinds:
        if kind not in BACKENDS:
            raise SystemExit(f"--backends: {kind!r} is none of {', '.join(BACKENDS)}")
    http_kinds = kinds
    if args.http_backends is not None:
        http_kinds = [k.strip() for k in args.http_backends.split(",") if k.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    try:
        started = time.perf_counter()
        load = load_database(args, workdir)
        print(f"loaded in {time.perf_counter() - started:.1f} s", flush=True)
        results = [Measured(kind, unavailable=backend_unavailable(kind, args.database_url))
                   for kind in kinds]  # fmt: skip
        for result in results:
            if result.unavailable:
                continue
            try:
                build(result.kind, args.database_url, workdir, result)
                print(f"{result.kind}: search data built {result.build_s:.1f} s", flush=True)
                slow = result.kind == "database"
                runs = min(args.queries, args.database_runs) if slow else args.queries
                measure_in_process(
                    result.kind, args.database_url, workdir, runs,
                    1 if slow else min(WARM_UP, runs), args.seed, result,
                )  # fmt: skip
                print(f"{result.kind}: in process measured", flush=True)
                if not args.no_http and result.kind in http_kinds:
                    requests = min(args.http_requests, args.database_runs) if slow else (
                        args.http_requests)  # fmt: skip
                    measure_http(
                        result.kind, args.database_url, workdir, requests,
                        1 if slow else HTTP_WARM_UP, result,
                    )  # fmt: skip
                    print(f"{result.kind}: HTTP measured", flush=True)
            except Exception as exc:  # report the others' numbers all the same
                result.error = f"{type(exc).__name__}: {exc}"[:2000]
                print(f"{result.kind}: failed: {result.error}", flush=True)
        report(args, load, results, out)
        out(f"Whole run: {(time.perf_counter() - started) / 60:.1f} min.")
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--activities", type=int, default=100_000)
    p.add_argument("--organisations", type=int, default=2000)
    p.add_argument(
        "--queries",
        type=int,
        help="in-process runs per kind (default 200; 20 below 10,000 activities, a quick run)",
    )
    p.add_argument(
        "--http-requests", type=int,
        help="requests per URL and backend (default 200; 20 below 10,000 activities)",
    )  # fmt: skip
    p.add_argument("--no-http", action="store_true", help="skip the gunicorn measurements")
    p.add_argument(
        "--http-backends", help="the backends measured over HTTP too (default: all of --backends)"
    )
    p.add_argument(
        "--database-runs", type=int, default=5,
        help="runs per kind and requests per URL for the 'database' backend (slow at 100k)",
    )  # fmt: skip
    p.add_argument(
        "--backends", default="whoosh,postgres",
        help="comma-separated, side by side: whoosh, postgres, database",
    )  # fmt: skip
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--keep", action="store_true", help="reuse the loaded database if it has data")
    p.add_argument("--schema", choices=("create-all", "migrate"), default="create-all")
    p.add_argument("--seed", type=int, default=7)
    return p


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark with the command line's options."""
    args = parser().parse_args(argv)
    quick = args.activities < 10_000
    if args.queries is None:
        args.queries = 20 if quick else 200
    if args.http_requests is None:
        args.http_requests = 20 if quick else 200
    if args.activities < 1 or args.queries < 1 or args.http_requests < 1:
        raise SystemExit("--activities, --queries and --http-requests must be at least 1")
    run(args)


if __name__ == "__main__":
    main()
