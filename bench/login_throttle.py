"""Failed logins that get through in a minute at one account, under gunicorn's two workers.

    .venv/bin/python bench/login_throttle.py [--storage redis://127.0.0.1:6379/14]
        [--addresses 3] [--seconds 60] [--rate 20] [--source DIR]

Makes a temporary SQLite database with one account, starts gunicorn with two sync workers on
127.0.0.1, and for `--seconds` sends wrong passwords for that account from `--addresses` client
addresses (127.0.0.1, 127.0.0.2, ...: all of 127/8 reaches loopback, so the app sees each as
its own client), from four client threads, at most `--rate` requests a second in all (20). Prints how many
were answered 401 (the password was checked: a guess got through) and how many 429, and
whether gunicorn's log has the warning about the memory store. A redis:// store's database is
emptied first. `--source` runs another copy of the code, e.g. `git archive HEAD | tar -x -C DIR`,
to measure before a change. Stops gunicorn and deletes what it made.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "kari@example.org"
SETUP = """
from directory import create_app
from directory.accounts.operations import create_user
from directory.extensions import db

app = create_app()
with app.app_context():
    db.create_all()
    create_user("kari@example.org", "Kari", "riktig-hest-batteri-42")
    db.session.commit()
"""
THREADS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(source: Path, work: Path, storage: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DIRECTORY_") and k not in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY")
    }
    env.update(
        {
            "PYTHONPATH": str(source),
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "SECRET_KEY": "bench",
            "DIRECTORY_INSTANCE_PATH": str(work / "instance"),
            "DIRECTORY_RATELIMIT_STORAGE_URI": storage,
            "DIRECTORY_WTF_CSRF_ENABLED": "false",
        }
    )
    return env


def post_login(port: int, source_address: str) -> int:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source_address, 0)
    )
    try:
        body = urlencode({"email": EMAIL, "password": "feil-passord-123"})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", "/login", body, headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited at boot:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within 60 s")


def hammer(port: int, addresses: list[str], seconds: float, rate: float) -> Counter:
    statuses: Counter = Counter()
    turn = itertools.count()
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client() -> None:
        while True:
            with lock:
                n = next(turn)
            due = n / rate
            start = end - seconds
            wait = start + due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() >= end:
                return
            status = post_login(port, addresses[n % len(addresses)])
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--addresses", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second in all")
    args = parser.parse_args()

    if args.storage.startswith("redis://"):
        import redis

        redis.Redis.from_url(args.storage).flushdb()
    work = Path(tempfile.mkdtemp(prefix="login-throttle-"))
    env = environment(args.source.resolve(), work, args.storage)
    subprocess.run([sys.executable, "-c", SETUP], cwd=args.source, env=env, check=True)
    port = free_port()
    log = work / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "directory:create_app()"],
            cwd=args.source,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(port, process, log)
        addresses = [f"127.0.0.{n}" for n in range(1, args.addresses + 1)]
        statuses = hammer(port, addresses, args.seconds, args.rate)
    finally:
        process.terminate()
        process.wait(timeout=30)
    warned = "Rate limits are kept in memory" in log.read_text()
    print(
        f"storage={args.storage} addresses={args.addresses} seconds={args.seconds:g}: "
        f"{statuses[401]} guesses checked (401), {statuses[429]} refused (429), "
        f"other {sum(v for k, v in statuses.items() if k not in (401, 429))}; "
        f"memory-store warning in the log: {'yes' if warned else 'no'}"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
