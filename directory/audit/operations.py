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


def apply_changes(obj: Any, fields: tuple[str, ...], data: dict[str, Any]) -> tuple[dict, dict]:
    """Set each of `fields` on `obj` to `data.get(field)` where it differs; answers the old and
    the new values of what changed (empty when nothing did), for an event's before/after."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in fields:
        old, new = getattr(obj, name), data.get(name)
        if old != new:
            before[name], after[name] = old, new
            setattr(obj, name, new)
    return before, after


def set_flag(
    obj: Any,
    name: str,
    value: bool,
    *,
    action: str,
    actor: Any | None,
    municipality_id: int | None,
    data: dict[str, Any],
) -> bool:
    """Set a yes/no attribute (a school's `active`, a category's `hidden`) and record `action`
    with its before/after; answers False, recording nothing, when it already was so."""
    if getattr(obj, name) == value:
        return False
    setattr(obj, name, value)
    db.session.flush()
    record(
        action,
        obj,
        actor=actor,
        municipality_id=municipality_id,
        data={**data, "before": {name: not value}, "after": {name: value}},
    )
    return True
