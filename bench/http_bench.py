"""HTTP benchmark: the search pages under gunicorn (two sync workers) on 127.0.0.1.

    .venv/bin/python bench/http_bench.py [--activities 10000] [--requests 2000] [--clients 4]

Builds a temporary SQLite database with N synthetic activities (real rows through the models,
bulk-inserted), builds the search index as `flask reindex` does, starts gunicorn with two sync
workers on a free local port, warms up, and sends a fixed number of requests per URL from a few
client threads. Prints requests per second and median / 95th percentile latency for each URL,
and the weight of the home page: its HTML and every same-host file it loads, with the number of
requests. Stops gunicorn and deletes everything it made; it talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search_bench import CATEGORIES, PLACES, offer_row  # noqa: E402

URLS = (
    "/activities?q=fotball",
    "/activities?q=fotball&age=9&category=idrett",
    "/",
    # The same search as JSON: the difference to the page above is the HTML rendering.
    "/api/v1/activities?q=fotball&age=9&category=idrett",
)
WARM_UP = 40  # requests per URL before measuring: each worker opens its searcher and caches
STARTUP_TIMEOUT = 60.0  # seconds gunicorn gets to answer /healthz
REQUEST_TIMEOUT = 30.0
ORGANISATIONS = 400


# --- data --------------------------------------------------------------------------------------


def seed(count: int, rng: random.Random) -> None:
    """Insert a municipality, categories, organisations and `count` activities with schedules.

    Bulk INSERTs through the mapped models (column defaults apply); the search index is not
    written per row (SEARCH_SYNC is off) but rebuilt once afterwards.
    """
    from sqlalchemy import insert

    from directory.activities.models import Activity, Category, Schedule
    from directory.extensions import db
    from directory.organisations.models import Organisation
    from directory.schools.models import Municipality
    from directory.timeutil import oslo_now, utcnow

    db.session.execute(insert(Municipality), [{"id": 1, "slug": "drammen", "name": "Drammen"}])
    db.session.execute(
        insert(Category),
        [
            {"id": n, "slug": slug, "name_nb": slug.capitalize(), "name_nn": slug, "name_en": slug}
            for n, slug in enumerate(CATEGORIES, start=1)
        ],
    )
    db.session.execute(
        insert(Organisation),
        [
            {
                "id": n,
                "municipality_id": 1,
                "slug": f"organisasjon-{n}",
                "name": f"{rng.choice(PLACES)} {rng.choice(('IL', 'musikklag', 'klubb'))} {n}",
                "kind": rng.choice(("volunteer", "volunteer", "municipal", "commercial")),
                "verification": "verified" if rng.random() < 0.9 else "pending",
            }
            for n in range(1, ORGANISATIONS + 1)
        ],
    )
    today = oslo_now().replace(tzinfo=None, minute=0, second=0, microsecond=0)
    activities, schedules = [], []
    for n in range(1, count + 1):
        activities.append(
            {
                **offer_row(rng, n, ORGANISATIONS),
                "accessible": rng.random() < 0.2,
                "status": "published" if rng.random() < 0.95 else "cancelled",
                "published_at": utcnow() - timedelta(days=rng.randint(0, 200)),
            }
        )
        first = today.replace(hour=rng.choice((10, 13, 15, 16, 17, 18, 19))) + timedelta(
            days=rng.randint(-20, 30)
        )
        weekly = rng.random() < 0.8
        schedules.append(
            {
                "activity_id": n,
                "dtstart": first,
                "duration_minutes": rng.choice((45, 60, 90, 120)),
                "rrule": "FREQ=WEEKLY;COUNT=30" if weekly else "",
            }
        )
    for start in range(0, count, 5000):
        db.session.execute(insert(Activity), activities[start : start + 5000])
        db.session.execute(insert(Schedule), schedules[start : start + 5000])
    db.session.commit()


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, path: str) -> tuple[int, bytes, float]:
    """GET a path from 127.0.0.1:port: status, body and seconds taken (a new connection, as a
    sync worker closes each one)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started
    finally:
        conn.close()


