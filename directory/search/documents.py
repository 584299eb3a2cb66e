"""From the database to search documents: what is public, what the index stores, stamps.

Both backends and check-index use these, so "public", "time of day" and the stamp mean the same
thing everywhere.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from directory.activities.content_languages import in_language_order
from directory.activities.models import Activity, Category, Schedule
from directory.activities.schedule import Occurrence, ScheduleLike, activity_occurrences
from directory.organisations.models import Organisation
from directory.policy.activity_states import PUBLIC_STATES
from directory.schools.models import Municipality
from directory.search.base import ActivityDocument
from directory.search.translated import translation_text
from directory.timeutil import OSLO, utcnow

HORIZON_DAYS = 400  # occurrences further ahead are not indexed (reindex nightly)
UPCOMING_LIMIT = 16  # (start, end) pairs kept for ordering by the real next start
AFTER_SCHOOL = (time(13, 0), time(18, 0))  # Mon-Fri, start in [13:00, 18:00)
EVENING_FROM = time(18, 0)  # Mon-Fri, start at 18:00 or later
_SORT_LETTERS = str.maketrans({"æ": "{", "ø": "|", "å": "}"})  # after z, in Norwegian order


def title_sort_key(title: str) -> str:
    """A case-insensitive sort key that puts æ, ø, å after z as Norwegian does."""
    return title.casefold().translate(_SORT_LETTERS)


def public_conditions() -> list:
    """SQL conditions for public activities (join Organisation): published or cancelled, by an
    organisation that is not rejected."""
    return [Activity.status.in_(PUBLIC_STATES), Organisation.verification != "rejected"]


def public_activities_query() -> Select:
    """Every public activity with what a document needs loaded, by id."""
    return (
        select(Activity)
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(*public_conditions())
        .options(
            selectinload(Activity.schedules),
            selectinload(Activity.organisation).selectinload(Organisation.municipality),
            selectinload(Activity.category),
            selectinload(Activity.translations),
        )
        .order_by(Activity.id)
    )


def times_of_day(start: datetime) -> set[str]:
    """The time-of-day labels of an occurrence starting at this aware time (Oslo wall time)."""
    local = start.astimezone(OSLO)
    if local.isoweekday() >= 6:
        return {"weekend"}
    if AFTER_SCHOOL[0] <= local.time() < AFTER_SCHOOL[1]:
        return {"after_school"}
    if local.time() >= EVENING_FROM:
        return {"evening"}
    return set()


@dataclass(frozen=True)
class ScheduleFacts:
    """What the filters need to know about when an activity happens, seen from `now`."""

    weekdays: tuple[int, ...]
    times: tuple[str, ...]
    dates: tuple[str, ...]
    next_start: datetime | None
    last_end: datetime | None
    upcoming: tuple[tuple[datetime, datetime], ...]


def schedule_facts(
    schedules: Iterable[ScheduleLike], *, now: datetime, horizon_days: int = HORIZON_DAYS
) -> ScheduleFacts:
    """Weekdays, times of day and dates of the occurrences from today (Oslo) to the horizon;
    the next start and upcoming pairs not ended by `now`; the end of the last occurrence up to
    the horizon (None when nothing happens from today on)."""
    today = now.astimezone(OSLO).replace(hour=0, minute=0, second=0, microsecond=0)
    found: list[Occurrence] = activity_occurrences(
        schedules, today, now + timedelta(days=horizon_days)
    )
    weekdays, times, days = set(), set(), set()
    for occurrence in found:
        local = occurrence.start.astimezone(OSLO)
        weekdays.add(local.isoweekday())
        times |= times_of_day(local)
        days.add(local.date().isoformat())
    upcoming = [(o.start, o.end) for o in found if o.end > now][:UPCOMING_LIMIT]
    return ScheduleFacts(
        weekdays=tuple(sorted(weekdays)),
        times=tuple(t for t in ("after_school", "evening", "weekend") if t in times),
        dates=tuple(sorted(days)),
        next_start=upcoming[0][0] if upcoming else None,
        last_end=max((o.end for o in found), default=None),
        upcoming=tuple(upcoming),
    )


def _schedule_row(schedule: ScheduleLike) -> tuple:
    return (
        schedule.dtstart.isoformat(),
        schedule.duration_minutes,
        schedule.rrule or "",
        schedule.rdates or "",
        schedule.exdates or "",
    )


def make_stamp(
    activity_version: int,
    organisation_version: int,
    category_slug: str | None,
    municipality_slug: str,
    schedules: Iterable[ScheduleLike],
    point: tuple[float, float] | None = None,
) -> str:
    """The stamp of a document: changes whenever anything the index holds changes.

    The versions cover the activity's and the organisation's own columns; the digest covers the
    schedule rows (which do not bump the activity's version), the category, the municipality
    and the coordinates (which a venue's change may rewrite on many activities at once).
    """
    rows = sorted(_schedule_row(s) for s in schedules)
    digest = hashlib.sha256(
        repr((category_slug, municipality_slug, rows, point)).encode()
    ).hexdigest()
    return f"{activity_version}.{organisation_version}.{digest[:16]}"


def coordinates(latitude, longitude) -> tuple[float, float] | None:
    """An activity's (latitude, longitude) as floats, or None unless it has both."""
    if latitude is None or longitude is None:
        return None
    return (float(latitude), float(longitude))


def stamp_for(activity: Activity) -> str:
    """The stamp of an activity loaded with its organisation, municipality, category, schedules."""
    return make_stamp(
        activity.version,
        activity.organisation.version,
        activity.category.slug if activity.category else None,
        activity.organisation.municipality.slug,
        activity.schedules,
        coordinates(activity.latitude, activity.longitude),
    )


def document_for(activity: Activity, *, now: datetime | None = None) -> ActivityDocument:
    """The search document of a public activity (occurrences over the next ~400 days)."""
    now = now or utcnow()
    organisation = activity.organisation
    facts = schedule_facts(activity.schedules, now=now)
    point = coordinates(activity.latitude, activity.longitude)
    return ActivityDocument(
        id=activity.id,
        stamp=stamp_for(activity),
        title=activity.title,
        summary=activity.summary or "",
        description=activity.description or "",
        tags=" ".join(activity.tag_list),
        organisation_name=organisation.name,
        organisation_slug=organisation.slug,
        organisation_kind=organisation.kind,
        verified=organisation.verified,
        municipality=organisation.municipality.slug,
        category=activity.category.slug if activity.category else None,
        age_min=activity.age_min,
        age_max=activity.age_max,
        weekdays=facts.weekdays,
        times=facts.times,
        free=activity.is_free,
        accessible=bool(activity.accessible),
        status=activity.status,
        dates=facts.dates,
        next_start=facts.next_start,
        last_end=facts.last_end,
        published_at=activity.published_at or activity.created_at,
        upcoming=facts.upcoming,
        fritidskort=bool(activity.fritidskort),
        trial=bool(activity.trial_session),
        equipment=bool(activity.equipment_provided),
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        translations=tuple(
            (t.language, translation_text(t.title, t.summary, t.description))
            for t in in_language_order(activity.translations)
        ),
        confirmed_until=activity.confirmed_until,
    )


def load_public_activities(session: Session, ids: Iterable[int]) -> dict[int, Activity]:
    """The public activities among these ids, loaded for document_for()."""
    wanted = sorted(set(ids))
    found: dict[int, Activity] = {}
    for start in range(0, len(wanted), 500):  # stay well under bound-parameter limits
        chunk = wanted[start : start + 500]
        query = public_activities_query().where(Activity.id.in_(chunk))
        found.update((a.id, a) for a in session.scalars(query))
    return found


def iter_public_documents(session: Session, *, now: datetime | None = None, batch: int = 500):
    """(count, documents) of every public activity, built in batches to bound memory."""
    now = now or utcnow()
    ids = list(
        session.scalars(
            select(Activity.id)
            .join(Organisation, Activity.organisation_id == Organisation.id)
            .where(*public_conditions())
            .order_by(Activity.id)
        )
    )

    def documents():
        for start in range(0, len(ids), batch):
            activities = load_public_activities(session, ids[start : start + batch])
            for activity_id in ids[start : start + batch]:
                if activity_id in activities:  # it may have stopped being public meanwhile
                    yield document_for(activities[activity_id], now=now)
            session.expunge_all()  # keep memory flat on large rebuilds

    return len(ids), documents()


def public_stamps(session: Session) -> dict[int, tuple[str, str]]:
    """{id: (stamp, title)} of every public activity, from a few plain queries (no expansion)."""
    rows = session.execute(
        select(
            Activity.id,
            Activity.title,
            Activity.version,
            Activity.latitude,
            Activity.longitude,
            Organisation.version.label("organisation_version"),
            Category.slug.label("category_slug"),
            Municipality.slug.label("municipality_slug"),
        )
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .join(Municipality, Organisation.municipality_id == Municipality.id)
        .outerjoin(Category, Activity.category_id == Category.id)
        .where(*public_conditions())
    ).all()
    public_ids = select(Activity.id).join(Organisation).where(*public_conditions())
    schedules: dict[int, list] = defaultdict(list)
    for row in session.execute(
        select(
            Schedule.activity_id,
            Schedule.dtstart,
            Schedule.duration_minutes,
            Schedule.rrule,
            Schedule.rdates,
            Schedule.exdates,
        ).where(Schedule.activity_id.in_(public_ids))
    ):
        schedules[row.activity_id].append(row)
    return {
        row.id: (
            make_stamp(
                row.version,
                row.organisation_version,
                row.category_slug,
                row.municipality_slug,
                schedules.get(row.id, []),
                coordinates(row.latitude, row.longitude),
            ),
            row.title,
        )
        for row in rows
    }
