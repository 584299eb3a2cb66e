"""Our pages against the framework floor, interleaved in one run under gunicorn.

    .venv/bin/python bench/floor.py [--activities 10000] [--duration 5] [--rounds 3] [--quick]

The floor (bench/floor_app.py) is a bare Flask + Flask-SQLAlchemy + Jinja page listing 20 of N
rows from SQLite in WAL mode, with a base template. Both it and the directory (SQLite, N
synthetic activities bulk-loaded as bench/http_bench.py does, with SEARCH_SYNC off, then the
search index rebuilt as `flask reindex` does) are served by gunicorn with deploy/gunicorn.conf.py
(preload, warm-up, gc.freeze, sync workers), two workers each, max_requests off (a worker restarted
mid-run would lose its CPU count), the production profile for ours, with the rate limits raised
out of reach (one client sends thousands of requests a minute).

Each round loads every endpoint in turn for --duration seconds (wrk if installed, else Python
client threads, which also load /calendar.ics: wrk would not count a request still running at
the end; a new connection per request, as the sync workers close each), the order rotated
from round to round, so that drift (other load on the machine) falls on all alike. CPU per
request is the workers' utime + stime (/proc/PID/stat) over the round divided by the requests
answered. Prints, per endpoint: req/s over all rounds, the pages' req/s as a percentage of the
floor's, CPU ms per request, and the median over rounds of each round's p50 and p95 latency;
then /calendar.ics in full and as a 304 (If-None-Match), the workers' memory after the run
(/proc/PID/smaps_rollup) and the load average during it. The calendar is measured through the
production nginx too (deploy/nginx.conf over TLS, rendered by bench/slow_clients.running_nginx, in
front of the same gunicorn as the direct rows): without and with Accept-Encoding: gzip, and the 304
with the ETag the gzipped answer carried; with the bytes sent against the uncompressed size and
nginx's own CPU per request. Without nginx (or openssl, for its certificate) the bench says so
and skips those rows only. Everything runs on 127.0.0.1 in a temporary folder, deleted
afterwards. --quick (500 activities, one round of 1 s) takes well under a minute.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from slow_clients import (  # noqa: E402
    DEPLOY,
    NGINX,
    PUBLIC_HOST,
    ROOT,
    Nginx,
    Target,
    _children,
    fetch,
    memory_kb,
    running_gunicorn,
    running_nginx,
)

WRK = shutil.which("wrk")
CLK_TCK = os.sysconf("SC_CLK_TCK")
CATEGORY = "idrett"  # one of the categories http_bench.seed() creates
FLOOR = "floor"
CACHED = "cached"  # our app with the anonymous answer cache on (directory/response_cache.py)
CALENDAR_FULL = "/calendar.ics"
CALENDAR_304 = "/calendar.ics (If-None-Match: 304)"
PROXIED = "nginx"  # "ours" behind the production nginx: the same gunicorn workers, through TLS
GZIP = (("Accept-Encoding", "gzip"),)

# Prints one JSON line at the end of a wrk run: counts, bytes and the latency percentiles.
WRK_SCRIPT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "bytes": %d, "errors": %d, "bad_status": %d, '
    .. '"p50_ms": %f, "p95_ms": %f}\\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


@dataclass(frozen=True)
class Endpoint:
    """What one row of the table loads: a label, the server, the path and extra headers."""

    label: str
    server: str  # "ours", CACHED, FLOOR or PROXIED
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    expect: int = 200


@dataclass
class Tally:
    """The sums over the rounds of one endpoint."""

    requests: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    proxy_cpu_seconds: float = 0.0  # nginx's worker, for the rows through it
    bytes: int = 0
    errors: int = 0
    p50s: list[float] = field(default_factory=list)
    p95s: list[float] = field(default_factory=list)


# --- the two servers ---------------------------------------------------------------------------


def bench_config(workdir: Path, name: str, extra: str = "") -> list[str]:
    """deploy/gunicorn.conf.py with the benchmark's changes after it (the file is Python)."""
    path = workdir / f"gunicorn-{name}.conf.py"
    path.write_text(
        (DEPLOY / "gunicorn.conf.py").read_text()
        + "\n# bench/floor.py: no worker restarts during the run\nmax_requests = 0\n"
        + extra
    )
    return ["--config", str(path)]


FLOOR_CONFIG = f"""
wsgi_app = "floor_app:create_floor_app()"
pythonpath = {str(BENCH)!r}


def when_ready(server):
    pass  # the floor has none of our pages to warm up (directory/warmup.py)


def post_fork(server, worker):
    from floor_app import db

    with worker.app.wsgi().app_context():
        db.engine.dispose(close=False)
"""


