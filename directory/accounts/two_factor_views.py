"""Two-step login pages on the accounts blueprint: the login's second step, enrolment, and the
user's own settings (recovery codes, turning an optional second step off).

Required users (municipal and school admins) who have not enrolled are sent to enrolment from
every page until they have: see require_enrolment().
"""

from __future__ import annotations

from typing import NoReturn

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from directory.accounts.blueprint import bp
from directory.accounts.models import User
from directory.accounts.pending import (
    clear_pending,
    has_pending_marker,
    pending_next,
    pending_user,
    pending_user_id,
)
from directory.accounts.sessions import sign_in
from directory.accounts.throttle import login_address_limit, signed_in_key
from directory.accounts.two_factor import (
    confirm_enrolment,
    confirm_identity,
    disable_two_step,
    grouped_secret,
    needs_enrolment,
    provisioning_uri,
    qr_code_svg,
    regenerate_recovery_codes,
    start_enrolment,
    two_step_enabled,
    two_step_required,
    unused_recovery_codes,
    verify_second_step,
)
from directory.accounts.two_factor_forms import (
    ConfirmIdentityForm,
    EnrolmentCodeForm,
    SecondStepForm,
)
from directory.errors import DomainError
from directory.extensions import limiter, login_manager
from directory.i18n import gettext as _
from directory.organisations.forms import ConfirmForm
from directory.permissions import can_disable_two_step
from directory.pipeline import Handler, route
from directory.security import is_safe_next


def _two_step_limit() -> str:
    return current_app.config["TWO_STEP_RATE_LIMIT"]


def _pending_account_key() -> str:
    """The per-account throttle's key: the account whose password was right."""
    user_id = pending_user_id()
    if user_id is None:
        return "two-step-no-account:" + (get_remote_address() or "")
    return f"two-step-account:{user_id}"


def _failed(response) -> bool:
    # A redirect is a success or a login that has to start over: neither is a guess.
    return response.status_code != 302


def _wrong_identity(response) -> bool:
    # Only a wrong password or code counts (its page answers 422).
    return response.status_code == 422


def _safe(target: str | None) -> str | None:
    return target if is_safe_next(target) else None


def _to_settings() -> NoReturn:
    """Stop here and go to the user's second-step settings."""
    abort(redirect(url_for("accounts.two_step")))


@route(bp, "/login/two-step", "login_two_step")
class LoginTwoStep(Handler):
    """The login's second step: a code from the app, or a recovery code."""

    methods = ["GET", "POST"]
    decorators = [
        limiter.limit(
            _two_step_limit, methods=["POST"], key_func=_pending_account_key, deduct_when=_failed
        ),
        # Per address as at the password step: generous, a school may share one address.
        limiter.limit(login_address_limit, methods=["POST"], deduct_when=_failed),
    ]
    form_class = SecondStepForm

    def load(self) -> None:
        self.user = pending_user()
        if self.user is None:
            abort(self._start_over())

    @staticmethod
    def _start_over():
        """No password step to go on from (or it ran out): Min side when signed in, else the
        login."""
        if has_pending_marker():
            clear_pending()
            flash(_("Innloggingen tok for lang tid. Logg inn på nytt."), "info")
        if current_user.is_authenticated:
            return redirect(url_for("accounts.dashboard"))
        return login_manager.unauthorized()

    def show(self, form: SecondStepForm, status: int = 200):
        return render_template("accounts/login_two_step.html", form=form), status

    def invalid(self, form: SecondStepForm):
        return self.show(form, 401)

    def act(self, form: SecondStepForm) -> str:
        kind = verify_second_step(self.user, form.code.data)
        if kind is None:
            raise DomainError(_("Koden er feil eller allerede brukt. Prøv igjen."), 401)
        self.next_url = pending_next()  # before sign_in clears the cookie
        sign_in(self.user)
        return kind

    def refused(self, error: DomainError, form: SecondStepForm):
        form.code.errors.append(error.message)
        return self.show(form, error.status)

    def done(self, kind: str):
        if kind == "recovery":
            left = unused_recovery_codes(self.user)
            flash(
                _(
                    "Du brukte en gjenopprettingskode. Du har %(num)s igjen; lag nye under "
                    "Totrinnsinnlogging når de begynner å ta slutt.",
                    num=left,
                ),
                "info",
            )
        return redirect(self.next_url or url_for("accounts.dashboard"))


@bp.route("/account/two-step")
@login_required
def two_step():
    """The user's second step: on or off, recovery codes left, and what can be done."""
    user = current_user
    return render_template(
        "accounts/two_step.html",
        enabled=two_step_enabled(user),
        required=two_step_required(user),
        codes_left=unused_recovery_codes(user) if two_step_enabled(user) else 0,
        identity_form=ConfirmIdentityForm(formdata=None),
        can_disable=can_disable_two_step(user),
    )


