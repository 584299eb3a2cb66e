"""The municipal admin's account administration: the school staff's accounts, deactivating and
reactivating them. Operations flush and record; the request commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.accounts.operations import end_all_sessions
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


def _record(action: str, account: User, *, actor: User, before: dict, after: dict) -> None:
    from directory.audit.operations import record

    record(
        action,
        account,
        actor=actor,
        municipality_id=actor.admin_municipality_id,
        data={"email": account.email, "before": before, "after": after},
    )


def deactivate_account(account: User, *, actor: User) -> None:
    """Switch the account off: its sessions end at once and it cannot log in."""
    before = {"active": account.active}
    account.active = False
    end_all_sessions(account)
    db.session.flush()
    _record("user.deactivate", account, actor=actor, before=before, after={"active": False})


def reactivate_account(account: User, *, actor: User) -> None:
    """Let a deactivated account log in again."""
    before = {"active": account.active}
    account.active = True
    db.session.flush()
    _record("user.reactivate", account, actor=actor, before=before, after={"active": True})
