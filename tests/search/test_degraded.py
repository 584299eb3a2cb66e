"""A missing or corrupt index: search answers from the database, marked degraded, /healthz 503."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from directory.search.service import get_backend, index_status, rebuild_index

DEGRADED = {"status": "degraded", "database": "ok", "search": "degraded", "disk": "ok"}
HEALTHY = {"status": "ok", "database": "ok", "search": "ok", "disk": "ok"}


@pytest.fixture
def offers(make_activity):
    make_activity(title="Svømmekurs for nybegynnere")
    make_activity(title="Fotballtrening")


def assert_degraded_then_repaired(client, search):
    page = search("kurs")
    assert [a.title for a in page.items] == ["Svømmekurs for nybegynnere"]
    assert page.degraded is True
    assert page.total == 1
    assert index_status() == "degraded"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == DEGRADED

    assert rebuild_index() == 2
    page = search("kurs")
    assert [a.title for a in page.items] == ["Svømmekurs for nybegynnere"]
    assert page.degraded is False
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == HEALTHY


def test_a_deleted_index_directory(app, client, offers, search):
    search("kurs")  # a searcher is open in this process
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    assert_degraded_then_repaired(client, search)


def test_every_index_file_overwritten(app, client, offers, search):
    get_backend().close()  # as a worker starting after the damage
    for path in Path(app.config["SEARCH_INDEX_DIR"]).iterdir():
        path.write_bytes(b"\x00garbage" * 64)
    assert_degraded_then_repaired(client, search)


def test_corrupt_segments_behind_a_valid_pointer(app, client, offers, search):
    get_backend().close()
    for path in Path(app.config["SEARCH_INDEX_DIR"]).iterdir():
        if path.suffix in (".seg", ".toc"):
            path.write_bytes(b"\x00garbage" * 64)
    assert_degraded_then_repaired(client, search)


def test_an_index_from_another_schema_version_waits_for_a_reindex(app, client, offers, search):
    (Path(app.config["SEARCH_INDEX_DIR"]) / "CURRENT").write_text("activities_v0_0123456789ab\n")
    assert_degraded_then_repaired(client, search)


def test_a_healthy_index_reports_ok(client, offers, search):
    assert search("kurs").degraded is False
    assert client.get("/healthz").get_json() == HEALTHY
