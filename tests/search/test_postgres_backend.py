"""The PostgreSQL backend: rows written in the change's own transaction, the commands' meaning,
the analysed text, and the extensions' clear error.

The relevance, filter, facet, distance, time and translation tests run on this backend too
(tests/search: the `backend_kind` and `ranking_backend` fixtures); these are its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from directory import normalise_database_url
from directory.extensions import db
from directory.search.documents import document_for, load_public_activities
from directory.search.models import SearchDocument
from directory.search.postgres_backend import analysed, quote_lexeme
from directory.search.query import SearchQuery
from directory.search.service import search_activities
from tests.search.conftest import ON_POSTGRESQL

on_postgresql = pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL (DATABASE_URL)")


@pytest.fixture
def postgres(app, monkeypatch):
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", "postgres")


def found(text: str) -> list[str]:
    page = search_activities(SearchQuery(text=text, sort="relevance"))
    assert page.degraded is False
    return [a.title for a in page.items]


def indexed_ids() -> set[int]:
    return set(db.session.scalars(select(SearchDocument.activity_id)))


# --- the analysed text (pure Python: on every database) ---------------------------------------


def test_the_title_weighs_a_and_compounds_and_folded_spellings_are_indexed(app, make_activity):
    activity = make_activity(title="Svømmekurs", summary="", description="Ta med håndkle.")
    with db.session.no_autoflush:
        doc = document_for(load_public_activities(db.session, [activity.id])[activity.id])
    vector, lexemes, words = analysed(doc)
    entries = dict(entry.rsplit(":", 1) for entry in vector.split(" "))
    assert entries["'svømmekurs'"].endswith("A")  # the whole compound, in the title
    assert entries["'kurs'"].endswith("A")  # its part, at index time
    assert entries["'svommekurs'"].endswith("D")  # without ø: widens, does not score
    assert "håndkl" in lexemes and "svømmekurs" in words  # words for typos and suggestions


def test_lexemes_are_quoted_whatever_they_hold():
    assert quote_lexeme("it's") == "'it''s'"
    assert quote_lexeme("a\\b") == "'a\\\\b'"


# --- written in the change's transaction --------------------------------------------------------


@on_postgresql
def test_a_change_is_searchable_when_it_commits_and_not_before(postgres, make_activity):
    activity = make_activity(title="Klatring for nybegynnere")
    assert found("klatring") == ["Klatring for nybegynnere"]

    activity.title = "Buldring for nybegynnere"
    db.session.flush()
    assert found("buldring") == []  # flushed, not committed: another connection sees nothing
    db.session.commit()
    assert found("buldring") == ["Buldring for nybegynnere"]
    assert found("klatring") == []


@on_postgresql
def test_a_rolled_back_change_leaves_no_row(postgres, make_activity, make_organisation):
    club = make_organisation()
    kept = make_activity(title="Sjakk", organisation=club)
    kept.title = "Sjakk for viderekomne"
    db.session.flush()
    db.session.rollback()
    assert found("viderekomne") == []
    assert indexed_ids() == {kept.id}


@on_postgresql
def test_leaving_the_public_and_deletion_remove_the_row(postgres, make_activity):
    hidden = make_activity(title="Teater")
    deleted = make_activity(title="Teaterkurs")
    hidden.status = "archived"
    db.session.delete(deleted)
    db.session.commit()
    assert indexed_ids() == set()
    assert found("teater") == []


@on_postgresql
def test_an_organisation_renamed_rewrites_its_activities(
    postgres, make_activity, make_organisation
):
    club = make_organisation(name="Konnerud IL")
    make_activity(title="Minifotball", organisation=club)
    make_activity(title="Allidrett", organisation=club)
    club.name = "Drammen Turn"
    db.session.commit()
    assert sorted(found("turn")) == ["Allidrett", "Minifotball"]
    assert found("konnerud") == []


@on_postgresql
def test_bulk_loads_without_sync_are_caught_up_by_reindex(
    app, postgres, monkeypatch, make_activity
):
    runner = app.test_cli_runner()
    make_activity(title="Klatring")
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)
    missing = make_activity(title="Buldring")

    checked = runner.invoke(args=["check-index"])
    assert checked.exit_code == 1
    assert f"  {missing.id}  Buldring" in checked.output

    pending = runner.invoke(args=["reindex", "--pending"])
    assert pending.exit_code == 0
    assert "Ingenting å gjøre" in pending.output

    refreshed = runner.invoke(args=["reindex"])
    assert refreshed.exit_code == 0, refreshed.output
    assert "Søkedataene i PostgreSQL er friske: 2 aktiviteter" in refreshed.output
    checked = runner.invoke(args=["check-index"])
    assert checked.exit_code == 0
    assert "Søkedataene i PostgreSQL stemmer med databasen" in checked.output
    assert found("buldring") == ["Buldring"]


@on_postgresql
def test_healthz_says_ok_with_nothing_behind(postgres, client, make_activity):
    make_activity(title="Klatring")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["search"] == "ok"


# --- the extensions ------------------------------------------------------------------------------


@on_postgresql
def test_a_user_who_may_not_create_the_extensions_gets_a_clear_error(tmp_path):
    """The migration says what to ask the database administrator for, and stops."""
    server = make_url(normalise_database_url(os.environ["DATABASE_URL"]))
    name = f"directory_ext_{uuid.uuid4().hex[:8]}"
    role = f"directory_user_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    owner = create_engine(server.set(database=name), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:  # tables in public, but no CREATE on the database
        conn.execute(text(f'GRANT CREATE ON SCHEMA public TO "{role}"'))
    owner.dispose()
    url = server.set(database=name, username=role, password=None)
    try:
        upgrade = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "directory", "db", "upgrade"],
            env={
                **os.environ,
                "DATABASE_URL": url.render_as_string(hide_password=False),
                "DIRECTORY_INSTANCE_PATH": str(tmp_path / "instance"),
                "SECRET_KEY": "test",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert upgrade.returncode != 0
        assert "PostgreSQL search needs the extensions unaccent, pg_trgm" in upgrade.stderr
        assert "the database user may not create them" in upgrade.stderr
        assert "CREATE EXTENSION IF NOT EXISTS unaccent;" in upgrade.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@on_postgresql
def test_an_upgraded_installation_answers_degraded_until_its_first_reindex(
    app, postgres, monkeypatch, client, make_activity
):
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)  # as before the backend existed
    make_activity(title="Klatring")
    page = search_activities(SearchQuery(text="klatring", sort="relevance"))
    assert page.degraded is True and [a.title for a in page.items] == ["Klatring"]
    assert client.get("/healthz").get_json()["search"] == "degraded"

    assert app.test_cli_runner().invoke(args=["reindex"]).exit_code == 0
    assert found("klatring") == ["Klatring"]
    assert client.get("/healthz").get_json()["search"] == "ok"
