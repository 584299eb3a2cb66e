"""Shared fixtures: one app per test session, a clean database for every test, factories.

The database is SQLite in a temporary folder by default; with DATABASE_URL set (CI sets it to the
local PostgreSQL server) the same tests run there.
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import pyotp
import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from directory import create_app
from directory.accounts.models import User
from directory.accounts.operations import (
    create_user,
    hash_password,
    normalise_email,
    start_session,
)
from directory.accounts.two_factor import current_step, needs_enrolment
from directory.activities.models import Activity, Category, Schedule
from directory.data_version import forget_kept
from directory.extensions import db, limiter
from directory.organisations.models import Membership, Organisation
from directory.schools.models import Municipality, School, SchoolGradeCount, SchoolStaff
from directory.search.service import get_backend
from directory.search.whoosh_backend import WhooshBackend
from directory.text import slugify
from directory.timeutil import oslo_now, utcnow

PASSWORD = "riktig-hest-batteri-42"
_counter = itertools.count(1)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def base_config(tmp_path_factory, **overrides) -> dict:
    """The configuration every test app starts from."""
    root = tmp_path_factory.mktemp("instance")
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(root / "uploads"),
        "SEARCH_INDEX_DIR": str(root / "search-index"),
        # Whoosh on either database; the search tests run each backend (tests/search).
        "SEARCH_BACKEND": "whoosh",
        # Each test starts from an empty database, whose public data version starts over: the
        # answer cache is tested on its own (tests/test_response_cache.py).
        "RESPONSE_CACHE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }
    if os.environ.get("DIRECTORY_UPLOAD_STORAGE"):
        # Without it, the app's own default: the database on PostgreSQL, the folder otherwise.
        config["UPLOAD_STORAGE"] = os.environ["DIRECTORY_UPLOAD_STORAGE"]
    config.update(overrides)
    # Every test app starts with an empty, working search index (as after `flask reindex`).
    WhooshBackend(config["SEARCH_INDEX_DIR"]).rebuild(())
    return config


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a server would.

    The test's own context (and its database session) is set aside during the request, so that
    nothing cached in `g` or in the session's identity map leaks between requests. What the test
    added is committed first; its objects reload on next access.
    """

    def open(self, *args, **kwargs):
        if _cv_app.get(None) is not None:
            db.session.commit()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    """Compile the nynorsk and English catalogs as `make translations` does, when a .po file is
    newer than its .mo: a bare `pytest` then shows the current translations too."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalogs = Path(__file__).resolve().parent.parent / "directory" / "translations"
    for po in catalogs.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        partial = mo.with_suffix(".mo.tmp")
        with partial.open("wb") as fh:
            write_mo(fh, catalog)
        partial.replace(mo)


def _build(config: dict):
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    app = _build(base_config(tmp_path_factory))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    _dispose(app)


def _dispose(app) -> None:
    # Close pooled connections now: psycopg warns about connections left for the garbage
    # collector, and warnings are errors here.
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app):
    """The application, with an empty database and fresh rate limits."""
    with _app.app_context():
        empty_database()
        clear_index(_app)
        limiter.reset()
        yield _app
        db.session.remove()


def clear_index(app=None) -> None:
    """Empty the search index (the Whoosh one: the database backend keeps none of its own)."""
    backend = get_backend(app)
    if isinstance(backend, WhooshBackend):
        backend.rebuild(())


def empty_database() -> None:
    """Delete every row of every table (a test that must start over calls this)."""
    db.session.remove()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.commit()
    # The public data's version starts over with the tables: what was kept under it goes too.
    forget_kept()


@pytest.fixture
def make_app(tmp_path_factory):
    """Build a separate app with configuration overrides (e.g. CSRF on) on the shared database."""

    built = []

    def factory(**overrides):
        app = _build(base_config(tmp_path_factory, **overrides))
        with app.app_context():
            db.create_all()
            empty_database()
        built.append(app)
        return app

    yield factory
    for app in built:
        _dispose(app)


@pytest.fixture
def remove_new_uploads(app):
    """Remove the files a test adds to the shared upload folder (the demo writes flyers there)."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    before = set(folder.iterdir()) if folder.is_dir() else set()
    yield
    if folder.is_dir():
        for path in set(folder.iterdir()) - before:
            path.unlink()


