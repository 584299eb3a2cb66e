"""The one request pipeline: every view that changes data runs through `Handler.dispatch`.

In the spirit of Indico's `RH.process()` (indico/web/rh.py), the order is code, not habit:

1. `load(**view_args)`: the objects named in the URL, 404 through `directory.loading`;
2. `check()`: the permission (`can_<verb>`), 403 or 404;
3. the form: `make_form()`, and for a `VersionedForm` the one stale-version rule (`Stale`, 409);
   an invalid form goes back to `invalid(form)` (its page with the messages, or a 400);
4. `act(form)`: one or more operations, which flush and never commit;
5. the commit, once, here; a `DomainError` or a concurrent edit (`StaleDataError`) rolls back
   and becomes its 4xx through `refused(error, form)`, any other error rolls back and rises;
6. `done(result)`: the redirect or page, after the commit (flash messages belong here).

Only this module and the CLI commit or roll back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import Blueprint, Flask, abort, current_app, g, request
from flask.views import View
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields import HiddenField

from directory.errors import STALE_MESSAGE, DomainError, Stale
from directory.extensions import db, login_manager
from directory.forms import Form
from directory.web import abort_with

INVALID_MESSAGE = _l("Skjemaet var ugyldig. Last inn siden på nytt og prøv igjen.")


class VersionedForm(Form):
    """A form that edits one stored object: it carries the version the page showed.

    The one stale-version rule: a missing or different version is `Stale` (409), whatever the
    object, whether its version is a version column or a fingerprint of its fields.
    """

    version = HiddenField()

    def show_version(self, current: Any) -> None:
        """Put the stored object's version into the page."""
        self.version.data = str(current)

    def check_version(self, current: Any) -> None:
        """Raise `Stale` unless the submitted version is the stored one."""
        if not self.version.data or self.version.data != str(current):
            raise Stale()


def run_in_transaction(act: Callable[[], Any]) -> Any:
    """Run `act`, then commit once; roll back on any error (a concurrent edit becomes `Stale`).

    For work that is not one form on one page (a login, a link followed from an e-mail) and
    for the pipeline itself.
    """
    try:
        result = act()
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Stale() from None
    except BaseException:
        db.session.rollback()
        raise
    return result


class Handler(View):
    """One view that changes data, in fixed steps (see the module's docstring).

    Subclasses set `form_class` (or override `make_form`), and override `load`, `check`, `act`,
    `done`, and `show` for the GET page / `invalid` for a form that did not validate.
    """

    methods: ClassVar[list[str]] = ["POST"]
    decorators: ClassVar[list[Callable]] = [login_required]
    form_class: ClassVar[type[Form] | None] = None

    # --- the steps a handler fills in ----------------------------------------------------------

    def load(self, **view_args: Any) -> None:
        """Load the objects named in the URL (404 when missing)."""

    def check(self) -> None:
        """Refuse (403, or 404 where the object must stay unknown) unless the user may act."""

    def make_form(self) -> Form | None:
        """The form of this request (filled from the request on POST)."""
        return self.form_class() if self.form_class is not None else None

    def current_version(self) -> Any:
        """The stored version a `VersionedForm` must carry (its object's version column), or
        None where the form creates a new object and nothing can be stale."""
        raise NotImplementedError(f"{type(self).__name__} has a VersionedForm but no version")

    def show(self, form: Form | None):
        """The page on GET (a handler with only POST has none)."""
        abort(405)

    def invalid(self, form: Form):
        """The answer to a form that did not validate: its page with the messages, else 400."""
        errors = [str(e) for messages in form.errors.values() for e in messages]
        abort_with(400, errors[0] if errors else str(INVALID_MESSAGE))

    def act(self, form: Form | None) -> Any:
        """Call the operations; they flush and never commit. The result goes to `done`."""
        raise NotImplementedError

    def done(self, result: Any):
        """The answer after the commit: usually a flash message and a redirect."""
        return result

    def failed(self) -> None:
        """Undo what the act did outside the database (stored files) after a rollback."""

    def refused(self, error: DomainError, form: Form | None):
        """The answer to an act the rules refused (nothing was stored): its status and message."""
        abort_with(error.status, error.message)

    # --- the fixed order -----------------------------------------------------------------------

    def dispatch_request(self, **view_args: Any):
        self.load(**view_args)
        self.check()
        form = self.make_form()
        versioned = isinstance(form, VersionedForm) and self.current_version() is not None
        if request.method in ("GET", "HEAD"):
            if versioned:
                form.show_version(self.current_version())
            return self.show(form)
        try:
            if versioned:
                form.check_version(self.current_version())
            if form is not None and not form.validate():
                db.session.rollback()  # a validator's lookups leave nothing behind
                return self.invalid(form)
            result = run_in_transaction(lambda: self.act(form))
        except DomainError as error:
            db.session.rollback()
            self._undo()
            return self.refused(error, form)
        except BaseException:
            self._undo()
            raise
        return self.done(result)

    def _undo(self) -> None:
        try:
            self.failed()
        except Exception:  # the database failed as well: say so, and answer the first error
            db.session.rollback()
            current_app.logger.exception("Could not undo what %s did", type(self).__name__)

    @classmethod
    def route(cls, bp: Blueprint, rule: str, endpoint: str, **options: Any) -> None:
        """Register the handler on `bp` at `rule` as `endpoint` (for url_for)."""
        bp.add_url_rule(rule, view_func=cls.as_view(endpoint), **options)


def route(bp: Blueprint, rule: str, endpoint: str, **options: Any):
    """Class decorator: `@route(bp, "/activities/<int:activity_id>/edit", "edit_activity")`."""

    def register(cls: type[Handler]) -> type[Handler]:
        cls.route(bp, rule, endpoint, **options)
        return cls

    return register


def init_app(app: Flask) -> None:
    """Whatever escapes a view: a concurrent edit is a 409, an unreachable database or a full
    disk a 503 with Retry-After, any other error a 500; every one leaves a clean session."""
    from directory.web import (
        error_response,
        is_database_fault,
        is_disk_full,
        safe_error_response,
        service_unavailable,
    )

    @app.errorhandler(StaleDataError)
    def handle_stale(exc: StaleDataError):
        db.session.rollback()
        return error_response(409, str(STALE_MESSAGE))

    @app.errorhandler(Stale)
    def handle_stale_form(exc: Stale):
        db.session.rollback()
        return error_response(409, exc.message)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeoutError)
    def handle_database_fault(exc: Exception):
        if not is_database_fault(exc):
            raise exc  # a bug (a constraint, a bad statement): the 500 below
        _roll_back_after_fault()
        # The user cannot be loaded from the database now: the page (and the security headers
        # after it) see a visitor, which Flask-Login keeps as the request's user in g.
        g._login_user = login_manager.anonymous_user()
        app.logger.error("Database unavailable, answered 503: %s", exc, exc_info=exc)
        return service_unavailable()

    @app.errorhandler(OSError)
    def handle_disk_full(exc: OSError):
        if not is_disk_full(exc):
            raise exc
        _roll_back_after_fault()
        app.logger.error("Disk full, answered 503: %s", exc, exc_info=exc)
        return service_unavailable()

    @app.errorhandler(500)
    def handle_500(exc):
        _roll_back_after_fault()
        return safe_error_response(500)


def _roll_back_after_fault() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone with whatever it had not committed
        current_app.logger.warning("Rollback after a fault failed", exc_info=True)
