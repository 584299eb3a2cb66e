"""The organiser's "Nå ut via skolene" page: a school card per school in reach, the week the page
opens on, and one summary that says why no school can be asked and what would change it.

The rules are in directory.policy.reach (weeks, what-ifs) and directory.policy.routing; this
module gathers their inputs once per page, in a fixed number of queries whatever the number of
schools (the schools, the municipal default, the overrides, the weeks' quota use and this
activity's earlier requests, each in one query) and words the outcome in the visitor's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import func, select

from directory.activities.models import Activity
from directory.approvals.display import channel_label
from directory.approvals.models import QUOTA_STATES, DistributionRequest
from directory.approvals.operations import (
    asked_already,
    calendar_problem,
    fitting_grades,
    request_problem,
)
from directory.extensions import db
from directory.i18n import gettext as _
from directory.i18n import ngettext
from directory.policy.activity_states import CANCELLED
from directory.policy.reach import (
    FACEBOOK_POST,
    FLYER,
    REACH_WEEKS,
    VERIFY,
    reachable_with,
    suggested_week,
)
from directory.policy.request_states import is_requestable
from directory.policy.routing import WEEK_BOUND, Decision, Policy, SchoolInfo, WeekUsage, decide
from directory.policy.school_calendar import WeekClash, last_day_to_ask, week_monday
from directory.schools.calendar import SchoolCalendar, day_in_text
from directory.schools.models import School
from directory.schools.routing import (
    active_schools,
    offer_for,
    policies_for,
    reason_text,
    school_info,
)
from directory.weeks import coming_weeks, this_week, week_choice_label, week_in_text

# How far past the usual weeks the page looks for open ones when holidays close some (the
# summer break is about eight weeks).
HOLIDAY_LOOKAHEAD = 10


def reach_weeks(today: date | None = None, closed: frozenset[str] = frozenset()) -> list[str]:
    """The weeks the page offers: this week and the next ones (REACH_WEEKS in all), leaving
    out the municipality's holiday weeks (`closed`) and looking further ahead instead."""
    weeks = coming_weeks(REACH_WEEKS + HOLIDAY_LOOKAHEAD, today)
    return [week for week in weeks if week not in closed][:REACH_WEEKS]


@dataclass(frozen=True)
class SchoolWeek:
    """One school in one week of the overview: its free backpack-post places (None when it
    takes no backpack post) and the last day to ask it for the week."""

    school: School
    free: int | None
    quota: int
    deadline: date
    open: bool  # the deadline has not passed
    blackout: bool = False  # the school has closed the week for backpack post itself


@dataclass(frozen=True)
class WeekOverview:
    """One week the organiser can still ask for: its schools, the last day to ask (when every
    school has the same) and a holiday clash (some school days off)."""

    week: str
    schools: list[SchoolWeek]
    deadline: date | None
    clash: WeekClash | None

    @property
    def free_schools(self) -> int:
        """How many schools have a free backpack-post place this week."""
        return sum(1 for row in self.schools if row.open and row.free)


@dataclass
class SchoolRow:
    """One school in reach in the week shown: its decision, the grades the activity fits there,
    why it cannot be asked (None when it can) and what of that is the school's own."""

    school: School
    decision: Decision
    inputs: tuple[SchoolInfo, Policy, WeekUsage]
    problem: str | None
    grades: list[int]
    label: str
    reasons: list[str]
    blockers: list[str] = field(default_factory=list)  # why not, in the summary's words
    week_bound: bool = False  # another week might do
    own_reasons: list[str] = field(default_factory=list)  # the reasons not shared by all
    own_blockers: list[str] = field(default_factory=list)

    @property
    def channel(self) -> str:
        return self.decision.channel

    @property
    def rule(self) -> str:
        return self.decision.rule


@dataclass(frozen=True)
class Fix:
    """Something that would let the offer reach schools, with where to do it."""

    text: str
    url: str | None = None
    link_text: str | None = None


