"""Signing a user in and out of this browser: the Flask session and Flask-Login, on top of the
stored login sessions (operations.start_session / end_session), and the session cookie."""

from __future__ import annotations

from flask import Flask, flash, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user

from directory.accounts.models import User
from directory.accounts.operations import start_session
from directory.i18n import current_language
from directory.i18n import gettext as _

# The browser keeps a cookie named __Host-… only when it is Secure, for "/", without Domain:
# no other site on a subdomain, and no plain-http page, can set or overwrite it.
HOST_PREFIX = "__Host-"


def sign_in(user: User) -> None:
    """Log the user in on a brand-new session; the caller commits."""
    session.clear()  # a new session on login: nothing from before carries over
    start_session(user)
    login_user(user)
    user.locale = current_language()  # e-mail is written in the language of the last login


def sign_out() -> None:
    """Forget the user in this browser: Flask-Login's user and the whole session cookie.

    The stored login session is the caller's to end (operations.end_session) before the commit.
    """
    logout_user()
    session.clear()


def forget_idle_session() -> None:
    """The stored session ended unused: forget its token here, and say why on the next page."""
    session.pop("_user_id", None)
    session.pop("_fresh", None)
    flash(
        _(
            "Du ble logget ut fordi du ikke hadde brukt siden på en stund. "
            "Logg inn igjen for å fortsette."
        ),
        "info",
    )


class BrowserSessionInterface(SecureCookieSessionInterface):
    """Flask's signed session cookie, Secure and __Host- prefixed whenever the request came over
    HTTPS, and always with SESSION_COOKIE_SECURE (the production profile).

    Over plain http (`make run`) the cookie stays as it was: a Secure one would never come back.
    The production profile never falls back: served over plain http, browsers drop its cookie
    and logging in does not stick, so the log says so, once per process.
    """

    warned_plain_http = False

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, and for every request that came over HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )

    def get_cookie_name(self, app: Flask) -> str:
        """The configured name, with the __Host- prefix when the cookie may carry it."""
        name = app.config["SESSION_COOKIE_NAME"]
        if (
            not name.startswith(HOST_PREFIX)
            and self.get_cookie_secure(app)
            and self.get_cookie_path(app) == "/"
            and not self.get_cookie_domain(app)
        ):
            return HOST_PREFIX + name
        return name

    def save_session(self, app: Flask, session, response) -> None:
        """Flask's, and a warning when a Secure cookie goes out over plain http."""
        super().save_session(app, session, response)
        if self.warned_plain_http or request.is_secure or not self.get_cookie_secure(app):
            return
        name = self.get_cookie_name(app)
        if any(h.startswith(f"{name}=") for h in response.headers.getlist("Set-Cookie")):
            self.warned_plain_http = True
            app.logger.warning(
                "The session cookie %s is Secure but this request came over plain http: browsers "
                "drop it, so logging in will not stick. Serve the site over HTTPS (behind the "
                "proxy of deploy/, with PROXY_FIX_HOPS so X-Forwarded-Proto counts), or use the "
                "default profile to try it over http.",
                name,
            )


def load_user_first() -> None:
    """Load the logged-in user before the view runs: a database that cannot be reached is then
    the 503 page from the start, and the session's use is recorded before the view writes."""
    current_user._get_current_object()


def init_app(app: Flask) -> None:
    """Install the session cookie's rules and load the user at the start of each request."""
    app.session_interface = BrowserSessionInterface()
    app.before_request(load_user_first)
