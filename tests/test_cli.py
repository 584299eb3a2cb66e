"""`flask backup`: a consistent copy of the database, uploads beside it, no overwrites."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

from directory.backup import BackupError, make_backup
from directory.extensions import db


def backend() -> str:
    return db.engine.url.get_backend_name()


@pytest.fixture
def sqlite_only(app):
    if backend() != "sqlite":
        pytest.skip(f"the test database is {backend()}; this checks the SQLite backup")


@pytest.fixture
def backup_possible(app):
    if backend() == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("the test database is PostgreSQL and pg_dump is not on PATH")


@pytest.fixture
def upload_folder(app, tmp_path, monkeypatch):
    """An empty upload folder of this test's own, where the app keeps its uploads."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    monkeypatch.setitem(app.config, "UPLOAD_STORAGE", "folder")
    return folder


def run_backup(app, *args: str):
    return app.test_cli_runner().invoke(args=["backup", *args])


def test_sqlite_backup_is_a_database_with_the_same_activities(
    app, sqlite_only, tmp_path, make_activity
):
    make_activity(title="Barnekoret")
    make_activity(title="Kodeklubb")
    target = tmp_path / "kopi.sqlite3"

    result = run_backup(app, str(target))

    assert result.exit_code == 0, result.output
    assert f"Databasen er kopiert til {target}" in result.output
    with sqlite3.connect(target) as copy:
        titles = sorted(t for (t,) in copy.execute("SELECT title FROM activity"))
        journal = copy.execute("PRAGMA journal_mode").fetchone()[0]
    assert titles == ["Barnekoret", "Kodeklubb"]
    assert journal == "delete"  # one self-contained file, no -wal beside it
    assert not list(tmp_path.glob("*.tmp"))


def test_backup_refuses_to_overwrite_without_force(app, backup_possible, tmp_path, make_activity):
    make_activity()
    target = tmp_path / "kopi.sqlite3"
    target.write_bytes(b"viktig")

    result = run_backup(app, str(target))
    assert result.exit_code == 1
    assert "finnes allerede" in result.output
    assert "--force" in result.output
    assert target.read_bytes() == b"viktig"

    result = run_backup(app, str(target), "--force")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != b"viktig"


def test_uploads_are_packed_beside_the_backup(app, backup_possible, tmp_path, upload_folder):
    (upload_folder / "0123456789abcdef0123456789abcdef.pdf").write_bytes(b"%PDF-1.4 flyer")
    target = tmp_path / "kopi.db"

    result = run_backup(app, str(target))

    assert result.exit_code == 0, result.output
    archive = tmp_path / "kopi.db.uploads.tar.gz"
    assert str(archive) in result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        member = tar.extractfile("uploads/0123456789abcdef0123456789abcdef.pdf")
        assert member is not None and member.read() == b"%PDF-1.4 flyer"
    assert "uploads/0123456789abcdef0123456789abcdef.pdf" in names


def test_without_uploads_no_archive_is_written(app, backup_possible, tmp_path, upload_folder):
    target = tmp_path / "kopi.sqlite3"
    result = run_backup(app, str(target))
    assert result.exit_code == 0, result.output
    assert "Ingen opplastede filer" in result.output
    assert not (tmp_path / "kopi.sqlite3.uploads.tar.gz").exists()


def test_backup_into_a_missing_folder_is_refused(app, tmp_path):
    result = run_backup(app, str(tmp_path / "finnes-ikke" / "kopi.sqlite3"))
    assert result.exit_code == 1
    assert "finnes ikke" in result.output


def test_backup_cannot_overwrite_the_database_itself(app, sqlite_only):
    database = Path(db.engine.url.database)
    size = database.stat().st_size
    result = run_backup(app, str(database), "--force")
    assert result.exit_code == 1
    assert "selve databasen" in result.output
    assert database.stat().st_size == size


def test_a_missing_pg_dump_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(BackupError, match="pg_dump finnes ikke på PATH"):
        make_backup(
            "postgresql+psycopg://directory@127.0.0.1/directory",
            None,
            tmp_path / "kopi.dump",
            force=False,
        )
    assert not (tmp_path / "kopi.dump").exists()


def test_postgresql_backup_runs_pg_dump(app, tmp_path, make_activity):
    if backend() != "postgresql":
        pytest.skip(
            f"the test database is {backend()}; run with DATABASE_URL pointing at PostgreSQL"
        )
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not on PATH")
    make_activity(title="Barnekoret")
    target = tmp_path / "kopi.dump"

    result = run_backup(app, str(target))

    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    if shutil.which("pg_restore"):
        listing = subprocess.run(
            ["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True
        ).stdout
        assert "TABLE DATA public activity" in listing
