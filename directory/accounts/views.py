"""Log in, log out, register, and the signed-in user's own page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from directory.accounts.forms import LoginForm
from directory.accounts.operations import authenticate, end_session, start_session
from directory.extensions import db, limiter
from directory.security import is_safe_next

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    methods=["POST"],
    # Only failed attempts count: a successful login redirects.
    deduct_when=lambda response: response.status_code != 302,
)
def login():
    """Show the login form; on valid credentials start a fresh session and go on."""
    next_url = request.args.get("next")
    if not is_safe_next(next_url):
        next_url = None
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Feil e-post eller passord."))
        else:
            session.clear()  # a new session on login: nothing from before carries over
            start_session(user)
            login_user(user)
            db.session.commit()
            return redirect(next_url or url_for("accounts.dashboard"))
    status = 401 if form.is_submitted() and form.errors else 200
    return render_template("accounts/login.html", form=form, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
def logout():
    """End the server-side session so the old cookie is worthless, and clear the cookie."""
    if current_user.is_authenticated:
        end_session(current_user.current_session_token)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("Du er logget ut."), "info")
    return redirect(url_for("activities.home"))


@bp.route("/account")
@login_required
def dashboard():
    """The signed-in user's organisations, schools and administrative roles."""
    return render_template("accounts/dashboard.html")


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Register a user and an organisation in one flow."""
    return render_template("errors/error.html", status=501, message="Kommer"), 501
