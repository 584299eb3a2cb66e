"""Log in, log out, register, the signed-in user's own page, and passwords."""

from __future__ import annotations

import hashlib

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from directory.accounts.blueprint import bp
from directory.accounts.forms import (
    KIND_LABELS,
    ChangePasswordForm,
    LoginForm,
    OrganisationRegistrationForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    RegistrationForm,
)
from directory.accounts.models import User
from directory.accounts.operations import (
    PASSWORD_RESET_LIFETIME,
    REGISTRATION_LIFETIME,
    authenticate,
    check_password,
    complete_registration,
    create_password_reset,
    end_session,
    find_password_reset,
    find_registration,
    normalise_email,
    start_registration,
)
from directory.accounts.operations import change_password as change_password_op
from directory.accounts.operations import reset_password as reset_password_op
from directory.accounts.pending import begin_second_step
from directory.accounts.sessions import sign_in, sign_out
from directory.accounts.throttle import (
    TooManyAttempts,
    begin_login_attempt,
    forget_failed_logins,
    signed_in_key,
)
from directory.accounts.two_factor import needs_enrolment, two_step_enabled
from directory.approvals.inbox import pending_counts
from directory.errors import DomainError
from directory.extensions import db, limiter
from directory.i18n import current_language
from directory.i18n import gettext as _
from directory.mail import NoPublicAddress, public_link
from directory.organisations.forms import ConfirmForm
from directory.organisations.models import Organisation
from directory.organisations.operations import org_number_taken, register_organisation
from directory.pipeline import Handler, route
from directory.policy.orgnumber import normalise_org_number
from directory.schools.models import Municipality
from directory.security import is_safe_next


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _register_email_limit() -> str:
    return current_app.config["REGISTER_EMAIL_RATE_LIMIT"]


def _register_email_key() -> str:
    # Keyed by the address written in the form (hashed: the store keeps no e-mail addresses).
    email = normalise_email(request.form.get("email", ""))[:254]
    return "register-email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _registration_sent(response) -> bool:
    # Only a form that sends an e-mail counts (its page answers 200); a form with mistakes not.
    return response.status_code == 200


def _not_redirected(response) -> bool:
    # Only failed attempts count against the limit: a successful one redirects.
    return response.status_code != 302


def _safe(target: str | None) -> str | None:
    return target if is_safe_next(target) else None


@route(bp, "/login", "login")
class Login(Handler):
    """Show the login form; on valid credentials start a fresh session and go on.

    With a second step on, no session starts yet: only a marker in the cookie that the password
    was right, and the second step's page follows.

    Failed attempts are limited per account and per client address (directory.accounts.throttle).
    """

    methods = ["GET", "POST"]
    decorators = []  # the throttle counts in act(), before the password is checked
    form_class = LoginForm

    def load(self) -> None:
        self.next_url = _safe(request.args.get("next"))

    def show(self, form: LoginForm, status: int = 200):
        return render_template("accounts/login.html", form=form, next_url=self.next_url), status

    def invalid(self, form: LoginForm):
        return self.show(form, 401)

    def act(self, form: LoginForm) -> User | None:
        attempt = begin_login_attempt(form.email.data)
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            raise DomainError(_("Feil e-post eller passord."), 401)
        attempt.succeeded()
        if two_step_enabled(user):
            begin_second_step(user, self.next_url)  # the password check may have rehashed
            return None
        sign_in(user)
        return user

    def refused(self, error: DomainError, form: LoginForm):
        form.password.errors.append(error.message)
        response = make_response(self.show(form, error.status))
        if isinstance(error, TooManyAttempts):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    def done(self, user: User | None):
        if user is None:
            return redirect(url_for("accounts.login_two_step"))
        if needs_enrolment(user):
            return redirect(url_for("accounts.enrol_two_step", next=self.next_url))
        return redirect(self.next_url or url_for("accounts.dashboard"))


