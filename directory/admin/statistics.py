"""Aggregate statistics of a municipality's distribution requests, for its admin: counts only.

Requests are counted per channel, school, ISO week, organisation kind and status; the time to
decision is a median over the requests' own timestamps. No query here reads a person: not who
asked, not who decided, and nothing about pupils or parents (the directory has nothing of them).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask_babel import format_percent
from sqlalchemy import Select, func, select

from directory.activities.models import Activity
from directory.approvals.display import channel_label, week_label
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.i18n import gettext as _
from directory.i18n import ngettext
from directory.organisations.forms import KIND_LABELS
from directory.organisations.models import Organisation
from directory.policy.request_states import (
    DECIDED_STATES,
    LIFECYCLE_ORDER,
    QUOTA_STATES,
    REQUESTABLE_CHANNELS,
    STATE_NAMES,
)
from directory.policy.routing import ORGANISATION_KINDS
from directory.schools.models import Municipality, School
from directory.weeks import add_weeks, this_week

# The states a school said yes to (approved, exported) are the ones that hold a quota place;
# DECIDED_STATES adds the no (rejected). The tables show the states in LIFECYCLE_ORDER.


@dataclass(frozen=True)
class WeekRange:
    """From and to ISO week, both included; None leaves that end open."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Row:
    """The requests of one channel, school, week or organisation kind, counted by status."""

    key: str
    label: str
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All requests of the row, whatever their status."""
        return sum(self.counts.values())

    def count(self, *states: str) -> int:
        """The requests in any of these states."""
        return sum(self.counts.get(state, 0) for state in states)

    @property
    def approval_rate(self) -> float | None:
        """Approved (or exported) among those decided, or None when none was decided."""
        return approval_rate(self.count(*QUOTA_STATES), self.count(*DECIDED_STATES))


@dataclass(frozen=True)
class RequestStatistics:
    """What the admin's statistics page shows."""

    by_status: Row
    by_channel: list[Row]
    by_school: list[Row]
    by_week: list[Row]
    by_kind: list[Row]
    median_decision: timedelta | None

    @property
    def total(self) -> int:
        """All requests counted."""
        return self.by_status.total

    @property
    def approved(self) -> int:
        """Requests the schools said yes to (approved or already exported)."""
        return self.by_status.count(*QUOTA_STATES)

    @property
    def decided(self) -> int:
        """Requests the schools approved, exported or rejected."""
        return self.by_status.count(*DECIDED_STATES)

    @property
    def approval_rate(self) -> float | None:
        """Approved (or exported) among those decided, or None when none was decided."""
        return self.by_status.approval_rate


def approval_rate(approved: int, decided: int) -> float | None:
    """approved / decided, or None when nothing was decided."""
    return approved / decided if decided else None


def rate_text(rate: float | None) -> str:
    """A rate as a percentage in the user's language, or a dash when there is none."""
    return "–" if rate is None else format_percent(rate)


def duration_text(value: timedelta) -> str:
    """A time to decision in words: minutes under an hour, hours under two days, then days and
    hours."""
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return ngettext("%(num)s minutt", "%(num)s minutter", minutes)
    hours = round(value.total_seconds() / 3600)
    if hours < 48:
        return ngettext("%(num)s time", "%(num)s timer", hours)
    days, hours = divmod(hours, 24)
    days_text = ngettext("%(num)s dag", "%(num)s dager", days)
    if hours == 0:
        return days_text
    return _(
        "%(days)s og %(hours)s",
        days=days_text,
        hours=ngettext("%(num)s time", "%(num)s timer", hours),
    )


STATISTICS_WEEKS_BACK = 52  # the week filter offers a year back at least
STATISTICS_WEEKS_AHEAD = 12  # and the weeks requests can already be sent for


def statistics_weeks(municipality: Municipality) -> list[str]:
    """The weeks the filter offers, newest first: from the municipality's first request (a
    year back at least) to its last one (STATISTICS_WEEKS_AHEAD weeks ahead at least)."""
    first, last = db.session.execute(
        select(func.min(DistributionRequest.week), func.max(DistributionRequest.week))
        .join(School, DistributionRequest.school_id == School.id)
        .where(School.municipality_id == municipality.id)
    ).one()
    now = this_week()
    start = min(w for w in (first, add_weeks(now, -STATISTICS_WEEKS_BACK)) if w)
    end = max(w for w in (last, add_weeks(now, STATISTICS_WEEKS_AHEAD)) if w)
    weeks = [start]
    while weeks[-1] < end:
        weeks.append(add_weeks(weeks[-1], 1))
    return weeks[::-1]


