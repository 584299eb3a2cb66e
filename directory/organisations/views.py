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
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from directory import loading
from directory.accounts.invitations import (
    RevokeSteps,
    accept_invitation_page,
    mail_invitation,
    mail_language,
)
from directory.activities.uploads import delete_stored, store
from directory.errors import DomainError, Stale
from directory.findable import organisation_json_ld, plain_text
from directory.i18n import gettext as _
from directory.labels import role_label
from directory.organisations.forms import (
    ConfirmForm,
    InviteForm,
    OrganisationForm,
    RoleForm,
)
from directory.organisations.listing import (
    DirectoryError,
    DirectoryQuery,
    directory_page,
    parse_directory_args,
)
from directory.organisations.models import Invitation, Membership, Organisation
from directory.organisations.operations import (
    EDITABLE_FIELDS,
    accept_invitation,
    change_member_role,
    find_invitation,
    invite_member,
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
from directory.pipeline import Handler, route, run_in_transaction
from directory.policy.routing import ORGANISATION_KINDS
from directory.timeutil import utcnow
from directory.web import abort_with

bp = Blueprint("organisations", __name__)

# Where the one-time invitation link waits, in the inviter's own session, until shown once.
_NEW_INVITATION_KEY = "new_invitation"


@bp.route("/organisations")
def list_organisations():
    """The clubs and associations directory: non-rejected organisations with at least one
    public activity, searched by name and description, filtered by category, kind and
    municipality (with counts), 20 a page."""
    try:
        query = parse_directory_args(request.args)
    except DirectoryError as exc:
        abort_with(exc.status, exc.message)
    page = directory_page(query, now=utcnow())
    locale = get_locale()
    return render_template(
        "organisations/list.html",
        page=page,
        query=query,
        municipality=query.municipality,
        kinds=ORGANISATION_KINDS,
        locale=locale.language if locale else "nb",
        page_url=lambda number: url_for(
            "organisations.list_organisations",
            **{k: v for k, v in _directory_args(query).items() if v},
            page=number,
        ),
    )


def _directory_args(query: DirectoryQuery) -> dict[str, str | None]:
    """The query's filters as URL parameters (the page left out)."""
    return {
        "q": query.q or None,
        "category": query.category.slug if query.category else None,
        "kind": query.kind,
        "municipality": query.municipality.slug if query.municipality else None,
    }


@bp.route("/organisations/<slug>")
def show_organisation(slug: str):
    """One organisation's page; a rejected one only for its members and its municipal admin."""
    organisation = loading.organisation(slug)
    if not can_view_organisation(current_user, organisation):
        abort(404)  # a rejected organisation is gone as far as the public knows
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        activities=public_activities(organisation),
        organisation_summary=plain_text(organisation.description),
        json_ld=None if organisation.rejected else organisation_json_ld(organisation),
        can_edit=can_edit_organisation(current_user, organisation),
        can_manage=can_manage_members(current_user, organisation),
    )


@route(bp, "/organisations/<slug>/edit", "edit_organisation")
class EditOrganisation(Handler):
    """Edit the organisation's page, refusing to overwrite someone else's newer save."""

    methods = ["GET", "POST"]

    def load(self, slug: str) -> None:
        self.organisation = loading.organisation(slug)
        self.new_logo: str | None = None
        self.replaced_logo: str | None = None

    def check(self) -> None:
        if not can_edit_organisation(current_user, self.organisation):
            abort(403)

    def make_form(self) -> OrganisationForm:
        # On POST the submitted form is the whole new state: nothing is filled in from the row.
        stored = None if request.method == "POST" else self.organisation
        return OrganisationForm(obj=stored, organisation=self.organisation)

    def current_version(self) -> int:
        return self.organisation.version

    def show(self, form: OrganisationForm, status: int = 200, conflict: str | None = None):
        return render_template(
            "organisations/edit.html",
            form=form,
            organisation=self.organisation,
            conflict=conflict,
        ), status

    def invalid(self, form: OrganisationForm):
        return self.show(form, 422)

    def refused(self, error: DomainError, form: OrganisationForm):
        # The page again, with what was typed (to copy) and a link to the newest version.
        if isinstance(error, Stale):
            return self.show(form, error.status, conflict=error.message)
        return super().refused(error, form)

    def act(self, form: OrganisationForm) -> bool:
        data = {name: getattr(form, name).data for name in EDITABLE_FIELDS}
        old_logo = self.organisation.logo_filename
        if form.prepared_logo is not None:
            data["logo_filename"] = self.new_logo = store(form.prepared_logo)
            self.replaced_logo = old_logo
        elif form.remove_logo.data and old_logo:
            data["logo_filename"] = None
            self.replaced_logo = old_logo
        return update_organisation(self.organisation, data, actor=current_user)

    def failed(self) -> None:
        # The save did not happen: the logo stored for it is nobody's.
        if self.new_logo:
            delete_stored(self.new_logo)

    def done(self, reset: bool):
        if self.replaced_logo:
            # After the commit, in a transaction of its own: never a file still in use.
            run_in_transaction(lambda: delete_stored(self.replaced_logo))
        flash(_("Endringene er lagret."), "success")
        if reset:
            flash(
                _(
                    "Organisasjonsnummeret er endret, så kommunen må verifisere organisasjonen "
                    "på nytt. Til da merkes den «Ikke verifisert»."
                ),
                "info",
            )
        return redirect(url_for("organisations.show_organisation", slug=self.organisation.slug))


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
    organisation = loading.organisation(slug)
    if not can_view_members(current_user, organisation):
        abort(403)
    return _members_page(organisation, InviteForm(formdata=None))


