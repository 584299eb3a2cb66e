"""The municipal admin's account administration, on the admin blueprint: the school staff's
accounts, deactivating and reactivating them, and resetting their second step."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from directory.accounts.administration import (
    deactivate_account,
    reactivate_account,
    staff_accounts,
)
from directory.accounts.models import User
from directory.accounts.two_factor import reset_two_step, two_step_enabled, two_step_required
from directory.admin.views import bp
from directory.extensions import db
from directory.organisations.forms import ConfirmForm
from directory.permissions import can_administer_account, can_deactivate_account
from directory.web import abort_with


def _load_account(user_id: int) -> User:
    """The account, or 404 when it holds no school role in the admin's municipality."""
    account = db.session.get(User, user_id)
    if account is None or not can_administer_account(current_user, account):
        abort(404)
    return account


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/accounts")
def list_accounts():
    """The school staff's accounts in the admin's municipality."""
    municipality = current_user.admin_municipality
    accounts = staff_accounts(municipality.id)
    return render_template(
        "admin/accounts.html",
        accounts=accounts,
        municipality=municipality,
        two_step_enabled=two_step_enabled,
        two_step_required=two_step_required,
    )


@bp.route("/accounts/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int):
    """Deactivate an account: its sessions end at once and it cannot log in."""
    account = _load_account(user_id)
    if not can_deactivate_account(current_user, account):
        abort_with(403, _("Du kan ikke deaktivere din egen konto."))
    _confirmed()
    deactivate_account(account, actor=current_user)
    db.session.commit()
    flash(_("%(name)s er deaktivert og logget ut.", name=account.name), "success")
    return redirect(url_for("admin.list_accounts"))


@bp.route("/accounts/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int):
    """Let a deactivated account log in again."""
    account = _load_account(user_id)
    if not can_deactivate_account(current_user, account):
        abort_with(403, _("Du kan ikke endre din egen konto her."))
    _confirmed()
    reactivate_account(account, actor=current_user)
    db.session.commit()
    flash(_("%(name)s kan logge inn igjen.", name=account.name), "success")
    return redirect(url_for("admin.list_accounts"))


@bp.route("/accounts/<int:user_id>/reset-two-step", methods=["POST"])
def reset_account_two_step(user_id: int):
    """Clear the account's second step and end its sessions (a lost phone, say)."""
    account = _load_account(user_id)
    if not can_deactivate_account(current_user, account):
        abort_with(403, _("Du kan ikke tilbakestille din egen totrinnsinnlogging her."))
    _confirmed()
    reset_two_step(account, actor=current_user)
    db.session.commit()
    flash(
        _(
            "Totrinnsinnloggingen til %(name)s er tilbakestilt, og kontoen er logget ut.",
            name=account.name,
        ),
        "success",
    )
    return redirect(url_for("admin.list_accounts"))
