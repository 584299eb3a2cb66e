"""Faults outside the app's control answer 503 with a page and Retry-After, never a bare 500.

Issue #11, finding 8: with PostgreSQL down the pages were 500s, the first request after a
PostgreSQL restart was a 500, and a full disk gave a generic 500.
"""

from __future__ import annotations

import errno
import os
import uuid

import pytest
from sqlalchemy import create_engine, event, select, text

from directory import create_app, normalise_database_url
from directory.extensions import db
from directory.organisations.models import Organisation
from tests.conftest import base_config

# Nothing listens on port 1: every connection attempt is refused at once, as while PostgreSQL
# is down or restarting.
UNREACHABLE_DATABASE = "postgresql://directory@127.0.0.1:1/directory"
UNAVAILABLE_NB = "Tjenesten er midlertidig utilgjengelig."
UNAVAILABLE_NN = "Tenesta er mellombels utilgjengeleg."


@pytest.fixture
def database_down(tmp_path_factory):
    """An app whose database cannot be reached, serving as in production (no propagation)."""
    app = create_app(base_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=UNREACHABLE_DATABASE))
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is the 500 page, as in production
    yield app
    with app.app_context():
        db.engine.dispose()


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"


def test_a_page_is_503_with_retry_after_in_the_users_language_while_the_database_is_down(
    database_down,
):
    client = database_down.test_client()

    response = client.get("/")
    assert_unavailable(response)
    assert response.mimetype == "text/html"
    assert UNAVAILABLE_NB in response.get_data(as_text=True)

    nynorsk = client.get("/organisations?lang=nn")
    assert_unavailable(nynorsk)
    assert UNAVAILABLE_NN in nynorsk.get_data(as_text=True)


def test_the_api_answers_503_in_json_while_the_database_is_down(database_down):
    response = database_down.test_client().get("/api/v1/organisations")
    assert_unavailable(response)
    assert response.get_json() == {"error": UNAVAILABLE_NB}


def test_a_logged_in_visitor_gets_the_503_page_too_while_the_database_is_down(database_down):
    # Loading the user from the session's token needs the database: the fault page must not.
    client = database_down.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "a-login-session-token"
    response = client.get("/account")
    assert_unavailable(response)
    assert UNAVAILABLE_NB in response.get_data(as_text=True)


# --- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def editor_and_organisation(app, make_user, make_organisation, login_as, monkeypatch):
    """A logged-in editor of an organisation, on an app that serves a crash as a 500 page."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    editor = make_user()
    organisation = make_organisation(members=[editor], description="Gammel tekst")
    login_as(editor)
    return organisation


def edit_form(org: Organisation, **overrides) -> dict:
    """The organisation's edit form as the browser sends it."""
    data = {"name": org.name, "description": org.description or "", "version": str(org.version)}
    data.update(overrides)
    return data


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_during_a_save_is_503_and_nothing_is_stored(
    client, editor_and_organisation, monkeypatch, code
):
    from directory.organisations import views

    real_update = views.update_organisation

    def update_then_disk_full(*args, **kwargs):
        real_update(*args, **kwargs)  # the change is flushed, then the disk is full
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(views, "update_organisation", update_then_disk_full)
    org = editor_and_organisation
    response = client.post(
        f"/organisations/{org.slug}/edit", data=edit_form(org, description="Ny tekst")
    )
    assert_unavailable(response)
    assert UNAVAILABLE_NB in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(select(Organisation.description)) == "Gammel tekst"


def test_another_os_error_stays_a_500(client, editor_and_organisation, monkeypatch):
    # Only a full disk is a passing fault; a missing permission is a bug to fix, not to wait out.
    from directory.organisations import views

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(views, "update_organisation", denied)
    org = editor_and_organisation
    response = client.post(f"/organisations/{org.slug}/edit", data=edit_form(org))
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


def test_a_full_sqlite_database_is_503_and_nothing_is_stored(app, client, editor_and_organisation):
    """SQLite's own "database or disk is full" (SQLITE_FULL), caused for real: the file may
    not grow past the pages it has."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLITE_FULL is SQLite's; PostgreSQL's disk_full is an OperationalError too")

    @event.listens_for(db.engine, "connect")
    def no_growth(dbapi_connection, connection_record) -> None:
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    org = editor_and_organisation
    url, form = f"/organisations/{org.slug}/edit", edit_form(org, description="Lang. " * 1600)
    db.session.remove()
    with db.engine.connect() as connection:  # no free pages left for the write to reuse
        connection.exec_driver_sql("VACUUM")
    db.engine.dispose()  # every pooled connection is replaced by one that may not grow
    try:
        response = client.post(url, data=form)
        assert_unavailable(response)
        assert UNAVAILABLE_NB in response.get_data(as_text=True)
    finally:
        event.remove(db.engine, "connect", no_growth)
        db.session.remove()
        db.engine.dispose()
    assert db.session.scalar(select(Organisation.description)) == "Gammel tekst"


# --- a PostgreSQL restart ----------------------------------------------------------------------


def test_the_first_request_after_postgresql_drops_the_connections_succeeds(make_app):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql")):
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite has no server to restart")
    # The app's connections carry a name of their own, so only they are dropped: other test
    # runs on the same server keep theirs.
    name = f"directory-faults-{uuid.uuid4().hex[:8]}"
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"application_name": name}})
    client = app.test_client()
    assert client.get("/organisations").status_code == 200  # the pool now holds a connection

    admin = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            dropped = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND application_name = :name"
                ),
                {"name": name},
            ).all()
    finally:
        admin.dispose()
    assert dropped, "the app held no connection to drop"

    assert client.get("/organisations").status_code == 200
