"""Finding, adding and changing venues, and placing activities at them.

An activity keeps a copy of its venue's name, address and coordinates (Activity.venue, address,
latitude, longitude): search, feeds, calendars and exports read the activity alone. The copy is
written here and nowhere else: when an activity is placed at a venue (place_activity) and when a
venue changes (update_venue, which rewrites every activity there).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import selectinload

from directory.activities.listings import listed_conditions
from directory.activities.models import Activity
from directory.activities.schedule import next_start
from directory.audit.operations import apply_changes, record
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.models import Organisation
from directory.schools.models import Municipality
from directory.search.documents import public_conditions
from directory.text import unique_slug
from directory.timeutil import utcnow
from directory.venues.models import Venue

# A municipality with very many venues still gives a list one can scroll.
MAX_VENUES = 300
VENUE_FIELDS = ("name", "address", "latitude", "longitude", "accessibility")
# What an activity copies from its venue.
COPIED = {"venue": "name", "address": "address", "latitude": "latitude", "longitude": "longitude"}


def _folded(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def match_key(name: str, address: str) -> str:
    """A short, stable identifier of a name and address (case and spacing aside)."""
    text = f"{_folded(name)}\n{_folded(address)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _coordinate(value: Any) -> Decimal | None:
    return None if value is None else round(Decimal(str(value)), 6)


def find_venue(municipality_id: int, name: str, address: str) -> Venue | None:
    """The municipality's venue of this name and address, or None."""
    return db.session.scalar(
        select(Venue).where(
            Venue.municipality_id == municipality_id,
            Venue.match_key == match_key(name, address),
        )
    )


def add_venue(
    municipality: Municipality,
    data: dict[str, Any],
    *,
    added_by: Organisation | None,
    actor: Any | None,
) -> Venue:
    """A new venue (name, address, coordinates, accessibility); refused (409) when the
    municipality already has one of that name and address."""
    name, address = " ".join(data["name"].split()), " ".join((data.get("address") or "").split())
    if find_venue(municipality.id, name, address) is not None:
        raise DomainError(_("%(name)s finnes allerede som sted i kommunen.", name=name))

    def taken(slug: str) -> bool:
        return db.session.scalar(select(Venue.id).where(Venue.slug == slug)) is not None

    venue = Venue(
        municipality_id=municipality.id,
        slug=unique_slug(name, taken),
        name=name,
        address=address,
        match_key=match_key(name, address),
        latitude=_coordinate(data.get("latitude")),
        longitude=_coordinate(data.get("longitude")),
        accessibility=data.get("accessibility") or "",
        added_by=added_by,
    )
    db.session.add(venue)
    record(
        "venue.add",
        venue,
        actor=actor,
        municipality_id=municipality.id,
        data={"name": venue.name, "address": venue.address},
    )
    return venue


def venue_for(
    organisation: Organisation, data: dict[str, Any], *, actor: Any | None
) -> Venue | None:
    """The venue a form or an import row names by name and address in the organisation's
    municipality: the one there is, else a new one added by the organisation. None when both
    are empty. Coordinates (or accessibility notes) given for a known venue that lacks them
    fill them in; known ones are never overwritten here (the municipality corrects them)."""
    name = " ".join((data.get("name") or "").split())
    address = " ".join((data.get("address") or "").split())
    if not name and not address:
        return None
    venue = find_venue(organisation.municipality.id, name, address)
    if venue is None:
        data = {**data, "name": name or address, "address": address if name else ""}
        return add_venue(organisation.municipality, data, added_by=organisation, actor=actor)
    filled: dict[str, Any] = {}
    has_point = data.get("latitude") is not None and data.get("longitude") is not None
    if not venue.has_point and has_point:
        filled["latitude"] = _coordinate(data["latitude"])
        filled["longitude"] = _coordinate(data["longitude"])
    if not venue.accessibility and data.get("accessibility"):
        filled["accessibility"] = data["accessibility"]
    if filled:
        update_venue(venue, {**venue_values(venue), **filled}, actor=actor)
    return venue


def venue_values(venue: Venue) -> dict[str, Any]:
    """The venue's editable values (for its form and for update_venue)."""
    return {name: getattr(venue, name) for name in VENUE_FIELDS}


def placement(venue: Venue | None) -> dict[str, Any]:
    """The activity columns that put an activity at the venue (or nowhere): its id and the copy
    of its name, address and coordinates."""
    values: dict[str, Any] = {"venue_id": venue.id if venue is not None else None}
    for column, attribute in COPIED.items():
        value = getattr(venue, attribute) if venue is not None else None
        if value is None and column in ("venue", "address"):
            value = ""
        values[column] = value
    return values


def place_activity(activity: Activity, venue: Venue | None) -> None:
    """Put the activity at the venue (or nowhere), copying the venue's name, address and
    coordinates onto it."""
    for column, value in placement(venue).items():
        setattr(activity, column, value)


