"""The visit counts the organisers, the schools and the municipality see: summed in SQL (one
GROUP BY query per table shown), shown through directory.policy.reach_counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from directory.activities.models import Activity
from directory.approvals.display import channel_label
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.i18n import gettext as _
from directory.policy.reach_counts import (
    OVERVIEW_CHANNEL,
    REACH_CHANNELS,
    SHOWN_FOR_STATES,
    shown_count,
)
from directory.reach_counts.models import ReachCount
from directory.schools.models import Municipality, School


def reach_channel_label(channel: str, messaging_label: str) -> str:
    """A channel of the exports' links in words (the week's overview included)."""
    if channel == OVERVIEW_CHANNEL:
        return _("Ukeoversikten")
    return channel_label(channel, messaging_label)


@dataclass(frozen=True)
class ChannelCount:
    """The visits through one channel's links, as they may be shown (a number or «under 5»)."""

    channel: str
    label: str
    shown: int | str


def request_counts(
    requests: Iterable[DistributionRequest],
) -> dict[int, list[ChannelCount]]:
    """For each request (by id): the visits through the links of its school's exports of its
    week — its own channel's always, the week's overview's when it has any.
    One query for the whole list; requests whose offer cannot have gone out have none."""
    requests = [r for r in requests if r.status in SHOWN_FOR_STATES]
    if not requests:
        return {}
    totals: dict[tuple[int, int, str], dict[str, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(
            ReachCount.activity_id,
            ReachCount.school_id,
            ReachCount.week,
            ReachCount.channel,
            func.sum(ReachCount.visits),
        )
        .where(
            ReachCount.activity_id.in_({r.activity_id for r in requests}),
            ReachCount.school_id.in_({r.school_id for r in requests}),
            ReachCount.week.in_({r.week for r in requests}),
        )
        .group_by(ReachCount.activity_id, ReachCount.school_id, ReachCount.week, ReachCount.channel)
    ).all()
    for activity_id, school_id, week, channel, visits in rows:
        totals[(activity_id, school_id, week)][channel] = int(visits or 0)
    counts: dict[int, list[ChannelCount]] = {}
    for req in requests:
        found = totals.get((req.activity_id, req.school_id, req.week), {})
        label = req.school.municipality.messaging_label
        channels = [req.channel, *([OVERVIEW_CHANNEL] if OVERVIEW_CHANNEL in found else [])]
        counts[req.id] = [
            ChannelCount(c, reach_channel_label(c, label), shown_count(found.get(c, 0)))
            for c in channels
        ]
    return counts


@dataclass(frozen=True)
class ActivityCounts:
    """One activity's visits through a school's links of one week, per channel."""

    activity_id: int
    title: str
    channels: dict[str, int | str]  # every channel of REACH_CHANNELS -> shown count


def school_week_counts(school: School, week: str) -> list[ActivityCounts]:
    """The visits through the school's exports of the week, per activity and channel, the
    activities by title. One query."""
    rows = db.session.execute(
        select(Activity.id, Activity.title, ReachCount.channel, func.sum(ReachCount.visits))
        .join(Activity, Activity.id == ReachCount.activity_id)
        .where(ReachCount.school_id == school.id, ReachCount.week == week)
        .group_by(Activity.id, Activity.title, ReachCount.channel)
        .order_by(Activity.title, Activity.id)
    ).all()
    found: dict[int, tuple[str, dict[str, int]]] = {}
    for activity_id, title, channel, visits in rows:
        found.setdefault(activity_id, (title, {}))[1][channel] = int(visits or 0)
    # A channel without visits is «under 5» like one with a few: nothing tells them apart.
    return [
        ActivityCounts(
            activity_id, title, {c: shown_count(visits.get(c, 0)) for c in REACH_CHANNELS}
        )
        for activity_id, (title, visits) in found.items()
    ]


@dataclass(frozen=True)
class ReachRow:
    """The visits of one channel or one school, as they may be shown."""

    key: str
    label: str
    shown: int | str


@dataclass(frozen=True)
class MunicipalityReach:
    """The municipality's visits through the exports' links, per channel and per school."""

    total: int | str
    by_channel: list[ReachRow]
    by_school: list[ReachRow]


def municipality_counts(
    municipality: Municipality, start: str | None = None, end: str | None = None
) -> MunicipalityReach:
    """The visits through the links of the municipality's schools' exports, for the weeks from
    `start` to `end` (None: open), per channel and per school: two GROUP BY queries."""
    conditions = [School.municipality_id == municipality.id]
    if start is not None:
        conditions.append(ReachCount.week >= start)
    if end is not None:
        conditions.append(ReachCount.week <= end)

    def summed(column):
        return dict(
            db.session.execute(
                select(column, func.sum(ReachCount.visits))
                .join(School, School.id == ReachCount.school_id)
                .where(*conditions)
                .group_by(column)
            ).all()
        )

    by_channel = summed(ReachCount.channel)
    by_school = summed(ReachCount.school_id)
    schools = db.session.execute(
        select(School.id, School.name)
        .where(School.municipality_id == municipality.id)
        .order_by(School.name, School.id)
    ).all()
    label = municipality.messaging_label
    return MunicipalityReach(
        total=shown_count(sum(int(v or 0) for v in by_channel.values())),
        by_channel=[
            ReachRow(c, reach_channel_label(c, label), shown_count(int(by_channel.get(c) or 0)))
            for c in REACH_CHANNELS
        ],
        by_school=[
            ReachRow(str(sid), name, shown_count(int(by_school.get(sid) or 0)))
            for sid, name in schools
        ],
    )
