"""Organisation operations: register, edit, invite, members. They flush; the request commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from directory.accounts import invitations
from directory.accounts.invitations import InvitationState
from directory.accounts.models import User
from directory.activities.listings import current_listing_condition, oslo_today
from directory.activities.models import Activity
from directory.audit.operations import apply_changes, record
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.models import Invitation, Membership, Organisation
from directory.policy.activity_states import PUBLIC_STATES
from directory.policy.orgnumber import normalise_org_number
from directory.schools.models import Municipality
from directory.text import unique_slug
from directory.timeutil import utcnow

# The fields an edit may change, in the order the audit event lists them.
EDITABLE_FIELDS = (
    "name",
    "description",
    "website_url",
    "facebook_page_url",
    "email",
    "phone",
    "org_number",
)


class LastOwnerError(DomainError):
    """The change would leave the organisation without an owner (409)."""


def org_number_taken(municipality_id: int, number: str, *, exclude_id: int | None = None) -> bool:
    """Whether another organisation in the municipality has this (normalised) number."""
    query = select(Organisation.id).where(
        Organisation.municipality_id == municipality_id, Organisation.org_number == number
    )
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    return db.session.scalar(query) is not None


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None


def _clean_org_number(value: str | None) -> str | None:
    return normalise_org_number(value) or None


def register_organisation(municipality: Municipality, data: dict[str, Any], *, actor: User):
    """Create a pending organisation with `actor` as its owner."""
    organisation = Organisation(
        municipality_id=municipality.id,
        slug=unique_slug(data["name"], _slug_taken),
        name=data["name"],
        kind=data["kind"],
        org_number=_clean_org_number(data.get("org_number")),
        description=data.get("description") or "",
        website_url=data.get("website_url"),
        email=data.get("email"),
        phone=data.get("phone"),
        verification="pending",
    )
    db.session.add(organisation)
    db.session.flush()
    membership = Membership(user_id=actor.id, organisation_id=organisation.id, role="owner")
    db.session.add(membership)
    record(
        "organisation.register",
        organisation,
        actor=actor,
        municipality_id=municipality.id,
        data={
            "name": organisation.name,
            "kind": organisation.kind,
            "org_number": organisation.org_number,
        },
    )
    record(
        "membership.add",
        membership,
        actor=actor,
        municipality_id=municipality.id,
        data={"organisation_id": organisation.id, "user_id": actor.id, "role": "owner"},
    )
    return organisation


def update_organisation(organisation: Organisation, data: dict[str, Any], *, actor: User) -> bool:
    """Apply the edited fields; returns whether verification was reset to pending.

    A verified organisation that changes its organisation number is someone the municipality
    has not checked, so it goes back to pending.
    """
    data = dict(data)
    data["org_number"] = _clean_org_number(data.get("org_number"))
    data["description"] = data.get("description") or ""
    # The logo changes only when the form uploaded or removed one (its file is stored already).
    fields = (*EDITABLE_FIELDS, "logo_filename") if "logo_filename" in data else EDITABLE_FIELDS
    before, after = apply_changes(organisation, fields, data)
    reset = "org_number" in after and organisation.verified
    if reset:
        before["verification"], after["verification"] = organisation.verification, "pending"
        organisation.verification = "pending"
        organisation.verified_at = None
        organisation.verified_by_id = None
    if after:
        db.session.flush()
        record(
            "organisation.edit",
            organisation,
            actor=actor,
            municipality_id=organisation.municipality_id,
            data={"before": before, "after": after},
        )
    return reset


def public_activities(organisation: Organisation) -> list[Activity]:
    """The organisation's published and cancelled activities whose listing has not expired,
    by title."""
    return list(
        db.session.scalars(
            select(Activity)
            .where(
                Activity.organisation_id == organisation.id,
                Activity.status.in_(PUBLIC_STATES),
                current_listing_condition(oslo_today()),
            )
            .order_by(Activity.title, Activity.id)
        )
    )


def listed_organisation_conditions() -> tuple:
    """SQL: an organisation the public lists: not rejected, with at least one public activity
    whose listing has not expired."""
    has_public = exists().where(
        Activity.organisation_id == Organisation.id,
        Activity.status.in_(PUBLIC_STATES),
        current_listing_condition(oslo_today()),
    )
    return Organisation.verification != "rejected", has_public


def listed_organisations(municipality: Municipality | None = None) -> list[Organisation]:
    """Non-rejected organisations with at least one public activity (its listing not expired),
    by name."""
    query = (
        select(Organisation)
        .where(*listed_organisation_conditions())
        .options(selectinload(Organisation.municipality))
    )
    if municipality is not None:
        query = query.where(Organisation.municipality_id == municipality.id)
    return list(db.session.scalars(query.order_by(Organisation.name, Organisation.id)))


def invite_member(
    organisation: Organisation, data: dict[str, Any], *, actor: User
) -> tuple[Invitation, str]:
    """Create an invitation and return it with its one-time token (only its hash is stored).

    An earlier open invitation to the same address is replaced, so one link is valid at a time.
    """
    from directory.accounts.operations import normalise_email

    email = normalise_email(data["email"])
    invitations.take_unused_invitations(
        Invitation, Invitation.organisation_id == organisation.id, email=email
    )
    invitation, token = invitations.new_invitation(
        Invitation, actor=actor, organisation_id=organisation.id, email=email, role=data["role"]
    )
    record(
        "invitation.create",
        invitation,
        actor=actor,
        municipality_id=organisation.municipality_id,
        data={"organisation_id": organisation.id, "email": email, "role": invitation.role},
    )
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    """The open invitation with this token: not used, not expired; else None."""
    state, invitation = invitations.invitation_by_token(Invitation, token)
    return invitation if state is InvitationState.OPEN else None


def open_invitations(organisation: Organisation) -> list[Invitation]:
    """Invitations not yet accepted and not expired, newest first."""
    query = invitations.open_invitation_query(
        Invitation, Invitation.organisation_id == organisation.id
    ).order_by(Invitation.created_at.desc())
    return list(db.session.scalars(query))


def accept_invitation(invitation: Invitation, data: dict[str, Any], *, actor: User) -> Membership:
    """Use up the invitation and make `actor` a member with the invited role.

    Someone who is already a member keeps their role: an invitation never demotes.
    """
    organisation = invitation.organisation
    invitation.accepted_at = utcnow()
    membership = db.session.scalar(
        select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id == actor.id
        )
    )
    created = membership is None
    if created:
        membership = Membership(
            user_id=actor.id, organisation_id=organisation.id, role=invitation.role
        )
        db.session.add(membership)
    elif invitation.role == "owner" and membership.role != "owner":
        membership.role = "owner"
    record(
        "invitation.accept",
        invitation,
        actor=actor,
        municipality_id=organisation.municipality_id,
        data={
            "organisation_id": organisation.id,
            "user_id": actor.id,
            "role": membership.role,
            "new_member": created,
        },
    )
    return membership


def revoke_invitation(
    invitation: Invitation, data: dict[str, Any] | None = None, *, actor: User
) -> None:
    """Take back an invitation that nobody has accepted yet: its link stops working.

    The row is deleted, as when a new invitation replaces an old one; the audit event keeps
    who was invited, with which role, and by whom it was taken back.
    """
    organisation = invitation.organisation
    record(
        "invitation.revoke",
        invitation,
        actor=actor,
        municipality_id=organisation.municipality_id,
        data={
            "organisation_id": organisation.id,
            "email": invitation.email,
            "role": invitation.role,
        },
    )
    db.session.delete(invitation)
    db.session.flush()


def _owner_count(organisation_id: int) -> int:
    return db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.organisation_id == organisation_id, Membership.role == "owner"
        )
    )


def remove_member(membership: Membership, data: dict[str, Any] | None = None, *, actor: User):
    """Remove a member; refuses (LastOwnerError) to remove the last owner."""
    organisation = membership.organisation
    if membership.role == "owner" and _owner_count(organisation.id) <= 1:
        raise LastOwnerError(
            _(
                "Organisasjonen må ha minst én eier. Gjør en annen til eier før du fjerner "
                "den siste."
            )
        )
    record(
        "membership.remove",
        membership,
        actor=actor,
        municipality_id=organisation.municipality_id,
        data={
            "organisation_id": organisation.id,
            "user_id": membership.user_id,
            "role": membership.role,
            "left": membership.user_id == actor.id,
        },
    )
    db.session.delete(membership)
    db.session.flush()


def change_member_role(membership: Membership, data: dict[str, Any], *, actor: User) -> None:
    """Make a member owner or editor; refuses (LastOwnerError) to demote the last owner."""
    organisation = membership.organisation
    new_role = data["role"]
    if new_role == membership.role:
        return
    if membership.role == "owner" and _owner_count(organisation.id) <= 1:
        raise LastOwnerError(_("Organisasjonen må ha minst én eier. Gjør en annen til eier først."))
    before = membership.role
    membership.role = new_role
    db.session.flush()
    record(
        "membership.change_role",
        membership,
        actor=actor,
        municipality_id=organisation.municipality_id,
        data={
            "organisation_id": organisation.id,
            "user_id": membership.user_id,
            "before": {"role": before},
            "after": {"role": new_role},
        },
    )
