"""Production serving: slow clients against gunicorn alone and behind nginx; worker memory.

    .venv/bin/python bench/slow_clients.py [--hold 12] [--skip-memory] [--skip-slow]

1. Slow clients. Starts gunicorn with deploy/gunicorn.conf.py (two sync workers) on a temporary
   SQLite database with the demo data, and Debian's nginx with deploy/nginx.conf (local ports,
   a self-signed certificate, its own pid/log/temp paths) in front of it. For each scenario it
   opens the slow clients (sockets that send one header line a second, or a request body a few
   bytes a second), sends 12 normal requests (/healthz and the home page, one every half
   second) while they hold their connections, and prints how many were answered and how fast,
   straight to gunicorn and through nginx. It also prints when nginx dropped each slow client.
2. Worker memory. Starts gunicorn four ways (the old README command; deploy/gunicorn.conf.py
   without preload; with preload but without gc.freeze; as shipped), sends the same 60
   requests to each, and prints RSS, PSS and USS (private memory) of the workers and the
   total PSS of master and workers.

Everything runs on 127.0.0.1 in temporary folders, which are deleted afterwards.
tests/test_production_serving.py uses the same helpers (nginx_site_config, Nginx, Gunicorn,
SlowHeaderClient, SlowBodyClient, fetch).
"""

from __future__ import annotations

import argparse
import http.client
import os
import pwd
import re
import select
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEPLOY = ROOT / "deploy"
PUBLIC_HOST = "aktiviteter.example.kommune.no"  # the server_name in deploy/nginx.conf
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- where requests go ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A server on 127.0.0.1: gunicorn directly (plain HTTP) or nginx (HTTPS, with SNI)."""

    name: str
    port: int
    tls: ssl.SSLContext | None = None

    def connect(self, timeout: float | None) -> socket.socket:
        """A connected socket, TLS-wrapped for nginx with the site's name as SNI."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if self.tls is None:
            return sock
        try:
            return self.tls.wrap_socket(sock, server_hostname=PUBLIC_HOST)
        except BaseException:
            sock.close()
            raise


@dataclass
class Reply:
    """A response, or the error that came instead."""

    status: int | None
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None


