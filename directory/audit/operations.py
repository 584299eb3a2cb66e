"""Writing audit events. Operations call record(); the request commits."""

from __future__ import annotations

from typing import Any

from directory.audit.models import AuditEvent
from directory.extensions import db


def record(
    action: str,
    obj: Any,
    *,
    actor: Any | None,
    municipality_id: int | None,
    data: dict | None = None,
) -> AuditEvent:
    """Add an audit event for `action` on `obj` (a model instance) by `actor` to the session."""
    db.session.flush()  # so that a new object has its id
    event = AuditEvent(
        action=action,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        actor_id=getattr(actor, "id", None),
        municipality_id=municipality_id,
        data=data or {},
    )
    db.session.add(event)
    return event
