"""The municipal admin's operations: verifying organisations. They flush; the request commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.audit.models import AuditEvent
from directory.audit.operations import record
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from directory.timeutil import utcnow

AUDIT_LOG_LIMIT = 200


def _state(organisation: Organisation) -> dict[str, Any]:
    return {
        "verification": organisation.verification,
        "verified_at": organisation.verified_at.isoformat() if organisation.verified_at else None,
        "verified_by_id": organisation.verified_by_id,
        "rejection_reason": organisation.rejection_reason,
    }


def _set_verification(
    organisation: Organisation, state: str, reason: str, *, actor: User, action: str
) -> None:
    before = _state(organisation)
    organisation.verification = state
    organisation.verified_at = utcnow() if state == "verified" else None
    organisation.verified_by_id = actor.id if state == "verified" else None
    organisation.rejection_reason = reason
    db.session.flush()
    record(
        action,
        organisation,
        actor=actor,
        municipality_id=organisation.municipality_id,
        data={"before": before, "after": _state(organisation)},
    )


def verify_organisation(
    organisation: Organisation, data: dict[str, Any] | None = None, *, actor: User
) -> None:
    """Mark the organisation as verified by `actor`, clearing any earlier rejection."""
    _set_verification(organisation, "verified", "", actor=actor, action="organisation.verify")


def reject_organisation(organisation: Organisation, data: dict[str, Any], *, actor: User) -> None:
    """Reject the organisation with a reason its members will see."""
    _set_verification(
        organisation, "rejected", data["reason"], actor=actor, action="organisation.reject"
    )


def municipality_organisations(municipality_id: int, status: str | None) -> list[Organisation]:
    """The municipality's organisations, pending first, then by name; optionally one status."""
    order = case(
        {"pending": 0, "verified": 1, "rejected": 2}, value=Organisation.verification, else_=3
    )
    query = (
        select(Organisation)
        .where(Organisation.municipality_id == municipality_id)
        .options(selectinload(Organisation.memberships).selectinload(Membership.user))
    )
    if status:
        query = query.where(Organisation.verification == status)
    return list(db.session.scalars(query.order_by(order, Organisation.name, Organisation.id)))


def recent_audit_events(municipality_id: int) -> list[tuple[AuditEvent, str | None]]:
    """The newest audit events of the municipality, each with its actor's name."""
    rows = db.session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.municipality_id == municipality_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_LOG_LIMIT)
    )
    return [(event, name) for event, name in rows]
