"""Organisations: public pages, editing, members and invitations."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from directory.accounts.invitations import (
    accept_invitation_page,
    mail_invitation,
    mail_language,
    revoke_from_page,
)
from directory.extensions import db
from directory.organisations.forms import (
    KIND_LABELS,
    ROLE_LABELS,
    VERIFICATION_LABELS,
    ConfirmForm,
    InviteForm,
    OrganisationForm,
    RoleForm,
)
from directory.organisations.models import Invitation, Membership, Organisation
from directory.organisations.operations import (
    EDITABLE_FIELDS,
    LastOwnerError,
    accept_invitation,
    change_member_role,
    find_invitation,
    invite_member,
    listed_organisations,
    open_invitations,
    public_activities,
    remove_member,
    revoke_invitation,
    update_organisation,
)
from directory.permissions import (
    can_edit_organisation,
    can_manage_members,
    can_remove_member,
    can_view_members,
    can_view_organisation,
)
from directory.schools.models import Municipality
from directory.web import abort_with

bp = Blueprint("organisations", __name__)

# Where the one-time invitation link waits, in the inviter's own session, until shown once.
_NEW_INVITATION_KEY = "new_invitation"


@bp.app_template_filter("kind_label")
def kind_label(kind: str) -> str:
    """The bokmål name of an organisation kind."""
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_filter("role_label")
def role_label(role: str) -> str:
    """The bokmål name of a member role."""
    return str(ROLE_LABELS.get(role, role))


@bp.app_template_filter("verification_label")
def verification_label(state: str) -> str:
    """The bokmål name of a verification state."""
    return str(VERIFICATION_LABELS.get(state, state))


def _load(slug: str) -> Organisation:
    """The organisation with this slug, or 404."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        abort(404)
    return organisation


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


@bp.route("/organisations")
def list_organisations():
    """Non-rejected organisations with at least one public activity."""
    municipality = None
    slug = request.args.get("municipality", "")
    if slug:
        municipality = db.session.scalar(select(Municipality).where(Municipality.slug == slug))
        if municipality is None:
            abort_with(404, _("Kommunen finnes ikke."))
    return render_template(
        "organisations/list.html",
        organisations=listed_organisations(municipality),
        municipality=municipality,
    )


@bp.route("/organisations/<slug>")
def show_organisation(slug: str):
    """One organisation's page; a rejected one only for its members and its municipal admin."""
    organisation = _load(slug)
    if not can_view_organisation(current_user, organisation):
        abort(404)  # a rejected organisation is gone as far as the public knows
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        activities=public_activities(organisation),
        can_edit=can_edit_organisation(current_user, organisation),
        can_manage=can_manage_members(current_user, organisation),
    )


@bp.route("/organisations/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(slug: str):
    """Edit the organisation's page, refusing to overwrite someone else's newer save."""
    organisation = _load(slug)
    _require(can_edit_organisation(current_user, organisation))
    # On POST the submitted form is the whole new state: nothing is filled in from the stored
    # row, so a missing version counts as stale instead of silently passing.
    submitted = request.method == "POST"
    form = OrganisationForm(obj=None if submitted else organisation, organisation=organisation)
    if not submitted:
        form.version.data = str(organisation.version)
    if submitted and form.version.data != str(organisation.version):
        message = _(
            "Noen andre har endret organisasjonen mens du redigerte, så endringene dine er ikke "
            "lagret. Last inn siden på nytt for å se den nyeste versjonen."
        )
        return render_template(
            "organisations/edit.html", form=form, organisation=organisation, conflict=message
        ), 409
    if form.validate_on_submit():
        reset = update_organisation(
            organisation,
            {name: getattr(form, name).data for name in EDITABLE_FIELDS},
            actor=current_user,
        )
        db.session.commit()
        flash(_("Endringene er lagret."), "success")
        if reset:
            flash(
                _(
                    "Organisasjonsnummeret er endret, så kommunen må verifisere organisasjonen "
                    "på nytt. Til da merkes den som uverifisert."
                ),
                "info",
            )
        return redirect(url_for("organisations.show_organisation", slug=organisation.slug))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "organisations/edit.html", form=form, organisation=organisation, conflict=None
    ), status


