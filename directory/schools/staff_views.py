"""A school's staff: who works there, open invitations, and accepting an invitation.

The routes join the schools blueprint (endpoints `schools.*`). Every form runs through the
request pipeline: load the school (404/403, as the policy pages) and the row of this school
(404), validate the form, act, commit once, then send mail, then redirect.
"""

from __future__ import annotations

from functools import partial

from flask import flash, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from directory import loading
from directory.accounts.invitations import (
    INVITATION_LIFETIME,
    InvitationState,
    RevokeSteps,
    accept_invitation_page,
    mail_invitation,
    mail_language,
)
from directory.accounts.models import User
from directory.accounts.operations import normalise_email
from directory.accounts.two_factor import needs_enrolment
from directory.errors import DomainError
from directory.i18n import gettext as _
from directory.labels import staff_role_label
from directory.mail import send_email
from directory.organisations.forms import ConfirmForm
from directory.permissions import can_manage_school_staff, is_admin_of_municipality
from directory.pipeline import INVALID_MESSAGE, Handler, route
from directory.schools.blueprint import bp
from directory.schools.models import School, SchoolInvitation, SchoolStaff
from directory.schools.staff import (
    LastAdminError,
    accept_staff_invitation,
    admin_count,
    change_staff_role,
    invitation_by_token,
    invite_staff,
    open_invitations,
    remove_staff,
    revoke_staff_invitation,
    staff_of,
)
from directory.schools.staff_forms import (
    LastAdminConfirmation,
    StaffInviteForm,
    StaffRemoveForm,
    StaffRoleForm,
)
from directory.web import abort_with

# The link of an invitation whose e-mail could not be sent waits here, in the inviter's own
# session, until the staff page shows it once.
_UNSENT_INVITATION_KEY = "unsent_school_invitation"


def _staff_url(school: School) -> str:
    return url_for("schools.list_staff", slug=school.slug)


def _staff_page(school: School, invite_form: StaffInviteForm, status: int = 200):
    unsent = None
    pending = session.get(_UNSENT_INVITATION_KEY)
    if pending and pending.get("school_id") == school.id:
        unsent = session.pop(_UNSENT_INVITATION_KEY)
    return render_template(
        "schools/staff.html",
        school=school,
        staff=staff_of(school),
        admins=admin_count(school),
        invitations=open_invitations(school),
        invite_form=invite_form,
        is_municipal_admin=is_admin_of_municipality(current_user, school.municipality_id),
        unsent=unsent,
        lifetime_days=INVITATION_LIFETIME.days,
    ), status


@bp.route("/schools/<slug>/staff")
@login_required
def list_staff(slug: str):
    """The school's staff and open invitations, with the forms to manage them."""
    school = loading.school(slug, can_manage_school_staff)
    return _staff_page(school, StaffInviteForm(formdata=None, school=school))


class _StaffAction(Handler):
    """A form of the staff page, for the school's admins and its municipality's admin (the
    school's 404/403 as the policy pages); then back to the page."""

    def load(self, slug: str) -> None:
        self.school = loading.school(slug, can_manage_school_staff)

    def back(self):
        return redirect(_staff_url(self.school))


@route(bp, "/schools/<slug>/staff/invite", "invite_staff_member")
class InviteStaffMember(_StaffAction):
    """Create an invitation, commit it, then e-mail the link; show it when the mail failed."""

    def make_form(self) -> StaffInviteForm:
        return StaffInviteForm(school=self.school)

    def invalid(self, form: StaffInviteForm):
        return _staff_page(self.school, form, 422)

    def act(self, form: StaffInviteForm) -> tuple[SchoolInvitation, str]:
        return invite_staff(
            self.school, {"email": form.email.data, "role": form.role.data}, actor=current_user
        )

    def done(self, result: tuple[SchoolInvitation, str]):
        # The mail goes after the commit: the link must work when it arrives.
        invitation, token = result
        school = self.school
        language = mail_language(invitation.email)
        url, sent = mail_invitation(
            "schools.accept_staff_invitation",
            token,
            lambda url: send_email(
                invitation.email,
                "school_invitation",
                locale=language,
                school=school,
                municipality=school.municipality,
                role=invitation.role,
                inviter=current_user.name,
                url=url,
                expires_at=invitation.expires_at,
                lifetime_days=INVITATION_LIFETIME.days,
            ),
            # The link opens the invitation in the mail's language.
            lang=language if language != "nb" else None,
        )
        if sent:
            flash(_("Invitasjonen er sendt til %(email)s.", email=invitation.email), "success")
        else:
            session[_UNSENT_INVITATION_KEY] = {
                "school_id": school.id,
                "email": invitation.email,
                "url": url,
            }
        return self.back()


class _StaffRowAction(_StaffAction):
    """A button on one staff member's row; another school's rows are unknown here (404)."""

    def load(self, slug: str, staff_id: int) -> None:
        super().load(slug)
        self.row = loading.owned(SchoolStaff, staff_id, school_id=self.school.id)

    def allow_no_admin(self, form: LastAdminConfirmation) -> bool:
        """Only the municipal admin may leave a school without an admin, and only on purpose."""
        return bool(form.confirm_no_admin.data) and is_admin_of_municipality(
            current_user, self.school.municipality_id
        )

    def refused(self, error: DomainError, form: LastAdminConfirmation):
        if isinstance(error, LastAdminError) and is_admin_of_municipality(
            current_user, self.school.municipality_id
        ):
            # The municipal admin may go on: they are told how.
            abort_with(
                error.status,
                _(
                    "Dette er skolens eneste skoleadministrator. Kryss av for at skolen skal stå "
                    "uten skoleadministrator, eller gjør en annen til skoleadministrator først."
                ),
            )
        return super().refused(error, form)


