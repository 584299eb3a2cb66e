"""School staff operations: invite by e-mail, accept, revoke, change roles, remove.

They flush and write the audit event; the request commits. Every event carries `school_id`
(the audit log names the school through it, also after the row is gone) and `before`/`after`.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy import delete, func, select

from directory.accounts.models import User
from directory.accounts.operations import normalise_email
from directory.accounts.tokens import hash_token, new_token, plausible_token
from directory.audit.operations import record
from directory.extensions import db
from directory.schools.models import School, SchoolInvitation, SchoolStaff
from directory.timeutil import utcnow

INVITATION_LIFETIME = timedelta(days=14)
ROLES = ("admin", "staff")


class LastAdminError(Exception):
    """The change would leave the school without an admin, and nobody allowed that."""


class InvitationState(Enum):
    """What a token from an invitation link stands for."""

    OPEN = "open"
    UNKNOWN = "unknown"  # never made, or revoked (the row is deleted), or replaced
    USED = "used"
    EXPIRED = "expired"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _invitation_data(invitation: SchoolInvitation) -> dict[str, Any]:
    return {
        "email": invitation.email,
        "role": invitation.role,
        "expires_at": _iso(invitation.expires_at),
    }


def _open_invitation_query(school: School):
    return select(SchoolInvitation).where(
        SchoolInvitation.school_id == school.id,
        SchoolInvitation.accepted_at.is_(None),
        SchoolInvitation.expires_at > utcnow(),
    )


def open_invitations(school: School) -> list[SchoolInvitation]:
    """The school's invitations not yet accepted and not expired, newest first."""
    query = _open_invitation_query(school).order_by(
        SchoolInvitation.created_at.desc(), SchoolInvitation.id.desc()
    )
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
    earlier = db.session.scalars(
        select(SchoolInvitation).where(
            SchoolInvitation.school_id == school.id,
            SchoolInvitation.email == email,
            SchoolInvitation.accepted_at.is_(None),
        )
    ).all()
    replaced = [_invitation_data(row) for row in earlier if row.expires_at > utcnow()]
    if earlier:
        db.session.execute(
            delete(SchoolInvitation).where(SchoolInvitation.id.in_([row.id for row in earlier]))
        )
    token = new_token()
    invitation = SchoolInvitation(
        school_id=school.id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by_id=actor.id,
        created_at=utcnow(),
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
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
    """The invitation a link's token names, and whether it can still be accepted."""
    if not plausible_token(token):
        return InvitationState.UNKNOWN, None
    invitation = db.session.scalar(
        select(SchoolInvitation).where(SchoolInvitation.token_hash == hash_token(token))
    )
    if invitation is None:
        return InvitationState.UNKNOWN, None
    if invitation.accepted_at is not None:
        return InvitationState.USED, invitation
    if invitation.expires_at <= utcnow():
        return InvitationState.EXPIRED, invitation
    return InvitationState.OPEN, invitation


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
    record(
        "school_staff.change_role",
        row,
        actor=actor,
        municipality_id=row.school.municipality_id,
        data={
            "school_id": row.school_id,
            "user_id": row.user_id,
            "email": row.user.email,
            "before": {"role": before},
            "after": {"role": new_role},
            "left_without_admin": left_without,
        },
    )
    return True


def remove_staff(row: SchoolStaff, data: dict[str, Any] | None = None, *, actor: User) -> None:
    """Take someone off the school's staff (their account stays).

    `data["allow_no_admin"]` lets the last admin go (the municipal admin, who has confirmed it);
    otherwise that is a LastAdminError.
    """
    data = data or {}
    left_without = _guard_last_admin(row, bool(data.get("allow_no_admin")))
    record(
        "school_staff.remove",
        row,
        actor=actor,
        municipality_id=row.school.municipality_id,
        data={
            "school_id": row.school_id,
            "user_id": row.user_id,
            "email": row.user.email,
            "before": {"role": row.role},
            "after": None,
            "left": row.user_id == actor.id,
            "left_without_admin": left_without,
        },
    )
    db.session.delete(row)
    db.session.flush()
