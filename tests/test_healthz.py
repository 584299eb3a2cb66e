"""GET /healthz: one JSON answer for load balancers and monitoring."""

from __future__ import annotations

from directory import create_app
from directory.api.views import register_health_check
from directory.extensions import db
from tests.conftest import base_config


def test_healthy_app_reports_every_part_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "database": "ok", "search": "ok"}
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
    assert response.get_json() == {"status": "degraded", "database": "error", "search": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_registered_check_that_fails_makes_the_app_degraded(make_app):
    app = make_app()

    def search_is_down():
        raise ConnectionError("index unavailable")

    register_health_check(app, "search", search_is_down)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "ok", "search": "error"}


def test_a_check_returning_false_counts_as_failed(make_app):
    app = make_app()
    register_health_check(app, "cache", lambda: False)
    body = app.test_client().get("/healthz").get_json()
    assert body == {"status": "degraded", "database": "ok", "search": "ok", "cache": "error"}
