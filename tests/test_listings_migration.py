"""The migration of issue 14's listings (d4f6b8c0e246): the column and table the models
describe, existing public activities confirmed until the season's end, and a clean undo."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from directory import create_app
from directory.extensions import db
from tests.test_migrations import empty_database_url  # noqa: F401 - the fixture

REVISION = "d4f6b8c0e246"
BEFORE = "c3e5a7b9d135"


def _mine(difference) -> bool:
    """Whether an autogenerate difference concerns this migration's column or table."""
    text_ = repr(difference)
    return "listing_reminder" in text_ or "confirmed_until" in text_


def test_the_migration_fills_public_activities_and_undoes_cleanly(
    empty_database_url,  # noqa: F811
    tmp_path,
):
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
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO municipality (id, slug, name, messaging_label) "
                     "VALUES (1, 'drammen', 'Drammen', 'Vigilo')")
            )  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO organisation (id, municipality_id, slug, name, kind,"
                    " description, verification, rejection_reason, created_at, updated_at,"
                    " version) VALUES (1, 1, 'klubb', 'Klubb', 'volunteer', '', 'verified', '',"
                    " :t, :t, 1)"
                ),
                {"t": datetime(2026, 11, 1, tzinfo=UTC)},
            )
            for aid, status in ((1, "published"), (2, "cancelled"), (3, "draft")):
                conn.execute(
                    text(
                        "INSERT INTO activity (id, organisation_id, title, summary, description,"
                        " tags, age_min, age_max, price_nok, price_note, venue, address,"
                        " accessibility, languages, image_alt, status, cancellation_note, season,"
                        " created_at, updated_at, version) VALUES (:id, 1, 'A', '', '', '', 6, 9,"
                        " 0, '', '', '', '', 'no', '', :status, '', '', :t, :t, 1)"
                    ),
                    {"id": aid, "status": status, "t": datetime(2026, 11, 1, tzinfo=UTC)},
                )
        # 10 September: the autumn season's end, 31 December, is within six months.
        with time_machine.travel(datetime(2026, 9, 10, 10, tzinfo=UTC), tick=False):
            upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            dates = dict(conn.execute(text("SELECT id, confirmed_until FROM activity")).all())
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = [d for d in compare_metadata(context, db.metadata) if _mine(d)]
        assert {k: str(v) if v else None for k, v in dates.items()} == {
            1: "2026-12-31",
            2: "2026-12-31",
            3: None,
        }
        assert differences == []
        downgrade(revision=BEFORE)
        inspector = inspect(db.engine)
        assert "listing_reminder" not in inspector.get_table_names()
        assert "confirmed_until" not in {c["name"] for c in inspector.get_columns("activity")}
        db.engine.dispose()