def wait_until_up(port: int, process: subprocess.Popen) -> None:
    """Poll /healthz until gunicorn answers; fail when it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {process.returncode}")
        try:
            status, body, _ = fetch(port, "/healthz")
            if status == 200:
                return
            raise SystemExit(f"/healthz answered {status}: {body[:200]!r}")
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within the start-up timeout")


# --- load ----------------------------------------------------------------------------------------


def load(port: int, path: str, requests: int, clients: int) -> dict:
    """Send `requests` GETs of one path from `clients` threads; timings and failures."""
    counter = iter(range(requests))
    lock = threading.Lock()
    timings: list[float] = []
    failures: list[str] = []

    def client() -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            try:
                status, _body, seconds = fetch(port, path)
            except OSError as exc:
                with lock:
                    failures.append(type(exc).__name__)
                continue
            with lock:
                timings.append(seconds)
                if status != 200:
                    failures.append(str(status))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "path": path,
        "requests": len(timings),
        "rps": len(timings) / elapsed,
        "median_ms": statistics.median(timings) * 1000,
        "p95_ms": percentile(timings, 0.95) * 1000,
        "failures": failures,
    }


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class _Assets(HTMLParser):
    """Collects what a browser would fetch for a page: stylesheets, scripts, images, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and {"stylesheet", "icon", "preload"} & set(
            (values.get("rel") or "").split()
        ):
            self.urls.append(values.get("href") or "")
        elif tag in ("script", "img", "iframe") and values.get("src"):
            self.urls.append(values["src"] or "")


def page_weight(port: int, path: str) -> dict:
    """The HTML of a page and every file it loads: bytes, gzip bytes, requests, other hosts."""
    status, html, _ = fetch(port, path)
    if status != 200:
        raise SystemExit(f"{path} answered {status}")
    parser = _Assets()
    parser.feed(html.decode())
    sizes = {path: len(html)}
    compressed = len(gzip.compress(html))
    foreign = []
    for url in dict.fromkeys(u for u in parser.urls if u):
        parts = urlsplit(url)
        if parts.scheme == "data":  # inline: no request
            continue
        if parts.netloc and parts.hostname not in ("127.0.0.1", "localhost"):
            foreign.append(url)
            continue
        asset_status, body, _ = fetch(port, parts.path + (f"?{parts.query}" if parts.query else ""))
        if asset_status != 200:
            raise SystemExit(f"{url} answered {asset_status}")
        sizes[url] = len(body)
        compressed += len(gzip.compress(body))
    return {
        "html_bytes": len(html),
        "total_bytes": sum(sizes.values()),
        "gzip_bytes": compressed,
        "requests": len(sizes),
        "files": sizes,
        "foreign": foreign,
    }


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Seed, index, serve, load, report, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per URL")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="http-bench-"))
    # The app built here and the gunicorn workers read the same settings from the environment.
    os.environ.update(
        {
            "DIRECTORY_INSTANCE_PATH": str(workdir),
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "SECRET_KEY": "benchmark-only-secret",
            "DIRECTORY_SEARCH_INDEX_DIR": str(workdir / "search-index"),
        }
    )
    process = None
    try:
        from directory import create_app
        from directory.extensions import db
        from directory.search.service import rebuild_index

        app = create_app()
        app.config["SEARCH_SYNC"] = False
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            seed(args.activities, random.Random(args.seed))
            seeded = time.perf_counter() - started
            started = time.perf_counter()
            indexed = rebuild_index()
            built = time.perf_counter() - started
            db.engine.dispose()
        print(
            f"{args.activities:,} activities inserted in {seeded:.1f} s; "
            f"{indexed:,} public ones indexed in {built:.1f} s"
        )

        port = free_port()
        process = subprocess.Popen(  # noqa: S603 - a fixed command line, local only
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--workers",
                str(args.workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "directory:create_app()",
            ],
            cwd=ROOT,
        )
        wait_until_up(port, process)
        for path in URLS:
            for _ in range(WARM_UP):
                fetch(port, path)

        results = [load(port, path, args.requests, args.clients) for path in URLS]
        weight = page_weight(port, "/")
        status, body, _ = fetch(port, "/api/v1/activities?q=fotball&per_page=1")
        total = json.loads(body)["total"] if status == 200 else "?"
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"gunicorn: {args.workers} sync workers on 127.0.0.1; {args.requests} requests per URL "
        f"from {args.clients} client threads, a new connection each, after {WARM_UP} warm-up "
        f"requests per URL. Matches for q=fotball: {total}."
    )
    width = max(len(r["path"]) for r in results)
    print(f"{'URL':<{width}} | {'req/s':>7} | {'median':>9} | {'p95':>9} | failures")
    print("-" * (width + 42))
    for r in results:
        print(
            f"{r['path']:<{width}} | {r['rps']:>7.1f} | {r['median_ms']:>6.1f} ms | "
            f"{r['p95_ms']:>6.1f} ms | {len(r['failures'])}"
        )
    print(
        f"Home page /: HTML {weight['html_bytes'] / 1024:.1f} KB; with its files "
        f"{weight['total_bytes'] / 1024:.1f} KB uncompressed "
        f"({weight['gzip_bytes'] / 1024:.1f} KB gzipped) in {weight['requests']} requests; "
        f"files from other hosts: {len(weight['foreign'])}"
    )
    for url, size in weight["files"].items():
        print(f"  {url}: {size:,} bytes")
    if any(r["failures"] for r in results) or weight["foreign"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