def update_venue(venue: Venue, data: dict[str, Any], *, actor: Any | None) -> bool:
    """Change the venue's name, address, coordinates or accessibility notes, and every activity
    placed there with it. Refused (409) when the new name and address are another venue's.
    Returns False, recording nothing, when nothing changed."""
    values = dict(data)
    values["name"] = " ".join(values["name"].split())
    values["address"] = " ".join((values.get("address") or "").split())
    values["latitude"] = _coordinate(values.get("latitude"))
    values["longitude"] = _coordinate(values.get("longitude"))
    values["accessibility"] = values.get("accessibility") or ""
    key = match_key(values["name"], values["address"])
    if key != venue.match_key:
        other = find_venue(venue.municipality_id, values["name"], values["address"])
        if other is not None and other.id != venue.id:
            raise DomainError(
                _("%(name)s finnes allerede som sted i kommunen.", name=values["name"])
            )
    before, after = apply_changes(venue, VENUE_FIELDS, values)
    if not after:
        return False
    venue.match_key = key
    venue.updated_at = utcnow()
    for activity in db.session.scalars(select(Activity).where(Activity.venue_id == venue.id)):
        place_activity(activity, venue)
    record(
        "venue.update",
        venue,
        actor=actor,
        municipality_id=venue.municipality_id,
        data={"name": venue.name, "before": _plain(before), "after": _plain(after)},
    )
    return True


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Values an audit event can store as JSON (coordinates as text)."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


# --- who sees which venues ----------------------------------------------------------------------


def _has_public_activity() -> ColumnElement[bool]:
    return exists().where(
        Activity.venue_id == Venue.id,
        Activity.organisation_id == Organisation.id,
        *public_conditions(),
    )


def public_venue_conditions() -> list[ColumnElement[bool]]:
    """A venue is public when the municipality added it or a public activity is there (an
    organisation's draft does not publish the place it names)."""
    return [or_(Venue.added_by_id.is_(None), _has_public_activity())]


@dataclass(frozen=True)
class KnownVenue:
    """A venue the activity form offers; `own` when the organisation added or used it."""

    venue: Venue
    own: bool


def known_venues(organisation: Organisation, current: Activity | None = None) -> list[KnownVenue]:
    """The venues the organisation added or used, then the other public venues of its
    municipality, each group by name; the `current` activity's venue always among them."""
    used_by_org = exists().where(
        Activity.venue_id == Venue.id, Activity.organisation_id == organisation.id
    )
    own = or_(Venue.added_by_id == organisation.id, used_by_org)
    rows = db.session.execute(
        select(Venue, own.label("own"))
        .where(
            Venue.municipality_id == organisation.municipality_id,
            or_(own, *public_venue_conditions()),
        )
        .order_by(own.desc(), func.lower(Venue.name), Venue.address, Venue.id)
        .limit(MAX_VENUES)
    ).all()
    known = [KnownVenue(venue, bool(is_own)) for venue, is_own in rows]
    if current is not None and current.place is not None:
        if all(k.venue.id != current.venue_id for k in known):
            known.insert(0, KnownVenue(current.place, True))
    return known


def visible_venue(venue: Venue) -> bool:
    """Whether anyone may see the venue's page."""
    return (
        db.session.scalar(select(Venue.id).where(Venue.id == venue.id, *public_venue_conditions()))
        is not None
    )


@dataclass(frozen=True)
class ListedVenue:
    """A public venue with how many public activities there have not ended."""

    venue: Venue
    activities: int


def public_venues(municipality: Municipality | None = None) -> list[ListedVenue]:
    """The public venues (of one municipality), by municipality and name, with their counts of
    public activities (their listings not expired)."""
    count = (
        select(func.count(Activity.id))
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(
            Activity.venue_id == Venue.id,
            *listed_conditions(),
        )
        .scalar_subquery()
    )
    query = (
        select(Venue, count)
        .where(*public_venue_conditions())
        .options(selectinload(Venue.municipality))
    )
    if municipality is not None:
        query = query.where(Venue.municipality_id == municipality.id)
    query = query.order_by(Venue.municipality_id, func.lower(Venue.name), Venue.id)
    return [ListedVenue(venue, n or 0) for venue, n in db.session.execute(query)]


def municipality_venues(municipality_id: int) -> list[ListedVenue]:
    """Every venue of the municipality (drafts' places too), by name: the admin's list."""
    count = select(func.count(Activity.id)).where(Activity.venue_id == Venue.id).scalar_subquery()
    rows = db.session.execute(
        select(Venue, count)
        .where(Venue.municipality_id == municipality_id)
        .options(selectinload(Venue.added_by))
        .order_by(func.lower(Venue.name), Venue.id)
    )
    return [ListedVenue(venue, n or 0) for venue, n in rows]


def activities_at(venue: Venue) -> list[tuple[Activity, Any]]:
    """The public activities at the venue that have not ended (nor their listing expired),
    with their next start, soonest first (cancelled ones last)."""
    activities = db.session.scalars(
        select(Activity)
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(
            Activity.venue_id == venue.id,
            *listed_conditions(),
        )
        .options(
            selectinload(Activity.schedules),
            selectinload(Activity.organisation),
            selectinload(Activity.category),
        )
    )
    now = utcnow()
    listed = [(a, next_start(a.schedules, after=now)) for a in activities]
    listed = [(a, start) for a, start in listed if start is not None]
    listed.sort(key=lambda pair: (pair[0].status == "cancelled", pair[1], pair[0].title))
    return listed
