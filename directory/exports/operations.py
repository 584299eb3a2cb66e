"""Exporting approved requests: load them, build the file, mark them exported, audit each one.

Operations flush and never commit; the view or command commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from directory.activities.models import Activity
from directory.approvals.models import DistributionRequest
from directory.audit.operations import record
from directory.errors import DomainError
from directory.exports.formats import CHANNEL_FORMATS, build_file, overview_file
from directory.exports.formats.shared import (
    Batch,
    ExportFile,
    Links,
    build_batch,
    merge_by_activity,
)
from directory.extensions import db
from directory.policy.reach_counts import OVERVIEW_CHANNEL
from directory.policy.request_states import (
    APPROVED,
    EXPORTED,
    QUOTA_STATES,
    REQUESTABLE_CHANNELS,
    transition,
)
from directory.schools.models import School
from directory.search.documents import title_sort_key
from directory.timeutil import utcnow

# Exported requests stay in their week's file: exporting again gives the same file.
EXPORTABLE_STATES = QUOTA_STATES
# Parents get what the organiser has written in bokmål; the interface language is the staff's.
EXPORT_LOCALE = "nb"


class NothingToExport(DomainError):
    """The school has no approved request to export for that week and channel (a 409; the
    caller words the message, which names the week)."""

    def __init__(self, message: str = "Nothing to export.") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Selection:
    """The approved and exported requests of a week: those in the file, and those left out
    because their activity is no longer published (cancelled, archived, back to draft)."""

    included: list[DistributionRequest]
    skipped: list[DistributionRequest]


@dataclass(frozen=True)
class ExportResult:
    """A finished export: the file, and how many requests it newly marked exported."""

    file: ExportFile
    included: int
    newly_exported: int


def is_exportable_activity(activity: Activity) -> bool:
    """Only a published activity of a non-rejected organiser, confirmed as current, goes out
    to parents."""
    return activity.status == "published" and activity.is_public and not activity.listing_expired


def load_requests(
    school: School, week: str, channels: tuple[str, ...] | list[str]
) -> list[DistributionRequest]:
    """The approved and exported requests, activities loaded, in a fixed order (title, id)."""
    rows = db.session.scalars(
        select(DistributionRequest)
        .where(
            DistributionRequest.school_id == school.id,
            DistributionRequest.week == week,
            DistributionRequest.channel.in_(list(channels)),
            DistributionRequest.status.in_(EXPORTABLE_STATES),
        )
        .options(
            selectinload(DistributionRequest.activity).selectinload(Activity.schedules),
            selectinload(DistributionRequest.activity).selectinload(Activity.organisation),
        )
    ).all()
    return sorted(rows, key=lambda r: (title_sort_key(r.activity.title), r.activity_id, r.id))


def select_requests(school: School, week: str, channels: tuple[str, ...] | list[str]) -> Selection:
    """The requests that go into the file, and the ones left out."""
    rows = load_requests(school, week, channels)
    return Selection(
        included=[r for r in rows if is_exportable_activity(r.activity)],
        skipped=[r for r in rows if not is_exportable_activity(r.activity)],
    )


def channel_batch(
    school: School, week: str, channel: str, *, base_url: str
) -> tuple[Batch, Selection]:
    """What an export of the channel would hold, without changing anything (for the preview)."""
    selection = select_requests(school, week, (channel,))
    with force_locale(EXPORT_LOCALE):
        links = Links(base_url, school.slug, channel, week)
        batch = build_batch(school, week, channel, selection.included, links)
    return batch, selection


def overview_batch(school: School, week: str, *, base_url: str) -> Batch:
    """Every approved offer of the week at the school, across the channels, once each."""
    selection = select_requests(school, week, REQUESTABLE_CHANNELS)
    with force_locale(EXPORT_LOCALE):
        links = Links(base_url, school.slug, OVERVIEW_CHANNEL, week)
        batch = build_batch(school, week, None, selection.included, links)
    return replace(batch, offers=tuple(merge_by_activity(batch.offers)))


def build_overview(school: School, week: str, *, base_url: str) -> ExportFile:
    """The week's overview PDF; raises NothingToExport when nothing is approved."""
    batch = overview_batch(school, week, base_url=base_url)
    if not batch.offers:
        raise NothingToExport
    with force_locale(EXPORT_LOCALE):
        return overview_file(batch)


def export_requests(
    school: School,
    week: str,
    channel: str,
    fmt: str,
    *,
    actor: Any | None,
    base_url: str,
    source: str = "web",
) -> ExportResult:
    """Build the channel's file of the week and mark its approved requests exported.

    Requests exported before are in the file again (so the same data gives the same bytes) and
    keep who exported them first and when. Every request in the file gets a `request.export`
    audit event; `actor` is None from the command line (source 'cli'). Raises NothingToExport
    when no request can go out.
    """
    if channel not in CHANNEL_FORMATS or fmt not in CHANNEL_FORMATS[channel]:
        raise ValueError(f"cannot export {channel!r} as {fmt!r}")
    batch, selection = channel_batch(school, week, channel, base_url=base_url)
    if not selection.included:
        raise NothingToExport
    with force_locale(EXPORT_LOCALE):
        export_file = build_file(batch, fmt)
    before = mark_exported(
        selection.included,
        actor=actor,
        municipality_id=school.municipality_id,
        data={"week": week, "channel": channel, "format": fmt, "source": source},
    )
    newly = sum(1 for status in before.values() if status != EXPORTED)
    db.session.flush()
    return ExportResult(file=export_file, included=len(selection.included), newly_exported=newly)


def mark_exported(
    rows: list[DistributionRequest], *, actor: Any | None, municipality_id: int, data: dict
) -> dict[int, str]:
    """Mark the approved rows exported (who, when) and audit every row, exported before or not.

    Returns each row's state before. Rows exported earlier keep who exported them first.
    """
    now = utcnow()
    before = {row.id: row.status for row in rows}
    for row in rows:
        step = transition(row.status, "export")
        if step.allowed:
            row.status = step.target
            row.exported_by_id = getattr(actor, "id", None)
            row.exported_at = now
    # Marked first, audited after: the first event's flush writes every status change at once.
    for row in rows:
        record(
            "request.export",
            row,
            actor=actor,
            municipality_id=municipality_id,
            data={**data, "from": before[row.id], "again": before[row.id] == EXPORTED},
        )
    return before


def channel_counts(school: School, week: str) -> dict[str, dict[str, int]]:
    """For each requestable channel, how many requests of the week are approved and exported."""
    counts = {channel: {APPROVED: 0, EXPORTED: 0} for channel in REQUESTABLE_CHANNELS}
    rows = db.session.execute(
        select(DistributionRequest.channel, DistributionRequest.status, func.count())
        .where(
            DistributionRequest.school_id == school.id,
            DistributionRequest.week == week,
            DistributionRequest.status.in_(EXPORTABLE_STATES),
        )
        .group_by(DistributionRequest.channel, DistributionRequest.status)
    ).all()
    for channel, status, count in rows:
        if channel in counts:
            counts[channel][status] = count
    return counts


def weeks_with_requests(school: School, limit: int = 12) -> list[str]:
    """The latest weeks in which the school has approved or exported requests, newest first."""
    return list(
        db.session.scalars(
            select(DistributionRequest.week)
            .where(
                DistributionRequest.school_id == school.id,
                DistributionRequest.status.in_(EXPORTABLE_STATES),
            )
            .distinct()
            .order_by(DistributionRequest.week.desc())
            .limit(limit)
        )
    )
