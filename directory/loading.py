"""The one loader per object: what a URL names, with what its pages need, or 404.

Views load through these (in the pipeline's `load` step) and nowhere else; a loader that also
hides objects of other schools or municipalities says so in its docstring.

The search filters' lists (categories, municipalities, schools) are loaded here too, and kept in
each process as plain data under the public data's version (directory.data_version): every
commit changing one of them raises it, so the next request loads them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, g, has_app_context
from flask_login import current_user
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from directory import data_version
from directory.accounts.models import User
from directory.activities.models import (
    Activity,
    ActivityTranslation,
    Category,
    Schedule,
    name_in_language,
)
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.permissions import school_role
from directory.schools.models import Municipality, School
from directory.venues.models import Venue

T = TypeVar("T")

# What every page of one activity shows of it, loaded with it: the organisation (with its
# municipality) and the category in the activity's own row, then the schedules and the
# translations (the page links to each of its languages). For one activity's page, all in one
# statement: an activity has a schedule or a few and at most one translation per content
# language, so the joined rows stay few. For a page of activities, the activities in one
# statement and each collection in one more for all of them: statements built once, attached
# with set_committed_value() (SQLAlchemy's selectinload builds its statements anew on every
# load, which cost two thirds of the loading).
_TO_ONE = (
    joinedload(Activity.organisation, innerjoin=True).joinedload(Organisation.municipality),
    joinedload(Activity.category),
)
ACTIVITY_OPTIONS = (*_TO_ONE, lazyload(Activity.schedules), lazyload(Activity.translations))
_ACTIVITY = (
    select(Activity)
    .where(Activity.id == bindparam("id"))
    .options(*_TO_ONE, joinedload(Activity.schedules), joinedload(Activity.translations))
)
_ACTIVITIES = (
    select(Activity)
    .where(Activity.id.in_(bindparam("ids", expanding=True)))
    .options(*ACTIVITY_OPTIONS)
)
_SCHEDULES = (
    select(Schedule)
    .where(Schedule.activity_id.in_(bindparam("ids", expanding=True)))
    .order_by(Schedule.dtstart, Schedule.id)  # the relationship's order
)
_TRANSLATIONS = (
    select(ActivityTranslation)
    .where(ActivityTranslation.activity_id.in_(bindparam("ids", expanding=True)))
    .order_by(ActivityTranslation.language, ActivityTranslation.id)  # the relationship's order
)


def _with_collections(found: dict[int, Activity]) -> dict[int, Activity]:
    """Attach each activity's schedules and translations, loaded in one query each."""
    if not found:
        return found
    ids = list(found)
    for attribute, statement in (("schedules", _SCHEDULES), ("translations", _TRANSLATIONS)):
        children: dict[int, list] = {activity_id: [] for activity_id in ids}
        for child in db.session.scalars(statement, {"ids": ids}):
            children[child.activity_id].append(child)
        for activity_id, items in children.items():
            owner = found[activity_id]
            if attribute not in owner.__dict__:  # not already loaded (and perhaps changed)
                set_committed_value(owner, attribute, items)
                for child in items:
                    set_committed_value(child, "activity", owner)
    return found


def activity(activity_id: int, *options: Any) -> Activity:
    """The activity, with its schedules, organiser and category (or `options`), or 404."""
    if options:
        return db.first_or_404(select(Activity).where(Activity.id == activity_id).options(*options))
    found = db.session.execute(_ACTIVITY, {"id": activity_id}).unique().scalar_one_or_none()
    if found is None:
        abort(404)
    return found


def activities(ids: list[int]) -> dict[int, Activity]:
    """These activities by id (those that exist), with what every page of one activity shows
    of them: for a page of search results, in one query and its two collections' (the result
    cards, the API's list items and the calendar's events of those a process has not kept)."""
    if not ids:
        return {}
    return _with_collections({a.id: a for a in db.session.scalars(_ACTIVITIES, {"ids": ids})})


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


# --- the search filters' lists, kept in each process -----------------------------------------

REQUEST_KEY = "filter_lists"  # in g: this request's lists


@dataclass(frozen=True)
class CategoryChoice:
    """A category as the filters and the API list show it."""

    id: int
    slug: str
    name_nb: str
    name_nn: str
    name_en: str
    hidden: bool

    def name_in(self, locale: str) -> str:
        """The name in the given interface language, bokmål by default (as Category's)."""
        return name_in_language(locale, self.name_nb, self.name_nn, self.name_en)


@dataclass(frozen=True)
class MunicipalityChoice:
    """A municipality as the filters show it."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class SchoolChoice:
    """An active school as the filters show it and the search resolves it."""

    id: int
    slug: str
    name: str
    municipality_id: int
    municipality_slug: str
    grade_min: int
    grade_max: int
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class FilterLists:
    """Every category (hidden ones too: an old link's chip still names one), every
    municipality by name and every active school by name."""

    categories: tuple[CategoryChoice, ...]
    municipalities: tuple[MunicipalityChoice, ...]
    schools: tuple[SchoolChoice, ...]

    def category(self, slug: str) -> CategoryChoice | None:
        """The category with this slug, hidden or not."""
        return next((c for c in self.categories if c.slug == slug), None)

    def municipality(self, slug: str) -> MunicipalityChoice | None:
        """The municipality with this slug."""
        return next((m for m in self.municipalities if m.slug == slug), None)

    def school(self, slug: str) -> SchoolChoice | None:
        """The active school with this slug (a deactivated one has left the filters)."""
        return next((s for s in self.schools if s.slug == slug), None)


def _load_filter_lists() -> FilterLists:
    categories = db.session.execute(
        select(
            Category.id, Category.slug, Category.name_nb, Category.name_nn, Category.name_en,
            Category.hidden,
        ).order_by(Category.name_nb, Category.id)
    ).all()  # fmt: skip
    municipalities = db.session.execute(
        select(Municipality.id, Municipality.slug, Municipality.name).order_by(
            Municipality.name, Municipality.id
        )
    ).all()
    schools = db.session.execute(
        select(
            School.id, School.slug, School.name, School.municipality_id, Municipality.slug,
            School.grade_min, School.grade_max, School.latitude, School.longitude,
        )
        .join(Municipality, School.municipality_id == Municipality.id)
        .where(School.active.is_(True))
        .order_by(School.name, School.id)
    ).all()  # fmt: skip
    return FilterLists(
        categories=tuple(CategoryChoice(*row) for row in categories),
        municipalities=tuple(MunicipalityChoice(*row) for row in municipalities),
        schools=tuple(SchoolChoice(*row) for row in schools),
    )


def filter_lists() -> FilterLists:
    """The search filters' lists, as of the public data's current version.

    One query (the version's) when this process has them already, and none at all for the
    rest of the request after the first call (a commit in the request forgets them).
    """
    if REQUEST_KEY in g:
        return g.get(REQUEST_KEY)
    lists = data_version.kept("filter_lists", _load_filter_lists)
    setattr(g, REQUEST_KEY, lists)
    return lists


@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session: Session) -> None:
    # The request's copy may be older than what it has just committed.
    if has_app_context():
        g.pop(REQUEST_KEY, None)
