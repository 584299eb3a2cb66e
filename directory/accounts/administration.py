"""The municipal admin's account administration: the school staff's accounts, deactivating and
reactivating them. Operations flush and record; the request commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.accounts.operations import end_all_sessions
from directory.audit.operations import set_flag
from directory.extensions import db
from directory.schools.models import School, SchoolStaff


def staff_accounts(municipality_id: int) -> list[User]:
    """Every account with a role at a school of the municipality, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(
                    select(SchoolStaff.user_id)
                    .join(School, School.id == SchoolStaff.school_id)
                    .where(School.municipality_id == municipality_id)
                )
            )
            .options(selectinload(User.school_roles).selectinload(SchoolStaff.school))
            .order_by(User.name, User.email)
        )
    )


def deactivate_account(account: User, *, actor: User) -> bool:
    """Switch the account off: its sessions end at once and it cannot log in. Answers whether
    it was active (only then is the act recorded)."""
    end_all_sessions(account)
    return set_flag(
        account,
        "active",
        False,
        action="user.deactivate",
        actor=actor,
        municipality_id=actor.admin_municipality_id,
        data={"email": account.email},
    )


def reactivate_account(account: User, *, actor: User) -> bool:
    """Let a deactivated account log in again; answers whether it was deactivated."""
    return set_flag(
        account,
        "active",
        True,
        action="user.reactivate",
        actor=actor,
        municipality_id=actor.admin_municipality_id,
        data={"email": account.email},
    )
