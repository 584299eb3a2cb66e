"""The activity_translation migration builds the table the model describes and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from directory import create_app
from directory.extensions import db

REVISION = "e5a7c9d1f357"


def test_translation_table_matches_the_model_and_goes_away_on_downgrade(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
            "SECRET_KEY": "x",
            "TESTING": True,
            "UPLOAD_FOLDER": str(tmp_path / "u"),
            "SEARCH_INDEX_DIR": str(tmp_path / "s"),
        }
    )
    with app.app_context():
        upgrade(revision=REVISION)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = [
                d
                for d in compare_metadata(context, db.metadata)
                if "activity_translation" in repr(d)
            ]
        assert differences == []
        foreign_keys = inspect(db.engine).get_foreign_keys("activity_translation")
        assert foreign_keys[0]["options"].get("ondelete") == "CASCADE"

        downgrade(revision="c3e5a7b9d135")
        assert "activity_translation" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
