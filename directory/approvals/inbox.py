"""The school's side of distribution requests: what the inbox and the review page show.

Queries and display helpers only; the acts themselves are in directory.approvals.operations.
Everything here is scoped to one school, whose staff the view has already checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import get_locale
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.activities.languages import language_names
from directory.activities.models import Activity
from directory.approvals import display
from directory.approvals.display import change_labels
from directory.approvals.models import DistributionRequest
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.i18n import gettext as _
from directory.policy.request_states import CANCELLED, PENDING, QUOTA_STATES, STATES
from directory.schools.models import School
from directory.schools.routing import iso_week
from directory.timeutil import utcnow
from directory.weeks import coming_weeks

PER_PAGE = 50
# Weeks with approved offers that the inbox links to the exports for, from this week on.
EXPORT_WEEKS = 6
# A changed value longer than this is shown as "changed", not quoted.
MAX_SHOWN_VALUE = 200
# The week filter offers this week and the next three besides the weeks with requests.
FILTER_COMING_WEEKS = 4
# How long an offer cancelled after approval stays at the top of the inbox (the status tab
# keeps them all).
RECENT_CANCELLATION = timedelta(days=14)


def _filtered(
    school: School, states: Sequence[str] | None, week: str | None, channel: str | None
) -> Select:
    query = select(DistributionRequest).where(DistributionRequest.school_id == school.id)
    if states is not None:
        query = query.where(DistributionRequest.status.in_(states))
    if week:
        query = query.where(DistributionRequest.week == week)
    if channel:
        query = query.where(DistributionRequest.channel == channel)
    return query


def paginate(query: Select, page: int = 1) -> Pagination:
    """One page of the requests `query` selects, in its order and with its loader options
    (Flask-SQLAlchemy's pagination). A page past the end gives the last page rather than nothing.
    """

    def page_at(number: int) -> Pagination:
        return db.paginate(
            query, page=number, per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False
        )

    pager = page_at(page)
    if pager.page > pager.pages > 0:
        pager = page_at(pager.pages)
    return pager


def inbox_page(
    school: School, states: Sequence[str], week: str | None, channel: str | None, page: int = 1
) -> Pagination:
    """The school's requests in `states`, earliest week first and oldest first within a week
    (the order they were sent, which is also the order bulk approval takes them in)."""
    return paginate(
        _filtered(school, states, week, channel)
        .options(selectinload(DistributionRequest.activity).selectinload(Activity.organisation))
        .order_by(DistributionRequest.week, DistributionRequest.created_at, DistributionRequest.id),
        page,
    )


def counts_by_status(query: Select) -> dict[str, int]:
    """How many of the requests `query` selects are in each state (every state, zeros too)."""
    selected = query.subquery()
    counted = db.session.execute(
        select(selected.c.status, func.count()).group_by(selected.c.status)
    ).all()
    counts = dict.fromkeys(STATES, 0)
    counts.update({status: number for status, number in counted})
    return counts


def status_counts(school: School, week: str | None, channel: str | None) -> dict[str, int]:
    """How many of the school's requests are in each state, under the week and channel filter."""
    return counts_by_status(_filtered(school, None, week, channel))


def pending_counts(schools: Iterable[School]) -> dict[int, int]:
    """How many requests wait for review at each of the schools (by school id)."""
    ids = [school.id for school in schools]
    if not ids:
        return {}
    counted = db.session.execute(
        select(DistributionRequest.school_id, func.count())
        .where(DistributionRequest.school_id.in_(ids), DistributionRequest.status == PENDING)
        .group_by(DistributionRequest.school_id)
    ).all()
    counts = dict.fromkeys(ids, 0)
    counts.update({school_id: number for school_id, number in counted})
    return counts


def export_weeks(school: School, week: str | None = None) -> list[tuple[str, dict[str, int]]]:
    """Weeks with approved or exported requests, each with how many there are per channel:
    the chosen week, or the next EXPORT_WEEKS weeks that have any from this week on."""
    query = select(DistributionRequest.week, DistributionRequest.channel, func.count()).where(
        DistributionRequest.school_id == school.id,
        DistributionRequest.status.in_(QUOTA_STATES),
    )
    # ISO weeks written as 'YYYY-Www' sort in time order as strings.
    query = query.where(
        DistributionRequest.week == week if week else DistributionRequest.week >= iso_week()
    )
    counted = db.session.execute(
        query.group_by(DistributionRequest.week, DistributionRequest.channel).order_by(
            DistributionRequest.week, DistributionRequest.channel
        )
    ).all()
    weeks: dict[str, dict[str, int]] = {}
    for found_week, channel, number in counted:
        weeks.setdefault(found_week, {})[channel] = number
    return list(weeks.items())[:EXPORT_WEEKS]


def recently_cancelled(school: School) -> list[DistributionRequest]:
    """The school's approved or exported requests whose activity was cancelled in the last
    RECENT_CANCELLATION, newest cancellation first: the flyers and posts to take down."""
    return list(
        db.session.scalars(
            select(DistributionRequest)
            .where(
                DistributionRequest.school_id == school.id,
                DistributionRequest.status == CANCELLED,
                DistributionRequest.cancelled_at >= utcnow() - RECENT_CANCELLATION,
            )
            .options(selectinload(DistributionRequest.activity))
            .order_by(DistributionRequest.cancelled_at.desc(), DistributionRequest.id)
        )
    )


def known_weeks(school: School) -> list[str]:
    """The weeks the school has requests for, newest last."""
    return list(
        db.session.scalars(
            select(DistributionRequest.week)
            .where(DistributionRequest.school_id == school.id)
            .distinct()
            .order_by(DistributionRequest.week)
        )
    )


def filter_weeks(school: School, today: date | None = None) -> list[str]:
    """The weeks the inbox's week filter offers, in order: every week the school has requests
    for, and this week and the next FILTER_COMING_WEEKS - 1."""
    return sorted({*known_weeks(school), *coming_weeks(FILTER_COMING_WEEKS, today)})


def grades_text(grades: Sequence[int]) -> str:
    """The grades a request addresses in words ('alle trinn som passer' when none are named)."""
    return display.grades_text(grades) or _("alle trinn som passer")


def field_labels() -> dict[str, str]:
    """Activity fields in words, one by one, for quoting a changed value (the lists use
    display.change_labels, which groups related fields)."""
    return {
        "title": _("Tittel"),
        "summary": _("Kort om aktiviteten"),
        "description": _("Beskrivelse"),
        "category_id": _("Kategori"),
        "tags": _("Stikkord"),
        "age_min": _("Alder fra"),
        "age_max": _("Alder til"),
        "price_nok": _("Pris"),
        "price_note": _("Om prisen"),
        "venue": _("Sted"),
        "address": _("Adresse"),
        "latitude": _("Breddegrad"),
        "longitude": _("Lengdegrad"),
        "accessibility": _("Tilgjengelighet"),
        "accessible": _("Tilrettelagt"),
        "languages": _("Språk"),
        "registration_url": _("Lenke til påmelding"),
        "capacity": _("Antall plasser"),
        "image_filename": _("Bilde"),
        "image_alt": _("Bildetekst"),
        "flyer_filename": _("Flygeblad"),
        "facebook_post_url": _("Facebook-innlegg"),
        "school_business": _("Skolesak"),
        "schedule": _("Tidspunkt"),
        "status": _("Status"),
        "season": _("Sesong"),
        "cancellation_note": _("Merknad om avlysning"),
    }


@dataclass(frozen=True)
class Change:
    """One changed activity field: its label, and the values before and after when short."""

    field: str
    label: str
    before: str | None = None
    after: str | None = None


def _shown(value: Any) -> str | None:
    """A value as the school reads it, or None when it is too long or structured to quote."""
    if value is None or value == "":
        return _("(tom)")
    if isinstance(value, bool):
        return _("ja") if value else _("nei")
    if isinstance(value, int | float | str):
        text = str(value)
        return text if len(text) <= MAX_SHOWN_VALUE else None
    return None


def _readable(name: str, value: Any) -> Any:
    """A stored value as the activity page shows it: languages by name ('norsk, engelsk'),
    not as their codes."""
    if name == "languages" and isinstance(value, str) and value:
        locale = get_locale()
        return ", ".join(language_names(value, locale.language if locale else "nb"))
    return value


def change_details(req: DistributionRequest) -> list[Change]:
    """What changed in the activity since the request was sent, field by field.

    The field names are stored on the request; the values come from the activity's audit
    events since then (the first value before, the last after). Files and schedules, and any
    long text, are named without quoting them.
    """
    if not req.changes:
        return []
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "Activity",
            AuditEvent.object_id == req.activity_id,
            AuditEvent.action == "activity.update",
            AuditEvent.created_at >= req.created_at,
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for event in events:
        for name, pair in (event.data or {}).get("changes", {}).items():
            if isinstance(pair, list) and len(pair) == 2:
                before.setdefault(name, pair[0])
                after[name] = pair[1]
    labels = field_labels()
    details = []
    quoted_never = {"image_filename", "flyer_filename", "schedule", "description"}
    for name in req.changes:
        label = labels.get(name, name)
        if name in before and name not in quoted_never:
            old = _shown(_readable(name, before[name]))
            new = _shown(_readable(name, after[name]))
            if old is not None and new is not None:
                details.append(Change(name, label, old, new))
                continue
        details.append(Change(name, label))
    return details


@dataclass(frozen=True)
class HistoryEntry:
    """One act on a request, as the review page lists it."""

    at: Any
    action: str
    text: str
    actor: str | None
    detail: str | None = None


def action_text(action: str) -> str:
    """A request's audit action in words."""
    texts = {
        "request.create": _("Sendt av arrangøren"),
        "request.approve": _("Godkjent"),
        "request.reject": _("Avvist"),
        "request.withdraw": _("Trukket tilbake av arrangøren"),
        "request.reopen": _("Sendt tilbake til vurdering fordi aktiviteten ble endret"),
        "request.export": _("Eksportert"),
        "request.cancel": _("Avlyst av arrangøren etter godkjenning"),
    }
    return texts.get(action, action)


def request_history(req: DistributionRequest) -> list[HistoryEntry]:
    """Every act on the request, oldest first, with who did it (staff and organiser accounts)."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == type(req).__name__,
            AuditEvent.object_id == req.id,
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    names = (
        dict(db.session.execute(select(User.id, User.name).where(User.id.in_(actor_ids))).all())
        if actor_ids
        else {}
    )
    entries = []
    for event in events:
        data = event.data or {}
        detail = None
        if event.action == "request.reject" and data.get("reason"):
            detail = _("Begrunnelse: %(reason)s", reason=data["reason"])
        elif event.action == "request.cancel" and data.get("reason"):
            detail = _("Begrunnelse: %(reason)s", reason=data["reason"])
        elif event.action == "request.reopen" and data.get("changes"):
            detail = _("Endret: %(fields)s", fields=", ".join(change_labels(data["changes"])))
        entries.append(
            HistoryEntry(
                at=event.created_at,
                action=event.action,
                text=action_text(event.action),
                actor=names.get(event.actor_id),
                detail=detail,
            )
        )
    return entries


def load_school_requests(school: School, ids: Sequence[int]) -> list[DistributionRequest] | None:
    """The school's requests with these ids, or None when any id is not one of them."""
    wanted = set(ids)
    found = db.session.scalars(
        select(DistributionRequest).where(
            DistributionRequest.id.in_(wanted), DistributionRequest.school_id == school.id
        )
    ).all()
    if len(found) != len(wanted):
        return None
    return list(found)
