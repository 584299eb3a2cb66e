"""Changing channel policies: the municipal default and a school's override, always audited."""

from __future__ import annotations

from typing import Any

from directory.audit.operations import record
from directory.extensions import db
from directory.policy.channel_policy import parse_settings, policy_to_dict
from directory.schools.models import ChannelPolicy, School
from directory.schools.policy_files import parse_policy_file
from directory.schools.routing import municipal_default, school_override


def stored_policy(school: School | None, municipality_id: int) -> ChannelPolicy | None:
    """The stored row: the school's override, or the municipality's default when school is None."""
    return school_override(school) if school is not None else municipal_default(municipality_id)


def update_policy(
    school: School | None,
    settings: dict[str, Any],
    *,
    actor: Any,
    municipality_id: int | None = None,
    action: str = "policy.update",
) -> ChannelPolicy:
    """Replace the school's override (or, for None, the municipal default) with `settings`.

    Raises PolicyError before anything changes. Flushes and writes an AuditEvent with the
    settings before and after; the caller commits.
    """
    if school is not None:
        municipality_id = school.municipality_id
    if municipality_id is None:
        municipality_id = actor.admin_municipality_id
    new = policy_to_dict(parse_settings(settings, complete=school is None))
    row = stored_policy(school, municipality_id)
    before = dict(row.settings) if row is not None else None
    if row is None:
        row = ChannelPolicy(
            municipality_id=municipality_id, school_id=school.id if school is not None else None
        )
        db.session.add(row)
    row.settings = new  # a new dict, so the JSON column sees the change
    row.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record(
        action,
        row,
        actor=actor,
        municipality_id=municipality_id,
        data={
            "school": school.slug if school is not None else None,
            "before": before,
            "after": new,
        },
    )
    db.session.flush()
    return row


def import_policy(
    school: School | None,
    data: bytes,
    filename: str | None,
    *,
    actor: Any,
    municipality_id: int | None = None,
) -> ChannelPolicy:
    """Replace the policy with an uploaded TOML or JSON file. Raises PolicyFileError first."""
    settings = parse_policy_file(data, filename, complete=school is None)
    return update_policy(
        school, settings, actor=actor, municipality_id=municipality_id, action="policy.import"
    )
