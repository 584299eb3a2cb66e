"""Backups: a consistent copy of the database, and the uploaded files beside it.

SQLite is copied with its online backup API, which gives a consistent snapshot even while the
application writes (WAL); PostgreSQL is dumped with pg_dump in its custom format (restore with
pg_restore). Uploads go into FILE.uploads.tar.gz next to FILE. Files are written under a
temporary name and renamed at the end, so a failed backup never leaves a half-written FILE.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - runs pg_dump, with an argument list and no shell
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """The backup could not be made; the message (bokmål) says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote."""

    database_file: Path
    uploads_file: Path | None
    upload_count: int


def uploads_archive_path(target: Path) -> Path:
    """Where the uploads of a backup to `target` go: `target`.uploads.tar.gz."""
    return target.with_name(target.name + ".uploads.tar.gz")


def make_backup(
    database_url: str | URL, upload_folder: str | Path | None, target: Path, *, force: bool
) -> BackupResult:
    """Back up the database to `target`, and the uploads (if any) beside it."""
    target = Path(target)
    archive = uploads_archive_path(target)
    if not target.parent.is_dir():
        raise BackupError(f"Mappen {target.parent} finnes ikke.")
    if not force:
        for path in (target, archive):
            if path.exists():
                raise BackupError(
                    f"{path} finnes allerede. Velg et annet filnavn, eller bruk --force "
                    "for å overskrive."
                )
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        backup_sqlite(url, target)
    elif url.get_backend_name() == "postgresql":
        backup_postgresql(url, target)
    else:
        raise BackupError(f"Sikkerhetskopi av {url.get_backend_name()} støttes ikke.")
    count = backup_uploads(Path(upload_folder) if upload_folder else None, archive)
    if not count:
        # With --force, an archive left from the overwritten backup would not belong to this one.
        archive.unlink(missing_ok=True)
    return BackupResult(target, archive if count else None, count)


def _temporary_beside(target: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(name)


def backup_sqlite(url: URL, target: Path) -> None:
    """Copy a SQLite database with the online backup API into one self-contained file."""
    source_path = url.database
    if not source_path or source_path == ":memory:" or url.query.get("mode") == "memory":
        raise BackupError("Databasen ligger bare i minnet og kan ikke sikkerhetskopieres.")
    source = Path(source_path)
    if not source.is_file():
        raise BackupError(f"Finner ikke databasefilen {source}.")
    if source.resolve() == target.resolve():
        raise BackupError("Sikkerhetskopien kan ikke skrives over selve databasen.")
    temporary = _temporary_beside(target)
    try:
        src = sqlite3.connect(source)
        dst = sqlite3.connect(temporary)
        try:
            src.backup(dst)
            # The copy keeps the source's WAL mode; a backup should be a single file.
            dst.execute("PRAGMA journal_mode=DELETE")
            result = dst.execute("PRAGMA quick_check").fetchone()
        finally:
            dst.close()
            src.close()
        if not result or result[0] != "ok":
            raise BackupError(f"Kopien besto ikke kontrollen (PRAGMA quick_check: {result}).")
        os.replace(temporary, target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite-kopieringen feilet: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)


def backup_postgresql(url: URL, target: Path) -> None:
    """Dump a PostgreSQL database with pg_dump (custom format, restore with pg_restore)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump finnes ikke på PATH. Installer PostgreSQL-klientverktøyene "
            "(f.eks. Debian-pakken postgresql-client) og prøv igjen."
        )
    # The password goes through the environment, not the command line that `ps` shows.
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    libpq_url = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False
    )
    temporary = _temporary_beside(target)
    try:
        completed = subprocess.run(  # noqa: S603 - fixed program, argument list
            [pg_dump, "--format=custom", "--no-owner", f"--file={temporary}", libpq_url],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise BackupError("pg_dump feilet: " + (completed.stderr.strip() or "ukjent feil"))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def backup_uploads(folder: Path | None, archive: Path) -> int:
    """Pack the uploads folder into a .tar.gz; the number of files (0: nothing written)."""
    if folder is None or not folder.is_dir():
        return 0
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        return 0
    temporary = _temporary_beside(archive)
    try:
        with tarfile.open(temporary, "w:gz") as tar:
            for path in files:
                tar.add(path, arcname=str(Path("uploads") / path.relative_to(folder)))
        os.replace(temporary, archive)
    finally:
        temporary.unlink(missing_ok=True)
    return len(files)