def _in_municipality(query: Select, municipality_id: int, weeks: WeekRange) -> Select:
    """Limit a query on requests to the municipality's schools and the week range."""
    query = query.join(School, School.id == DistributionRequest.school_id).where(
        School.municipality_id == municipality_id
    )
    if weeks.start is not None:
        query = query.where(DistributionRequest.week >= weeks.start)
    if weeks.end is not None:
        query = query.where(DistributionRequest.week <= weeks.end)
    return query


def _counts_by(
    column: Any, municipality_id: int, weeks: WeekRange, *, via_organisation: bool = False
) -> dict[Any, dict[str, int]]:
    """{value of column: {status: count}}, in one GROUP BY query."""
    query = select(column, DistributionRequest.status, func.count(DistributionRequest.id))
    query = _in_municipality(query.select_from(DistributionRequest), municipality_id, weeks)
    if via_organisation:
        query = query.join(Activity, Activity.id == DistributionRequest.activity_id).join(
            Organisation, Organisation.id == Activity.organisation_id
        )
    query = query.group_by(column, DistributionRequest.status)
    counts: dict[Any, dict[str, int]] = defaultdict(dict)
    for key, status, number in db.session.execute(query):
        counts[key][status] = number
    return counts


def _median_time_to_decision(municipality_id: int, weeks: WeekRange) -> timedelta | None:
    """The median of reviewed_at - created_at over the decided requests, or None."""
    query = select(DistributionRequest.created_at, DistributionRequest.reviewed_at).where(
        DistributionRequest.status.in_(DECIDED_STATES),
        DistributionRequest.reviewed_at.is_not(None),
    )
    # Two timestamps a request, no names: SQLite has no median, and this stays the same on both.
    durations = [
        reviewed - created
        for created, reviewed in db.session.execute(
            _in_municipality(query.select_from(DistributionRequest), municipality_id, weeks)
        )
    ]
    return statistics.median(durations) if durations else None


def request_statistics(
    municipality: Municipality, weeks: WeekRange | None = None
) -> RequestStatistics:
    """The municipality's request statistics, optionally for a range of ISO weeks."""
    weeks = weeks or WeekRange()
    mid = municipality.id
    by_channel = _counts_by(DistributionRequest.channel, mid, weeks)
    by_school = _counts_by(DistributionRequest.school_id, mid, weeks)
    by_week = _counts_by(DistributionRequest.week, mid, weeks)
    by_kind = _counts_by(Organisation.kind, mid, weeks, via_organisation=True)

    status_totals: dict[str, int] = defaultdict(int)
    for counts in by_channel.values():
        for status, number in counts.items():
            status_totals[status] += number

    # Every school of the municipality, so that a school nobody asked shows as a zero.
    schools = db.session.execute(
        select(School.id, School.name)
        .where(School.municipality_id == mid)
        .order_by(School.name, School.id)
    ).all()
    channels = [*REQUESTABLE_CHANNELS, *sorted(set(by_channel) - set(REQUESTABLE_CHANNELS))]
    kinds = [*ORGANISATION_KINDS, *sorted(set(by_kind) - set(ORGANISATION_KINDS))]
    return RequestStatistics(
        by_status=Row("all", _("Alle"), dict(status_totals)),
        by_channel=[
            Row(c, _channel_text(c, municipality.messaging_label), by_channel.get(c, {}))
            for c in channels
        ],
        by_school=[Row(str(sid), name, by_school.get(sid, {})) for sid, name in schools],
        by_week=[Row(w, week_label(w), by_week[w]) for w in sorted(by_week)],
        by_kind=[Row(k, str(KIND_LABELS.get(k, k)), by_kind.get(k, {})) for k in kinds],
        median_decision=_median_time_to_decision(mid, weeks),
    )


def _channel_text(channel: str, messaging_label: str) -> str:
    try:
        return channel_label(channel, messaging_label)
    except KeyError:
        return channel


def status_columns() -> list[tuple[str, str]]:
    """The statuses in the order the page shows them, with their names."""
    return [(state, _(STATE_NAMES[state])) for state in LIFECYCLE_ORDER]
