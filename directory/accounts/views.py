"""Log in, log out, register, and the signed-in user's own page."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from directory.accounts.forms import LoginForm, OrganisationRegistrationForm, RegistrationForm
from directory.accounts.models import User
from directory.accounts.operations import (
    authenticate,
    end_session,
    register_account,
    start_session,
)
from directory.approvals.inbox import pending_counts
from directory.extensions import db, limiter
from directory.organisations.operations import register_organisation
from directory.schools.models import Municipality
from directory.security import is_safe_next
from directory.web import abort_with

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config.get("REGISTER_RATE_LIMIT", "10 per hour")


def sign_in(user: User) -> None:
    """Log the user in on a brand-new session; the caller commits."""
    session.clear()  # a new session on login: nothing from before carries over
    start_session(user)
    login_user(user)


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
            sign_in(user)
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
    memberships = sorted(current_user.memberships, key=lambda m: m.organisation.name.lower())
    school_roles = sorted(current_user.school_roles, key=lambda r: r.school.name.lower())
    return render_template(
        "accounts/dashboard.html",
        memberships=memberships,
        school_roles=school_roles,
        pending=pending_counts(role.school for role in school_roles),
    )


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    """Register an account and an organisation in one flow (signed in: just the organisation)."""
    signed_in = current_user.is_authenticated
    form = OrganisationRegistrationForm() if signed_in else RegistrationForm()
    if form.validate_on_submit():
        municipality = db.get_or_404(Municipality, form.municipality.data)
        try:
            organisation = _register(form, municipality, signed_in)
            db.session.commit()
        except IntegrityError:
            # Someone registered the same e-mail or number between our check and the commit.
            db.session.rollback()
            abort_with(409, _("Noen registrerte det samme akkurat nå. Prøv igjen."))
        flash(
            _(
                "%(name)s er registrert. %(municipality)s kommune vil verifisere organisasjonen. "
                "Dere kan allerede publisere aktiviteter; de merkes som uverifisert til da.",
                name=organisation.name,
                municipality=municipality.name,
            ),
            "success",
        )
        return redirect(url_for("organisations.show_organisation", slug=organisation.slug))
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template("accounts/register.html", form=form, signed_in=signed_in), status


def _register(form, municipality: Municipality, signed_in: bool):
    """Create the account (unless signed in) and the organisation, and sign the new user in."""
    if signed_in:
        user = current_user._get_current_object()
    else:
        user = register_account(
            {
                "email": form.email.data,
                "name": form.name.data,
                "password": form.password.data,
                "municipality_id": municipality.id,
            }
        )
    organisation = register_organisation(
        municipality,
        {
            "name": form.org_name.data,
            "kind": form.kind.data,
            "org_number": form.org_number.data,
            "website_url": form.website_url.data,
            "email": form.contact_email.data,
            "phone": form.phone.data,
        },
        actor=user,
    )
    if not signed_in:
        sign_in(user)
    return organisation
