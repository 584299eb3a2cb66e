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
from directory.accounts.pending import begin_second_step
from directory.accounts.two_factor import needs_enrolment, two_step_enabled
from directory.approvals.inbox import pending_counts
from directory.extensions import db, limiter
from directory.mail import NoPublicAddress, public_link
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
    from directory.i18n import current_language

    session.clear()  # a new session on login: nothing from before carries over
    start_session(user)
    login_user(user)
    user.locale = current_language()  # e-mail is written in the language of the last login


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
        elif two_step_enabled(user):
            # No session yet: only a marker that the password was right, for the second step.
            begin_second_step(user, next_url)
            db.session.commit()  # the password check may have rehashed
            return redirect(url_for("accounts.login_two_step"))
        else:
            sign_in(user)
            db.session.commit()
            if needs_enrolment(user):
                return redirect(url_for("accounts.enrol_two_step", next=next_url))
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


# --- passwords: change, reset by e-mail ------------------------------------------------------


def _reset_limit_per_address() -> str:
    return current_app.config["RESET_REQUEST_RATE_LIMIT"]


def _reset_limit_per_email() -> str:
    return current_app.config["RESET_REQUEST_EMAIL_RATE_LIMIT"]


def _reset_email_key() -> str:
    # Keyed by the address asked for (normalised), so one inbox cannot be flooded from many hosts.
    from directory.accounts.operations import normalise_email

    return "password-reset:" + normalise_email(request.form.get("email", ""))[:254]


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _login_limit,
    methods=["POST"],
    # As at login, only failed attempts count: guessing the current password is throttled.
    deduct_when=lambda response: response.status_code != 302,
)
def change_password():
    """Change the password with the current one; every other session of the account ends."""
    from directory.accounts.forms import ChangePasswordForm
    from directory.accounts.operations import change_password as change_password_op
    from directory.accounts.operations import check_password

    user = current_user._get_current_object()
    form = ChangePasswordForm(user=user)
    if form.validate_on_submit():
        if not check_password(user, form.current_password.data):
            form.current_password.errors.append(_("Passordet er feil."))
        else:
            change_password_op(user, {"password": form.password.data}, actor=user)
            db.session.commit()
            flash(
                _("Passordet er endret. Du er logget ut alle andre steder du var logget inn."),
                "success",
            )
            return redirect(url_for("accounts.dashboard"))
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/account/password/reset", methods=["GET", "POST"])
@limiter.limit(_reset_limit_per_address, methods=["POST"])
@limiter.limit(_reset_limit_per_email, methods=["POST"], key_func=_reset_email_key)
def request_password_reset():
    """Ask for a reset link by e-mail; the answer is the same whether the account exists or not.

    Both cases make a token; the mail is rendered and (for an active account) delivered after
    the response has gone, so neither the page, its status nor its timing tells them apart.
    """
    from directory.accounts.forms import PasswordResetRequestForm
    from directory.accounts.operations import PASSWORD_RESET_LIFETIME, create_password_reset

    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        user, token = create_password_reset(form.email.data)
        db.session.commit()
        try:
            url = public_link("accounts.reset_password", token=token)
        except NoPublicAddress:
            # A link on the Host header the client sent could carry the token to any host.
            current_app.logger.error("set PUBLIC_BASE_URL to e-mail password-reset links")
            url, user = url_for("accounts.reset_password", token=token), None
        _send_after_response(
            to=user.email if user else form.email.data,
            locale=user.locale if user else None,
            deliver=user is not None,
            name=user.name if user else "",
            url=url,
            minutes=int(PASSWORD_RESET_LIFETIME.total_seconds() // 60),
        )
        return render_template("accounts/password_reset_request.html", form=form, sent=True)
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template("accounts/password_reset_request.html", form=form, sent=False), status


def _send_after_response(*, to: str, locale: str | None, deliver: bool, **context) -> None:
    """Render the reset mail once the response is sent, and deliver it only when `deliver`."""
    from flask import after_this_request

    from directory.mail import MailError, render_email
    from directory.mail import deliver as deliver_email

    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            email = render_email(to, "password_reset", locale=locale, **context)
            if not deliver:
                return
            try:
                deliver_email(email)
            except MailError:
                app.logger.exception("could not send the password-reset e-mail")

    @after_this_request
    def later(response):
        response.call_on_close(send)
        return response


@bp.route("/account/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password from a reset link: single use, one hour; all sessions end."""
    from directory.accounts.forms import PasswordResetForm
    from directory.accounts.operations import find_password_reset
    from directory.accounts.operations import reset_password as reset_password_op

    reset, state = find_password_reset(token)
    if state != "ok":
        return render_template("accounts/password_reset_invalid.html", state=state), (
            404 if state == "unknown" else 410
        )
    form = PasswordResetForm(user=reset.user)
    if form.validate_on_submit():
        reset_password_op(reset, {"password": form.password.data})
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
            session.clear()
        flash(_("Passordet er endret. Logg inn med det nye passordet."), "success")
        return redirect(url_for("accounts.login"))
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template("accounts/password_reset.html", form=form, token=token), status


# The two-step login's pages register on this blueprint.
from directory.accounts import two_factor_views  # noqa: E402, F401
