"""Flask extensions, created without an app and attached in create_app()."""

import argparse
import os
import shlex
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click
from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that Alembic can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


SQLITE_BUSY_TIMEOUT_MS = 5000


class Base(DeclarativeBase):
    """Declarative base with a naming convention for constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# pool_pre_ping: a pooled connection is tested (SELECT 1) before each use and replaced when the
# server dropped it, so the first request after a PostgreSQL restart is answered, not a 500
# (create_app leaves it out for SQLite). SQLALCHEMY_ENGINE_OPTIONS in the configuration adds
# to it.
db = SQLAlchemy(model_class=Base, engine_options={"pool_pre_ping": True})


class LazyMigrate:
    """Flask-Migrate, attached without importing it: Alembic weighs some 11 MB, which a web
    worker would carry for nothing. `flask db ...`, flask_migrate's functions (upgrade) and
    migrations/env.py find what they expect; Flask-Migrate is loaded the first time they ask."""

    def init_app(self, app: Flask, db: SQLAlchemy, **options: Any) -> None:
        """Register app.extensions["migrate"] and the `flask db` group, both loaded on use."""
        app.extensions["migrate"] = _PendingMigrateConfig(app, db, options)
        app.cli.add_command(_LazyMigrateGroup(), "db")


class _PendingMigrateConfig:
    """Stands in for Flask-Migrate's app.extensions["migrate"] until something reads it, then
    attaches Flask-Migrate itself (which replaces this entry and the `db` group) and answers
    from its configuration."""

    def __init__(self, app: Flask, db: SQLAlchemy, options: dict[str, Any]) -> None:
        self.app = app
        self.db = db
        self.options = options

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like: nothing to load
            raise AttributeError(name)
        from flask_migrate import Migrate

        Migrate(db=self.db, **self.options).init_app(self.app)
        return getattr(self.app.extensions["migrate"], name)


class _LazyMigrateGroup(click.Command):
    """`flask db`: listed in `flask --help` without Flask-Migrate; run, it is Flask-Migrate's
    own group (click runs the command of the context that make_context returns)."""

    def __init__(self) -> None:
        super().__init__("db", help="Perform database migrations.")

    def make_context(self, info_name, args, parent=None, **extra):
        from flask_migrate.cli import db as migrate_group

        return migrate_group.make_context(info_name, args, parent=parent, **extra)


migrate = LazyMigrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def configured_workers(
    environ: Mapping[str, str] | None = None, argv: Sequence[str] | None = None
) -> int:
    """How many worker processes gunicorn was told to run, read as gunicorn reads it: its
    command line, then GUNICORN_CMD_ARGS, then WEB_CONCURRENCY; 1 when nothing says.

    A worker count set only in a gunicorn config file is not seen here: deploy/ passes it as
    WEB_CONCURRENCY for that reason.
    """
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    sources = []
    if argv and _is_gunicorn(argv[0]):
        sources.append(list(argv[1:]))
    if environ.get("GUNICORN_CMD_ARGS"):
        sources.append(shlex.split(environ["GUNICORN_CMD_ARGS"]))
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("-w", "--workers", type=str)
    for args in sources:
        try:
            workers = parser.parse_known_args(args)[0].workers
        except argparse.ArgumentError:
            continue  # gunicorn itself refuses such a command line
        if workers is not None:
            return _positive(workers)
    return _positive(environ.get("WEB_CONCURRENCY", "1"))


def _is_gunicorn(program: str) -> bool:
    name = os.path.basename(program)
    return name.startswith("gunicorn") or program.endswith(os.path.join("gunicorn", "__main__.py"))


def _positive(value: str) -> int:
    try:
        return max(int(value), 1)
    except ValueError:
        return 1


def storage_warning(storage_uri: str, workers: int, *, production: bool = False) -> str | None:
    """The warning for limits kept apart in each of several workers (or, in production, in a
    process that cannot know of the other hosts), or None when they are not."""
    if not storage_uri.startswith("memory://"):
        return None
    if workers > 1:
        return (
            f"Rate limits are kept in memory while {workers} workers run: each worker counts on "
            f"its own, so every limit lets {workers} times as much through. Set "
            "DIRECTORY_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (a store all workers share)."
        )
    if production:
        return (
            "Rate limits are kept in this process's memory in the production profile: any other "
            "worker or host counts on its own. Set "
            "DIRECTORY_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (a store all of them share)."
        )
    return None


class DirectoryLimiter(Limiter):
    """Flask-Limiter that says so in the log when its memory store is split between workers."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        warning = storage_warning(
            app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
            configured_workers(),
            production=app.config.get("PROFILE") == "production",
        )
        if warning:
            app.logger.warning(warning)


limiter = DirectoryLimiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: WAL so readers never block the writer, a busy timeout instead of instant
    'database is locked' errors, and enforced foreign keys as on PostgreSQL."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