def fetch(
    target: Target,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One request on a new connection, as the site's name; never raises for network errors."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(PUBLIC_HOST, target.port, timeout=timeout)
    try:
        conn.sock = target.connect(timeout)
        conn.request(method, path, body=body, headers={"Host": PUBLIC_HOST, **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        return Reply(
            response.status,
            time.perf_counter() - started,
            {k.lower(): v for k, v in response.getheaders()},
            data,
        )
    except (OSError, http.client.HTTPException) as exc:
        return Reply(None, time.perf_counter() - started, error=type(exc).__name__)
    finally:
        conn.close()


def wait_until_answering(target: Target, process: subprocess.Popen, log: Path) -> None:
    """Poll /healthz until it answers 200; fail with the log when the process dies first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{target.name} exited ({process.returncode}):\n{_tail(log)}")
        reply = fetch(target, "/healthz", timeout=5)
        if reply.status == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{target.name} did not answer /healthz 200 in time:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- the application and gunicorn --------------------------------------------------------------


def prepare_instance(workdir: Path, *, demo: bool = False) -> dict[str, str]:
    """A production-profile environment on a new SQLite database in `workdir`: migrated,
    optionally with the demo data, and with its search index built."""
    env = {
        **os.environ,
        "DIRECTORY_PROFILE": "production",
        "DIRECTORY_INSTANCE_PATH": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'directory.sqlite3'}",
        "SECRET_KEY": "production-serving-test-only",
        "DIRECTORY_SEARCH_INDEX_DIR": str(workdir / "search-index"),
        "DIRECTORY_PUBLIC_BASE_URL": f"https://{PUBLIC_HOST}",
        "DIRECTORY_RATELIMIT_STORAGE_URI": "memory://",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    flask = [str(VENV_BIN / "flask"), "--app", "directory"]
    commands = [["init-db"], *([["seed-demo"]] if demo else []), ["reindex"]]
    for command in commands:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            flask + command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {command[0]} failed:\n{done.stdout}\n{done.stderr}")
    return env


@dataclass
class Gunicorn:
    """A running gunicorn: where to reach it, its process and its log (stdout and stderr)."""

    target: Target
    process: subprocess.Popen
    log: Path


@contextmanager
def running_gunicorn(
    env: dict[str, str], workdir: Path, *, args: list[str] | None = None, workers: int = 2
) -> Iterator[Gunicorn]:
    """gunicorn on a free port, with deploy/gunicorn.conf.py unless `args` replace the config."""
    port = free_port()
    log = workdir / f"gunicorn-{port}.log"
    command = [str(VENV_BIN / "gunicorn")]
    command += args if args is not None else ["--config", str(DEPLOY / "gunicorn.conf.py")]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    target = Target("gunicorn", port)
    try:
        wait_until_answering(target, process, log)
        yield Gunicorn(target, process, log)
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 30 s: the process is gone when this returns."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- nginx -------------------------------------------------------------------------------------


def _substitute(text: str, pattern: str, replacement: str, count: int) -> str:
    """re.subn that insists on `count` matches: if deploy/nginx.conf changes shape, the test
    must fail loudly rather than quietly run a different configuration."""
    result, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if found != count:
        raise AssertionError(f"deploy/nginx.conf: {pattern!r} matched {found} times, not {count}")
    return result


def nginx_site_config(
    site: str,
    *,
    http_port: int,
    https_port: int,
    upstream_port: int,
    static_root: Path,
    certificate: Path,
    key: Path,
    acme_root: Path,
) -> str:
    """deploy/nginx.conf with local ports and paths: loopback only, no IPv6, this checkout."""
    site = _substitute(site, r"^\s*listen \[::\]:\d+[^;]*;\n", "", 4)
    site = _substitute(site, r"^(\s*)listen 80\b", f"\\1listen 127.0.0.1:{http_port}", 2)
    site = _substitute(site, r"^(\s*)listen 443\b", f"\\1listen 127.0.0.1:{https_port}", 2)
    site = _substitute(site, r"server 127\.0\.0\.1:8000\b", f"server 127.0.0.1:{upstream_port}", 1)
    site = _substitute(site, r"ssl_certificate \S+;", f"ssl_certificate {certificate};", 1)
    site = _substitute(site, r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", 1)
    site = _substitute(site, r"alias /srv/directory/static/;", f"alias {static_root}/;", 1)
    return _substitute(site, r"root /var/www/letsencrypt;", f"root {acme_root};", 1)


def nginx_main_config(site: str, prefix: Path) -> str:
    """A main nginx.conf around the site, like Debian's, with every path under `prefix`."""
    temp_paths = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    types_hash_max_size 2048;
    sendfile on;
    access_log {prefix / "access.log"};
{temp_paths}

{site}
}}
"""


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "site.crt", folder / "site.key"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={PUBLIC_HOST}",
            "-addext",
            f"subjectAltName=DNS:{PUBLIC_HOST}",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certificate, key


@dataclass
class Nginx:
    """A running nginx: its HTTPS and HTTP targets and its folder."""

    https: Target
    http: Target
    prefix: Path
    process: subprocess.Popen


@contextmanager
def running_nginx(upstream_port: int) -> Iterator[Nginx]:
    """Debian's nginx with deploy/nginx.conf in front of 127.0.0.1:upstream_port.

    Runs as an ordinary process with its own pid, log and temp paths in a temporary folder;
    started as root (CI), it drops to `nobody` first, so it never needs privileges.
    """
    prefix = Path(tempfile.mkdtemp(prefix="nginx-site-"))
    process = None
    try:
        # The stylesheets copied in, so that nginx reads them whatever the checkout's modes.
        shutil.copytree(ROOT / "static", prefix / "static")
        (prefix / "acme").mkdir()
        certificate, key = _self_signed_certificate(prefix)
        http_port, https_port = free_port(), free_port()
        site = nginx_site_config(
            (DEPLOY / "nginx.conf").read_text(),
            http_port=http_port,
            https_port=https_port,
            upstream_port=upstream_port,
            static_root=prefix / "static",
            certificate=certificate,
            key=key,
            acme_root=prefix / "acme",
        )
        config = prefix / "nginx.conf"
        config.write_text(nginx_main_config(site, prefix))
        drop: dict = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            for path in [prefix, *prefix.rglob("*")]:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            drop = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        log = prefix / "error.log"
        command = [NGINX, "-p", f"{prefix}/", "-c", str(config), "-e", str(log)]
        check = subprocess.run(command + ["-t"], capture_output=True, text=True, **drop)  # noqa: S603
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}")
        with (prefix / "stderr.log").open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **drop)  # noqa: S603
        context = ssl.create_default_context(cafile=str(certificate))
        https = Target("nginx", https_port, context)
        _wait_for_nginx(https, process, log)
        yield Nginx(https, Target("nginx-http", http_port), prefix, process)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful: finish the open requests
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(prefix, ignore_errors=True)


def _wait_for_nginx(target: Target, process: subprocess.Popen, log: Path) -> None:
    """Wait until nginx answers at all (whatever gunicorn behind it does)."""
    deadline = time.monotonic() + START_TIMEOUT
    while fetch(target, "/healthz", timeout=5).status is None:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"nginx did not start:\n{_tail(log)}")
        time.sleep(0.1)


# --- slow clients ------------------------------------------------------------------------------


class _SlowClient(threading.Thread):
    """A connection that sends its request a little at a time until stopped.

    `dropped_after` is set (seconds since it connected) when the server answers or closes the
    connection first; `held()` says whether the connection is still open and unanswered.
    """

    interval = 1.0

    def __init__(self, target: Target, path: str):
        super().__init__(daemon=True)
        self.target, self.path = target, path
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.dropped_after: float | None = None
        self.answer = b""
        self.error: str | None = None

    def first_bytes(self) -> bytes:
        raise NotImplementedError

    def next_bytes(self, n: int) -> bytes:
        raise NotImplementedError

    def run(self) -> None:
        try:
            sock = self.target.connect(timeout=10)
        except OSError as exc:
            self.error = type(exc).__name__
            self.connected.set()
            return
        started = time.monotonic()
        try:
            sock.sendall(self.first_bytes())
            self.connected.set()
            n, next_send = 0, started + self.interval
            # Watch for the server's answer (a 408, say) or its closing the connection between
            # sends, so that dropped_after is accurate to 0.1 s.
            while not self.stopped.wait(0.1):
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    self.answer = sock.recv(4096)
                    self.dropped_after = time.monotonic() - started
                    return
                if time.monotonic() >= next_send:
                    n += 1
                    next_send += self.interval
                    sock.sendall(self.next_bytes(n))
        except OSError:
            self.dropped_after = time.monotonic() - started
        finally:
            self.connected.set()
            sock.close()

    def held(self) -> bool:
        """Whether the connection is open, unanswered and still sending."""
        return self.is_alive() and self.dropped_after is None and self.error is None

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


class SlowHeaderClient(_SlowClient):
    """A GET whose header arrives one line a second and never ends."""

    def first_bytes(self) -> bytes:
        return f"GET {self.path} HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\n".encode()

    def next_bytes(self, n: int) -> bytes:
        return f"X-Slow-{n}: {n}\r\n".encode()


class SlowBodyClient(_SlowClient):
    """A form POST that announces 20,000 bytes and sends 64 of them a second."""

    length = 20_000

    def first_bytes(self) -> bytes:
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {self.length}\r\n\r\nemail="
        ).encode()

    def next_bytes(self, n: int) -> bytes:
        return b"a" * 64


@contextmanager
def slow_clients(target: Target, headers: int, bodies: int) -> Iterator[list[_SlowClient]]:
    """Open the slow clients (all connected and sending when the block starts); stop them at
    the end of the block."""
    clients: list[_SlowClient] = [SlowHeaderClient(target, "/") for _ in range(headers)]
    clients += [SlowBodyClient(target, "/login") for _ in range(bodies)]
    for client in clients:
        client.start()
        client.connected.wait(10)
    try:
        yield clients
    finally:
        for client in clients:
            client.stopped.set()
        for client in clients:
            client.stop()


def probes(
    target: Target, paths: list[str], *, spacing: float, timeout: float
) -> list[tuple[str, Reply]]:
    """Send the requests `spacing` seconds apart, each on its own thread; all replies."""
    results: list[tuple[str, Reply] | None] = [None] * len(paths)

    def one(i: int, path: str) -> None:
        results[i] = (path, fetch(target, path, timeout=timeout))

    threads = []
    for i, path in enumerate(paths):
        thread = threading.Thread(target=one, args=(i, path), daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(spacing)
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


# --- worker memory -----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def memory_kb(pid: int) -> dict[str, int]:
    """RSS, PSS and USS (private clean + dirty) of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return {
        "rss": fields["Rss"],
        "pss": fields["Pss"],
        "uss": fields["Private_Clean"] + fields["Private_Dirty"],
    }


MEMORY_PATHS = [
    "/",
    "/activities",
    "/activities?q=fotball",
    "/activities?q=sv%C3%B8mming&age=9",
    "/api/v1/activities",
    "/calendar.ics",
    "/feed.atom",
    "/embed",
    "/login",
    "/healthz",
]


def measure_memory(
    env: dict[str, str], workdir: Path, args: list[str] | None, workers: int = 2
) -> dict:
    """Start gunicorn with `args`, send 60 requests, measure the master and the workers."""
    with running_gunicorn(env, workdir, args=args, workers=workers) as server:
        statuses = [fetch(server.target, path).status for _ in range(6) for path in MEMORY_PATHS]
        time.sleep(0.5)
        workers_kb = [memory_kb(pid) for pid in _children(server.process.pid)]
        master = memory_kb(server.process.pid)
    return {"master": master, "workers": workers_kb, "statuses": statuses}


def _variant_config(workdir: Path, name: str, extra: str) -> list[str]:
    """deploy/gunicorn.conf.py with some settings changed after it (for comparison only)."""
    path = workdir / f"gunicorn-{name}.conf.py"
    path.write_text((DEPLOY / "gunicorn.conf.py").read_text() + "\n" + extra + "\n")
    return ["--config", str(path)]


# --- the report --------------------------------------------------------------------------------

SCENARIOS = [
    ("no slow clients (baseline)", 0, 0),
    ("2 clients sending one header line a second", 2, 0),
    ("2 clients sending half a request body slowly", 0, 2),
    ("6 slow-header + 2 slow-body clients", 6, 2),
]


def slow_client_report(hold: float, timeout: float) -> None:
    """Print, per scenario and target, how the 12 normal requests fared."""
    workdir = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    try:
        env = prepare_instance(workdir, demo=True)
        with running_gunicorn(env, workdir) as server, running_nginx(server.target.port) as site:
            gunicorn = server.target
            print(
                "Normal requests: 12 (/healthz and / alternating, one every 0.5 s, each with a "
                f"{timeout:.0f} s timeout), from 1 s after the slow clients connected, who keep "
                f"sending until the last normal request is done and at least {hold:.0f} s. "
                "gunicorn: 2 sync workers, deploy/gunicorn.conf.py; nginx: deploy/nginx.conf "
                "over TLS in front of the same gunicorn."
            )
            print(
                f"{'scenario':<46} | {'target':<8} | answered | median  | max     | "
                "slow clients dropped by the server after"
            )
            print("-" * 126)
            for title, headers, bodies in SCENARIOS:
                for target in (gunicorn, site.https):
                    _wait_until_healthy(target)
                    with slow_clients(target, headers, bodies) as clients:
                        started = time.monotonic()
                        time.sleep(1.0)
                        replies = probes(
                            target, ["/healthz", "/"] * 6, spacing=0.5, timeout=timeout
                        )
                        held = sum(c.held() for c in clients)
                        time.sleep(max(0.0, hold - (time.monotonic() - started)))
                    ok = [r.seconds for _, r in replies if r.status == 200]
                    others = sorted({r.error or str(r.status) for _, r in replies} - {"200"})
                    dropped = [
                        f"{c.dropped_after:.1f} s ({c.answer[:12].decode(errors='replace')!r})"
                        for c in clients
                        if c.dropped_after is not None
                    ]
                    print(
                        f"{title:<46} | {target.name:<8} | {len(ok):>2} of 12 | "
                        f"{_ms(statistics.median(ok)) if ok else '-':>7} | "
                        f"{_ms(max(ok)) if ok else '-':>7} | "
                        f"{', '.join(dropped) or 'none'}"
                        f" [{held} of {len(clients)} still held after the last normal request]"
                        + (f"; not answered: {', '.join(others)}" if others else "")
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_healthy(target: Target) -> None:
    """After a scenario: gunicorn finishes with the closed slow connections first."""
    deadline = time.monotonic() + START_TIMEOUT
    while fetch(target, "/healthz", timeout=5).status != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{target.name} did not recover")
        time.sleep(0.2)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def memory_report(workers: int) -> None:
    """Print the memory of gunicorn's workers, five ways."""
    workdir = Path(tempfile.mkdtemp(prefix="worker-memory-"))
    try:
        env = prepare_instance(workdir, demo=True)
        variants = [
            (
                f"before: gunicorn --workers {workers} 'directory:create_app()'",
                ["--no-control-socket", "directory:create_app()"],
            ),
            (
                "deploy/gunicorn.conf.py, preload_app = False",
                _variant_config(workdir, "lazy", "preload_app = False"),
            ),
            (
                "deploy/gunicorn.conf.py, preload, no gc.freeze",
                _variant_config(workdir, "nofreeze", "del pre_fork"),
            ),
            (
                "deploy/gunicorn.conf.py, preload + gc.freeze, no warm-up",
                _variant_config(workdir, "cold", "def when_ready(server):\n    pass"),
            ),
            ("deploy/gunicorn.conf.py (preload + warm-up + gc.freeze)", None),
        ]
        print(
            f"Worker memory after 60 requests (6 x 10 URLs) on the demo data, {workers} sync "
            "workers; kB from /proc/PID/smaps_rollup (USS = private memory, what a worker really "
            "adds)."
        )
        print(
            f"{'variant':<55} | {'RSS/worker':>10} | {'PSS/worker':>10} | {'USS/worker':>10} | "
            f"{'master PSS':>10} | {'total PSS':>9}"
        )
        print("-" * 118)
        for title, args in variants:
            result = measure_memory(env, workdir, args, workers)
            measured = result["workers"]

            def mean(key: str, measured: list = measured) -> float:
                return statistics.mean(w[key] for w in measured)

            total = result["master"]["pss"] + sum(w["pss"] for w in measured)
            bad = [s for s in result["statuses"] if s != 200]
            print(
                f"{title:<55} | {mean('rss'):>10,.0f} | {mean('pss'):>10,.0f} | "
                f"{mean('uss'):>10,.0f} | {result['master']['pss']:>10,} | {total:>9,}"
                + (f"  (non-200 answers: {bad})" if bad else "")
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Run the slow-client and the memory measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hold", type=float, default=12.0, help="seconds the slow clients send at least"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds a normal request may take"
    )
    parser.add_argument("--workers", type=int, default=2, help="workers for the memory part")
    parser.add_argument("--skip-slow", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_slow:
        slow_client_report(args.hold, args.timeout)
        print()
    if not args.skip_memory:
        memory_report(args.workers)


if __name__ == "__main__":
    main()