def our_environment(workdir: Path) -> dict[str, str]:
    """The production profile on a new SQLite database in `workdir`; limits out of reach."""
    return {
        **os.environ,
        "DIRECTORY_PROFILE": "production",
        "DIRECTORY_INSTANCE_PATH": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'directory.sqlite3'}",
        "SECRET_KEY": "benchmark-only-secret",
        "DIRECTORY_SEARCH_INDEX_DIR": str(workdir / "search-index"),
        "DIRECTORY_PUBLIC_BASE_URL": f"https://{PUBLIC_HOST}",
        "DIRECTORY_RATELIMIT_STORAGE_URI": "memory://",
        "DIRECTORY_API_RATE_LIMIT": "1000000 per minute",
        "DIRECTORY_SEARCH_RATE_LIMIT": "1000000 per minute",
        "DIRECTORY_FEED_RATE_LIMIT": "1000000 per minute",
        # Uncached: what each page costs to make (the "cached" server turns the cache on).
        "DIRECTORY_RESPONSE_CACHE": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def load_ours(env: dict[str, str], count: int, seed: int) -> str:
    """Migrate, bulk-load `count` activities (search sync off) and rebuild the index."""
    from http_bench import seed as seed_activities

    started = time.perf_counter()
    # `flask db upgrade`, not `init-db`: the bulk load brings its own categories.
    migrated = subprocess.run(  # noqa: S603 - fixed arguments
        [str(Path(sys.executable).with_name("flask")), "--app", "directory", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if migrated.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{migrated.stdout}\n{migrated.stderr}")
    # The same database and index in this process; the default profile spares the warning
    # about rate limits in memory, which concerns the served app only.
    os.environ.update({k: v for k, v in env.items() if k != "DIRECTORY_PROFILE"})
    from directory import create_app
    from directory.extensions import db
    from directory.search.service import rebuild_index

    app = create_app()
    app.config["SEARCH_SYNC"] = False
    with app.app_context():
        seed_activities(count, random.Random(seed))
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        indexed = rebuild_index()
        db.engine.dispose()
    return (
        f"{count:,} activities migrated and inserted in {seeded:.1f} s, {indexed:,} public "
        f"ones indexed in {time.perf_counter() - started:.1f} s"
    )


def load_floor(env: dict[str, str], count: int, seed: int) -> None:
    """The floor's table with `count` rows."""
    from floor_app import create_floor_app, db, seed_floor

    os.environ["FLOOR_DATABASE_URL"] = env["FLOOR_DATABASE_URL"]
    app = create_floor_app()
    with app.app_context():
        seed_floor(count, seed)
        db.engine.dispose()


# --- measuring -----------------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes, in seconds."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def run_wrk(target: Target, endpoint: Endpoint, duration: float, clients: int, script: Path):
    """One wrk run: requests, seconds, bytes, errors, p50 and p95 in ms."""
    command = [WRK, "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{duration}s"]
    command += ["--timeout", "30s", "-s", str(script), "-H", f"Host: {PUBLIC_HOST}"]
    for name, value in endpoint.headers:
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{target.port}{endpoint.path}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)  # noqa: S603
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(lines[-1])
    result["errors"] += result.pop("bad_status")
    return result


def run_threads(target: Target, endpoint: Endpoint, duration: float, clients: int, _script):
    """The same as run_wrk() from Python threads (without wrk): slower, but needs nothing."""
    lock = threading.Lock()
    timings: list[float] = []
    counts = {"bytes": 0, "errors": 0}
    deadline = time.perf_counter() + duration

    def client() -> None:
        while time.perf_counter() < deadline:
            reply = fetch(target, endpoint.path, headers=dict(endpoint.headers))
            with lock:
                timings.append(reply.seconds)
                counts["bytes"] += len(reply.body)
                counts["errors"] += reply.status != endpoint.expect

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(timings) or [0.0]
    return {
        "requests": len(timings),
        "seconds": time.perf_counter() - started,
        **counts,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
    }


def check(target: Target, endpoint: Endpoint) -> None:
    """Fail before measuring when an endpoint does not answer as expected."""
    reply = fetch(target, endpoint.path, headers=dict(endpoint.headers))
    if reply.status != endpoint.expect:
        raise SystemExit(
            f"{endpoint.label} answered {reply.status} (expected {endpoint.expect}): "
            f"{reply.body[:300]!r}"
        )
    if endpoint.headers[:1] == GZIP and reply.status == 200:
        if reply.headers.get("content-encoding") != "gzip":
            raise SystemExit(f"{endpoint.label} came back uncompressed")


def start_nginx(stack: ExitStack, upstream: Target) -> Nginx | None:
    """The production nginx in front of `upstream`, or None (said in one line) without it."""
    missing = [
        name
        for name, found in ((NGINX, Path(NGINX).exists()), ("openssl", shutil.which("openssl")))
        if not found
    ]
    if missing:
        print(f"Skipping the rows through nginx: {' and '.join(missing)} not installed.")
        return None
    return stack.enter_context(running_nginx(upstream.port))


@dataclass(frozen=True)
class ProxiedCalendar:
    """/calendar.ics as one request through nginx with gzip saw it."""

    events: int
    identity_bytes: int  # the calendar as the application wrote it
    gzip_bytes: int  # the body nginx sent: the gzip stream, without headers or TLS framing
    etag: str
    direct_etag: str  # as gunicorn sends it


def proxied_calendar(site: Target, ours: Target) -> ProxiedCalendar:
    """Fetch the calendar through nginx with gzip; its sizes and ETag, and the direct ETag."""
    reply = fetch(site, CALENDAR_FULL, headers=dict(GZIP))
    if reply.status != 200 or reply.headers.get("content-encoding") != "gzip":
        raise SystemExit(
            f"{CALENDAR_FULL} through nginx: {reply.status}, "
            f"Content-Encoding {reply.headers.get('content-encoding')!r} (expected 200, gzip)"
        )
    body = gzip.decompress(reply.body)
    return ProxiedCalendar(
        body.count(b"BEGIN:VEVENT"),
        len(body),
        len(reply.body),
        reply.headers["etag"],
        fetch(ours, CALENDAR_FULL).headers["etag"],
    )


def measure(args: argparse.Namespace, workdir: Path) -> None:
    """Load both servers, measure the endpoints round by round, print the report."""
    env = our_environment(workdir)
    env["FLOOR_DATABASE_URL"] = f"sqlite:///{workdir / 'floor.sqlite3'}"
    print(load_ours(env, args.activities, args.seed), flush=True)
    load_floor(env, args.activities, args.seed)

    with ExitStack() as stack:
        ours = stack.enter_context(
            running_gunicorn(env, workdir, args=bench_config(workdir, "ours"), workers=2)
        )
        cached = stack.enter_context(
            running_gunicorn(
                {**env, "DIRECTORY_RESPONSE_CACHE": "true"},
                workdir,
                args=bench_config(workdir, "cached"),
                workers=2,
            )
        )
        floor = stack.enter_context(
            running_gunicorn(
                env, workdir, args=bench_config(workdir, "floor", FLOOR_CONFIG), workers=2
            )
        )
        site = start_nginx(stack, ours.target)
        servers = {"ours": ours, CACHED: cached, FLOOR: floor}
        targets = {name: server.target for name, server in servers.items()}
        calendar = None
        if site is not None:
            targets[PROXIED] = site.https
            calendar = proxied_calendar(site.https, ours.target)
        endpoints = endpoints_of(ours.target, calendar)
        for endpoint in endpoints:
            check(targets[endpoint.server], endpoint)
            for _ in range(10 if endpoint.path != CALENDAR_FULL else 3):  # searchers, caches
                fetch(targets[endpoint.server], endpoint.path)

        workers = {name: _children(server.process.pid) for name, server in servers.items()}
        # Through nginx the same gunicorn workers do the work; nginx's worker is counted apart.
        loaded = {**workers, PROXIED: workers["ours"]}
        proxy_workers = _children(site.process.pid) if site is not None else []
        script = workdir / "report.lua"
        script.write_text(WRK_SCRIPT)
        run = run_wrk if WRK and not args.python_client else run_threads
        tallies = {endpoint.label: Tally() for endpoint in endpoints}
        loads = [os.getloadavg()[0]]
        started = time.monotonic()
        for round_number in range(args.rounds):
            shift = round_number % len(endpoints)
            for endpoint in endpoints[shift:] + endpoints[:shift]:
                pids = loaded[endpoint.server]
                proxy_pids = proxy_workers if endpoint.server == PROXIED else []
                cpu_before, proxy_before = cpu_seconds(pids), cpu_seconds(proxy_pids)
                # wrk drops the requests still running when its time is up: an endpoint that
                # takes about a second would count none. The threads finish theirs (and they
                # alone reach nginx: wrk would send the TLS handshake without the site's name).
                client = run_threads if endpoint.path == CALENDAR_FULL else run
                result = client(
                    targets[endpoint.server], endpoint, args.duration, args.clients, script
                )
                tally = tallies[endpoint.label]
                tally.cpu_seconds += cpu_seconds(pids) - cpu_before
                tally.proxy_cpu_seconds += cpu_seconds(proxy_pids) - proxy_before
                tally.requests += result["requests"]
                tally.seconds += result["seconds"]
                tally.bytes += result["bytes"]
                tally.errors += result["errors"]
                tally.p50s.append(result["p50_ms"])
                tally.p95s.append(result["p95_ms"])
                loads.append(os.getloadavg()[0])
        elapsed = time.monotonic() - started
        restarted = {
            name: sorted(set(pids) ^ set(_children(servers[name].process.pid)))
            for name, pids in workers.items()
        }
        memory = {name: [memory_kb(pid) for pid in pids] for name, pids in workers.items()}
        # The ETag must still have matched at the end (else the 304 rows measured 200s).
        for conditional in [e for e in endpoints if e.expect == 304]:
            headers = dict(conditional.headers)
            if fetch(targets[conditional.server], conditional.path, headers=headers).status != 304:
                print(f"Warning: the calendar's ETag changed during the run ({conditional.label})")

    report(args, endpoints, tallies, memory, loads, elapsed, run is run_wrk)
    if calendar is not None:
        proxy_report(endpoints, tallies, calendar)
    if any(restarted.values()):
        raise SystemExit(
            f"workers were restarted during the run, CPU figures are wrong: {restarted}"
        )
    if any(t.errors for t in tallies.values()):
        raise SystemExit(1)


def endpoints_of(ours: Target, proxied: ProxiedCalendar | None) -> list[Endpoint]:
    """The floor, our pages and the calendar, with a real activity id and the calendar's ETag;
    the calendar through nginx too when it runs."""
    listed = fetch(ours, "/api/v1/activities?per_page=1")
    activity_id = json.loads(listed.body)["items"][0]["id"]
    etag = fetch(ours, CALENDAR_FULL).headers.get("etag")
    if not etag:
        raise SystemExit("/calendar.ics sent no ETag")
    paths = [
        "/",
        "/activities?q=fotball",
        f"/activities?q=fotball&category={CATEGORY}&age=10",
        f"/activities/{activity_id}",
        "/api/v1/activities",
        "/api/v1/activities?q=fotball",
    ]
    return [
        Endpoint("floor: 20 rows, base + page template", FLOOR, "/"),
        *(Endpoint(path, "ours", path) for path in paths),
        *(Endpoint(f"{path} (answer cache)", CACHED, path) for path in paths),
        Endpoint(CALENDAR_FULL, "ours", CALENDAR_FULL),
        Endpoint(CALENDAR_304, "ours", CALENDAR_FULL, (("If-None-Match", etag),), expect=304),
        *(proxied_endpoints(proxied.etag) if proxied is not None else []),
    ]


def proxied_endpoints(etag: str) -> list[Endpoint]:
    """The calendar through nginx: plain, gzip, and the 304 for the gzipped answer's ETag."""
    return [
        Endpoint(f"{CALENDAR_FULL} via nginx", PROXIED, CALENDAR_FULL),
        Endpoint(f"{CALENDAR_FULL} via nginx, gzip", PROXIED, CALENDAR_FULL, GZIP),
        Endpoint(
            f"{CALENDAR_FULL} via nginx, gzip (If-None-Match: 304)",
            PROXIED,
            CALENDAR_FULL,
            (*GZIP, ("If-None-Match", etag)),
            expect=304,
        ),
    ]


# --- the report ----------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    endpoints: list[Endpoint],
    tallies: dict[str, Tally],
    memory: dict[str, list[dict[str, int]]],
    loads: list[float],
    elapsed: float,
    with_wrk: bool,
) -> None:
    """Print the table, the workers' memory and the load average."""
    floor_rps = tallies[endpoints[0].label].requests / tallies[endpoints[0].label].seconds
    client = (
        f"wrk with {args.clients} connections (the calendar: {args.clients} Python threads)"
        if with_wrk
        else f"{args.clients} Python threads"
    )
    print(
        f"gunicorn, deploy/gunicorn.conf.py, 2 sync workers per server on 127.0.0.1, "
        f"{args.activities:,} activities (and as many floor rows); {args.rounds} round(s) of "
        f"{args.duration:g} s per endpoint, interleaved, from {client} (a new connection per "
        f"request); {elapsed:.0f} s of load. p50/p95: median over the rounds."
    )
    width = max(len(e.label) for e in endpoints)
    header = (
        f"{'endpoint':<{width}} | {'req/s':>7} | {'% floor':>7} | {'CPU ms/req':>10} | "
        f"{'p50':>9} | {'p95':>9} | {'KB/resp':>7} | {'requests':>8} | errors"
    )
    print(header)
    print("-" * len(header))
    for endpoint in endpoints:
        if endpoint.path == CALENDAR_FULL and endpoint.server == "ours" and not endpoint.headers:
            print("-" * len(header))
        t = tallies[endpoint.label]
        rps = t.requests / t.seconds if t.seconds else 0.0
        per_request = t.cpu_seconds * 1000 / t.requests if t.requests else float("nan")
        # A calendar is not a page of 20: its share of the floor would mean nothing.
        share = f"{rps / floor_rps * 100:>6.1f}%" if endpoint.path != CALENDAR_FULL else ""
        print(
            f"{endpoint.label:<{width}} | {rps:>7.1f} | {share:>7} | "
            f"{per_request:>10.1f} | {statistics.median(t.p50s):>6.1f} ms | "
            f"{statistics.median(t.p95s):>6.1f} ms | "
            f"{t.bytes / max(t.requests, 1) / 1024:>7.1f} | {t.requests:>8} | {t.errors}"
        )
    print(
        "CPU ms/req: the two workers' utime + stime over the endpoint's rounds / requests "
        f"(clock ticks of {1000 / CLK_TCK:g} ms). KB/resp: received bytes as the client counts them (a 304 has no body)."
    )
    for name, label in (
        ("ours", "directory"),
        (CACHED, "directory, answer cache"),
        (FLOOR, "floor"),
    ):
        cells = ", ".join(
            f"RSS {m['rss'] / 1024:.0f} MB (PSS {m['pss'] / 1024:.0f} MB, USS {m['uss'] / 1024:.0f} MB)"
            for m in memory[name]
        )
        print(f"Worker memory after the run, {label}: {cells}")
    print(
        f"Load average (1 min, {os.cpu_count()} CPUs) during the run: min {min(loads):.2f}, "
        f"mean {statistics.mean(loads):.2f}, max {max(loads):.2f} "
        f"(before: {loads[0]:.2f}; the client runs on the same machine)"
    )