@pytest.fixture
def quiet_search(app, monkeypatch):
    """No search-index writes after each commit, for tests of something else that commit a
    lot (request before `world`-like fixtures so it applies to their set-up too)."""
    monkeypatch.setitem(app.config, "SEARCH_SYNC", False)


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


# --- factories -----------------------------------------------------------------------------


@pytest.fixture
def make_municipality(app):
    def factory(**overrides) -> Municipality:
        n = next(_counter)
        values = {"slug": f"kommune-{n}", "name": f"Kommune {n}", "messaging_label": "Vigilo"}
        values.update(overrides)
        municipality = Municipality(**values)
        db.session.add(municipality)
        db.session.commit()
        return municipality

    return factory


@pytest.fixture
def municipality(make_municipality) -> Municipality:
    """The default municipality of a test."""
    return make_municipality(slug="drammen", name="Drammen", org_number="921234554")


@pytest.fixture
def make_school(app, municipality):
    def factory(**overrides) -> School:
        n = next(_counter)
        values = {
            "municipality": municipality,
            "slug": f"skole-{n}",
            "name": f"Skole {n}",
            "grade_min": 1,
            "grade_max": 7,
            "facebook_page_url": "https://www.facebook.com/skole",
            "accepts_backpack_post": True,
        }
        values.update(overrides)
        school = School(**values)
        for grade in range(school.grade_min, school.grade_max + 1):
            school.grade_counts.append(SchoolGradeCount(grade=grade, classes=2, pupils=48))
        db.session.add(school)
        db.session.commit()
        return school

    return factory


@pytest.fixture
def make_user(app):
    def factory(email: str | None = None, *, name: str = "Test Testesen", password: str = PASSWORD):
        n = next(_counter)
        user = create_user(email or f"bruker{n}@example.org", name, password)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_organisation(app, municipality):
    def factory(*, members=(), owners=(), **overrides) -> Organisation:
        n = next(_counter)
        values = {
            "municipality": municipality,
            "slug": f"organisasjon-{n}",
            "name": f"Organisasjon {n}",
            "kind": "volunteer",
            "org_number": None,
            "verification": "verified",
        }
        values.update(overrides)
        organisation = Organisation(**values)
        db.session.add(organisation)
        for user in owners:
            db.session.add(Membership(user=user, organisation=organisation, role="owner"))
        for user in members:
            db.session.add(Membership(user=user, organisation=organisation, role="editor"))
        db.session.commit()
        return organisation

    return factory


@pytest.fixture
def make_category(app):
    def factory(**overrides) -> Category:
        n = next(_counter)
        values = {
            "slug": f"kategori-{n}",
            "name_nb": f"Kategori {n}",
            "name_nn": f"Kategori {n}",
            "name_en": f"Category {n}",
        }
        values.update(overrides)
        category = Category(**values)
        db.session.add(category)
        db.session.commit()
        return category

    return factory


def next_weekday_at(weekday: int, hour: int, minute: int = 0) -> datetime:
    """The next given weekday (0 = Monday) at the given Oslo wall time, as a naive local time."""
    now = oslo_now().replace(tzinfo=None, second=0, microsecond=0)
    days = (weekday - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=hour, minute=minute)


@pytest.fixture
def make_activity(app, make_organisation):
    def factory(*, organisation=None, schedule=None, **overrides) -> Activity:
        n = next(_counter)
        values = {
            "organisation": organisation or make_organisation(),
            "title": f"Aktivitet {n}",
            "summary": "En aktivitet for barn",
            "description": "Bli med!",
            "age_min": 8,
            "age_max": 12,
            "price_nok": 0,
            "venue": "Idrettshallen",
            "address": "Idrettsveien 1, 3015 Drammen",
            "status": "published",
        }
        values.update(overrides)
        values = _placed(values["organisation"], values)
        activity = Activity(**values)
        sched = {"dtstart": next_weekday_at(1, 17), "duration_minutes": 90, "rrule": "FREQ=WEEKLY"}
        sched.update(schedule or {})
        activity.schedules.append(Schedule(**sched))
        db.session.add(activity)
        db.session.commit()
        return activity

    return factory