@route(bp, "/logout", "logout")
class Logout(Handler):
    """End the server-side session so the old cookie is worthless, and clear the cookie."""

    decorators = []  # logging out twice is no error

    def act(self, form: None) -> None:
        if current_user.is_authenticated:
            end_session(current_user.current_session_token)

    def done(self, result: None):
        sign_out()
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


@route(bp, "/register", "register")
class Register(Handler):
    """Register an account and an organisation in one flow (signed in: just the organisation).

    Without a session the answer is the same page whether or not the e-mail has an account
    (issue #11, finding 5): a new address is sent a link that completes the registration
    (ConfirmRegistration); the owner of an existing account is sent an e-mail saying so, and the
    form's organisation is not kept: they log in and register it from their account.
    """

    methods = ["GET", "POST"]
    decorators = [
        # Each accepted form sends an e-mail: a few an hour to one address, from any client.
        limiter.limit(
            _register_email_limit,
            methods=["POST"],
            key_func=_register_email_key,
            deduct_when=_registration_sent,
        ),
        limiter.limit(_register_limit, methods=["POST"]),
    ]

    def load(self) -> None:
        self.signed_in = current_user.is_authenticated

    def make_form(self) -> OrganisationRegistrationForm:
        return OrganisationRegistrationForm() if self.signed_in else RegistrationForm()

    def show(self, form: OrganisationRegistrationForm, status: int = 200):
        return render_template(
            "accounts/register.html", form=form, signed_in=self.signed_in
        ), status

    def invalid(self, form: OrganisationRegistrationForm):
        return self.show(form, 422)

    def act(self, form: OrganisationRegistrationForm):
        self.municipality = db.get_or_404(Municipality, form.municipality.data)
        self.form = form
        organisation = {
            "name": form.org_name.data,
            "kind": form.kind.data,
            "org_number": form.org_number.data,
            "website_url": form.website_url.data,
            "email": form.contact_email.data,
            "phone": form.phone.data,
        }
        if not self.signed_in:
            return start_registration(
                {
                    "email": form.email.data,
                    "name": form.name.data,
                    "password": form.password.data,
                    "municipality_id": self.municipality.id,
                    "organisation": organisation,
                }
            )
        try:
            return register_organisation(
                self.municipality, organisation, actor=current_user._get_current_object()
            )
        except IntegrityError:
            # Someone registered the same number or name between our check and the insert.
            raise DomainError(
                _("Noen registrerte det samme akkurat nå. Prøv igjen."), 409
            ) from None

    def done(self, result):
        if not self.signed_in:
            return self._sent(*result)
        return _registered(result, self.municipality)

    def _sent(self, user: User | None, token: str):
        """The page that an e-mail is on its way, and the e-mail, after the response."""
        email = normalise_email(self.form.email.data)
        try:
            if user is None:
                template, to, locale = "registration_confirm", email, current_language()
                context = {
                    "url": public_link("accounts.confirm_registration", token=token),
                    "hours": int(REGISTRATION_LIFETIME.total_seconds() // 3600),
                }
            else:
                template, to, locale = "registration_existing", user.email, user.locale
                # The owner's language, not the language of whoever filled in the form.
                lang = {"lang": user.locale if user.locale in ("nn", "en") else None}
                context = {
                    "name": user.name,
                    "login_url": public_link(
                        "accounts.login", next=url_for("accounts.register", lang=None), **lang
                    ),
                    "reset_url": public_link("accounts.request_password_reset", **lang),
                }
        except NoPublicAddress:
            # A link on the Host header the client sent could carry the token to any host.
            current_app.logger.error("set PUBLIC_BASE_URL to e-mail registration links")
        else:
            _send_after_response(
                template,
                to=to,
                locale=locale,
                deliver=user is None or user.active,
                **context,
            )
        return render_template("accounts/register_sent.html", email=email)


def _registered(organisation: Organisation, municipality: Municipality):
    flash(
        _(
            "%(name)s er registrert. %(municipality)s kommune vil verifisere organisasjonen. "
            "Dere kan allerede publisere aktiviteter; de merkes «Ikke verifisert» til da.",
            name=organisation.name,
            municipality=municipality.name,
        ),
        "success",
    )
    return redirect(url_for("organisations.show_organisation", slug=organisation.slug))


@route(bp, "/register/confirm/<token>", "confirm_registration")
class ConfirmRegistration(Handler):
    """The e-mailed link of a registration: a page with one button (a mail scanner that opens the
    link changes nothing), which creates the account and the organisation and signs in."""

    methods = ["GET", "POST"]
    decorators = []  # the link is the key
    form_class = ConfirmForm

    def load(self, token: str) -> None:
        self.token = token
        self.pending, state = find_registration(token)
        if state != "ok":
            page = render_template("accounts/register_confirm_invalid.html", state=state)
            abort(make_response(page, 404 if state == "unknown" else 410))

    def show(self, form: ConfirmForm, status: int = 200):
        return render_template(
            "accounts/register_confirm.html",
            form=form,
            pending=self.pending,
            token=self.token,
            kind_labels=KIND_LABELS,
        ), status

    def act(self, form: ConfirmForm) -> Organisation:
        pending = self.pending
        number = normalise_org_number(pending.organisation.get("org_number") or "")
        if number and org_number_taken(pending.municipality_id, number):
            raise DomainError(
                _(
                    "Dette organisasjonsnummeret er allerede registrert i kommunen. "
                    "Be en eier av organisasjonen om å invitere deg i stedet."
                ),
                409,
            )
        try:
            user = complete_registration(pending)
            organisation = register_organisation(
                pending.municipality, pending.organisation, actor=user
            )
        except IntegrityError:
            # Someone registered the same e-mail or number between our check and the insert.
            raise DomainError(
                _("Noen registrerte det samme akkurat nå. Prøv igjen."), 409
            ) from None
        sign_in(user)
        return organisation

    def refused(self, error: DomainError, form: ConfirmForm):
        page = render_template(
            "accounts/register_confirm_invalid.html", state="refused", message=error.message
        )
        return page, error.status

    def done(self, organisation: Organisation):
        return _registered(organisation, self.pending.municipality)


# --- passwords: change, reset by e-mail ------------------------------------------------------


def _reset_limit_per_address() -> str:
    return current_app.config["RESET_REQUEST_RATE_LIMIT"]


def _reset_limit_per_email() -> str:
    return current_app.config["RESET_REQUEST_EMAIL_RATE_LIMIT"]


def _reset_email_key() -> str:
    # Keyed by the address asked for (normalised), so one inbox cannot be flooded from many hosts.
    return "password-reset:" + normalise_email(request.form.get("email", ""))[:254]


@route(bp, "/account/password", "change_password")
class ChangePassword(Handler):
    """Change the password with the current one; every other session of the account ends."""

    methods = ["GET", "POST"]
    decorators = [
        # As at login, only failed attempts count: guessing the current password is throttled,
        # per account (a signed-in user's address may be a whole school's).
        limiter.limit(
            _login_limit, methods=["POST"], key_func=signed_in_key, deduct_when=_not_redirected
        ),
        login_required,
    ]

    def make_form(self) -> ChangePasswordForm:
        return ChangePasswordForm(user=current_user._get_current_object())

    def show(self, form: ChangePasswordForm, status: int = 200):
        return render_template("accounts/change_password.html", form=form), status

    def invalid(self, form: ChangePasswordForm):
        return self.show(form, 422)

    def act(self, form: ChangePasswordForm) -> None:
        user = current_user._get_current_object()
        if not check_password(user, form.current_password.data):
            raise DomainError(_("Passordet er feil."), 422)
        change_password_op(user, {"password": form.password.data}, actor=user)

    def refused(self, error: DomainError, form: ChangePasswordForm):
        form.current_password.errors.append(error.message)
        return self.show(form, error.status)

    def done(self, result: None):
        flash(
            _("Passordet er endret. Du er logget ut alle andre steder du var logget inn."),
            "success",
        )
        return redirect(url_for("accounts.dashboard"))


@route(bp, "/account/password/reset", "request_password_reset")
class RequestPasswordReset(Handler):
    """Ask for a reset link by e-mail; the answer is the same whether the account exists or not.

    Both cases make a token; the mail is rendered and (for an active account) delivered after
    the response has gone, so neither the page, its status nor its timing tells them apart.
    """

    methods = ["GET", "POST"]
    decorators = [
        limiter.limit(_reset_limit_per_email, methods=["POST"], key_func=_reset_email_key),
        limiter.limit(_reset_limit_per_address, methods=["POST"]),
    ]
    form_class = PasswordResetRequestForm

    def show(self, form: PasswordResetRequestForm, status: int = 200, *, sent: bool = False):
        return render_template("accounts/password_reset_request.html", form=form, sent=sent), status

    def invalid(self, form: PasswordResetRequestForm):
        return self.show(form, 422)

    def act(self, form: PasswordResetRequestForm) -> tuple[User | None, str]:
        self.form = form
        return create_password_reset(form.email.data)

    def done(self, result: tuple[User | None, str]):
        user, token = result
        try:
            url = public_link("accounts.reset_password", token=token)
        except NoPublicAddress:
            # A link on the Host header the client sent could carry the token to any host.
            current_app.logger.error("set PUBLIC_BASE_URL to e-mail password-reset links")
            url, user = url_for("accounts.reset_password", token=token), None
        _send_after_response(
            "password_reset",
            to=user.email if user else self.form.email.data,
            locale=user.locale if user else None,
            deliver=user is not None,
            name=user.name if user else "",
            url=url,
            minutes=int(PASSWORD_RESET_LIFETIME.total_seconds() // 60),
        )
        return self.show(self.form, sent=True)


def _send_after_response(
    template: str, *, to: str, locale: str | None, deliver: bool, **context
) -> None:
    """Render a mail once the response is sent, and deliver it only when `deliver`: a request
    whose mail is not delivered takes as long as one whose mail is."""
    from flask import after_this_request

    from directory.mail import MailError, render_email
    from directory.mail import deliver as deliver_email

    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            email = render_email(to, template, locale=locale, **context)
            if not deliver:
                return
            try:
                deliver_email(email)
            except MailError:
                app.logger.exception("could not send the %s e-mail", template)

    @after_this_request
    def later(response):
        response.call_on_close(send)
        return response


@route(bp, "/account/password/reset/<token>", "reset_password")
class ResetPassword(Handler):
    """Set a new password from a reset link: single use, one hour; all sessions end."""

    methods = ["GET", "POST"]
    decorators = []  # the link is the key

    def load(self, token: str) -> None:
        self.token = token
        self.reset, state = find_password_reset(token)
        if state != "ok":
            # A page saying why the link does not work, not the form: 404 unknown, 410 spent.
            page = render_template("accounts/password_reset_invalid.html", state=state)
            abort(make_response(page, 404 if state == "unknown" else 410))

    def make_form(self) -> PasswordResetForm:
        return PasswordResetForm(user=self.reset.user)

    def show(self, form: PasswordResetForm, status: int = 200):
        return render_template("accounts/password_reset.html", form=form, token=self.token), status

    def invalid(self, form: PasswordResetForm):
        return self.show(form, 422)

    def act(self, form: PasswordResetForm) -> None:
        reset_password_op(self.reset, {"password": form.password.data})

    def done(self, result: None):
        # Whoever held the account's login shut with wrong guesses no longer does.
        forget_failed_logins(self.reset.user.email)
        if current_user.is_authenticated:
            sign_out()
        flash(_("Passordet er endret. Logg inn med det nye passordet."), "success")
        return redirect(url_for("accounts.login"))
