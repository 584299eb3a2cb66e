"""The municipal admin's operations: verifying organisations. They flush; the request commits."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.activities.models import Category
from directory.audit.models import AuditEvent
from directory.audit.operations import apply_changes, record, set_flag
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from directory.policy.orgnumber import normalise_org_number
from directory.schools.models import Municipality
from directory.text import slugify
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


# --- the municipality's settings -------------------------------------------------------------

MUNICIPALITY_FIELDS = (
    "name", "messaging_label", "org_number", "contact_email", "fritidskort_min_sessions",
    "fritidskort_max_price",
)  # fmt: skip


def municipality_state(municipality: Municipality) -> dict[str, Any]:
    """The settings the admin edits, as JSON-ready data."""
    return {name: getattr(municipality, name) for name in MUNICIPALITY_FIELDS}


def municipality_fingerprint(municipality: Municipality) -> str:
    """A short digest of the stored settings; a form that carries another one is stale."""
    payload = json.dumps(municipality_state(municipality), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def update_municipality(municipality: Municipality, data: dict[str, Any], *, actor: User) -> bool:
    """Apply the edited settings; returns whether anything changed (then audited)."""
    data = dict(data)
    data["org_number"] = normalise_org_number(data.get("org_number")) or None
    before, after = apply_changes(municipality, MUNICIPALITY_FIELDS, data)
    if after:
        db.session.flush()
        record(
            "municipality.update",
            municipality,
            actor=actor,
            municipality_id=municipality.id,
            data={"before": before, "after": after},
        )
    return bool(after)


# --- categories (shared by every municipality in the database) --------------------------------

CATEGORY_SLUG_MAX = 60


def category_name_taken(name_nb: str, *, exclude_id: int | None = None) -> bool:
    """Whether another category already has this bokmål name (ignoring case)."""
    query = select(Category.id).where(func.lower(Category.name_nb) == name_nb.strip().lower())
    if exclude_id is not None:
        query = query.where(Category.id != exclude_id)
    return db.session.scalar(query) is not None


def _category_slug(name: str) -> str:
    base = slugify(name, CATEGORY_SLUG_MAX)
    slug, n = base, 2
    while db.session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        suffix = f"-{n}"
        slug = base[: CATEGORY_SLUG_MAX - len(suffix)].rstrip("-") + suffix
        n += 1
    return slug


def _category_names(category: Category) -> dict[str, str]:
    return {"nb": category.name_nb, "nn": category.name_nn, "en": category.name_en}


def category_fingerprint(category: Category) -> str:
    """A short digest of the stored names (the category has no version column); a rename form
    that carries another one is stale."""
    payload = json.dumps(_category_names(category), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def all_categories() -> list[Category]:
    """Every category, the hidden ones too, by bokmål name."""
    return list(db.session.scalars(select(Category).order_by(Category.name_nb, Category.id)))


def create_category(data: dict[str, Any], *, actor: User) -> Category:
    """Add a visible category named in the three languages; its slug comes from bokmål."""
    category = Category(
        slug=_category_slug(data["name_nb"]),
        name_nb=data["name_nb"],
        name_nn=data["name_nn"],
        name_en=data["name_en"],
        hidden=False,
    )
    db.session.add(category)
    db.session.flush()
    record(
        "category.create",
        category,
        actor=actor,
        municipality_id=actor.admin_municipality_id,
        data={"slug": category.slug, "after": _category_names(category)},
    )
    return category


def rename_category(category: Category, data: dict[str, Any], *, actor: User) -> bool:
    """Rename the category in the three languages (its slug stays: links keep working)."""
    before = _category_names(category)
    category.name_nb, category.name_nn, category.name_en = (
        data["name_nb"],
        data["name_nn"],
        data["name_en"],
    )
    after = _category_names(category)
    if before == after:
        return False
    db.session.flush()
    record(
        "category.rename",
        category,
        actor=actor,
        municipality_id=actor.admin_municipality_id,
        data={"slug": category.slug, "before": before, "after": after},
    )
    return True


def set_category_hidden(category: Category, hidden: bool, *, actor: User) -> bool:
    """Hide the category from new choices, filters and the API, or show it again; activities
    that have it keep it. Returns False (nothing recorded) when it already was so."""
    return set_flag(
        category,
        "hidden",
        hidden,
        action="category.hide" if hidden else "category.show",
        actor=actor,
        municipality_id=actor.admin_municipality_id,
        data={"slug": category.slug},
    )
