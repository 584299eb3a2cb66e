"""The warm-up in gunicorn's master before it forks the workers (directory/warmup.py): the public
pages once in each language, nothing left open for the workers to share, no one's rate limit
used, and a site that starts even when the warm-up fails."""

from __future__ import annotations

import logging
import threading

from directory import data_version
from directory.extensions import db
from directory.search.service import get_backend
from directory.warmup import WARM_PATHS, warm_up
from tests.conftest import _build, base_config

LANGUAGES = ("nb", "nn", "en")


def test_the_warm_up_asks_for_the_public_pages_and_an_activity_in_every_language(
    app, make_activity
):
    activity = make_activity(title="Klatring for nybegynnere")
    db.session.commit()

    statuses = warm_up(app)

    assert set(statuses.values()) == {200}
    assert len(statuses) == len(LANGUAGES) * (len(WARM_PATHS) + 1)
    for language in LANGUAGES:
        assert f"/activities/{activity.id}?lang={language}" in statuses
        assert sum(url.endswith(f"lang={language}") for url in statuses) == len(WARM_PATHS) + 1


def test_after_the_warm_up_nothing_is_left_open_or_running_to_cross_the_fork(app, make_activity):
    make_activity()
    db.session.commit()

    warm_up(app)

    assert get_backend(app)._state is None  # the searcher, its files and the mapped index
    assert getattr(data_version._SQLITE, "held", None) is None
    assert db.engine.pool.checkedout() == 0
    assert db.engine.pool.checkedin() == 0  # a new pool: the master's connections are closed
    # No timer thread (the rate limiter's memory store starts them) that could hold a lock.
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]


def test_the_warm_up_counts_against_no_clients_rate_limit(app, client, monkeypatch):
    # The warm-up asks the API four times: from the visitor's address, its five would end at 429.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "5 per minute")
    warm_up(app)

    statuses = [client.get("/api/v1/activities").status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]


def test_a_failing_warm_up_is_logged_and_does_not_stop_the_start(tmp_path_factory, caplog):
    # A database without its tables: every page fails, as with a database down at start.
    empty = tmp_path_factory.mktemp("no-tables") / "directory.sqlite3"
    app = _build(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=f"sqlite:///{empty}"))
    caplog.set_level(logging.WARNING, logger="directory.warmup")

    statuses = warm_up(app)

    assert statuses and 200 not in statuses.values()
    assert "the warm-up before the workers start" in caplog.text
    assert "/?lang=nb" in caplog.text
    with app.app_context():
        db.engine.dispose()
