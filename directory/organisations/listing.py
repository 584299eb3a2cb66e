"""The clubs and associations directory: /organisations and GET /api/v1/organisations.

The organisations listed are the ones the list has always shown: not rejected, with at least
one public activity (published or cancelled). The text search matches name and description in
SQL; category (from the organisation's public activities, hidden categories left out), kind and
municipality filter the matches, and each filter's counts are taken with the other filters
applied but its own choice left out, as the search pages count theirs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from directory.activities.listings import current_listing_condition, oslo_today
from directory.activities.models import Activity, Category
from directory.activities.schedule import next_occurrences
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.models import Organisation
from directory.organisations.operations import listed_organisation_conditions
from directory.policy.activity_states import PUBLIC_STATES, PUBLISHED
from directory.policy.routing import ORGANISATION_KINDS
from directory.schools.models import Municipality

PER_PAGE = 20
MAX_PAGE = 10_000
MAX_TEXT = 200
PARAMS = ("q", "category", "kind", "municipality", "page")


class DirectoryError(Exception):
    """A bad parameter (400) or an unknown municipality (404); the message is for the user."""

    def __init__(self, param: str, message: str, status: int = 400):
        super().__init__(message)
        self.param = param
        self.message = message
        self.status = status


@dataclass(frozen=True)
class DirectoryQuery:
    """The directory's filters, checked."""

    q: str = ""
    category: Category | None = None
    kind: str | None = None
    municipality: Municipality | None = None
    page: int = 1


@dataclass
class Entry:
    """One organisation on the page, with what its card shows."""

    organisation: Organisation
    categories: list[Category]
    current_offers: int


@dataclass
class DirectoryPage:
    """One page of the directory with the counts per filter value."""

    entries: list[Entry]
    total: int
    page: int
    pages: int
    # Filter value -> count, for "category" (slugs), "kind" and "municipality" (slugs).
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    municipalities: dict[str, Municipality] = field(default_factory=dict)


def parse_directory_args(args) -> DirectoryQuery:
    """The filters from a query string; DirectoryError names the first bad one. The first value
    of a parameter counts and a blank one is absent, as for the search filters."""
    values = {name: (args.get(name) or "").strip() for name in PARAMS}
    q = values["q"]
    if len(q) > MAX_TEXT or "\x00" in q:
        raise DirectoryError("q", _("Søketeksten kan ha høyst %(n)s tegn.", n=MAX_TEXT))
    category = None
    if values["category"]:
        category = db.session.scalar(
            select(Category).where(
                Category.slug == values["category"][:60], Category.hidden.is_(False)
            )
        )
        if category is None:
            raise DirectoryError("category", _("Kategorien finnes ikke."))
    kind = values["kind"] or None
    if kind is not None and kind not in ORGANISATION_KINDS:
        raise DirectoryError(
            "kind",
            _("Ugyldig type. Velg en av: %(kinds)s.", kinds=", ".join(ORGANISATION_KINDS)),
        )
    municipality = None
    if values["municipality"]:
        municipality = db.session.scalar(
            select(Municipality).where(Municipality.slug == values["municipality"][:100])
        )
        if municipality is None:
            raise DirectoryError("municipality", _("Kommunen finnes ikke."), 404)
    page = 1
    if values["page"]:
        raw = values["page"]
        if len(raw) > 5 or not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
            raise DirectoryError(
                "page", _("Sidetallet må være et helt tall fra 1 til %(n)s.", n=MAX_PAGE)
            )
        page = int(raw)
    return DirectoryQuery(q, category, kind, municipality, page)


def _categories_by_organisation(ids: list[int]) -> dict[int, set[int]]:
    """The (not hidden) categories of each organisation's public activities."""
    found: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return found
    rows = db.session.execute(
        select(Activity.organisation_id, Activity.category_id)
        .join(Category, Activity.category_id == Category.id)
        .where(
            Activity.organisation_id.in_(ids),
            Activity.status.in_(PUBLIC_STATES),
            current_listing_condition(oslo_today()),
            Category.hidden.is_(False),
        )
        .distinct()
    ).all()
    for organisation_id, category_id in rows:
        found[organisation_id].add(category_id)
    return found


