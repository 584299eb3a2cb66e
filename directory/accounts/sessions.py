"""Signing a user in and out of this browser: the Flask session and Flask-Login, on top of the
stored login sessions (operations.start_session / end_session)."""

from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user

from directory.accounts.models import User
from directory.accounts.operations import start_session
from directory.i18n import current_language


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
