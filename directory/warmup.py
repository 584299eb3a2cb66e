"""Warming the application in gunicorn's master, before it forks the workers.

With `preload_app` the master imports the application and the workers share its memory
copy-on-write. What the first requests load was still loaded by each worker on its own, as
private memory: the calendar, Markdown and HTML-cleaning libraries, Babel's locale data, the
translations, each language's compiled templates and the search index's reading modules (about
15 MB per worker after `bench/floor.py`'s run at 10,000 activities).

warm_up() asks for the public pages once in each interface language, through the test client in
the master, and then lets go of what must not cross a fork: the search index's open searcher
and every database connection. The workers then start with all of it shared. It never stops the
site from starting: a page that fails is logged, and the workers load what it would have.
"""

from __future__ import annotations

import gc
import logging
import threading

from flask import Flask

from directory import data_version
from directory.extensions import db
from directory.search.service import get_backend

log = logging.getLogger(__name__)

# Public pages that between them use the templates, libraries and texts most visitors' requests
# use. The feeds search for one word: their libraries are loaded without writing the whole
# calendar in the master.
WARM_PATHS = (
    "/",
    "/activities?q=fotball&age=10",
    "/api/v1/activities?q=fotball",
    "/calendar.ics?q=oppvarming",
    "/feed.atom?q=oppvarming",
)
# The address the warm-up's requests come from: TEST-NET-1 (RFC 5737), never a real client's,
# so they count against no one's rate limit.
WARM_CLIENT = "192.0.2.1"


def warm_up(app: Flask) -> dict[str, int]:
    """Ask for the public pages (and one activity's page) in every interface language; the
    status of each, by path. Then close the searcher and the database connections."""
    base_url = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    statuses: dict[str, int] = {}
    try:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = WARM_CLIENT
        paths = list(WARM_PATHS)
        listed = client.get("/api/v1/activities?per_page=1", base_url=base_url)
        if listed.status_code == 200:
            items = listed.get_json().get("items") or []
            paths += [f"/activities/{item['id']}" for item in items[:1]]
        for language in app.config["LANGUAGES"]:
            for path in paths:
                url = f"{path}{'&' if '?' in path else '?'}lang={language}"
                statuses[url] = client.get(url, base_url=base_url).status_code
    except Exception:  # the site must start all the same: each worker loads what it needs
        log.warning("the warm-up before the workers start failed", exc_info=True)
    release(app)
    failed = {url: status for url, status in statuses.items() if status != 200}
    if failed:
        log.warning("the warm-up before the workers start: these pages failed: %s", failed)
    return statuses


def release(app: Flask) -> None:
    """Close what a forked worker must not share with the master: the searcher and its files,
    this thread's connection for the data version, and the pooled database connections (each
    request's session was closed at its end)
    (gunicorn's post_fork disposes of the workers' inherited pool again, without closing). Then
    wait for the short timers the requests started (the rate limiter's memory store expires its
    counts on one): a thread that held a lock at the fork would leave it locked in the worker."""
    try:
        with app.app_context():
            get_backend(app).close()
            data_version.release()
            db.engine.dispose()
    except Exception:
        log.warning("closing what the warm-up opened failed", exc_info=True)
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer) and thread is not threading.current_thread():
            thread.join(timeout=1)
    gc.collect()