class _MembersAction(Handler):
    """A form of the members page; its owners act (others get 403), then back to the page."""

    def load(self, slug: str) -> None:
        self.organisation = loading.organisation(slug)

    def check(self) -> None:
        if not can_manage_members(current_user, self.organisation):
            abort(403)

    def back(self):
        return redirect(url_for("organisations.list_members", slug=self.organisation.slug))


@route(bp, "/organisations/<slug>/members/invite", "invite_member")
class InviteMember(_MembersAction):
    """Create an invitation and show its one-time link to the owner who made it."""

    def make_form(self) -> InviteForm:
        return InviteForm(organisation=self.organisation)

    def invalid(self, form: InviteForm):
        return _members_page(self.organisation, form, 422)

    def act(self, form: InviteForm) -> tuple[Invitation, str]:
        return invite_member(
            self.organisation,
            {"email": form.email.data, "role": form.role.data},
            actor=current_user,
        )

    def done(self, result: tuple[Invitation, str]):
        # The mail goes after the commit: the link must work when it arrives.
        invitation, token = result
        organisation = self.organisation
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
        return self.back()


class _MembershipAction(_MembersAction):
    """A button on one member's row; another organisation's membership ids are unknown (404)."""

    def load(self, slug: str, membership_id: int) -> None:
        super().load(slug)
        self.membership = loading.owned(
            Membership, membership_id, organisation_id=self.organisation.id
        )


@route(bp, "/organisations/<slug>/members/<int:membership_id>/remove", "remove_member")
class RemoveMember(_MembershipAction):
    """An owner removes a member, or a member leaves; never the last owner (409)."""

    form_class = ConfirmForm

    def check(self) -> None:
        if not can_remove_member(current_user, self.membership):
            abort(403)

    def invalid(self, form: ConfirmForm):
        abort(400)

    def act(self, form: ConfirmForm) -> None:
        self.leaving = self.membership.user_id == current_user.id
        self.name = self.membership.user.name
        remove_member(self.membership, actor=current_user)

    def done(self, result: None):
        if self.leaving:
            flash(
                _("Du er ikke lenger medlem av %(name)s.", name=self.organisation.name), "success"
            )
            return redirect(url_for("accounts.dashboard"))
        flash(_("%(name)s er fjernet fra organisasjonen.", name=self.name), "success")
        return self.back()


@route(bp, "/organisations/<slug>/members/<int:membership_id>/role", "change_member_role")
class ChangeMemberRole(_MembershipAction):
    """An owner makes a member owner or editor; the last owner stays owner (409)."""

    form_class = RoleForm

    def invalid(self, form: RoleForm):
        abort_with(422, _("Velg eier eller redaktør."))

    def act(self, form: RoleForm) -> None:
        change_member_role(self.membership, {"role": form.role.data}, actor=current_user)

    def done(self, result: None):
        flash(
            _(
                "%(name)s er nå %(role)s.",
                name=self.membership.user.name,
                role=role_label(self.membership.role).lower(),
            ),
            "success",
        )
        return self.back()


@route(bp, "/organisations/<slug>/invitations/<int:invitation_id>/revoke", "revoke_invitation")
class RevokeInvitation(RevokeSteps, _MembersAction):
    """An owner takes back an invitation nobody has accepted; its link stops working."""

    form_class = ConfirmForm
    used_message = _l(
        "Invitasjonen er allerede brukt, så den kan ikke trekkes tilbake. Fjern medlemmet i "
        "stedet hvis det trengs."
    )

    def load(self, slug: str, invitation_id: int) -> None:
        super().load(slug)
        self.invitation = loading.owned(
            Invitation, invitation_id, organisation_id=self.organisation.id
        )

    def revoke(self) -> None:
        revoke_invitation(self.invitation, actor=current_user)


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
