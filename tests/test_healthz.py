"""GET /healthz: one JSON answer for load balancers and monitoring."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from directory import create_app
from directory.api.schemas import Health
from directory.api.views import register_health_check
from directory.extensions import db
from directory.search.models import SearchBacklog
from tests.conftest import base_config


def test_healthy_app_reports_every_part_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "database": "ok", "search": "ok", "disk": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_unreachable_database_is_reported_with_503(tmp_path, tmp_path_factory):
    # SQLite cannot create a database file in a folder that does not exist.
    broken = f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}"
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=broken))
    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "database": "error",
        "search": "ok",
        "disk": "ok",
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_a_registered_check_that_fails_makes_the_app_degraded(make_app):
    app = make_app()

    def search_is_down():
        raise ConnectionError("index unavailable")

    register_health_check(app, "search", search_is_down)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "search": "error",
        "disk": "ok",
    }


def test_a_check_returning_false_counts_as_failed(make_app):
    app = make_app()
    register_health_check(app, "cache", lambda: False)
    body = app.test_client().get("/healthz").get_json()
    assert body == {
        "status": "degraded",
        "database": "ok",
        "search": "ok",
        "disk": "ok",
        "cache": "error",
    }


# --- the search index behind, and low disk space -------------------------------------------


@pytest.fixture
def queued_change(monkeypatch, make_activity):
    """An activity committed whose index write never happened (the worker died right after the
    commit); returns when it was queued."""
    monkeypatch.setattr("directory.search.service.follow_changes", lambda ids: False)
    make_activity(title="Klatring")
    monkeypatch.undo()
    db.session.expire_all()
    (queued_at,) = db.session.scalars(select(SearchBacklog.queued_at)).all()
    return queued_at


def test_a_recent_backlog_entry_is_no_alarm(client, queued_change):
    with time_machine.travel(queued_change + timedelta(minutes=4), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["search"] == "ok"


def test_a_backlog_entry_older_than_the_limit_reports_search_behind(app, client, queued_change):
    assert app.config["SEARCH_BACKLOG_MAX_AGE_SECONDS"] == 300
    with time_machine.travel(queued_change + timedelta(minutes=6), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "search": "behind",
        "disk": "ok",
    }
    Health.model_validate(response.get_json())  # as the OpenAPI document declares it
    assert app.test_cli_runner().invoke(args=["reindex", "--pending"]).exit_code == 0
    with time_machine.travel(queued_change + timedelta(minutes=6), tick=False):
        assert client.get("/healthz").status_code == 200


def test_low_disk_space_is_reported_with_503(app, client, monkeypatch):
    real_disk_usage = shutil.disk_usage
    index = Path(app.config["SEARCH_INDEX_DIR"])
    seen = []

    def nearly_full_index_disk(path):
        seen.append(Path(path))
        usage = real_disk_usage(path)
        if Path(path) == index:
            return usage._replace(free=app.config["DISK_MIN_FREE_BYTES"] - 1)
        return usage

    monkeypatch.setattr(shutil, "disk_usage", nearly_full_index_disk)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "search": "ok",
        "disk": "low",
    }
    Health.model_validate(response.get_json())
    assert index in seen
    instance = Path(app.instance_path)  # a clean clone has no instance folder yet
    while not instance.exists():
        instance = instance.parent
    assert instance in seen


def test_enough_disk_space_is_ok(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "DISK_MIN_FREE_BYTES", 1)
    assert client.get("/healthz").get_json()["disk"] == "ok"
