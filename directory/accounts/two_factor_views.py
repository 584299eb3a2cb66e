"""Two-step login pages on the accounts blueprint: the login's second step, enrolment, and the
user's own settings (recovery codes, turning an optional second step off).

Required users (municipal and school admins) who have not enrolled are sent to enrolment from
every page until they have: see require_enrolment().
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from directory.accounts.pending import (
    clear_pending,
    has_pending_marker,
    pending_next,
    pending_user,
    pending_user_id,
)
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
from directory.accounts.views import bp, sign_in
from directory.extensions import db, limiter, login_manager
from directory.organisations.forms import ConfirmForm
from directory.permissions import can_disable_two_step
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


def _safe(target: str | None) -> str | None:
    return target if is_safe_next(target) else None


@bp.route("/login/two-step", methods=["GET", "POST"])
@limiter.limit(_two_step_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(
    _two_step_limit, methods=["POST"], key_func=_pending_account_key, deduct_when=_failed
)
def login_two_step():
    """The login's second step: a code from the app, or a recovery code."""
    user = pending_user()
    if user is None:
        if has_pending_marker():
            clear_pending()
            flash(_("Innloggingen tok for lang tid. Logg inn på nytt."), "info")
        if current_user.is_authenticated:
            return redirect(url_for("accounts.dashboard"))
        return login_manager.unauthorized()
    form = SecondStepForm()
    if form.validate_on_submit():
        kind = verify_second_step(user, form.code.data)
        if kind is None:
            form.code.errors.append(_("Koden er feil eller allerede brukt. Prøv igjen."))
        else:
            next_url = pending_next()
            sign_in(user)
            db.session.commit()
            if kind == "recovery":
                left = unused_recovery_codes(user)
                flash(
                    _(
                        "Du brukte en gjenopprettingskode. Du har %(num)s igjen; lag nye under "
                        "Totrinnsinnlogging når de begynner å ta slutt.",
                        num=left,
                    ),
                    "info",
                )
            return redirect(next_url or url_for("accounts.dashboard"))
    status = 401 if form.is_submitted() and form.errors else 200
    return render_template("accounts/login_two_step.html", form=form), status


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


@bp.route("/account/two-step/enrol", methods=["GET", "POST"])
@login_required
def enrol_two_step():
    """Enrolment: the QR code and the secret as text, and the first code to confirm them."""
    user = current_user
    next_url = _safe(request.args.get("next"))
    if two_step_enabled(user):
        return redirect(url_for("accounts.two_step"))
    if not user.totp_secret:
        return render_template(
            "accounts/enrol_two_step.html",
            started=False,
            required=two_step_required(user),
            next_url=next_url,
            form=None,
        )
    form = EnrolmentCodeForm()
    if form.validate_on_submit():
        codes = confirm_enrolment(user, form.code.data, actor=user)
        if codes is not None:
            db.session.commit()
            return render_template(
                "accounts/recovery_codes.html", codes=codes, next_url=next_url, new=True
            )
        form.code.errors.append(
            _("Koden stemmer ikke. Sjekk at klokken på telefonen er riktig, og prøv igjen.")
        )
    uri = provisioning_uri(user)
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template(
        "accounts/enrol_two_step.html",
        started=True,
        required=two_step_required(user),
        next_url=next_url,
        form=form,
        qr_svg=qr_code_svg(uri, _("QR-kode for appen")),
        secret=grouped_secret(user.totp_secret),
    ), status


@bp.route("/account/two-step/enrol/start", methods=["POST"])
@login_required
def start_two_step():
    """Make a new secret to scan (again, when the first attempt went wrong)."""
    next_url = _safe(request.args.get("next"))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if two_step_enabled(current_user):
        return redirect(url_for("accounts.two_step"))
    start_enrolment(current_user, actor=current_user)
    db.session.commit()
    return redirect(url_for("accounts.enrol_two_step", next=next_url))


@bp.route(
    "/account/two-step/recovery-codes", methods=["POST"], endpoint="regenerate_recovery_codes"
)
@login_required
@limiter.limit(_two_step_limit, methods=["POST"], deduct_when=lambda r: r.status_code == 422)
def regenerate_codes():
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not two_step_enabled(current_user):
        flash(_("Totrinnsinnlogging er ikke slått på."), "error")
        return redirect(url_for("accounts.two_step"))
    form = ConfirmIdentityForm()
    if form.validate_on_submit():
        if confirm_identity(current_user, password=form.password.data, code=form.code.data):
            codes = regenerate_recovery_codes(current_user, actor=current_user)
            db.session.commit()
            return render_template(
                "accounts/recovery_codes.html", codes=codes, next_url=None, new=False
            )
        form.password.errors.append(_("Passordet eller koden er feil."))
    return _settings_with_errors(form)


@bp.route("/account/two-step/disable", methods=["POST"], endpoint="disable_two_step")
@login_required
@limiter.limit(_two_step_limit, methods=["POST"], deduct_when=lambda r: r.status_code == 422)
def disable_two_step_view():
    """Turn an optional second step off, after the password or a current code."""
    if not can_disable_two_step(current_user):
        abort(403)
    if not two_step_enabled(current_user):
        return redirect(url_for("accounts.two_step"))
    form = ConfirmIdentityForm()
    if form.validate_on_submit():
        if confirm_identity(current_user, password=form.password.data, code=form.code.data):
            disable_two_step(current_user, actor=current_user)
            db.session.commit()
            flash(_("Totrinnsinnlogging er slått av."), "success")
            return redirect(url_for("accounts.two_step"))
        form.password.errors.append(_("Passordet eller koden er feil."))
    return _settings_with_errors(form, action="disable")


def _settings_with_errors(form: ConfirmIdentityForm, action: str = "regenerate"):
    user = current_user
    return render_template(
        "accounts/two_step.html",
        enabled=two_step_enabled(user),
        required=two_step_required(user),
        codes_left=unused_recovery_codes(user),
        identity_form=form,
        failed_action=action,
        can_disable=can_disable_two_step(user),
    ), 422


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
