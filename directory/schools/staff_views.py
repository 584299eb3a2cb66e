"""A school's staff: who works there, open invitations, and accepting an invitation.

The routes join the schools blueprint (endpoints `schools.*`). Every page follows the same
order: load the school (404/403, as the policy pages), load the row of this school (404),
validate the form, act, commit once, then send mail, then redirect.
"""

from __future__ import annotations

from functools import partial

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from directory.accounts.invitations import (
    INVITATION_LIFETIME,
    InvitationState,
    accept_invitation_page,
    mail_invitation,
    mail_language,
    revoke_from_page,
)
from directory.accounts.models import User
from directory.accounts.operations import normalise_email
from directory.accounts.two_factor import needs_enrolment
from directory.extensions import db
from directory.mail import send_email
from directory.permissions import can_manage_school_staff, is_admin_of_municipality
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
    STAFF_ROLE_LABELS,
    StaffInviteForm,
    StaffRemoveForm,
    StaffRoleForm,
)
from directory.schools.views import bp, load_school
from directory.web import abort_with

# The link of an invitation whose e-mail could not be sent waits here, in the inviter's own
# session, until the staff page shows it once.
_UNSENT_INVITATION_KEY = "unsent_school_invitation"


@bp.app_template_filter("staff_role_label")
def staff_role_label(role: str) -> str:
    """A school staff role in words: 'Skoleadministrator', 'Ansatt'."""
    label = STAFF_ROLE_LABELS.get(role)
    return str(label) if label is not None else role


@bp.app_template_global("can_manage_staff")
def can_manage_staff(school: School) -> bool:
    """Whether the signed-in user may open the school's staff page (for links to it)."""
    return can_manage_school_staff(current_user, school)


def _load_school(slug: str) -> School:
    """The school whose staff the page manages: its admins and its municipality's admin."""
    return load_school(slug, can_manage_school_staff)


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
    school = _load_school(slug)
    return _staff_page(school, StaffInviteForm(formdata=None, school=school))


@bp.route("/schools/<slug>/staff/invite", methods=["POST"])
@login_required
def invite_staff_member(slug: str):
    """Create an invitation, commit it, then e-mail the link; show it when the mail failed."""
    school = _load_school(slug)
    form = StaffInviteForm(school=school)
    if not form.validate_on_submit():
        return _staff_page(school, form, 422)
    invitation, token = invite_staff(
        school, {"email": form.email.data, "role": form.role.data}, actor=current_user
    )
    db.session.commit()
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
    return redirect(_staff_url(school))


def _load_row(model, school: School, row_id: int):
    """A staff row or invitation of this school, or 404 (another school's ids are unknown here)."""
    row = db.session.get(model, row_id)
    if row is None or row.school_id != school.id:
        abort(404)
    return row


def _allow_no_admin(school: School, form) -> bool:
    """Only the municipal admin may leave a school without an admin, and only on purpose."""
    return bool(form.confirm_no_admin.data) and is_admin_of_municipality(
        current_user, school.municipality_id
    )


def _last_admin_refusal(school: School):
    if is_admin_of_municipality(current_user, school.municipality_id):
        message = _(
            "Dette er skolens eneste skoleadministrator. Kryss av for at skolen skal stå uten "
            "skoleadministrator, eller gjør en annen til skoleadministrator først."
        )
    else:
        message = _(
            "Skolen må ha minst én skoleadministrator. Gjør en annen til skoleadministrator "
            "først, eller be kommunen om hjelp."
        )
    abort_with(409, message)


@bp.route("/schools/<slug>/staff/<int:staff_id>/role", methods=["POST"])
@login_required
def change_staff_member_role(slug: str, staff_id: int):
    """Make a staff member admin or staff; the last admin stays unless the municipality says."""
    school = _load_school(slug)
    row = _load_row(SchoolStaff, school, staff_id)
    form = StaffRoleForm()
    if not form.validate_on_submit():
        abort_with(422, _("Velg skoleadministrator eller ansatt."))
    try:
        changed = change_staff_role(
            row,
            {"role": form.role.data, "allow_no_admin": _allow_no_admin(school, form)},
            actor=current_user,
        )
    except LastAdminError:
        db.session.rollback()
        _last_admin_refusal(school)
    db.session.commit()
    if changed:
        flash(
            _(
                "%(name)s er nå %(role)s.",
                name=row.user.name,
                role=staff_role_label(row.role).lower(),
            ),
            "success",
        )
    return redirect(_staff_url(school))


@bp.route("/schools/<slug>/staff/<int:staff_id>/remove", methods=["POST"])
@login_required
def remove_staff_member(slug: str, staff_id: int):
    """Take someone off the school's staff; their account stays."""
    school = _load_school(slug)
    row = _load_row(SchoolStaff, school, staff_id)
    form = StaffRemoveForm()
    if not form.validate_on_submit():
        abort_with(400, _("Skjemaet var ugyldig. Last inn siden på nytt og prøv igjen."))
    name, leaving = row.user.name, row.user_id == current_user.id
    try:
        remove_staff(row, {"allow_no_admin": _allow_no_admin(school, form)}, actor=current_user)
    except LastAdminError:
        db.session.rollback()
        _last_admin_refusal(school)
    db.session.commit()
    if leaving and not is_admin_of_municipality(current_user, school.municipality_id):
        flash(_("Du er ikke lenger ansatt ved %(school)s.", school=school.name), "success")
        return redirect(url_for("accounts.dashboard"))
    flash(_("%(name)s er fjernet fra %(school)s.", name=name, school=school.name), "success")
    return redirect(_staff_url(school))


@bp.route(
    "/schools/<slug>/invitations/<int:invitation_id>/revoke",
    methods=["POST"],
    endpoint="revoke_staff_invitation",
)
@login_required
def revoke_staff_invitation_view(slug: str, invitation_id: int):
    """Take back an invitation nobody has accepted; its link stops working."""
    school = _load_school(slug)
    invitation = _load_row(SchoolInvitation, school, invitation_id)
    revoke_from_page(
        invitation,
        revoke_staff_invitation,
        _(
            "Invitasjonen er allerede brukt, så den kan ikke trekkes tilbake. Fjern "
            "den ansatte i stedet hvis det trengs."
        ),
    )
    return redirect(_staff_url(school))


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
