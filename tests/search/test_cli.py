"""flask reindex [--pending] and flask check-index."""

from __future__ import annotations

import shutil

from directory.extensions import db
from directory.search.service import get_backend


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_reindex_builds_the_index_and_prints_the_count(app, monkeypatch, make_activity):
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)
    make_activity(title="Klatring")
    make_activity(title="Buldring")
    make_activity(title="Utkast", status="draft")
    result = run(app, "reindex")
    assert result.exit_code == 0, result.output
    assert "Søkeindeksen er bygget med 2 aktiviteter." in result.output
    assert len(get_backend().stamps()) == 2


def test_check_index_agrees_with_exit_0(app, make_activity):
    make_activity(title="Klatring")
    result = run(app, "check-index")
    assert result.exit_code == 0
    assert result.output == "Indeksen stemmer med databasen.\n"


def test_check_index_lists_the_difference_with_exit_1(app, monkeypatch, make_activity):
    stale = make_activity(title="Klatring")
    deleted = make_activity(title="Svømming")
    hidden = make_activity(title="Sjakk")
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)
    missing = make_activity(title="Buldring")
    stale.title = "Klatring for viderekomne"
    hidden.status = "archived"
    deleted_id = deleted.id
    db.session.delete(deleted)
    db.session.commit()

    result = run(app, "check-index")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[lines.index("Mangler i indeksen (1):") + 1] == f"  {missing.id}  Buldring"
    extra = lines.index("Skulle ikke vært i indeksen (2):")
    assert sorted(lines[extra + 1 : extra + 3]) == sorted(
        [f"  {hidden.id}  Sjakk", f"  {deleted_id}  (slettet)"]
    )
    assert lines[lines.index("Utdatert i indeksen (1):") + 1] == (
        f"  {stale.id}  Klatring for viderekomne"
    )

    assert run(app, "reindex").exit_code == 0
    assert run(app, "check-index").exit_code == 0


def test_check_index_without_an_index_exits_1(app, make_activity):
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    result = run(app, "check-index")
    assert result.exit_code == 1
    assert "reindex" in result.output


def test_reindex_pending_writes_the_backlog(app, monkeypatch, make_activity):
    monkeypatch.setitem(app.config, "SEARCH_WRITER_TIMEOUT", 0.1)
    backend = get_backend()
    holder = backend._open(backend.current_name()).writer()
    make_activity(title="Klatring")
    make_activity(title="Buldring")
    locked = run(app, "reindex", "--pending")
    assert locked.exit_code == 1
    assert "Feil: søkeindeksen kunne ikke skrives" in locked.output
    holder.cancel()
    result = run(app, "reindex", "--pending")
    assert result.exit_code == 0, result.output
    assert "2 aktiviteter fra køen er skrevet til søkeindeksen." in result.output
    assert run(app, "check-index").exit_code == 0
