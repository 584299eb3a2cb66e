"""The offers near a school in a week: the printable list at the end of its weekly overview.

The rule is the search's own (directory.search.service): public offers for the school's grades
in its municipality, with an occurrence in the week, within NEARBY_KM of the school by the
great-circle distance from stored coordinates, nearest first. Cancelled offers are left out:
the list says what takes place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask_babel import format_date

from directory.activities.models import Activity
from directory.activities.schedule import activity_occurrences
from directory.exports.formats.shared import Links
from directory.i18n import gettext as _
from directory.policy.reach_counts import OVERVIEW_CHANNEL
from directory.schools.models import School
from directory.search.documents import coordinates
from directory.search.query import MAX_PER_PAGE, SearchQuery
from directory.search.service import search_activities
from directory.timeutil import OSLO
from directory.weeks import week_monday

NEARBY_KM = 5.0  # how far from the school an offer counts as near
NEARBY_LIMIT = MAX_PER_PAGE  # the nearest this many at most


@dataclass(frozen=True)
class NearbyOffer:
    """One offer near the school, as the overview lists it."""

    title: str
    organiser: str
    distance_km: float | None
    times: tuple[str, ...]  # its occurrences in the week, in words
    where: str
    short_url: str


def nearby_query(school: School, week: str) -> SearchQuery:
    """The search behind the list: near the school, for its grades, in the week."""
    monday = week_monday(week)
    return SearchQuery(
        near=school.slug,
        within_km=NEARBY_KM,
        school=school.slug,
        date_from=monday,
        date_to=monday + timedelta(days=6),
        sort="distance",
        per_page=NEARBY_LIMIT,
    )


def _times(activity: Activity, week: str) -> tuple[str, ...]:
    monday = datetime.combine(week_monday(week), time(), tzinfo=OSLO)
    found = activity_occurrences(activity.schedules, monday, monday + timedelta(days=7))
    return tuple(
        _("%(day)s kl. %(time)s", day=format_date(o.start.date(), _("EEEE d. MMMM")),
          time=o.start.strftime("%H:%M"))
        for o in found
        if o.start >= monday  # one that began the Sunday before is last week's
    )  # fmt: skip


def nearby_offers(school: School, week: str, *, base_url: str) -> list[NearbyOffer] | None:
    """The offers within NEARBY_KM of the school in the week, nearest first; None when the
    school has no coordinates (nothing to measure from)."""
    if coordinates(school.latitude, school.longitude) is None:
        return None
    page = search_activities(nearby_query(school, week), facets=False)
    links = Links(base_url, school.slug, OVERVIEW_CHANNEL, week)  # a part of the overview
    return [
        NearbyOffer(
            title=activity.title,
            organiser=activity.organisation.name,
            distance_km=page.distances.get(activity.id),
            times=_times(activity, week),
            where=", ".join(part for part in (activity.venue, activity.address) if part),
            short_url=links.short(activity.id),
        )
        for activity in page.items
        if activity.status != "cancelled"
    ]
