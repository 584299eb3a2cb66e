"""The clash finder for organisers: other organisations' public offers for the same ages, in
the same area, at the same times as one of theirs (directory.policy.clashes is the rule).

One place gathers the candidates, in a fixed number of queries (the activities, their
schedules, their organisations) and at most MAX_CANDIDATES of them. Only organisers see the
result: it names no draft of anyone else, only published offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.activities.models import Activity, Schedule
from directory.activities.schedule import activity_occurrences
from directory.extensions import db
from directory.i18n import gettext as _
from directory.i18n import ngettext
from directory.organisations.models import Organisation
from directory.policy.activity_states import DRAFT, PUBLISHED
from directory.policy.clashes import WINDOW_WEEKS, Clash, Offer, find_clashes
from directory.timeutil import OSLO, utcnow

MAX_CANDIDATES = 50  # the most recently published candidates compared, at most
MAX_SHOWN = 10  # the clashes listed on the page, at most
# The organiser's own activity is compared while it is being planned or is public.
CHECKED_STATES = frozenset({DRAFT, PUBLISHED})


@dataclass(frozen=True)
class ClashNotice:
    """One clash as the organiser's page lists it."""

    activity: Activity
    reason: str


def _offer(activity: Activity, start: datetime, end: datetime) -> Offer:
    found = activity_occurrences(activity.schedules, start, end)
    return Offer(
        key=activity.id,
        organisation_id=activity.organisation_id,
        municipality_id=activity.organisation.municipality_id,
        age_min=activity.age_min,
        age_max=activity.age_max,
        occurrences=tuple((o.start, o.end) for o in found),
        latitude=float(activity.latitude) if activity.latitude is not None else None,
        longitude=float(activity.longitude) if activity.longitude is not None else None,
    )


def candidates(activity: Activity, window_end: datetime) -> list[Activity]:
    """Other organisations' published offers in the activity's municipality whose ages overlap
    and with a schedule starting before the window ends; the most recently published first, at
    most MAX_CANDIDATES. Three queries."""
    local_end = window_end.astimezone(OSLO).replace(tzinfo=None)  # schedules store wall time
    statement = (
        select(Activity)
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(
            Organisation.municipality_id == activity.organisation.municipality_id,
            Organisation.id != activity.organisation_id,
            Organisation.verification != "rejected",
            Activity.status == PUBLISHED,
            Activity.age_min <= activity.age_max,
            Activity.age_max >= activity.age_min,
            Activity.id.in_(select(Schedule.activity_id).where(Schedule.dtstart < local_end)),
        )
        .options(selectinload(Activity.schedules), selectinload(Activity.organisation))
        .order_by(Activity.published_at.desc().nulls_last(), Activity.id.desc())
        .limit(MAX_CANDIDATES)
    )
    return list(db.session.scalars(statement))


def find_for(activity: Activity, *, now: datetime | None = None) -> list[ClashNotice]:
    """The clashes of the activity with other organisations' offers over the next
    WINDOW_WEEKS, with their reasons; nothing for a cancelled or archived activity, or one
    with no occurrence in the window (then without a query)."""
    if activity.status not in CHECKED_STATES:
        return []
    start = now or utcnow()
    end = start + timedelta(weeks=WINDOW_WEEKS)
    offer = _offer(activity, start, end)
    if not offer.occurrences:
        return []
    others = {a.id: a for a in candidates(activity, end)}
    found = find_clashes(offer, [_offer(a, start, end) for a in others.values()])
    return [ClashNotice(others[c.key], describe(c)) for c in found[:MAX_SHOWN]]


def weekday_plurals() -> dict[int, str]:
    """ISO weekday -> 'every such day' as written in a reason ('tirsdager')."""
    return {
        1: _("mandager"),
        2: _("tirsdager"),
        3: _("onsdager"),
        4: _("torsdager"),
        5: _("fredager"),
        6: _("lørdager"),
        7: _("søndager"),
    }


def describe(clash: Clash) -> str:
    """Why the offers clash, in a few words: «samme alder, tirsdager 17:00–18:30»."""
    if clash.same_ages:
        parts = [_("samme alder")]
    else:
        parts = [_("begge for %(min)s–%(max)s år", min=clash.age_min, max=clash.age_max)]
    days = weekday_plurals()
    parts.extend(
        f"{days[slot.weekday]} {slot.start:%H:%M}–{slot.end:%H:%M}" for slot in clash.slots
    )
    if clash.distance_km is not None:
        parts.append(_("%(km)s km unna", km=format_decimal(clash.distance_km, format="#,##0.0")))
    return ", ".join(parts)


def summary(notices: list[ClashNotice]) -> str:
    """The short flash message after a save: how many offers clash, where to see them."""
    return ngettext(
        "Obs: %(num)d tilbud fra en annen organisasjon er for samme alder i kommunen på samme "
        "tid. Se listen under «For arrangøren».",
        "Obs: %(num)d tilbud fra andre organisasjoner er for samme alder i kommunen på samme "
        "tid. Se listen under «For arrangøren».",
        len(notices),
    )