def _current_offers(ids: list[int], now: datetime) -> dict[int, int]:
    """How many published activities of each organisation, their listings not expired, have an
    occurrence not ended."""
    counts: dict[int, int] = defaultdict(int)
    if not ids:
        return counts
    activities = db.session.scalars(
        select(Activity)
        .where(
            Activity.organisation_id.in_(ids),
            Activity.status == PUBLISHED,
            current_listing_condition(oslo_today(now)),
        )
        .options(selectinload(Activity.schedules))
    ).all()
    for activity in activities:
        if next_occurrences(activity.schedules, after=now, limit=1):
            counts[activity.organisation_id] += 1
    return counts


def directory_page(query: DirectoryQuery, *, now: datetime) -> DirectoryPage:
    """The page of organisations `query` asks for, with counts per filter value."""
    conditions = list(listed_organisation_conditions())
    if query.q:
        escaped = query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions.append(
            or_(
                Organisation.name.ilike(pattern, escape="\\"),
                Organisation.description.ilike(pattern, escape="\\"),
            )
        )
    # The text matches, by name: few enough (one municipality's clubs) to filter and count here.
    rows = db.session.execute(
        select(Organisation.id, Organisation.kind, Municipality.slug)
        .join(Municipality, Organisation.municipality_id == Municipality.id)
        .where(*conditions)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    by_organisation = _categories_by_organisation([row.id for row in rows])
    chosen_category = query.category.id if query.category else None
    chosen_municipality = query.municipality.slug if query.municipality else None

    def keeps(row, *, but: str) -> bool:
        return (
            (
                but == "category"
                or chosen_category is None
                or chosen_category in by_organisation[row.id]
            )
            and (but == "kind" or query.kind is None or row.kind == query.kind)
            and (
                but == "municipality"
                or chosen_municipality is None
                or row.slug == chosen_municipality
            )
        )

    categories = {
        c.id: c for c in db.session.scalars(select(Category).where(Category.hidden.is_(False)))
    }
    facets: dict[str, dict[str, int]] = {"category": {}, "kind": {}, "municipality": {}}
    for row in rows:
        if keeps(row, but="category"):
            for category_id in by_organisation[row.id]:
                slug = categories[category_id].slug
                facets["category"][slug] = facets["category"].get(slug, 0) + 1
        if keeps(row, but="kind"):
            facets["kind"][row.kind] = facets["kind"].get(row.kind, 0) + 1
        if keeps(row, but="municipality"):
            facets["municipality"][row.slug] = facets["municipality"].get(row.slug, 0) + 1
    matched = [row.id for row in rows if keeps(row, but="")]
    total = len(matched)
    pages = max(1, math.ceil(total / PER_PAGE))
    page_ids = matched[(query.page - 1) * PER_PAGE : query.page * PER_PAGE]
    loaded = {
        o.id: o
        for o in db.session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(page_ids))
            .options(selectinload(Organisation.municipality))
        )
    }
    offers = _current_offers(page_ids, now)
    entries = [
        Entry(
            organisation=loaded[i],
            categories=sorted((categories[c] for c in by_organisation[i]), key=lambda c: c.slug),
            current_offers=offers[i],
        )
        for i in page_ids
    ]
    municipalities = {
        m.slug: m
        for m in db.session.scalars(
            select(Municipality).where(Municipality.slug.in_(facets["municipality"]))
        )
    }
    return DirectoryPage(
        entries=entries,
        total=total,
        page=query.page,
        pages=pages,
        facets=facets,
        categories={c.slug: c for c in categories.values()},
        municipalities=municipalities,
    )