def proxy_report(
    endpoints: list[Endpoint], tallies: dict[str, Tally], calendar: ProxiedCalendar
) -> None:
    """The calendar's size on the wire through nginx, and nginx's CPU per request."""
    proxy_cpu = ", ".join(
        f"{e.label.removeprefix(CALENDAR_FULL + ' via nginx').lstrip(', ') or 'plain'} "
        f"{tallies[e.label].proxy_cpu_seconds * 1000 / max(tallies[e.label].requests, 1):.2f}"
        for e in endpoints
        if e.server == PROXIED
    )
    print(
        f"Through nginx (deploy/nginx.conf, 1 worker, TLS with a full handshake per request, "
        f"in front of the directory's gunicorn above): {CALENDAR_FULL} of {calendar.events} "
        f"events is {calendar.identity_bytes:,} bytes as written and {calendar.gzip_bytes:,} "
        f"bytes sent with gzip (the body; headers and TLS framing not counted), "
        f"{calendar.identity_bytes / calendar.gzip_bytes:.1f} times smaller "
        f"({calendar.gzip_bytes / calendar.identity_bytes:.1%}). The gzipped answer's ETag, "
        f"{calendar.etag}, is "
        + ("the application's" if calendar.etag == calendar.direct_etag else "changed by nginx")
        + f" (direct: {calendar.direct_etag}); sent back as If-None-Match it gives the 304 row. "
        f"nginx's CPU ms/req (not in the table's column, which is gunicorn's): {proxy_cpu}."
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run in a temporary folder, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=5, help="seconds per endpoint round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--quick", action="store_true", help="500 activities, one round of 1 s (a smoke run)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.activities, args.duration, args.rounds = 500, 1, 1
    if args.activities < 1 or args.duration <= 0 or args.rounds < 1 or args.clients < 1:
        parser.error("--activities, --duration, --rounds and --clients must be positive")
    workdir = Path(tempfile.mkdtemp(prefix="floor-bench-"))
    try:
        measure(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
