"""The municipal activity directory: create_app() builds the Flask application."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, commands."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("DIRECTORY_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    from directory.i18n import TranslatingEnvironment

    app.jinja_environment = TranslatingEnvironment  # templates compiled once per language
    _configure(app, test_config)
    _trust_proxy(app)

    from directory import (  # noqa: F401 - models: tables
        cli,
        i18n,
        models,
        pipeline,
        response_cache,
        security,
        urls,
        web,
    )
    from directory.accounts import sessions as browser_sessions
    from directory.extensions import babel, csrf, db, limiter, login_manager, migrate
    from directory.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    security.init_app(app)
    web.init_app(app)
    urls.init_app(app)
    pipeline.init_app(app)
    i18n.init_app(app)
    browser_sessions.init_app(app)
    response_cache.init_app(app)
    _register_blueprints(app)
    cli.init_app(app)
    return app


def _configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Defaults in code, then instance/config.py, then the environment, then test_config."""
    from directory.config import PROFILES

    profile = (test_config or {}).get("PROFILE") or os.environ.get("DIRECTORY_PROFILE", "default")
    if profile not in PROFILES:
        raise RuntimeError(f"DIRECTORY_PROFILE={profile!r}: choose one of {', '.join(PROFILES)}")
    app.config.from_object(PROFILES[profile])
    if test_config is None:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("DIRECTORY")
        for name in ("DATABASE_URL", "SECRET_KEY"):
            if os.environ.get(name):
                key = "SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name
                app.config[key] = os.environ[name]
    else:
        app.config.update(test_config)

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_file = Path(app.instance_path) / "directory.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file has no server to drop a pooled connection: no test query before each use
        # (directory.extensions sets pool_pre_ping for the servers).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": False,
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    if not app.config.get("SEARCH_BACKEND"):
        postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        app.config["SEARCH_BACKEND"] = "postgres" if postgres else "whoosh"
    if not app.config.get("SECRET_KEY"):
        if profile == "production":
            # Every host must sign sessions with the same key: one generated here would be
            # this host's alone (a login on one server unknown on the next).
            old_key = Path(app.instance_path) / "secret_key"
            hint = (
                f"copy the key of {old_key} (no longer read in production) into SECRET_KEY"
                if old_key.exists()
                else "generate one with python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
            raise RuntimeError(
                "DIRECTORY_PROFILE=production needs a secret key: set SECRET_KEY (or "
                "DIRECTORY_SECRET_KEY) in the environment, the same on every host, or SECRET_KEY "
                f"in instance/config.py; {hint}"
            )
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    for key, sub in (("UPLOAD_FOLDER", "uploads"), ("SEARCH_INDEX_DIR", "search-index")):
        if not app.config.get(key):
            app.config[key] = str(Path(app.instance_path) / sub)
    _configure_upload_storage(app)


def _configure_upload_storage(app: Flask) -> None:
    """UPLOAD_STORAGE as configured, else the database on PostgreSQL and the folder otherwise."""
    from directory.storage import STORAGES, default_storage

    storage = app.config.get("UPLOAD_STORAGE") or default_storage(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if storage not in STORAGES:
        raise RuntimeError(
            f"UPLOAD_STORAGE={storage!r} (DIRECTORY_UPLOAD_STORAGE): choose one of "
            + ", ".join(STORAGES)
        )
    app.config["UPLOAD_STORAGE"] = storage


def _trust_proxy(app: Flask) -> None:
    """Take the client's address, scheme and host from PROXY_FIX_HOPS proxies in front."""
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the last `hops` X-Forwarded-For entries are trusted: anything before them is
        # what the client itself sent.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def normalise_database_url(url: str) -> str:
    """Point postgres:// and postgresql:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret_key(instance: Path) -> str:
    """Read instance/secret_key, creating it with a random key (mode 600) on first run."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _register_blueprints(app: Flask) -> None:
    from directory.accounts import two_factor_views as accounts_two_step  # noqa: F401
    from directory.accounts import views as accounts_views  # noqa: F401 - pages of accounts_bp
    from directory.accounts.blueprint import bp as accounts_bp
    from directory.activities.views import bp as activities_bp
    from directory.admin import account_views as admin_accounts  # noqa: F401 - on admin_bp
    from directory.admin import school_calendar_views  # noqa: F401 - pages of admin_bp
    from directory.admin import views as admin_views  # noqa: F401 - pages of admin_bp
    from directory.admin.blueprint import bp as admin_bp
    from directory.api.views import bp as api_bp
    from directory.approvals import channels_views, inbox_views, organiser_views  # noqa: F401
    from directory.approvals.blueprint import bp as approvals_bp
    from directory.exports.views import bp as exports_bp
    from directory.feeds.views import bp as feeds_bp
    from directory.findable import bp as findable_bp
    from directory.organisations.views import bp as organisations_bp
    from directory.schools import staff_views  # noqa: F401 - pages of schools_bp
    from directory.schools import views as schools_views  # noqa: F401 - pages of schools_bp
    from directory.schools.blueprint import bp as schools_bp
    from directory.statements import bp as statements_bp
    from directory.venues.views import bp as venues_bp  # also the admin's venue list

    for bp in (accounts_bp, organisations_bp, activities_bp, admin_bp, api_bp, feeds_bp):
        app.register_blueprint(bp)
    app.register_blueprint(approvals_bp)
    app.register_blueprint(schools_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(statements_bp)
    app.register_blueprint(findable_bp)
    app.register_blueprint(venues_bp)
