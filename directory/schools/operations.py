"""Changing channel policies: the municipal default and a school's override, always audited."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from directory.audit.operations import record, set_flag
from directory.extensions import db
from directory.policy.channel_policy import default_settings, parse_settings, policy_to_dict
from directory.schools.models import ChannelPolicy, Municipality, School, SchoolGradeCount
from directory.schools.policy_files import parse_policy_file
from directory.schools.routing import municipal_default, school_override
from directory.text import unique_slug


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


# --- the municipal admin's school register --------------------------------------------------

# The fields of a school the admin's form edits, in the order the audit event lists them.
SCHOOL_FIELDS = (
    "name",
    "org_number",
    "grade_min",
    "grade_max",
    "area",
    "address",
    "latitude",
    "longitude",
    "facebook_page_url",
    "accepts_backpack_post",
)


# Words that stand where a school's slug would in the schools' URLs (/schools/invitations/<token>).
RESERVED_SCHOOL_SLUGS = frozenset({"invitations"})


def school_slug_taken(slug: str) -> bool:
    """Whether any school (of any municipality: slugs are in shared URLs) has this slug, or the
    schools' URLs use it for something else."""
    if slug in RESERVED_SCHOOL_SLUGS:
        return True
    return db.session.scalar(select(School.id).where(School.slug == slug)) is not None


def school_org_number_taken(
    municipality_id: int, number: str, *, exclude_id: int | None = None
) -> bool:
    """Whether another school of the municipality has this (normalised) organisation number."""
    query = select(School.id).where(
        School.municipality_id == municipality_id, School.org_number == number
    )
    if exclude_id is not None:
        query = query.where(School.id != exclude_id)
    return db.session.scalar(query) is not None


def school_state(school: School) -> dict[str, Any]:
    """What the admin edits of a school, as JSON-ready data (the audit's before and after)."""
    state: dict[str, Any] = {name: getattr(school, name) for name in SCHOOL_FIELDS}
    state["grade_counts"] = {
        str(c.grade): [c.classes, c.pupils]
        for c in sorted(school.grade_counts, key=lambda c: c.grade)
    }
    return state


def school_fingerprint(school: School) -> str:
    """A short digest of the stored school: the edit form carries it, and a save whose digest
    no longer matches would overwrite someone else's change (the view answers 409)."""
    payload = json.dumps({**school_state(school), "active": school.active}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _set_grade_counts(school: School, counts: dict[int, tuple[int, int]]) -> None:
    """Counts for exactly the given grades: others (outside the range, or unknown) go."""
    existing = {c.grade: c for c in school.grade_counts}
    for grade, row in existing.items():
        if grade not in counts:
            school.grade_counts.remove(row)
    for grade, (classes, pupils) in sorted(counts.items()):
        row = existing.get(grade)
        if row is None:
            school.grade_counts.append(
                SchoolGradeCount(grade=grade, classes=classes, pupils=pupils)
            )
        else:
            row.classes, row.pupils = classes, pupils


def create_school(municipality: Municipality, data: dict[str, Any], *, actor: Any) -> School:
    """Add an active school to the municipality; a missing slug is made from the name."""
    slug = data.get("slug") or unique_slug(data["name"], school_slug_taken)
    school = School(
        municipality_id=municipality.id,
        slug=slug,
        **{name: data.get(name) for name in SCHOOL_FIELDS},
    )
    school.area = school.area or ""
    school.address = school.address or ""
    db.session.add(school)
    _set_grade_counts(school, data.get("grade_counts") or {})
    db.session.flush()
    record(
        "school.create",
        school,
        actor=actor,
        municipality_id=municipality.id,
        data={"slug": school.slug, "after": school_state(school)},
    )
    return school


def update_school(school: School, data: dict[str, Any], *, actor: Any) -> bool:
    """Apply the edited fields and counts; returns whether anything changed (then audited)."""
    before_state = school_state(school)
    for name in SCHOOL_FIELDS:
        if name in data:
            setattr(school, name, data[name])
    school.area = school.area or ""
    school.address = school.address or ""
    if "grade_counts" in data:
        _set_grade_counts(school, data["grade_counts"])
    db.session.flush()
    after_state = school_state(school)
    changed = [key for key in after_state if after_state[key] != before_state[key]]
    if changed:
        record(
            "school.update",
            school,
            actor=actor,
            municipality_id=school.municipality_id,
            data={
                "slug": school.slug,
                "before": {key: before_state[key] for key in changed},
                "after": {key: after_state[key] for key in changed},
            },
        )
    return bool(changed)


def set_school_active(school: School, active: bool, *, actor: Any) -> bool:
    """Deactivate or reactivate the school; returns False (and records nothing) when it
    already was. A deactivated school keeps its requests, exports and staff."""
    return set_flag(
        school,
        "active",
        active,
        action="school.reactivate" if active else "school.deactivate",
        actor=actor,
        municipality_id=school.municipality_id,
        data={"slug": school.slug},
    )


# --- setting up a municipality ----------------------------------------------------------------


def create_municipality(data: dict[str, Any], *, actor: Any | None) -> Municipality:
    """Add a municipality (slug, name, messaging_label, org_number, contact_email, already
    checked) with the default channel policy; audited, flushed, not committed."""
    municipality = Municipality(**data)
    db.session.add(municipality)
    db.session.flush()
    settings = default_settings()
    db.session.add(ChannelPolicy(municipality_id=municipality.id, settings=settings))
    db.session.flush()
    record(
        "municipality.create",
        municipality,
        actor=actor,
        municipality_id=municipality.id,
        data={"after": {**data, "policy": settings}},
    )
    return municipality