def _mail_invitation(invitation: Invitation, organisation: Organisation, url: str) -> bool:
    """E-mail the invitation link; in the invitee's language when they have an account, else in
    the inviter's. False when the mail server failed (the invitation exists all the same)."""
    from directory.accounts.invitations import INVITATION_LIFETIME
    from directory.mail import send_email

    return send_email(
        invitation.email,
        "organisation_invitation",
        locale=mail_language(invitation.email),
        organisation_name=organisation.name,
        inviter_name=current_user.name,
        role=invitation.role,
        url=url,
        days=INVITATION_LIFETIME.days,
    )


def _members_page(organisation: Organisation, invite_form: InviteForm, status: int = 200):
    new_link = None
    pending = session.get(_NEW_INVITATION_KEY)
    if pending and pending.get("organisation_id") == organisation.id:
        new_link = session.pop(_NEW_INVITATION_KEY)
    memberships = sorted(
        organisation.memberships, key=lambda m: (m.role != "owner", m.user.name.lower())
    )
    return render_template(
        "organisations/members.html",
        organisation=organisation,
        memberships=memberships,
        invitations=open_invitations(organisation),
        invite_form=invite_form,
        role_form=RoleForm(formdata=None),
        can_manage=can_manage_members(current_user, organisation),
        new_link=new_link,
    ), status


@bp.route("/organisations/<slug>/members")
@login_required
def list_members(slug: str):
    """Who belongs to the organisation, open invitations, and (for owners) the invite form."""
    organisation = _load(slug)
    _require(can_view_members(current_user, organisation))
    return _members_page(organisation, InviteForm(formdata=None))


@bp.route("/organisations/<slug>/members/invite", methods=["POST"], endpoint="invite_member")
@login_required
def invite_member_view(slug: str):
    """Create an invitation and show its one-time link to the owner who made it."""
    organisation = _load(slug)
    _require(can_manage_members(current_user, organisation))
    form = InviteForm(organisation=organisation)
    if form.validate_on_submit():
        invitation, token = invite_member(
            organisation, {"email": form.email.data, "role": form.role.data}, actor=current_user
        )
        db.session.commit()
        url, mailed = mail_invitation(
            "organisations.accept_invitation",
            token,
            lambda url: _mail_invitation(invitation, organisation, url),
        )
        # The link stays on the page after a successful send too: the owner may pass it on
        # another way, and the e-mail may be slow or filtered.
        session[_NEW_INVITATION_KEY] = {
            "organisation_id": organisation.id,
            "email": invitation.email,
            "url": url,
            "mailed": mailed,
        }
        if mailed:
            flash(
                _("Invitasjonen er sendt på e-post til %(email)s.", email=invitation.email),
                "success",
            )
        else:
            flash(
                _(
                    "Invitasjonen er laget, men e-posten til %(email)s kunne ikke sendes. "
                    "Kopier lenken under og send den selv.",
                    email=invitation.email,
                ),
                "error",
            )
        return redirect(url_for("organisations.list_members", slug=organisation.slug))
    return _members_page(organisation, form, 422)


