"""Request-wide web behaviour: error pages, template helpers, language-carrying links."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_babel import format_date, format_datetime, format_time
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from directory.i18n import LANGUAGE_NAMES
from directory.rendering import format_price, render_markdown

ERROR_MESSAGES = {
    400: "Forespørselen var ugyldig.",
    403: "Du har ikke tilgang til dette.",
    404: "Siden eller objektet finnes ikke.",
    405: "Metoden er ikke tillatt her.",
    409: "Noen andre har endret dette i mellomtiden. Last inn siden på nytt og prøv igjen.",
    413: "Opplastingen er for stor.",
    415: "Filtypen støttes ikke.",
    422: "Dataene kunne ikke behandles.",
    429: "For mange forsøk. Vent litt og prøv igjen.",
    500: "Noe gikk galt hos oss. Prøv igjen senere.",
    503: "Tjenesten er midlertidig utilgjengelig.",
}


def wants_json() -> bool:
    """Whether the request is for the JSON API rather than an HTML page."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str | None = None):
    """A JSON or HTML error response with a message in the user's language."""
    text = message or _(ERROR_MESSAGES.get(status, ERROR_MESSAGES[400]))
    if wants_json():
        return jsonify(error=text), status
    return render_template("errors/error.html", status=status, message=text), status


def init_app(app: Flask) -> None:
    """Register error handlers, template filters and globals, and language-carrying URLs."""

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        message = None
        if exc.description and getattr(exc, "directory_message", False):
            message = exc.description
        response = error_response(status, message)
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response[0].headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        return error_response(
            400, _("Skjemaet var utløpt eller ugyldig. Last inn siden på nytt og prøv igjen.")
        )

    @app.errorhandler(StaleDataError)
    def handle_stale(exc: StaleDataError):
        from directory.extensions import db

        db.session.rollback()
        return error_response(409)

    @app.errorhandler(500)
    def handle_500(exc):
        from directory.extensions import db

        db.session.rollback()
        return error_response(500)

    @app.url_defaults
    def carry_language(endpoint: str, values: dict) -> None:
        # The chosen language travels in links instead of a cookie.
        lang = g.get("lang")
        if lang and endpoint != "static" and "lang" not in values:
            values["lang"] = lang

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["price"] = format_price
    app.jinja_env.filters["date"] = lambda v, f="medium": format_date(v, f) if v else ""
    app.jinja_env.filters["time"] = lambda v, f="short": format_time(v, f) if v else ""
    app.jinja_env.filters["datetime"] = lambda v, f="medium": format_datetime(v, f) if v else ""
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES


def abort_with(status: int, message: str):
    """Abort the request with a specific, user-facing message."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[status](description=message)
    exc.directory_message = True  # type: ignore[attr-defined]
    raise exc
