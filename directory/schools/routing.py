"""The routing rule applied to stored data: activity and school rows in, a Decision out.

The rule itself is pure (directory.policy.routing); this module only gathers its inputs from
the database (the effective policy, the week's quota usage) and presents its reasons in the
visitor's language.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import func, select

from directory.activities.models import Activity
from directory.approvals.models import QUOTA_STATES, DistributionRequest
from directory.extensions import db
from directory.i18n import gettext
from directory.policy.channel_policy import LATER_SETTINGS, default_settings, effective_policy
from directory.policy.routing import Decision, Offer, Policy, Reason, SchoolInfo, WeekUsage, decide
from directory.schools.calendar import closed_weeks
from directory.schools.models import ChannelPolicy, School
from directory.timeutil import oslo_now


def iso_week(day: date | None = None) -> str:
    """The ISO week of a day (today in Oslo by default) as '2026-W48'."""
    year, week, _weekday = (day or oslo_now().date()).isocalendar()
    return f"{year}-W{week:02d}"


def offer_for(activity: Activity) -> Offer:
    """The routing rule's view of an activity and its organiser."""
    organisation = activity.organisation
    return Offer(
        organisation_kind=organisation.kind,
        organisation_verified=organisation.verified,
        age_min=activity.age_min,
        age_max=activity.age_max,
        has_facebook_post=bool(activity.facebook_post_url),
        has_flyer=activity.has_flyer,
        school_slug=organisation.school.slug if organisation.school is not None else None,
        school_business=activity.school_business and organisation.kind == "school",
    )


def school_info(school: School) -> SchoolInfo:
    """The routing rule's view of a school."""
    return SchoolInfo(
        slug=school.slug,
        grade_min=school.grade_min,
        grade_max=school.grade_max,
        has_facebook_page=school.has_facebook_page,
        accepts_backpack_post=school.accepts_backpack_post,
        messaging_label=school.municipality.messaging_label,
    )


def municipal_default(municipality_id: int) -> ChannelPolicy | None:
    """The stored municipal default policy, if the municipality has set one."""
    return db.session.scalar(
        select(ChannelPolicy).where(
            ChannelPolicy.municipality_id == municipality_id, ChannelPolicy.school_id.is_(None)
        )
    )


def school_override(school: School) -> ChannelPolicy | None:
    """The school's stored override, if it has one."""
    return db.session.scalar(select(ChannelPolicy).where(ChannelPolicy.school_id == school.id))


def default_settings_for(municipality_id: int) -> dict[str, Any]:
    """The municipal default's settings (the built-in Drammen default when none is stored)."""
    row = municipal_default(municipality_id)
    # A default stored before a setting existed has that setting's old behaviour.
    return {**LATER_SETTINGS, **row.settings} if row is not None else default_settings()


def policy_for(school: School, holiday_weeks: frozenset[str] | None = None) -> Policy:
    """The policy the school works under: the municipal default with its override, and the
    municipality's holiday weeks (read here unless given) closed as well."""
    override = school_override(school)
    default = default_settings_for(school.municipality_id)
    if holiday_weeks is None:
        holiday_weeks = closed_weeks(school.municipality_id)
    return _school_policy(default, override, holiday_weeks)


def policies_for(
    municipality_id: int, schools: list[School], holiday_weeks: frozenset[str]
) -> dict[int, Policy]:
    """The policy of each of the municipality's `schools`, by school id, in two queries
    whatever their number: the municipal default once, the schools' overrides together."""
    default = default_settings_for(municipality_id)
    overrides = {}
    if schools:
        rows = db.session.scalars(
            select(ChannelPolicy).where(ChannelPolicy.school_id.in_([s.id for s in schools]))
        )
        overrides = {row.school_id: row for row in rows}
    return {
        school.id: _school_policy(default, overrides.get(school.id), holiday_weeks)
        for school in schools
    }


def _school_policy(
    default: dict[str, Any], override: ChannelPolicy | None, holiday_weeks: frozenset[str]
) -> Policy:
    policy = effective_policy(default, override.settings if override else None)
    return replace(policy, holiday_weeks=holiday_weeks)


def week_usage(school: School, week: str, *, excluding: int | None = None) -> WeekUsage:
    """How many backpack-post places of the school's week are taken (approved or exported),
    leaving out the request `excluding` (the one being approved)."""
    query = select(func.count(DistributionRequest.id)).where(
        DistributionRequest.school_id == school.id,
        DistributionRequest.week == week,
        DistributionRequest.channel == "backpack_post",
        DistributionRequest.status.in_(QUOTA_STATES),
    )
    if excluding is not None:
        query = query.where(DistributionRequest.id != excluding)
    return WeekUsage(week=week, backpack_used=db.session.scalar(query) or 0)


def decide_for(
    activity: Activity, school: School, week: str | None = None, *, excluding: int | None = None
) -> Decision:
    """The routing decision for this activity at this school in this week (this week by default);
    `excluding` leaves one request out of the quota count (it is the one being decided)."""
    return decide(offer_for(activity), *school_inputs(school, week, excluding=excluding))


def school_inputs(
    school: School, week: str | None = None, *, excluding: int | None = None
) -> tuple[SchoolInfo, Policy, WeekUsage]:
    """The school's side of the rule in this week (this week by default): what the school is,
    the policy it works under and how much of the week's backpack post is taken."""
    week = week or iso_week()
    return school_info(school), policy_for(school), week_usage(school, week, excluding=excluding)


def active_schools(municipality_id: int) -> list[School]:
    """The municipality's active schools by name: those an organiser can ask."""
    return list(
        db.session.scalars(
            select(School)
            .where(School.municipality_id == municipality_id, School.active.is_(True))
            .order_by(School.name)
        )
    )


def schools_in_reach(activity: Activity, week: str | None = None) -> list[tuple[School, Decision]]:
    """Every active school of the activity's municipality whose grades fit, with its decision
    (a deactivated school cannot be asked)."""
    schools = active_schools(activity.organisation.municipality_id)
    decisions = [(school, decide_for(activity, school, week)) for school in schools]
    return [(s, d) for s, d in decisions if d.channel != "not_eligible"]


def reason_text(reason: Reason) -> str:
    """A reason as a sentence in the visitor's language."""
    template = gettext(reason.template)
    return template % dict(reason.params) if reason.params else template


def decision_json(decision: Decision) -> dict[str, Any]:
    """The decision as the API and the CLI print it."""
    return {
        "channel": decision.channel,
        "rule": decision.rule,
        "reasons": [reason_text(r) for r in decision.reasons],
    }