@pytest.fixture
def make_staff(app, make_user):
    def factory(school: School, role: str = "staff"):
        user = make_user()
        db.session.add(SchoolStaff(user=user, school=school, role=role))
        db.session.commit()
        return user

    return factory


# --- helpers --------------------------------------------------------------------------------


def login(client, user_or_email, password: str = PASSWORD):
    """Log in through the real login form; returns the response.

    A user who must have a second step (a municipal or school admin) gets one first (see
    enrol_two_step), and a user with the second step on passes it with the current code: the
    response is then the last step's. Posting to /login alone tests the steps themselves."""
    email = getattr(user_or_email, "email", user_or_email)
    user = _user_by_email(email)
    if user is not None and needs_enrolment(user):
        enrol_two_step(user)
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code == 302 and response.headers["Location"].startswith("/login/two-step"):
        response = client.post("/login/two-step", data={"code": next_totp_code(user)})
    return response


def _user_by_email(email: str) -> User | None:
    if _cv_app.get(None) is None:
        return None
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def enrol_two_step(user: User) -> str:
    """Give the user the second step enrolment leaves (a secret, switched on), without the
    enrolment pages or their audit event: tests of other things must not see it. Enrolment
    itself is tested in test_two_factor.py. Returns the secret."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = utcnow()
    user.totp_last_step = None
    db.session.commit()
    return user.totp_secret


def totp_code(secret: str, step: int | None = None) -> str:
    """The authenticator app's code for a time step (now by default)."""
    return pyotp.TOTP(secret).generate_otp(current_step() if step is None else step)


def next_totp_code(user: User) -> str:
    """A code the login will take: now's, or the next step's when now's was used already.

    Two logins of one user within 30 seconds would otherwise replay a code; when even the next
    step is used, the fixture forgets the last step, as if half a minute had passed."""
    db.session.refresh(user)
    step = current_step()
    if user.totp_last_step is not None and user.totp_last_step >= step:
        if user.totp_last_step == step:
            step += 1
        else:
            user.totp_last_step = None
            db.session.commit()
    return totp_code(user.totp_secret, step)


