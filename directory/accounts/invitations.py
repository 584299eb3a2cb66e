"""What organisation and school invitations share.

Both are single-use links valid 14 days, stored as a hash of the token. The rows (`Invitation`,
`SchoolInvitation`) have `email`, `role`, `token_hash`, `invited_by_id`, `created_at`,
`expires_at` and `accepted_at`; the functions here take the model class and the criteria that
pick one organisation's or one school's rows. The operations flush nothing and record nothing
themselves: the callers write their own audit events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from typing import Any, ClassVar

from flask import current_app, flash, request, url_for
from flask_login import current_user
from sqlalchemy import delete, select

from directory.accounts.models import User
from directory.accounts.sessions import sign_in
from directory.accounts.tokens import hash_token, new_token, plausible_token
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.pipeline import INVALID_MESSAGE, run_in_transaction
from directory.timeutil import utcnow
from directory.web import abort_with

INVITATION_LIFETIME = timedelta(days=14)


class InvitationState(Enum):
    """What a token from an invitation link stands for."""

    OPEN = "open"
    UNKNOWN = "unknown"  # never made, or revoked (the row is deleted), or replaced
    USED = "used"
    EXPIRED = "expired"


# --- the rows ----------------------------------------------------------------------------------


def open_invitation_query(model, *criteria):
    """The invitations (of `model`, matching `criteria`) not yet accepted and not expired."""
    return select(model).where(*criteria, model.accepted_at.is_(None), model.expires_at > utcnow())


def take_unused_invitations(model, *criteria, email: str) -> list:
    """Delete the invitations to `email` (matching `criteria`) that nobody has used, expired ones
    too, so that one link is valid at a time; returns the rows that were deleted."""
    earlier = list(
        db.session.scalars(
            select(model).where(*criteria, model.email == email, model.accepted_at.is_(None))
        )
    )
    if earlier:
        db.session.execute(delete(model).where(model.id.in_([row.id for row in earlier])))
    return earlier


def new_invitation(model, *, actor: User, **fields: Any) -> tuple[Any, str]:
    """A new invitation row (added to the session) and its one-time token; only the token's hash
    is stored, and the link expires after INVITATION_LIFETIME."""
    token = new_token()
    invitation = model(
        token_hash=hash_token(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + INVITATION_LIFETIME,
        **fields,
    )
    db.session.add(invitation)
    return invitation, token


def invitation_by_token(model, token: str) -> tuple[InvitationState, Any | None]:
    """The invitation a link's token names, and whether it can still be accepted."""
    if not plausible_token(token):
        return InvitationState.UNKNOWN, None
    invitation = db.session.scalar(select(model).where(model.token_hash == hash_token(token)))
    if invitation is None:
        return InvitationState.UNKNOWN, None
    if invitation.accepted_at is not None:
        return InvitationState.USED, invitation
    if invitation.expires_at <= utcnow():
        return InvitationState.EXPIRED, invitation
    return InvitationState.OPEN, invitation


# --- the link, its e-mail and the accept page ---------------------------------------------------


def mail_invitation(endpoint: str, token: str, send: Callable[[str], bool], **values: Any):
    """E-mail an invitation link with `send(url)`: (the link, whether it went).

    When the site has no trustworthy public address (directory.mail.public_link), nothing is
    sent and the link is the one on the inviter's own page address, for them to pass on.
    """
    from directory.mail import NoPublicAddress, public_link

    try:
        url = public_link(endpoint, token=token, **values)
    except NoPublicAddress:
        current_app.logger.error("set PUBLIC_BASE_URL to e-mail invitation links")
        return url_for(endpoint, token=token, _external=True, **values), False
    return url, send(url)


def mail_language(email: str) -> str:
    """The invitee's own interface language when they have an account that knows it, else the
    language the inviter is using now."""
    from directory.i18n import current_language

    locale = db.session.scalar(select(User.locale).where(User.email == email))
    return locale or current_language()


class RevokeSteps:
    """A Handler mixin for the button that takes back an invitation nobody has accepted: its
    link stops working. The handler loads `invitation`, and gives `revoke()`, `back()` and
    `used_message` (why a used invitation cannot be taken back, and what to do instead)."""

    invitation: Any
    used_message: ClassVar[Any]

    def revoke(self) -> None:
        """Revoke `self.invitation` through the domain's operation (audited)."""
        raise NotImplementedError

    def invalid(self, form):
        abort_with(400, str(INVALID_MESSAGE))

    def act(self, form) -> str:
        if self.invitation.accepted_at is not None:
            raise DomainError(str(self.used_message))
        email = self.invitation.email
        self.revoke()
        return email

    def done(self, email: str):
        flash(
            _(
                "Invitasjonen til %(email)s er trukket tilbake. Lenken virker ikke lenger.",
                email=email,
            ),
            "success",
        )
        return self.back()


def _in_transaction(act: Callable[[], Any]) -> Any:
    """`act` committed once; what the rules refuse is answered with its status and message, as
    the request pipeline does."""
    try:
        return run_in_transaction(act)
    except DomainError as error:
        abort_with(error.status, error.message)


def accept_invitation_page(
    invitation: Any,
    *,
    municipality_id: int,
    accept: Callable[[User], Any],
    render: Callable[..., Any],
    accepted: Callable[[User, bool], Any],
):
    """The accept page's steps once the invitation is known to be open.

    Signed in: a button (`render("confirm", form=...)`). Not signed in: a login link when the
    invited address has an account (`render("login", login_url=...)`), else the form that creates
    one and signs it in (`render("register", status, form=...)`). Accepting calls
    `accept(user)` in one transaction, and answers `accepted(user, new_account)`.
    """
    from directory.accounts.operations import register_account
    from directory.organisations.forms import ConfirmForm, InvitationAccountForm

    if current_user.is_authenticated:
        form = ConfirmForm()
        if form.validate_on_submit():
            _in_transaction(lambda: accept(current_user))
            return accepted(current_user, False)
        return render("confirm", form=form)

    existing = db.session.scalar(select(User.id).where(User.email == invitation.email))
    if existing is not None:
        return render("login", login_url=url_for("accounts.login", next=request.path))
    form = InvitationAccountForm(email=invitation.email)
    if form.validate_on_submit():

        def create_account_and_accept() -> User:
            user = register_account(
                {
                    "email": invitation.email,
                    "name": form.name.data,
                    "password": form.password.data,
                    "municipality_id": municipality_id,
                }
            )
            accept(user)
            sign_in(user)
            return user

        return accepted(_in_transaction(create_account_and_accept), True)
    return render("register", 422 if form.is_submitted() else 200, form=form)
