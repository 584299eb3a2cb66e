"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from directory import create_app, normalise_database_url
from directory.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    """A URL of a database with no tables: a new SQLite file, or a new PostgreSQL database."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    server = make_url(normalise_database_url(url))
    name = f"directory_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_database_url, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "x",
            "TESTING": True,
            "UPLOAD_FOLDER": str(tmp_path / "u"),
            "SEARCH_INDEX_DIR": str(tmp_path / "s"),
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == []

        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()


def test_languages_become_codes_and_come_back_as_names(empty_database_url, tmp_path):
    """Free text that names a listed language is stored as its code; other text is kept."""
    from datetime import UTC, datetime

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "x",
            "TESTING": True,
            "UPLOAD_FOLDER": str(tmp_path / "u"),
            "SEARCH_INDEX_DIR": str(tmp_path / "s"),
        }
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    before_codes = "e7b2c4d91f05"
    with app.app_context():
        upgrade(revision=before_codes)
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO municipality (id, slug, name, messaging_label) "
                     "VALUES (1, 'drammen', 'Drammen', 'Visma')")
            )  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO organisation (id, municipality_id, slug, name, kind, description,"
                    " verification, rejection_reason, created_at, updated_at, version) VALUES"
                    " (1, 1, 'klubb', 'Klubb', 'volunteer', '', 'verified', '', :t, :t, 1)"
                ),
                {"t": now},
            )
            for number, languages in enumerate(["Norsk og Engelsk", "norsk; kurdisk", ""], 1):
                conn.execute(
                    text(
                        "INSERT INTO activity (id, organisation_id, title, summary, description,"
                        " tags, age_min, age_max, price_nok, price_note, venue, address,"
                        " accessibility, languages, image_alt, status, cancellation_note, season,"
                        " created_at, updated_at, version) VALUES (:id, 1, 'A', '', '', '', 6, 9,"
                        " 0, '', '', '', '', :languages, '', 'published', '', '', :t, :t, 1)"
                    ),
                    {"id": number, "languages": languages, "t": now},
                )

        def stored() -> list[str]:
            with db.engine.connect() as conn:
                return list(conn.scalars(text("SELECT languages FROM activity ORDER BY id")))

        upgrade()
        assert stored() == ["no, en", "no, kurdisk", ""]
        downgrade(revision=before_codes)
        assert stored() == ["norsk, engelsk", "norsk, kurdisk", ""]
        db.engine.dispose()
