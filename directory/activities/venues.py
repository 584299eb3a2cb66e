"""Known venues: the places an organisation or its municipality has used before.

The activity form offers them instead of asking for coordinates: a venue is a name and an
address as earlier activities wrote them, with coordinates when one of those activities had
them. Nothing is geocoded. Venues are not objects of their own (yet): each is found again from
the activities, by its key, when the form comes back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from directory.activities.models import Activity
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.policy.activity_states import PUBLIC_STATES

# A municipality with very many venues still gives a list one can scroll.
MAX_VENUES = 300


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Venue:
    """A place by name and address, with coordinates when known; `own` when the organisation
    has used it itself."""

    name: str
    address: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    own: bool = False

    @property
    def key(self) -> str:
        """A short, stable identifier of the name and address (case and spacing aside)."""
        text = f"{_folded(self.name)}\n{_folded(self.address)}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """'Name, address' (or just the one that is given)."""
        return ", ".join(part for part in (self.name, self.address) if part)


def known_venues(organisation: Organisation, current: Activity | None = None) -> list[Venue]:
    """The organisation's earlier venues, then the other public venues in its municipality.

    Each name and address once, spelt as its most recent use; coordinates from the most recent
    use that had them. The `current` activity's own venue comes first, with its own coordinates,
    so that an edit that keeps the venue changes nothing.
    """
    rows = db.session.execute(
        select(
            Activity.venue,
            Activity.address,
            Activity.latitude,
            Activity.longitude,
            Activity.organisation_id,
        )
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(
            Organisation.municipality_id == organisation.municipality_id,
            Activity.venue != "",
            # Another organisation's drafts and archived activities are nobody else's business.
            (Activity.organisation_id == organisation.id)
            | (Activity.status.in_(PUBLIC_STATES) & (Organisation.verification != "rejected")),
        )
        .order_by(Activity.updated_at.desc(), Activity.id.desc())
    ).all()
    if current is not None and current.venue:
        rows.insert(
            0,
            (
                current.venue,
                current.address,
                current.latitude,
                current.longitude,
                organisation.id,
            ),
        )
    found: dict[str, Venue] = {}
    for name, address, latitude, longitude, organisation_id in rows:
        venue = Venue(name.strip(), (address or "").strip())
        seen = found.get(venue.key)
        has_point = latitude is not None and longitude is not None
        own = organisation_id == organisation.id
        if seen is None:
            found[venue.key] = Venue(
                venue.name,
                venue.address,
                latitude if has_point else None,
                longitude if has_point else None,
                own,
            )
        elif (seen.latitude is None and has_point) or (own and not seen.own):
            keep_point = seen.latitude is not None
            found[venue.key] = Venue(
                seen.name,
                seen.address,
                seen.latitude if keep_point else latitude,
                seen.longitude if keep_point else longitude,
                seen.own or own,
            )
    venues = list(found.values())
    venues.sort(key=lambda v: (not v.own, _folded(v.name), _folded(v.address)))
    return venues[:MAX_VENUES]
