"""Request-wide web behaviour: error pages, template helpers, language-carrying links."""

from __future__ import annotations

import errno
from collections.abc import Callable

from flask import (
    Flask,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_datetime, format_time
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from directory.approvals.display import grades_text
from directory.i18n import LANGUAGE_NAMES
from directory.i18n import gettext as _
from directory.rendering import format_price, render_markdown
from directory.urls import kept_url_for

ERROR_MESSAGES = {
    400: _l("Forespørselen var ugyldig."),
    403: _l("Du har ikke tilgang til dette."),
    404: _l("Siden eller objektet finnes ikke."),
    405: _l("Metoden er ikke tillatt her."),
    409: _l("Noen andre har endret dette i mellomtiden. Last inn siden på nytt og prøv igjen."),
    413: _l("Opplastingen er for stor."),
    415: _l("Filtypen støttes ikke."),
    422: _l("Dataene kunne ikke behandles."),
    429: _l("For mange forsøk. Vent litt og prøv igjen."),
    500: _l("Noe gikk galt hos oss. Prøv igjen senere."),
    503: _l("Tjenesten er midlertidig utilgjengelig."),
}


def wants_json() -> bool:
    """Whether the request is for the JSON API rather than an HTML page."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str | None = None):
    """A JSON or HTML error response with a message in the user's language."""
    text = message or str(ERROR_MESSAGES.get(status, ERROR_MESSAGES[400]))
    if wants_json():
        return jsonify(error=text), status
    return render_template("errors/error.html", status=status, message=text), status


def safe_error_response(status: int, message: str | None = None):
    """`error_response` for a fault: when even the page fails (the template's header asks for
    the user, say), a plain page without the template rather than the server's bare 500."""
    try:
        return make_response(error_response(status, message))
    except Exception:
        current_app.logger.exception("The %s page could not be rendered", status)
        text = message or str(ERROR_MESSAGES.get(status, ERROR_MESSAGES[500]))
        if wants_json():
            return make_response(jsonify(error=text), status)
        body = f'<!doctype html><html lang="nb"><meta charset="utf-8"><title>{status}</title>'
        return make_response(f"{body}<h1>{escape(text)}</h1></html>", status)


# --- faults outside the app: the database or the disk -----------------------------------------

# What a client is told to wait after a fault: a PostgreSQL restart takes seconds, a full disk
# someone's action; a minute spares the server a retry storm either way.
RETRY_AFTER_SECONDS = 60
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_database_fault(exc: BaseException) -> bool:
    """Whether the database could not answer: unreachable, restarting, connection lost, locked
    or out of space (SQLite's SQLITE_FULL and PostgreSQL's disk_full are OperationalErrors),
    or no pooled connection free in time. A bad statement or a broken constraint is not."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_disk_full(exc: BaseException) -> bool:
    """Whether the error is a full disk or an exhausted quota."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


def service_unavailable():
    """The 503 answer to a fault that passes, with Retry-After, rendered without the database:
    the page shows the visitor as logged out when the user could not be loaded."""
    response = safe_error_response(503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"  # never cached in place of the real page
    return response


# Ids are INTEGER columns: 32-bit on PostgreSQL, which refuses to compare a larger parameter.
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in every URL: ASCII digits within the range an id column holds.

    Werkzeug's own converter takes any Unicode digit and any size; PostgreSQL answers an id
    past 2**31 - 1 with an error and SQLite one past 2**63 - 1, so /activities/10**30 would be
    a 500 instead of a 404.
    """

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_nul_characters():
    """Refuse a NUL character anywhere in the path, query string or form with a 400.

    Nobody types one, and PostgreSQL cannot store one in text: one check here keeps every view
    from turning it into a 500 (or into data SQLite would keep but PostgreSQL could not load).
    """
    fields = list(request.args.items(multi=True))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        fields += request.form.items(multi=True)
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in fields):
        return error_response(
            400, _("Forespørselen inneholder et ugyldig tegn (NUL). Fjern det og prøv igjen.")
        )
    return None


def init_app(app: Flask) -> None:
    """Register error handlers, template filters and globals, and language-carrying URLs."""
    # Before any blueprint adds its rules: a rule binds its converter when it is added.
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_nul_characters)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        message = None
        if exc.description and getattr(exc, "directory_message", False):
            message = exc.description
        response = make_response(error_response(status, message))
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        return error_response(
            400, _("Skjemaet var utløpt eller ugyldig. Last inn siden på nytt og prøv igjen.")
        )

    @app.url_defaults
    def carry_language(endpoint: str, values: dict) -> None:
        # The chosen language travels in links instead of a cookie.
        lang = g.get("lang")
        if lang and endpoint != "static" and "lang" not in values:
            values["lang"] = lang

    app.jinja_env.globals["page_urls"] = page_urls
    app.jinja_env.globals["url_for"] = kept_url_for
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["price"] = format_price
    app.jinja_env.filters["grades_text"] = grades_text
    app.jinja_env.filters["date"] = lambda v, f="medium": format_date(v, f) if v else ""
    app.jinja_env.filters["time"] = lambda v, f="short": format_time(v, f) if v else ""
    app.jinja_env.filters["datetime"] = lambda v, f="medium": format_datetime(v, f) if v else ""
    from directory.labels import FILTERS  # the labels live with the forms, which need this module

    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    from directory import icons  # the icons' files and the categories' icons
    from directory.activities import search_form

    icons.init_app(app)
    search_form.init_app(app)


_PAGE_MARK = 987654321  # a page number no list reaches, replaced in the built URL


def page_urls(endpoint: str, args: dict) -> Callable[[int], str]:
    """The URL of each page of a list (`args` are its other parameters; page 1 has none): what
    url_for(endpoint, **dict(args, page=n)) gives, built twice rather than once per link."""
    first = url_for(endpoint, **dict(args, page=None))
    marked = url_for(endpoint, **dict(args, page=_PAGE_MARK))
    before, found, after = marked.partition(f"page={_PAGE_MARK}")
    if not found:  # the endpoint keeps the page elsewhere: build each
        return lambda n: url_for(endpoint, **dict(args, page=n if n > 1 else None))
    return lambda n: f"{before}page={n}{after}" if n > 1 else first


def abort_with(status: int, message: str):
    """Abort the request with a specific, user-facing message."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[status](description=message)
    exc.directory_message = True  # type: ignore[attr-defined]
    raise exc