@route(bp, "/account/two-step/enrol", "enrol_two_step")
class EnrolTwoStep(Handler):
    """Enrolment: the QR code and the secret as text, and the first code to confirm them.

    Before a secret exists the page offers to make one (start_two_step), on GET and POST alike.
    """

    methods = ["GET", "POST"]

    def load(self) -> None:
        self.user: User = current_user._get_current_object()
        self.next_url = _safe(request.args.get("next"))
        if two_step_enabled(self.user):
            _to_settings()

    def make_form(self) -> EnrolmentCodeForm | None:
        return EnrolmentCodeForm() if self.user.totp_secret else None

    def show(self, form: EnrolmentCodeForm | None, status: int = 200):
        user = self.user
        if form is None:
            return render_template(
                "accounts/enrol_two_step.html",
                started=False,
                required=two_step_required(user),
                next_url=self.next_url,
                form=None,
            ), status
        return render_template(
            "accounts/enrol_two_step.html",
            started=True,
            required=two_step_required(user),
            next_url=self.next_url,
            form=form,
            qr_svg=qr_code_svg(provisioning_uri(user), _("QR-kode for appen")),
            secret=grouped_secret(user.totp_secret),
        ), status

    def invalid(self, form: EnrolmentCodeForm):
        return self.show(form, 422)

    def act(self, form: EnrolmentCodeForm | None) -> list[str] | None:
        if form is None:
            return None  # nothing to confirm yet: the page offers to start
        codes = confirm_enrolment(self.user, form.code.data, actor=self.user)
        if codes is None:
            raise DomainError(
                _("Koden stemmer ikke. Sjekk at klokken på telefonen er riktig, og prøv igjen."),
                422,
            )
        return codes

    def refused(self, error: DomainError, form: EnrolmentCodeForm):
        form.code.errors.append(error.message)
        return self.show(form, error.status)

    def done(self, codes: list[str] | None):
        if codes is None:
            return self.show(None)
        return render_template(
            "accounts/recovery_codes.html", codes=codes, next_url=self.next_url, new=True
        )


@route(bp, "/account/two-step/enrol/start", "start_two_step")
class StartTwoStep(Handler):
    """Make a new secret to scan (again, when the first attempt went wrong)."""

    form_class = ConfirmForm

    def load(self) -> None:
        self.next_url = _safe(request.args.get("next"))

    def invalid(self, form: ConfirmForm):
        abort(400)

    def act(self, form: ConfirmForm) -> bool:
        if two_step_enabled(current_user):
            return False
        start_enrolment(current_user, actor=current_user)
        return True

    def done(self, started: bool):
        if not started:
            return redirect(url_for("accounts.two_step"))
        return redirect(url_for("accounts.enrol_two_step", next=self.next_url))


class _ProveIdentity(Handler):
    """A change to the second step that needs the password or a current code first; a wrong
    one shows the settings page again with the message (422, which the throttle counts)."""

    decorators = [
        limiter.limit(
            _two_step_limit, methods=["POST"], key_func=signed_in_key, deduct_when=_wrong_identity
        ),
        login_required,
    ]
    form_class = ConfirmIdentityForm
    failed_action = "regenerate"

    def confirm(self, form: ConfirmIdentityForm) -> None:
        """Refuse unless the form proves the user is who is signed in."""
        if not confirm_identity(current_user, password=form.password.data, code=form.code.data):
            raise DomainError(_("Passordet eller koden er feil."), 422)

    def invalid(self, form: ConfirmIdentityForm):
        return self._settings_with_errors(form)

    def refused(self, error: DomainError, form: ConfirmIdentityForm):
        form.password.errors.append(error.message)
        return self._settings_with_errors(form)

    def _settings_with_errors(self, form: ConfirmIdentityForm):
        user = current_user
        return render_template(
            "accounts/two_step.html",
            enabled=two_step_enabled(user),
            required=two_step_required(user),
            codes_left=unused_recovery_codes(user),
            identity_form=form,
            failed_action=self.failed_action,
            can_disable=can_disable_two_step(user),
        ), 422


@route(bp, "/account/two-step/recovery-codes", "regenerate_recovery_codes")
class RegenerateRecoveryCodes(_ProveIdentity):
    """Ten new recovery codes, shown once; the old ones stop working."""

    def check(self) -> None:
        if not two_step_enabled(current_user):
            flash(_("Totrinnsinnlogging er ikke slått på."), "error")
            _to_settings()

    def act(self, form: ConfirmIdentityForm) -> list[str]:
        self.confirm(form)
        return regenerate_recovery_codes(current_user, actor=current_user)

    def done(self, codes: list[str]):
        return render_template(
            "accounts/recovery_codes.html", codes=codes, next_url=None, new=False
        )


@route(bp, "/account/two-step/disable", "disable_two_step")
class DisableTwoStep(_ProveIdentity):
    """Turn an optional second step off, after the password or a current code."""

    failed_action = "disable"

    def check(self) -> None:
        if not can_disable_two_step(current_user):
            abort(403)
        if not two_step_enabled(current_user):
            _to_settings()

    def act(self, form: ConfirmIdentityForm) -> None:
        self.confirm(form)
        disable_two_step(current_user, actor=current_user)

    def done(self, result: None):
        flash(_("Totrinnsinnlogging er slått av."), "success")
        return redirect(url_for("accounts.two_step"))


# Pages a user who must enrol may still reach: enrolment itself, logging out, and what needs
# no login at all.
ENROLMENT_EXEMPT = {
    "static",
    "accounts.enrol_two_step",
    "accounts.start_two_step",
    "accounts.logout",
    "accounts.login",
    "accounts.login_two_step",
}
EXEMPT_BLUEPRINTS = {"api", "health"}


@bp.before_app_request
def require_enrolment():
    """Send a municipal or school admin without a second step to enrolment from every page."""
    if request.endpoint is None or request.endpoint in ENROLMENT_EXEMPT:
        return None
    if request.blueprint in EXEMPT_BLUEPRINTS:
        return None
    if not current_user.is_authenticated or not needs_enrolment(current_user):
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("accounts.enrol_two_step", next=_safe(target)))