def csrf_token_from(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def login_as(client):
    """Log the test client in as a user."""

    def do(user):
        response = login(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return do


# An organiser of their own club: the default member, organisation and sign-in of the activity
# tests (a module may define its own under the same names).
@pytest.fixture
def member(make_user):
    return make_user("arrangor@example.org")


@pytest.fixture
def org(make_organisation, member):
    return make_organisation(name="Drammen Fotballklubb", members=[member])


@pytest.fixture
def signed_in(login_as, member):
    return login_as(member)


@cache
def _password_hash() -> str:
    # One real Argon2 hash of PASSWORD, computed once: hashing costs tens of milliseconds.
    return hash_password(PASSWORD)


def quick_user(name: str = "bruker", **values) -> User:
    """A user whose password is PASSWORD, added without hashing it again (for large matrices)."""
    user = User(
        email=f"{name}-{next(_counter)}@example.org",
        name=name.capitalize(),
        password_hash=_password_hash(),
        **values,
    )
    db.session.add(user)
    db.session.flush()
    return user


def sign_in(client, user: User) -> None:
    """Give the client a real server-side login session for the user, skipping the password
    check's cost; logging in through the form itself is tested in test_login.py."""
    if needs_enrolment(user):
        enrol_two_step(user)  # as after an admin's first login
    token = start_session(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True


def new_organisation(municipality: Municipality, name: str, **values) -> Organisation:
    """An organisation added to the session, uncommitted: build many objects, commit once."""
    values = {"kind": "volunteer", "verification": "verified", **values}
    organisation = Organisation(municipality=municipality, slug=slugify(name), name=name, **values)
    db.session.add(organisation)
    return organisation


def _placed(organisation: Organisation, values: dict) -> dict:
    """Activity values with a typed `venue`/`address` (and coordinates) turned into the venue
    of the organisation's municipality, found or added as the organiser's form does."""
    from directory.venues.operations import placement, venue_for

    if not (values.get("venue") or values.get("address")) or "venue_id" in values:
        return values
    values = dict(values)
    names = {
        "name": "venue",
        "address": "address",
        "latitude": "latitude",
        "longitude": "longitude",
    }
    place = {key: values.pop(column, None) for key, column in names.items()}
    return {**values, **placement(venue_for(organisation, place, actor=None))}


def new_activity(organisation: Organisation, title: str, **values) -> Activity:
    """A weekly activity on Tuesdays from next week, added to the session, uncommitted.

    A `venue` (and `address`, `latitude`, `longitude`) places it at that venue of the
    organisation's municipality, added as an organiser's form would add it.
    """
    values = _placed(organisation, {"status": "published", "age_min": 8, "age_max": 12, **values})
    activity = Activity(organisation=organisation, title=title, **values)
    activity.schedules.append(
        Schedule(dtstart=next_weekday_at(1, 17), duration_minutes=90, rrule="FREQ=WEEKLY")
    )
    db.session.add(activity)
    return activity


@pytest.fixture
def import_activities_file(app, tmp_path, municipality):
    """Run `flask import-activities` on these bytes (written to a file); the Click result."""

    def run(data: bytes, *args: str):
        path = tmp_path / "aktiviteter.csv"
        path.write_bytes(data)
        result = app.test_cli_runner().invoke(args=["import-activities", str(path), *args])
        db.session.expire_all()
        return result

    return run


def require_tool(message: str) -> None:
    """A missing browser tool skips the test here, and fails it under REQUIRE_BROWSER=1 (CI)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; REQUIRE_BROWSER=1 makes this a failure", pytrace=False)
    pytest.skip(message)


def require_redis(url: str) -> str:
    """The URL of a database of the local Redis (127.0.0.1:6379), or skip (fail in CI) when no
    Redis answers there."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        require_tool("needs Redis at 127.0.0.1:6379")
    finally:
        client.close()
    return url


# --- e-mail -----------------------------------------------------------------------------------


class _Inbox:
    """What the in-process SMTP server received, as parsed e-mail messages."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes
        from email.policy import default

        message = message_from_bytes(envelope.content, policy=default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        """The messages delivered to this address."""
        return [m for m in self.messages if address in m["X-Envelope-To"].split(", ")]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(app, monkeypatch):
    """A real SMTP server in this process (aiosmtpd), with the app's mail settings pointed at it.

    Yields the inbox; `inbox.messages` are `email.message.EmailMessage` objects."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(app, monkeypatch):
    """Mail settings that point at a port where nothing listens: every send fails."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2.0)


def mail_text(message) -> str:
    """The plain-text part of a delivered message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def mail_link(message, path_start: str) -> str:
    """The first link in the plain-text part whose path starts with `path_start` (path only)."""
    from urllib.parse import urlsplit

    for word in mail_text(message).split():
        if path_start in word:
            parts = urlsplit(word.strip("<>.,"))
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"no link to {path_start} in the message")


REGISTRATION_TOKEN = "registreringslenke-" + "r" * 30


def open_registration_link(municipality_id: int) -> str:
    """An open registration link for a new address (REGISTRATION_TOKEN), made on first use."""
    from directory.accounts.models import PendingRegistration
    from directory.accounts.tokens import hash_token

    token_hash = hash_token(REGISTRATION_TOKEN)
    query = select(PendingRegistration.id).where(PendingRegistration.token_hash == token_hash)
    if db.session.scalar(query) is None:
        db.session.add(
            PendingRegistration(
                token_hash=token_hash,
                email="ny.eier@example.org",
                name="Ny Eier",
                password_hash="x",
                municipality_id=municipality_id,
                organisation={"name": "Lag fra lenken", "kind": "volunteer"},
                expires_at=utcnow() + timedelta(hours=24),
            )
        )
        db.session.commit()
    return f"/register/confirm/{REGISTRATION_TOKEN}"