def _load_of(model, organisation: Organisation, object_id: int):
    """A membership or invitation of this organisation, or 404 (another organisation's ids are
    unknown here)."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.organisation_id != organisation.id:
        abort(404)
    return obj


def _load_membership(organisation: Organisation, membership_id: int) -> Membership:
    """A membership of this organisation, or 404."""
    return _load_of(Membership, organisation, membership_id)


@bp.route(
    "/organisations/<slug>/members/<int:membership_id>/remove",
    methods=["POST"],
    endpoint="remove_member",
)
@login_required
def remove_member_view(slug: str, membership_id: int):
    """An owner removes a member, or a member leaves; never the last owner."""
    organisation = _load(slug)
    membership = _load_membership(organisation, membership_id)
    _require(can_remove_member(current_user, membership))
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    leaving = membership.user_id == current_user.id
    name = membership.user.name
    try:
        remove_member(membership, actor=current_user)
    except LastOwnerError:
        db.session.rollback()
        abort_with(
            409,
            _(
                "Organisasjonen må ha minst én eier. Gjør en annen til eier før du fjerner "
                "den siste."
            ),
        )
    db.session.commit()
    if leaving:
        flash(_("Du er ikke lenger medlem av %(name)s.", name=organisation.name), "success")
        return redirect(url_for("accounts.dashboard"))
    flash(_("%(name)s er fjernet fra organisasjonen.", name=name), "success")
    return redirect(url_for("organisations.list_members", slug=organisation.slug))


@bp.route(
    "/organisations/<slug>/members/<int:membership_id>/role",
    methods=["POST"],
    endpoint="change_member_role",
)
@login_required
def change_member_role_view(slug: str, membership_id: int):
    """An owner makes a member owner or editor; the last owner stays owner."""
    organisation = _load(slug)
    membership = _load_membership(organisation, membership_id)
    _require(can_manage_members(current_user, organisation))
    form = RoleForm()
    if not form.validate_on_submit():
        abort_with(422, _("Velg eier eller redaktør."))
    try:
        change_member_role(membership, {"role": form.role.data}, actor=current_user)
    except LastOwnerError:
        db.session.rollback()
        abort_with(
            409,
            _("Organisasjonen må ha minst én eier. Gjør en annen til eier først."),
        )
    db.session.commit()
    flash(
        _(
            "%(name)s er nå %(role)s.",
            name=membership.user.name,
            role=role_label(membership.role).lower(),
        ),
        "success",
    )
    return redirect(url_for("organisations.list_members", slug=organisation.slug))


def _load_invitation(organisation: Organisation, invitation_id: int) -> Invitation:
    """An invitation of this organisation, or 404."""
    return _load_of(Invitation, organisation, invitation_id)


@bp.route(
    "/organisations/<slug>/invitations/<int:invitation_id>/revoke",
    methods=["POST"],
    endpoint="revoke_invitation",
)
@login_required
def revoke_invitation_view(slug: str, invitation_id: int):
    """An owner takes back an invitation nobody has accepted; its link stops working."""
    organisation = _load(slug)
    invitation = _load_invitation(organisation, invitation_id)
    _require(can_manage_members(current_user, organisation))
    revoke_from_page(
        invitation,
        revoke_invitation,
        _(
            "Invitasjonen er allerede brukt, så den kan ikke trekkes tilbake. Fjern "
            "medlemmet i stedet hvis det trengs."
        ),
    )
    return redirect(url_for("organisations.list_members", slug=organisation.slug))


@bp.route("/invitations/<token>", methods=["GET", "POST"], endpoint="accept_invitation")
def accept_invitation_view(token: str):
    """Accept an invitation: signed in with a button, otherwise by creating an account."""
    invitation = find_invitation(token)
    if invitation is None:
        abort_with(
            404,
            _(
                "Invitasjonen finnes ikke, er utløpt eller er allerede brukt. Be den som "
                "inviterte deg om en ny lenke."
            ),
        )
    organisation = invitation.organisation

    def render(mode: str, status: int = 200, **context):
        return render_template(
            "organisations/accept_invitation.html",
            invitation=invitation,
            organisation=organisation,
            mode=mode,
            **context,
        ), status

    def accepted(user, new_account: bool):
        if new_account:
            flash(
                _("Kontoen er laget, og du er medlem av %(name)s.", name=organisation.name),
                "success",
            )
        else:
            flash(_("Du er nå medlem av %(name)s.", name=organisation.name), "success")
        return redirect(url_for("organisations.show_organisation", slug=organisation.slug))

    return accept_invitation_page(
        invitation,
        municipality_id=organisation.municipality_id,
        accept=lambda user: accept_invitation(invitation, {}, actor=user),
        render=render,
        accepted=accepted,
    )