@route(bp, "/schools/<slug>/staff/<int:staff_id>/role", "change_staff_member_role")
class ChangeStaffMemberRole(_StaffRowAction):
    """Make a staff member admin or staff; the last admin stays unless the municipality says."""

    form_class = StaffRoleForm

    def invalid(self, form: StaffRoleForm):
        abort_with(422, _("Velg skoleadministrator eller ansatt."))

    def act(self, form: StaffRoleForm) -> bool:
        return change_staff_role(
            self.row,
            {"role": form.role.data, "allow_no_admin": self.allow_no_admin(form)},
            actor=current_user,
        )

    def done(self, changed: bool):
        if changed:
            flash(
                _(
                    "%(name)s er nå %(role)s.",
                    name=self.row.user.name,
                    role=staff_role_label(self.row.role).lower(),
                ),
                "success",
            )
        return self.back()


@route(bp, "/schools/<slug>/staff/<int:staff_id>/remove", "remove_staff_member")
class RemoveStaffMember(_StaffRowAction):
    """Take someone off the school's staff; their account stays."""

    form_class = StaffRemoveForm

    def invalid(self, form: StaffRemoveForm):
        abort_with(400, str(INVALID_MESSAGE))

    def act(self, form: StaffRemoveForm) -> None:
        self.name, self.leaving = self.row.user.name, self.row.user_id == current_user.id
        remove_staff(self.row, {"allow_no_admin": self.allow_no_admin(form)}, actor=current_user)

    def done(self, result: None):
        school = self.school
        if self.leaving and not is_admin_of_municipality(current_user, school.municipality_id):
            flash(_("Du er ikke lenger ansatt ved %(school)s.", school=school.name), "success")
            return redirect(url_for("accounts.dashboard"))
        flash(
            _("%(name)s er fjernet fra %(school)s.", name=self.name, school=school.name),
            "success",
        )
        return self.back()


@route(bp, "/schools/<slug>/invitations/<int:invitation_id>/revoke", "revoke_staff_invitation")
class RevokeStaffInvitation(RevokeSteps, _StaffAction):
    """Take back an invitation nobody has accepted; its link stops working."""

    form_class = ConfirmForm
    used_message = _l(
        "Invitasjonen er allerede brukt, så den kan ikke trekkes tilbake. Fjern den ansatte i "
        "stedet hvis det trengs."
    )

    def load(self, slug: str, invitation_id: int) -> None:
        super().load(slug)
        self.invitation = loading.owned(SchoolInvitation, invitation_id, school_id=self.school.id)

    def revoke(self) -> None:
        revoke_staff_invitation(self.invitation, actor=current_user)


# --- accepting -----------------------------------------------------------------------------


def _open_invitation(token: str) -> SchoolInvitation:
    """The open invitation of the link, or a page saying why it cannot be used."""
    state, invitation = invitation_by_token(token)
    if state is InvitationState.USED:
        abort_with(
            410,
            _(
                "Denne invitasjonen er allerede brukt. Logg inn for å komme til skolen, eller be "
                "den som inviterte deg om en ny lenke."
            ),
        )
    if state is InvitationState.EXPIRED:
        abort_with(
            410,
            _(
                "Invitasjonen er utløpt. En invitasjon gjelder i %(days)s dager. Be den som "
                "inviterte deg om en ny.",
                days=INVITATION_LIFETIME.days,
            ),
        )
    if state is not InvitationState.OPEN or invitation is None:
        abort_with(
            404,
            _(
                "Invitasjonen finnes ikke, eller den er trukket tilbake eller erstattet av en "
                "nyere. Be den som inviterte deg om en ny lenke."
            ),
        )
    return invitation


def _accept_page(invitation: SchoolInvitation, mode: str, status: int = 200, **context):
    return render_template(
        "schools/accept_invitation.html",
        invitation=invitation,
        school=invitation.school,
        mode=mode,
        **context,
    ), status


def _after_accepting(school: School, user: User) -> str:
    """Where a new staff member goes first: the school's requests, but a new school admin sets
    up the two-step login before anything else (every page would send them there anyway)."""
    inbox = url_for("approvals.list_school_requests", slug=school.slug)
    if needs_enrolment(user):
        return url_for("accounts.enrol_two_step", next=inbox)
    return inbox


@bp.route(
    "/schools/invitations/<token>",
    methods=["GET", "POST"],
    endpoint="accept_staff_invitation",
)
def accept_staff_invitation_view(token: str):
    """Accept an invitation to a school's staff.

    Signed in as the invited address: a button. Signed in as someone else: refused (403), for
    the link is meant for one person. Not signed in: log in first when the address has an
    account, else create one (name and password) and be signed in.
    """
    invitation = _open_invitation(token)
    school = invitation.school
    if current_user.is_authenticated and normalise_email(current_user.email) != invitation.email:
        return _accept_page(invitation, "wrong_user", 403)

    def accepted(user: User, new_account: bool):
        if new_account:
            flash(
                _("Kontoen er laget, og du er ansatt ved %(school)s.", school=school.name),
                "success",
            )
        else:
            flash(_("Du er nå ansatt ved %(school)s.", school=school.name), "success")
        return redirect(_after_accepting(school, user))

    return accept_invitation_page(
        invitation,
        municipality_id=school.municipality_id,
        accept=lambda user: accept_staff_invitation(invitation, actor=user),
        render=partial(_accept_page, invitation),
        accepted=accepted,
    )
