"""Where uploaded files live: one interface, a local folder or the database behind it.

UPLOAD_STORAGE chooses: "folder" keeps the files in UPLOAD_FOLDER (one host on SQLite,
`make run`); "database" keeps them in the `stored_file` table, where every host of an
installation finds them and `pg_dump` backs them up with everything else. The default is
"database" on PostgreSQL and "folder" otherwise (directory._configure).

The database storage writes in the session's transaction: a file stored for a change is
committed with it or rolled back with it, never left behind. The folder cannot take part in a
transaction; its callers store before the commit and remove what a failed save stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from directory.extensions import db
from directory.storage.models import StoredFile
from directory.timeutil import utcnow

STORAGES = ("database", "folder")

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


def content_type_of(name: str) -> str:
    """The media type of a stored file, from its name's extension."""
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


@dataclass(frozen=True)
class StoredObject:
    """A stored file's facts; `read()` gives its content (loaded only then)."""

    name: str
    size: int
    content_type: str
    etag: str
    modified: datetime  # aware UTC
    path: Path | None = None  # the file itself, in the folder storage
    _load: Callable[[], bytes] = field(repr=False, compare=False, default=lambda: b"")

    def read(self) -> bytes:
        """The file's content."""
        return self._load()


class UploadStorage(Protocol):
    """What every storage of uploads does."""

    kind: str

    def put(self, name: str, content: bytes, content_type: str) -> None:
        """Store `content` under `name`, replacing a file of that name."""

    def get(self, name: str) -> StoredObject | None:
        """The stored file `name`, or None."""

    def read(self, name: str) -> bytes | None:
        """The content of `name`, or None."""

    def exists(self, name: str) -> bool:
        """Whether `name` is stored."""

    def delete(self, name: str) -> None:
        """Remove `name`; nothing when it is not stored."""

    def names(self) -> Iterator[str]:
        """The names of every stored file, sorted."""


class FolderStorage:
    """Files in a local folder (UPLOAD_FOLDER), each written whole or not at all."""

    kind = "folder"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _ensured(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def put(self, name: str, content: bytes, content_type: str) -> None:
        write_complete(self._ensured(), name, content)

    def get(self, name: str) -> StoredObject | None:
        path = self.folder / name
        try:
            stat = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        # The ETag Werkzeug's send_file gives a file on disk (the media route sends the file
        # itself; this is for other readers).
        check = zlib.adler32(str(path).encode()) & 0xFFFFFFFF
        return StoredObject(
            name=name,
            size=stat.st_size,
            content_type=content_type_of(name),
            etag=f"wzsdm-{stat.st_mtime}-{stat.st_size}-{check}",
            modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            path=path,
            _load=path.read_bytes,
        )

    def read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def exists(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        if not self.folder.is_dir():
            return iter(())
        # Dot files are a write in progress (write_complete) or nobody's.
        return iter(
            sorted(p.name for p in self.folder.iterdir() if p.is_file() and p.name[0] != ".")
        )


class DatabaseStorage:
    """Files in the `stored_file` table, written in the session's transaction (never
    committed here: the request or command that uses a file commits it)."""

    kind = "database"

    def put(self, name: str, content: bytes, content_type: str) -> None:
        values = {
            "name": name,
            "content": content,
            "content_type": content_type,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "created_at": utcnow(),
        }
        insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        # One statement, safe when two hosts make the same card rendition at once.
        statement = insert(StoredFile).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["name"], set_={k: v for k, v in values.items() if k != "name"}
        )
        _connection().execute(statement)

    def get(self, name: str) -> StoredObject | None:
        row = (
            _connection()
            .execute(
                select(
                    StoredFile.size,
                    StoredFile.content_type,
                    StoredFile.sha256,
                    StoredFile.created_at,
                ).where(StoredFile.name == name)
            )
            .first()
        )
        if row is None:
            return None
        return StoredObject(
            name=name,
            size=row.size,
            content_type=row.content_type,
            etag=row.sha256,
            modified=row.created_at,
            _load=lambda: self.read(name) or b"",
        )

    def read(self, name: str) -> bytes | None:
        return _connection().scalar(select(StoredFile.content).where(StoredFile.name == name))

    def exists(self, name: str) -> bool:
        found = _connection().scalar(select(StoredFile.name).where(StoredFile.name == name))
        return found is not None

    def delete(self, name: str) -> None:
        _connection().execute(delete(StoredFile).where(StoredFile.name == name))

    def names(self) -> Iterator[str]:
        return iter(_connection().scalars(select(StoredFile.name).order_by(StoredFile.name)).all())


def _connection():
    """The session's connection, in its transaction: statements here never autoflush (an
    upload may be stored while the objects that will point at it are half built)."""
    return db.session.connection()


def storage_of_kind(kind: str) -> UploadStorage:
    """The storage `kind` ("database" or "folder") of the current app."""
    if kind == "database":
        return DatabaseStorage()
    if kind == "folder":
        return FolderStorage(current_app.config["UPLOAD_FOLDER"])
    raise ValueError(f"unknown upload storage {kind!r}")


def upload_storage() -> UploadStorage:
    """The storage the current app keeps its uploads in (UPLOAD_STORAGE)."""
    return storage_of_kind(current_app.config["UPLOAD_STORAGE"])


def default_storage(database_uri: str) -> str:
    """The storage an installation gets unless configured: the database on PostgreSQL (every
    host sees it), the folder otherwise."""
    return "database" if database_uri.startswith("postgresql") else "folder"


def write_complete(folder: Path, name: str, content: bytes) -> None:
    """Write `content` to `folder`/`name` through a temporary file renamed when complete: a
    write that fails (a full disk) leaves no file behind, empty or partial, and raises its
    OSError; a reader of `name` sees the whole file or none."""
    # Its own temporary name for each writer: two requests making the same rendition at once
    # do not meet (the last rename wins, with the same content).
    partial = folder / f".{name}.{secrets.token_hex(4)}.part"
    try:
        # "x": never write over a file, even a leftover of the (practically impossible) same name.
        with open(partial, "xb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())  # the data is on disk before a name the database points at
        os.replace(partial, folder / name)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