@dataclass
class Summary:
    """What the page says once, above the schools."""

    total: int
    requestable: int
    common: list[str]  # reasons that hold at every school
    blockers: list[tuple[str, int]]  # when none can be asked: why, with the number of schools
    week_bound: bool  # every school is stopped by something of this week only
    fixes: list[Fix]


class Reach:
    """The page's data for one activity, read in a fixed number of queries: the schools and
    their policies once, the quota use and earlier requests of the weeks offered (`weeks`)
    together on first need; the rule then runs per school without the database."""

    def __init__(self, activity: Activity):
        self.activity = activity
        self.offer = offer_for(activity)
        municipality_id = activity.organisation.municipality_id
        self.calendar = SchoolCalendar(municipality_id)
        self.weeks = reach_weeks(closed=self.calendar.closed)
        schools = active_schools(municipality_id)
        policies = policies_for(municipality_id, schools, self.calendar.closed)
        self.schools = [(school, school_info(school), policies[school.id]) for school in schools]
        self._rows: dict[str, list[SchoolRow]] = {}
        self._loaded_weeks: set[str] = set()
        self._used: dict[tuple[int, str], int] = {}
        self._asked: set[tuple[int, str]] = set()

    def _load_weeks(self, weeks: list[str]) -> None:
        """Read the quota use and this activity's earlier requests of `weeks` and of the weeks
        offered, all schools at once (two queries; none when they are read already)."""
        missing = [w for w in dict.fromkeys([*weeks, *self.weeks]) if w not in self._loaded_weeks]
        if not missing:
            return
        self._used.update(_backpack_used([school.id for school, _i, _p in self.schools], missing))
        self._asked.update(asked_already(self.activity, missing))
        self._loaded_weeks.update(missing)

    def rows(self, week: str) -> list[SchoolRow]:
        """The schools whose grades fit, with their decisions in the week."""
        if week not in self._rows:
            self._rows[week] = self._build_rows(week)
        return self._rows[week]

    def _build_rows(self, week: str) -> list[SchoolRow]:
        messaging = self.activity.organisation.municipality.messaging_label
        self._load_weeks([week])
        rows = []
        for school, info, policy in self.schools:
            usage = WeekUsage(week=week, backpack_used=self._used.get((school.id, week), 0))
            decision = decide(self.offer, info, policy, usage)
            if decision.channel == "not_eligible":
                continue
            problem = request_problem(
                self.activity,
                school,
                week,
                decision,
                policy,
                asked=(school.id, week) in self._asked,
            )
            row = SchoolRow(
                school=school,
                decision=decision,
                inputs=(info, policy, usage),
                problem=problem,
                grades=fitting_grades(self.activity, school),
                label=channel_label(decision.channel, messaging),
                reasons=[reason_text(reason) for reason in decision.reasons],
            )
            if problem is not None and problem == calendar_problem(week, policy):
                row.blockers, row.week_bound = [problem], True  # a later week may be open
            elif problem is not None:
                row.blockers, row.week_bound = self._blockers(row, week)
            rows.append(row)
        _split_common(rows)
        return rows

    def _blockers(self, row: SchoolRow, week: str) -> tuple[list[str], bool]:
        """Why the school cannot be asked, as the summary words it, and whether only the
        week stands in the way."""
        activity = self.activity
        if (
            activity.status == CANCELLED
            or not activity.is_public
            or activity.listing_expired
            or week < this_week()
        ):
            return [row.problem], False
        decision = row.decision
        if is_requestable(decision.channel):
            # The rule would let it through: the school has been asked for this week already.
            label = week_in_text(week)
            return [_("Du har allerede spurt skolen for %(week)s.", week=label)], True
        if decision.rule in ("commercial", "unverified"):
            return [reason_text(decision.reasons[-1])], False
        channels = [r for r in decision.reasons if r.rule in ("facebook", "backpack")]
        bound = any(r.template in WEEK_BOUND for r in channels)
        return [reason_text(r) for r in channels] or [row.problem], bound

    def overview(self, weeks: list[str], today: date) -> list[WeekOverview]:
        """The weeks from this one on that some school in reach can still be asked for, with
        each school's free backpack-post places and last day to ask (holiday weeks are not
        among `weeks`)."""
        in_reach = {row.school.id for row in self.rows(weeks[0])} if weeks else set()
        schools = [entry for entry in self.schools if entry[0].id in in_reach]
        self._load_weeks(weeks)
        used = self._used
        out = []
        for week in weeks:
            rows = []
            for school, info, policy in schools:
                deadline = last_day_to_ask(week, policy.lead_days) or (
                    week_monday(week) + timedelta(days=6)
                )
                takes = policy.backpack_enabled and info.accepts_backpack_post
                quota = policy.backpack_weekly_quota
                blackout = takes and week in policy.blackout_weeks
                free = max(quota - used.get((school.id, week), 0), 0) if takes else None
                if blackout:
                    free = 0
                rows.append(SchoolWeek(school, free, quota, deadline, today <= deadline, blackout))
            if rows and not any(row.open for row in rows):
                continue  # too late everywhere: not a week that can be reached
            deadlines = {row.deadline for row in rows}
            deadline = deadlines.pop() if len(deadlines) == 1 else None
            out.append(WeekOverview(week, rows, deadline, self.calendar.clashes.get(week)))
        return out

    def holidays_left_out(self, weeks: list[str]) -> list[tuple[str, list[str]]]:
        """The holiday weeks between the first and last of `weeks` (which leave them out),
        with the names of the holidays that close them."""
        if not weeks:
            return []
        out = []
        for row in self.calendar.rows:
            for week in self.calendar.weeks_of(row):
                if weeks[0] <= week <= weeks[-1]:
                    out.append((week, row.name))
        merged: dict[str, list[str]] = {}
        for week, name in sorted(out):
            merged.setdefault(week, [])
            if name not in merged[week]:
                merged[week].append(name)
        return list(merged.items())

    def can_ask(self, week: str) -> bool | None:
        """Whether some school can be asked in the week; None when nothing that stops them
        depends on the week (no other week would do either)."""
        rows = self.rows(week)
        if any(row.problem is None for row in rows):
            return True
        return False if any(row.week_bound for row in rows) else None

    def default_week(self, weeks: list[str]) -> str:
        """The week the page opens on (see directory.policy.reach.suggested_week)."""
        return suggested_week(weeks, this_week(), self.can_ask)

    def summary(self, week: str, weeks: list[str]) -> Summary:
        """The one summary of the week: the shared reasons, and when no school can be asked,
        why and what would change it."""
        rows = self.rows(week)
        requestable = sum(1 for row in rows if row.problem is None)
        common = list(rows[0].reasons) if len(rows) > 1 else []
        common = [text for text in common if all(text in row.reasons for row in rows)]
        blockers: list[tuple[str, int]] = []
        fixes: list[Fix] = []
        bound = False
        if rows and not requestable:
            counts = Counter(text for row in rows for text in dict.fromkeys(row.blockers))
            blockers = counts.most_common()
            common = [text for text in common if text not in counts]
            bound = all(row.week_bound for row in rows)
            fixes = self._fixes(rows, week, weeks)
        return Summary(len(rows), requestable, common, blockers, bound, fixes)

    def _fixes(self, rows: list[SchoolRow], week: str, weeks: list[str]) -> list[Fix]:
        activity = self.activity
        if activity.status == CANCELLED:
            return []
        fixes = []
        edit = url_for("activities.edit_activity", activity_id=activity.id)
        show = url_for("activities.show_activity", activity_id=activity.id)
        if not activity.is_public:
            fixes.append(Fix(_("Publiser aktiviteten."), show, _("Gå til aktiviteten")))
        inputs = [row.inputs for row in rows]
        offer = self.offer
        base = [] if offer.organisation_verified else [VERIFY]
        if base:
            with_verification = reachable_with(offer, inputs, VERIFY)
            text = (
                ngettext(
                    "Be kommunen verifisere organisasjonen. Da kan %(num)s skole bes om å "
                    "formidle tilbudet.",
                    "Be kommunen verifisere organisasjonen. Da kan %(num)s skoler bes om å "
                    "formidle tilbudet.",
                    with_verification,
                )
                if with_verification
                else _(
                    "Be kommunen verifisere organisasjonen: tilbud fra uverifiserte "
                    "organisasjoner vises bare i katalogen."
                )
            )
            fixes.append(Fix(text))
        if offer.organisation_kind == "commercial":
            return fixes
        already = reachable_with(offer, inputs, *base)
        for lever, has_it in ((FLYER, offer.has_flyer), (FACEBOOK_POST, offer.has_facebook_post)):
            gained = 0 if has_it else reachable_with(offer, inputs, *base, lever)
            if gained <= already:
                continue
            if lever == FLYER:
                text = ngettext(
                    "Legg til en trykkbar flyer (PDF). Da kan %(num)s skole bes om å sende den "
                    "hjem som ranselpost.",
                    "Legg til en trykkbar flyer (PDF). Da kan %(num)s skoler bes om å sende den "
                    "hjem som ranselpost.",
                    gained,
                )
            else:
                text = ngettext(
                    "Legg til lenken til et eget Facebook-innlegg om tilbudet. Da kan %(num)s "
                    "skole bes om å dele det.",
                    "Legg til lenken til et eget Facebook-innlegg om tilbudet. Da kan %(num)s "
                    "skoler bes om å dele det.",
                    gained,
                )
            if base:
                text = _("%(fix)s (Når organisasjonen er verifisert.)", fix=text)
            fixes.append(Fix(text, edit, _("Endre aktiviteten")))
        if any(row.week_bound for row in rows):
            later = next((w for w in weeks if w > week and self.can_ask(w)), None)
            if later is not None:
                count = sum(1 for row in self.rows(later) if row.problem is None)
                fixes.append(
                    Fix(
                        ngettext(
                            "Velg en senere uke: i %(week)s kan %(num)s skole bes om.",
                            "Velg en senere uke: i %(week)s kan %(num)s skoler bes om.",
                            count,
                            week=week_in_text(later),
                        ),
                        url_for("approvals.reach_schools", activity_id=activity.id, week=later),
                        _("Vis %(week)s", week=week_choice_label(later)),
                    )
                )
        return fixes


