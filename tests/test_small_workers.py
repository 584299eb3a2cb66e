"""A worker that serves the public pages never imports the export, PDF, font, image, QR-code,
Markdown, calendar or migration libraries: they are loaded where they are used (issue 16)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from directory.extensions import db

PROJECT = Path(__file__).resolve().parent.parent

# What each weighs in a worker's memory, roughly (imported into a bare Flask + SQLAlchemy
# process): fpdf2 with fontTools and Pillow 21 MB, Flask-Migrate with Alembic 11 MB, pypdf
# 10 MB, icalendar 3 MB, markdown-it and nh3 3 MB, segno 1 MB.
HEAVY = (
    "alembic",
    "flask_migrate",
    "fpdf",
    "fontTools",
    "PIL",
    "pypdf",
    "segno",
    "markdown_it",
    "nh3",
    "icalendar",
)

SERVE_PUBLIC_PAGES = """
import json, sys
from directory import create_app

app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
pages = {url: client.get(url) for url in ("/", "/activities?q=fotball")}
heavy = json.loads(sys.argv[2])
print(json.dumps({
    "status": {url: page.status_code for url, page in pages.items()},
    "found": "Fotballtrening" in pages["/activities?q=fotball"].get_data(as_text=True),
    "imported": sorted({m.split(".")[0] for m in sys.modules} & set(heavy)),
}))
"""


def test_a_fresh_worker_serving_the_public_pages_imports_none_of_the_heavy_libraries(
    app, make_activity
):
    make_activity(
        title="Fotballtrening",
        description="**Bli med** på trening.\n\n- ta med drikkeflaske",
        image_filename="0123456789abcdef0123456789abcdef.jpg",
        image_alt="Barn som spiller fotball",
    )
    config = {
        key: app.config[key]
        for key in (
            "TESTING",
            "SECRET_KEY",
            "SQLALCHEMY_DATABASE_URI",
            "UPLOAD_FOLDER",
            "UPLOAD_STORAGE",
            "SEARCH_INDEX_DIR",
            "SEARCH_BACKEND",
            "RATELIMIT_STORAGE_URI",
        )
    }
    db.session.remove()  # nothing held open while the other process reads

    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", SERVE_PUBLIC_PAGES, json.dumps(config), json.dumps(HEAVY)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["status"] == {"/": 200, "/activities?q=fotball": 200}
    assert answer["found"], "the search page did not show the activity"
    assert answer["imported"] == [], "a public page imported " + ", ".join(answer["imported"])


def test_flask_db_still_runs_flask_migrate(tmp_path):
    """The `db` group is registered without importing Alembic and is Flask-Migrate's own when
    run: `flask db heads` names the newest migration."""
    from alembic.script import ScriptDirectory

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DIRECTORY_"))}
    env["DIRECTORY_INSTANCE_PATH"] = str(tmp_path)
    flask = [sys.executable, "-m", "flask", "--app", "directory"]

    def run(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
            [*flask, *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    head = ScriptDirectory(str(PROJECT / "migrations")).get_current_head()
    assert run("db", "heads").split() == [head, "(head)"]
    assert re.search(r"^  db +Perform database migrations\.$", run("--help"), re.MULTILINE)
