"""The one request pipeline: load, check, the stale-version rule, validate, act, commit once.

A small blueprint of handlers on a real app and database shows what every view that changes
data gets from `directory.pipeline.Handler`; the last tests keep views from going around it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Blueprint, abort, has_request_context, redirect
from sqlalchemy import event, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import StringField
from wtforms.validators import DataRequired

import directory
from directory import loading
from directory.errors import DomainError
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.pipeline import Handler, VersionedForm, route
from directory.schools.models import Municipality

bp = Blueprint("pipeline_test", __name__)
undone: list[str] = []  # what failed() was called for


class RenameForm(VersionedForm):
    name = StringField("Navn", validators=[DataRequired(message="Skriv et navn.")])
    outcome = StringField()  # what the act does after renaming: "", "refuse", "crash", "stale"


@route(bp, "/test/organisations/<slug>/rename", "rename")
class Rename(Handler):
    methods = ["GET", "POST"]
    decorators = []  # no login: the pipeline is what is tested
    form_class = RenameForm

    def load(self, slug: str) -> None:
        self.organisation = loading.organisation(slug)

    def check(self) -> None:
        if self.organisation.slug == "locked":
            abort(403)

    def current_version(self) -> int:
        return self.organisation.version

    def show(self, form: RenameForm):
        return f"version={form.version.data}"

    def act(self, form: RenameForm) -> str:
        self.organisation.name = form.name.data
        db.session.flush()  # written, not committed: a later error must take it back
        if form.outcome.data == "refuse":
            raise DomainError("Navnet er reservert.", 422)
        if form.outcome.data == "crash":
            raise RuntimeError("a bug")
        if form.outcome.data == "stale":
            raise StaleDataError("another save came first")
        return form.name.data

    def failed(self) -> None:
        undone.append(self.organisation.slug)

    def done(self, name: str):
        return redirect(f"/renamed/{name}")


@pytest.fixture
def site(make_app):
    app = make_app()
    app.register_blueprint(bp)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is the 500 page, as in production
    commits: list[int] = []
    with app.app_context():
        municipality = Municipality(slug="m", name="M")
        for slug in ("club", "locked"):
            db.session.add(
                Organisation(municipality=municipality, slug=slug, name="Før", kind="volunteer")
            )
        db.session.commit()

        @event.listens_for(db.session, "after_commit")
        def count(session) -> None:
            if has_request_context():  # the test client commits its own set-up between requests
                commits.append(1)

        undone.clear()
        yield app, commits
        event.remove(db.session, "after_commit", count)
        db.session.remove()


def stored_name(slug: str = "club") -> str:
    db.session.remove()
    return db.session.scalar(select(Organisation.name).where(Organisation.slug == slug))


def version(slug: str = "club") -> int:
    db.session.remove()
    return db.session.scalar(select(Organisation.version).where(Organisation.slug == slug))


def post(app, slug="club", **data):
    client = app.test_client()
    return client.post(f"/test/organisations/{slug}/rename", data=data)


def test_the_page_carries_the_stored_version(site):
    app, _commits = site
    body = app.test_client().get("/test/organisations/club/rename").get_data(as_text=True)
    assert body == f"version={version()}"


def test_a_valid_form_is_committed_once_then_answered(site):
    app, commits = site
    response = post(app, name="Etter", version=version())
    assert response.status_code == 302
    assert response.headers["Location"] == "/renamed/Etter"
    assert commits == [1]
    assert stored_name() == "Etter"


def test_an_unknown_object_is_404_and_a_refused_user_403_before_the_form_is_read(site):
    app, commits = site
    assert post(app, slug="nobody", name="Etter").status_code == 404
    assert post(app, slug="locked", name="Etter", version=version("locked")).status_code == 403
    assert commits == [] and stored_name("locked") == "Før"


@pytest.mark.parametrize("sent", ["old", "missing", "garbage"])
def test_a_missing_or_old_version_is_409_with_the_one_message(site, sent):
    app, commits = site
    current = version()
    data = {"name": "Etter"}
    if sent != "missing":
        data["version"] = str(current - 1) if sent == "old" else "x"
    response = post(app, **data)
    assert response.status_code == 409
    assert "Noen andre har endret dette mens du hadde siden åpen" in response.get_data(as_text=True)
    assert commits == [] and stored_name() == "Før"


def test_an_invalid_form_answers_with_its_message_and_stores_nothing(site):
    app, commits = site
    response = post(app, name="", version=version())
    assert response.status_code == 400
    assert "Skriv et navn." in response.get_data(as_text=True)
    assert commits == [] and stored_name() == "Før"


def test_a_refused_act_is_rolled_back_and_answered_with_its_status_and_message(site):
    app, commits = site
    response = post(app, name="Etter", outcome="refuse", version=version())
    assert response.status_code == 422
    assert "Navnet er reservert." in response.get_data(as_text=True)
    assert commits == [] and stored_name() == "Før"
    assert undone == ["club"]


def test_a_concurrent_save_at_commit_time_is_409(site):
    app, commits = site
    response = post(app, name="Etter", outcome="stale", version=version())
    assert response.status_code == 409
    assert "Noen andre har endret dette" in response.get_data(as_text=True)
    assert commits == [] and stored_name() == "Før"


def test_a_crash_in_the_act_is_rolled_back_and_a_500(site):
    app, commits = site
    response = post(app, name="Etter", outcome="crash", version=version())
    assert response.status_code == 500
    assert commits == [] and stored_name() == "Før"
    assert undone == ["club"]


def test_the_form_needs_its_csrf_token_when_protection_is_on(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    app.register_blueprint(bp)
    with app.app_context():
        db.session.add(
            Organisation(
                municipality=Municipality(slug="m", name="M"),
                slug="club",
                name="Før",
                kind="volunteer",
            )
        )
        db.session.commit()
        client = app.test_client()
        page = client.get("/test/organisations/club/rename")
        assert page.status_code == 200
        assert (
            client.post("/test/organisations/club/rename", data={"name": "Etter"}).status_code
            == 400
        )
        assert stored_name() == "Før"
        db.session.remove()


# --- the rule, for the code itself ------------------------------------------------------------

PACKAGE = Path(directory.__file__).parent


def view_modules() -> list[Path]:
    return sorted(
        p for p in PACKAGE.rglob("*.py") if p.stem == "views" or p.stem.endswith("_views")
    )


def test_there_are_view_modules_to_check():
    assert len(view_modules()) >= 10


@pytest.mark.parametrize("path", view_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_view_module_commits_rolls_back_or_imports_another_view_module(path):
    tree = ast.parse(path.read_text())
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("commit", "rollback"):
            problems.append(f"line {node.lineno}: .{node.attr}() (the pipeline commits)")
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module.rsplit(".", 1)[-1], *(a.name for a in node.names)]
            if any(n == "views" or n.endswith("_views") for n in names):
                problems.append(f"line {node.lineno}: imports {node.module} (a views module)")
    assert problems == []