def _backpack_used(school_ids: list[int], weeks: list[str]) -> dict[tuple[int, str], int]:
    """The backpack-post places taken (approved or exported) per school and week, in one query."""
    if not school_ids or not weeks:
        return {}
    query = (
        select(DistributionRequest.school_id, DistributionRequest.week, func.count())
        .where(
            DistributionRequest.school_id.in_(school_ids),
            DistributionRequest.week.in_(weeks),
            DistributionRequest.channel == "backpack_post",
            DistributionRequest.status.in_(QUOTA_STATES),
        )
        .group_by(DistributionRequest.school_id, DistributionRequest.week)
    )
    return {(school_id, week): count for school_id, week, count in db.session.execute(query)}


def deadline_text(day: date) -> str:
    """«Frist: fredag 11. desember»."""
    return _("Frist: %(day)s", day=day_in_text(day))


def _split_common(rows: list[SchoolRow]) -> None:
    """Set each row's own reasons and blockers: those not shared by every school (the summary
    says the shared ones once). A lone school keeps all of its own."""
    if len(rows) < 2:
        for row in rows:
            row.own_reasons, row.own_blockers = list(row.reasons), list(row.blockers)
        return
    shared = set.intersection(*(set(row.reasons) for row in rows))
    shared_blockers = set.intersection(*(set(row.blockers) for row in rows))
    for row in rows:
        row.own_reasons = [text for text in row.reasons if text not in shared]
        row.own_blockers = [text for text in row.blockers if text not in shared_blockers]
