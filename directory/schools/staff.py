"""School staff operations: invite by e-mail, accept, revoke, change roles, remove.

They flush and write the audit event; the request commits. Every event carries `school_id`
(the audit log names the school through it, also after the row is gone) and `before`/`after`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from directory.accounts import invitations
from directory.accounts.invitations import InvitationState
from directory.accounts.models import User
from directory.accounts.operations import normalise_email
from directory.audit.operations import record
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.schools.models import School, SchoolInvitation, SchoolStaff
from directory.timeutil import utcnow

ROLES = ("admin", "staff")


class LastAdminError(DomainError):
    """The change would leave the school without an admin, and nobody allowed that (409)."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Skolen må ha minst én skoleadministrator. Gjør en annen til skoleadministrator "
                "først, eller be kommunen om hjelp."
            )
        )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _invitation_data(invitation: SchoolInvitation) -> dict[str, Any]:
    return {
        "email": invitation.email,
        "role": invitation.role,
        "expires_at": _iso(invitation.expires_at),
    }


def open_invitations(school: School) -> list[SchoolInvitation]:
    """The school's invitations not yet accepted and not expired, newest first."""
    query = invitations.open_invitation_query(
        SchoolInvitation, SchoolInvitation.school_id == school.id
    ).order_by(SchoolInvitation.created_at.desc(), SchoolInvitation.id.desc())
    return list(db.session.scalars(query))


def staff_of(school: School) -> list[SchoolStaff]:
    """The school's staff, admins first, then by name."""
    rows = db.session.scalars(
        select(SchoolStaff).join(User).where(SchoolStaff.school_id == school.id)
    ).all()
    return sorted(rows, key=lambda row: (row.role != "admin", row.user.name.lower(), row.id))


def admin_count(school: School) -> int:
    """How many admins the school has."""
    return db.session.scalar(
        select(func.count(SchoolStaff.id)).where(
            SchoolStaff.school_id == school.id, SchoolStaff.role == "admin"
        )
    )


def is_staff_email(school: School, email: str) -> bool:
    """Whether the account with this e-mail is already on the school's staff."""
    return (
        db.session.scalar(
            select(SchoolStaff.id)
            .join(User)
            .where(SchoolStaff.school_id == school.id, User.email == normalise_email(email))
        )
        is not None
    )


def invite_staff(
    school: School, data: dict[str, Any], *, actor: User
) -> tuple[SchoolInvitation, str]:
    """Create an invitation and return it with its one-time token (only its hash is stored).

    An earlier invitation to the same address that nobody has used is replaced (also an expired
    one), so one link is valid at a time; the event says what it replaced.
    """
    email = normalise_email(data["email"])
    role = data["role"]
    if role not in ROLES:
        raise ValueError(role)
    earlier = invitations.take_unused_invitations(
        SchoolInvitation, SchoolInvitation.school_id == school.id, email=email
    )
    replaced = [_invitation_data(row) for row in earlier if row.expires_at > utcnow()]
    invitation, token = invitations.new_invitation(
        SchoolInvitation,
        actor=actor,
        school_id=school.id,
        email=email,
        role=role,
        created_at=utcnow(),
    )
    record(
        "school_invitation.create",
        invitation,
        actor=actor,
        municipality_id=school.municipality_id,
        data={
            "school_id": school.id,
            "before": replaced[0] if replaced else None,
            "after": _invitation_data(invitation),
        },
    )
    return invitation, token


def invitation_by_token(token: str) -> tuple[InvitationState, SchoolInvitation | None]:
    """The school invitation a link's token names, and whether it can still be accepted."""
    return invitations.invitation_by_token(SchoolInvitation, token)


def accept_staff_invitation(
    invitation: SchoolInvitation, data: dict[str, Any] | None = None, *, actor: User
) -> SchoolStaff:
    """Use up the invitation and put `actor` on the school's staff with the invited role.

    Someone already on the staff keeps their role unless invited as admin: an invitation
    never demotes.
    """
    school = invitation.school
    invitation.accepted_at = utcnow()
    row = db.session.scalar(
        select(SchoolStaff).where(
            SchoolStaff.school_id == school.id, SchoolStaff.user_id == actor.id
        )
    )
    before = None if row is None else {"role": row.role}
    if row is None:
        row = SchoolStaff(user_id=actor.id, school_id=school.id, role=invitation.role)
        db.session.add(row)
    elif invitation.role == "admin":
        row.role = "admin"
    db.session.flush()
    record(
        "school_invitation.accept",
        invitation,
        actor=actor,
        municipality_id=school.municipality_id,
        data={
            "school_id": school.id,
            "user_id": actor.id,
            "email": invitation.email,
            "before": before,
            "after": {"role": row.role},
        },
    )
    return row


def revoke_staff_invitation(
    invitation: SchoolInvitation, data: dict[str, Any] | None = None, *, actor: User
) -> None:
    """Take back an invitation nobody has accepted: the row goes, so its link stops working."""
    school = invitation.school
    record(
        "school_invitation.revoke",
        invitation,
        actor=actor,
        municipality_id=school.municipality_id,
        data={"school_id": school.id, "before": _invitation_data(invitation), "after": None},
    )
    db.session.delete(invitation)
    db.session.flush()


def _guard_last_admin(row: SchoolStaff, allow_no_admin: bool) -> bool:
    """Refuse (LastAdminError) to take away the school's last admin unless allowed; answers
    whether the school is left without one."""
    last = row.role == "admin" and admin_count(row.school) <= 1
    if last and not allow_no_admin:
        raise LastAdminError
    return last


def _record_staff_event(action: str, row: SchoolStaff, actor: User, **data: Any) -> None:
    """Audit a change to a staff row: the school, whose row it is, and what changed."""
    record(
        action,
        row,
        actor=actor,
        municipality_id=row.school.municipality_id,
        data={"school_id": row.school_id, "user_id": row.user_id, "email": row.user.email, **data},
    )


def change_staff_role(row: SchoolStaff, data: dict[str, Any], *, actor: User) -> bool:
    """Make a staff member admin or staff; answers whether anything changed.

    `data["allow_no_admin"]` lets the last admin become staff (the municipal admin, who has
    confirmed it); otherwise that is a LastAdminError.
    """
    new_role = data["role"]
    if new_role not in ROLES:
        raise ValueError(new_role)
    if new_role == row.role:
        return False
    left_without = _guard_last_admin(row, bool(data.get("allow_no_admin")))
    before = row.role
    row.role = new_role
    db.session.flush()
    _record_staff_event(
        "school_staff.change_role",
        row,
        actor,
        before={"role": before},
        after={"role": new_role},
        left_without_admin=left_without,
    )
    return True


def remove_staff(row: SchoolStaff, data: dict[str, Any] | None = None, *, actor: User) -> None:
    """Take someone off the school's staff (their account stays).

    `data["allow_no_admin"]` lets the last admin go (the municipal admin, who has confirmed it);
    otherwise that is a LastAdminError.
    """
    data = data or {}
    left_without = _guard_last_admin(row, bool(data.get("allow_no_admin")))
    _record_staff_event(
        "school_staff.remove",
        row,
        actor,
        before={"role": row.role},
        after=None,
        left=row.user_id == actor.id,
        left_without_admin=left_without,
    )
    db.session.delete(row)
    db.session.flush()
