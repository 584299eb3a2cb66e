"""The one loader per object: what a URL names, with what its pages need, or 404.

Views load through these (in the pipeline's `load` step) and nowhere else; a loader that also
hides objects of other schools or municipalities says so in its docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.activities.models import Activity, Category
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.permissions import school_role
from directory.schools.models import School
from directory.venues.models import Venue

T = TypeVar("T")

# What every page of one activity shows of it, loaded with it.
ACTIVITY_OPTIONS = (
    selectinload(Activity.schedules),
    selectinload(Activity.organisation).selectinload(Organisation.municipality),
    selectinload(Activity.category),
)


def activity(activity_id: int, *options: Any) -> Activity:
    """The activity, with its schedules, organiser and category (or `options`), or 404."""
    return db.first_or_404(
        select(Activity).where(Activity.id == activity_id).options(*(options or ACTIVITY_OPTIONS))
    )


def public_activity(activity_id: int) -> Activity:
    """A public activity, or 404: drafts stay unknown in public files, even to their organiser."""
    found = activity(activity_id)
    if not found.is_public:
        abort(404)
    return found


def category(category_id: int) -> Category:
    """The category, or 404."""
    return db.get_or_404(Category, category_id)


def organisation(slug: str) -> Organisation:
    """The organisation at `slug`, or 404."""
    return db.first_or_404(select(Organisation).where(Organisation.slug == slug))


def organisation_by_id(organisation_id: int) -> Organisation:
    """The organisation with this id, or 404."""
    return db.get_or_404(Organisation, organisation_id)


def distribution_request(request_id: int) -> DistributionRequest:
    """The request with its activity, organiser and school, or 404."""
    return db.first_or_404(
        select(DistributionRequest)
        .where(DistributionRequest.id == request_id)
        .options(
            selectinload(DistributionRequest.activity).selectinload(Activity.organisation),
            selectinload(DistributionRequest.school).selectinload(School.municipality),
        )
    )


def school_request(school: School, request_id: int) -> DistributionRequest:
    """One of the school's requests; another school's request does not exist here (404)."""
    return db.first_or_404(
        select(DistributionRequest)
        .where(DistributionRequest.id == request_id, DistributionRequest.school_id == school.id)
        .options(selectinload(DistributionRequest.activity).selectinload(Activity.organisation))
    )


def school(slug: str, allowed: Callable[[Any, School], bool], *options: Any) -> School:
    """The school at `slug` for a page that `allowed(user, school)` guards.

    404 when unknown, and to an admin of another municipality (who must not learn which schools
    exist elsewhere); 403 for anyone else the check refuses. `options` are loader options.
    """
    found = db.first_or_404(select(School).where(School.slug == slug).options(*options))
    if current_user.admin_municipality_id not in (None, found.municipality_id) and not (
        school_role(current_user, found)
    ):
        abort(404)
    if not allowed(current_user, found):
        abort(403)
    return found


def owned(model: type[T], object_id: int, **owner: int) -> T:
    """A row that belongs to its parent, e.g. `owned(Membership, 3, organisation_id=org.id)`;
    404 when missing or another parent's (their ids are unknown here)."""
    row = db.session.get(model, object_id)
    if row is None or any(getattr(row, name) != value for name, value in owner.items()):
        abort(404)
    return row


def account(user_id: int) -> User:
    """The user account with this id, or 404 (who may administer it is the view's check)."""
    return db.get_or_404(User, user_id)


def venue(slug: str) -> Venue:
    """The venue with its municipality, or 404 (whether the public may see it is the view's
    question: directory.venues.operations.visible_venue)."""
    return db.first_or_404(
        select(Venue).where(Venue.slug == slug).options(selectinload(Venue.municipality))
    )
