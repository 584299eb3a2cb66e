"""The municipal admin's account administration, on the admin blueprint: the school staff's
accounts, deactivating and reactivating them, and resetting their second step."""

from __future__ import annotations

from typing import ClassVar

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from directory import loading
from directory.accounts.administration import (
    deactivate_account,
    reactivate_account,
    staff_accounts,
)
from directory.accounts.two_factor import reset_two_step, two_step_enabled, two_step_required
from directory.admin.blueprint import bp
from directory.i18n import gettext as _
from directory.organisations.forms import ConfirmForm
from directory.permissions import can_administer_account, can_deactivate_account
from directory.pipeline import Handler, route
from directory.web import abort_with


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


class _OneAccount(Handler):
    """A button on one staff account of the admin's municipality, never the admin's own."""

    form_class = ConfirmForm
    # Why the admin's own account is refused (403): each button says it its own way.
    own_account_message: ClassVar[str]

    def load(self, user_id: int) -> None:
        self.account = loading.account(user_id)

    def check(self) -> None:
        # An account without a school role in the admin's municipality does not exist here.
        if not can_administer_account(current_user, self.account):
            abort(404)
        if not can_deactivate_account(current_user, self.account):
            abort_with(403, str(self.own_account_message))

    def done(self, result: object):
        return redirect(url_for("admin.list_accounts"))


@route(bp, "/accounts/<int:user_id>/deactivate", "deactivate")
class DeactivateAccount(_OneAccount):
    """Deactivate an account: its sessions end at once and it cannot log in."""

    own_account_message = _l("Du kan ikke deaktivere din egen konto.")

    def act(self, form: ConfirmForm) -> bool:
        return deactivate_account(self.account, actor=current_user)

    def done(self, result: bool):
        flash(_("%(name)s er deaktivert og logget ut.", name=self.account.name), "success")
        return super().done(result)


@route(bp, "/accounts/<int:user_id>/reactivate", "reactivate")
class ReactivateAccount(_OneAccount):
    """Let a deactivated account log in again."""

    own_account_message = _l("Du kan ikke endre din egen konto her.")

    def act(self, form: ConfirmForm) -> bool:
        return reactivate_account(self.account, actor=current_user)

    def done(self, result: bool):
        flash(_("%(name)s kan logge inn igjen.", name=self.account.name), "success")
        return super().done(result)


@route(bp, "/accounts/<int:user_id>/reset-two-step", "reset_account_two_step")
class ResetAccountTwoStep(_OneAccount):
    """Clear the account's second step and end its sessions (a lost phone, say)."""

    own_account_message = _l("Du kan ikke tilbakestille din egen totrinnsinnlogging her.")

    def act(self, form: ConfirmForm) -> None:
        reset_two_step(self.account, actor=current_user)

    def done(self, result: None):
        flash(
            _(
                "Totrinnsinnloggingen til %(name)s er tilbakestilt, og kontoen er logget ut.",
                name=self.account.name,
            ),
            "success",
        )
        return super().done(result)
