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


def test_venue_texts_become_one_venue_per_name_and_address_in_a_municipality(
    empty_database_url, tmp_path
):
    """Activities' venue texts become venues: the same name and address (case and spacing
    aside) is one venue per municipality, with the coordinates of a use that had them; a place
    only a draft names is added by its organisation. Downgrading keeps the texts."""
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
    before_venues = "b2d4f6a81024"
    with app.app_context():
        upgrade(revision=before_venues)
        with db.engine.begin() as conn:
            for mid, slug in ((1, "drammen"), (2, "lier")):
                conn.execute(
                    text("INSERT INTO municipality (id, slug, name, messaging_label) "
                         "VALUES (:id, :slug, :slug, 'Vigilo')"),
                    {"id": mid, "slug": slug},
                )  # fmt: skip
                conn.execute(
                    text(
                        "INSERT INTO organisation (id, municipality_id, slug, name, kind,"
                        " description, verification, rejection_reason, created_at, updated_at,"
                        " version) VALUES (:id, :id, :slug, 'Klubb', 'volunteer', '',"
                        " 'verified', '', :t, :t, 1)"
                    ),
                    {"id": mid, "slug": f"klubb-{slug}", "t": datetime(2026, 11, 1, tzinfo=UTC)},
                )
            rows = [  # id, organisation (= municipality), venue, address, lat, lon, status, day
                (1, 1, "Fjellhallen", "Fjellveien 3", None, None, "published", 1),
                (2, 1, "FJELLHALLEN ", "fjellveien  3", 59.73, 10.18, "published", 2),
                (3, 1, "Fjellhallen", "Fjellveien 3", None, None, "published", 3),
                (4, 2, "Fjellhallen", "Fjellveien 3", None, None, "published", 1),
                (5, 1, "Loftet", "", None, None, "draft", 1),
                (6, 1, "", "", None, None, "published", 1),
            ]
            for aid, org, venue, address, lat, lon, status, day in rows:
                conn.execute(
                    text(
                        "INSERT INTO activity (id, organisation_id, title, summary, description,"
                        " tags, age_min, age_max, price_nok, price_note, venue, address,"
                        " latitude, longitude, accessibility, languages, image_alt, status,"
                        " cancellation_note, season, created_at, updated_at, version) VALUES"
                        " (:id, :org, 'A', '', '', '', 6, 9, 0, '', :venue, :address, :lat, :lon,"
                        " '', 'no', '', :status, '', '', :t, :t, 1)"
                    ),
                    {"id": aid, "org": org, "venue": venue, "address": address, "lat": lat,
                     "lon": lon, "status": status, "t": datetime(2026, 11, day, tzinfo=UTC)},
                )  # fmt: skip
        upgrade()
        with db.engine.connect() as conn:
            venues = conn.execute(
                text("SELECT id, municipality_id, name, address, latitude, added_by_id "
                     "FROM venue ORDER BY municipality_id, name")
            ).all()  # fmt: skip
            placed = dict(conn.execute(text("SELECT id, venue_id FROM activity")).all())
            texts = conn.execute(text("SELECT venue, address FROM activity WHERE id = 2")).one()
        by_name = {(v.municipality_id, v.name): v for v in venues}
        assert sorted(by_name) == [(1, "Fjellhallen"), (1, "Loftet"), (2, "Fjellhallen")]
        fjell = by_name[(1, "Fjellhallen")]
        # Named as its most recent use (activity 3), with the coordinates of activity 2.
        assert (fjell.address, float(fjell.latitude)) == ("Fjellveien 3", 59.73)
        assert placed[1] == placed[2] == placed[3] == fjell.id
        assert placed[4] == by_name[(2, "Fjellhallen")].id and placed[6] is None
        assert tuple(texts) == ("Fjellhallen", "Fjellveien 3")
        assert by_name[(1, "Loftet")].added_by_id == 1
        downgrade(revision=before_venues)
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT venue FROM activity WHERE id = 5")).scalar_one()
            assert kept == "Loftet"
            assert "venue" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
