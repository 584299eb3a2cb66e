"""Distribution requests: sending, withdrawing, reviewing, and sending back to review.

Every act goes through the pure state machine (directory.policy.request_states), writes an
AuditEvent and flushes; the request commits once. Approving re-checks the routing rule at that
moment under a lock on the school, so two approvals racing for the last backpack-post place of a
week cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from directory.activities.models import Activity
from directory.approvals.models import DistributionRequest
from directory.audit.operations import record
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.notifications import notify
from directory.policy import audience
from directory.policy.activity_states import CANCELLED, DISTRIBUTABLE_STATES
from directory.policy.request_states import (
    APPROVED,
    CANCELLABLE_STATES,
    PENDING,
    REOPENABLE_STATES,
    STATE_NAMES,
    blocks_new_request,
    is_requestable,
    rejection_reason_problem,
    transition,
)
from directory.policy.routing import Decision, Policy, decide
from directory.policy.school_calendar import last_day_to_ask, too_late
from directory.schools.calendar import day_in_text
from directory.schools.models import School
from directory.schools.routing import decide_for, iso_week, offer_for, reason_text, school_inputs
from directory.timeutil import oslo_now, utcnow
from directory.weeks import week_in_text


class RequestError(DomainError):
    """An act on a request cannot be done; the message, in the user's language, says why, and
    `reasons` the routing rule's current reasons where those are why."""

    def __init__(self, message: str, reasons: Sequence[str] = (), status: int | None = None):
        super().__init__(message, status)
        self.reasons = list(reasons)


@dataclass(frozen=True)
class SchoolChoice:
    """One school the organiser picked, with the grades to address there (empty: all that fit)."""

    school: School
    grades: tuple[int, ...] = ()


def fitting_grades(activity: Activity, school: School) -> list[int]:
    """The school's grades whose pupils' ages meet the activity's age range."""
    return audience.fitting_grades(school.grades, activity.age_min, activity.age_max)


def _refusal(act: str, state: str) -> str:
    check = transition(state, act)
    return _(check.refusal, state=_(STATE_NAMES[state]))


def _move(req: DistributionRequest, act: str) -> str:
    """Move the request by `act` or raise RequestError; returns the state it left."""
    check = transition(req.status, act)
    if not check.allowed:
        raise RequestError(_refusal(act, req.status))
    before = req.status
    req.status = check.target
    return before


def _audit(action: str, req: DistributionRequest, actor: Any, **data: Any) -> None:
    record(
        action,
        req,
        actor=actor,
        municipality_id=req.school.municipality_id,
        data={
            "activity": req.activity_id,
            "school": req.school.slug,
            "week": req.week,
            "channel": req.channel,
            **data,
        },
    )


def open_request(activity: Activity, school: School, week: str) -> DistributionRequest | None:
    """The earlier request for this activity, school and week that stops a new one (pending,
    approved or exported), if any."""
    earlier = db.session.scalars(
        select(DistributionRequest).where(
            DistributionRequest.activity_id == activity.id,
            DistributionRequest.school_id == school.id,
            DistributionRequest.week == week,
        )
    )
    return next((req for req in earlier if blocks_new_request(req.status)), None)


def asked_already(activity: Activity, weeks: Iterable[str]) -> set[tuple[int, str]]:
    """(school id, week) of every earlier request for this activity in `weeks` that stops a
    new one, in one query: open_request for all schools and weeks at once."""
    weeks = list(weeks)
    if not weeks:
        return set()
    rows = db.session.execute(
        select(
            DistributionRequest.school_id, DistributionRequest.week, DistributionRequest.status
        ).where(DistributionRequest.activity_id == activity.id, DistributionRequest.week.in_(weeks))
    )
    return {(school_id, week) for school_id, week, status in rows if blocks_new_request(status)}


def calendar_problem(week: str, policy: Policy) -> str | None:
    """Why the school year closes the week to requests at the school: a holiday week, or the
    school's lead time has run out (naming the last day); None when it is open."""
    if week in policy.holiday_weeks:
        return _(
            "Det er skoleferie i %(week)s, så skolene tar ikke imot forespørsler for den uken.",
            week=week_in_text(week),
        )
    if too_late(week, policy.lead_days, oslo_now().date()):
        return _(
            "For sent: skolen vil ha forespørsler %(days)s dager før uken begynner, så siste "
            "dag å be om %(week)s var %(day)s.",
            days=policy.lead_days,
            week=week_in_text(week),
            day=day_in_text(last_day_to_ask(week, policy.lead_days)),
        )
    return None


def request_problem(
    activity: Activity,
    school: School,
    week: str,
    decision: Decision,
    policy: Policy | None = None,
    *,
    asked: bool | None = None,
) -> str | None:
    """Why this activity cannot be requested at this school in this week, or None. `policy`
    is the school's (read here when not given), for its school year and lead time; `asked`
    whether an earlier request stops a new one (looked up here when not given)."""
    if activity.status == CANCELLED:
        return _("Aktiviteten er avlyst, så skolene kan ikke formidle den.")
    if not activity.is_public:
        return _("Aktiviteten må være publisert før skolene kan formidle den.")
    if activity.listing_expired:
        return _(
            "Aktiviteten er ikke bekreftet som fortsatt aktuell, så skolene kan ikke formidle "
            "den. Bekreft den på aktivitetslista først."
        )
    if week < iso_week():
        return _("Uken er passert.")
    if school.municipality_id != activity.organisation.municipality_id:
        return _("Skolen ligger i en annen kommune.")
    problem = calendar_problem(week, policy or school_inputs(school, week)[1])
    if problem is not None:
        return problem
    if not is_requestable(decision.channel):
        if decision.channel == "not_eligible":
            return _("Tilbudet kan ikke gå gjennom denne skolen.")
        return _("Tilbudet vises bare i katalogen for denne skolen; ingen kanal å be om.")
    if asked is None:
        asked = open_request(activity, school, week) is not None
    if asked:
        return _("Det er allerede sendt en forespørsel til denne skolen for denne uken.")
    return None


def create_requests(
    activity: Activity, choices: Iterable[SchoolChoice], week: str, *, actor
) -> list[DistributionRequest]:
    """One pending request per chosen school, with the decision and its reasons as they are now.

    Raises RequestError (naming the school) before anything is stored if any school cannot be
    asked; the caller shows it and nothing is half-sent.
    """
    planned: list[tuple[SchoolChoice, Decision, list[int]]] = []
    offer = offer_for(activity)
    for choice in choices:
        info, policy, usage = school_inputs(choice.school, week)
        decision = decide(offer, info, policy, usage)
        problem = request_problem(activity, choice.school, week, decision, policy)
        if problem is not None:
            raise RequestError(
                _("%(school)s: %(problem)s", school=choice.school.name, problem=problem),
                [reason_text(r) for r in decision.reasons],
            )
        fitting = fitting_grades(activity, choice.school)
        grades = sorted(set(choice.grades)) if choice.grades else fitting
        stray = [g for g in grades if g not in fitting]
        if stray:
            raise RequestError(
                _(
                    "%(school)s: %(grades)s. trinn passer ikke aldersgruppen til tilbudet.",
                    school=choice.school.name,
                    grades=", ".join(str(g) for g in stray),
                )
            )
        planned.append((choice, decision, grades))
    if not planned:
        raise RequestError(_("Velg minst én skole."))
    created = []
    for choice, decision, grades in planned:
        req = DistributionRequest(
            activity=activity,
            school=choice.school,
            week=week,
            channel=decision.channel,
            rule=decision.rule,
            reasons=decision.reason_texts,
            grades=grades,
            status=PENDING,
            requested_by_id=getattr(actor, "id", None),
        )
        db.session.add(req)
        db.session.flush()
        _audit("request.create", req, actor, grades=grades, rule=decision.rule)
        created.append(req)
    for req in created:
        notify("request.created", req)
    return created


def withdraw_request(req: DistributionRequest, *, actor) -> None:
    """The organiser takes a request back before it is exported."""
    before = _move(req, "withdraw")
    db.session.flush()
    _audit("request.withdraw", req, actor, before=before)
    notify("request.withdrawn", req)


def _lock_school(school: School) -> None:
    """Hold a write lock on the school's row until the commit.

    On PostgreSQL this is a row lock that a second approval at the same school waits for; on
    SQLite the first write of a transaction takes the database's write lock. Either way the
    quota counted next is the one the commit will see.
    """
    db.session.execute(update(School).where(School.id == school.id).values(id=School.id))


def recheck(req: DistributionRequest) -> Decision:
    """The routing decision for the request now, with the request itself out of the quota."""
    return decide_for(req.activity, req.school, req.week, excluding=req.id)


def approve_request(req: DistributionRequest, *, actor) -> None:
    """Approve a pending request if the rule still gives the same channel now.

    Raises RequestError with the current reasons when the activity is no longer public, or the
    channel changed (quota used up, blackout week, policy changed).
    """
    check = transition(req.status, "approve")
    if not check.allowed:
        raise RequestError(_refusal("approve", req.status))
    _lock_school(req.school)
    db.session.refresh(req)  # another reviewer may have acted while we waited for the lock
    if req.status != PENDING:
        raise RequestError(_refusal("approve", req.status))
    if req.activity.status == CANCELLED:
        raise RequestError(_("Aktiviteten er avlyst, så den kan ikke godkjennes."))
    if not req.activity.is_public or req.activity.status not in DISTRIBUTABLE_STATES:
        raise RequestError(_("Aktiviteten er ikke publisert lenger, så den kan ikke godkjennes."))
    if req.activity.listing_expired:
        raise RequestError(
            _("Aktiviteten er ikke bekreftet som fortsatt aktuell, så den kan ikke godkjennes.")
        )
    decision = recheck(req)
    if decision.channel != req.channel:
        raise RequestError(
            _("Regelen gir ikke lenger samme kanal for denne uken, så forespørselen kan ikke "
              "godkjennes nå."),
            [reason_text(r) for r in decision.reasons],
        )  # fmt: skip
    _move(req, "approve")
    req.reviewed_by_id = getattr(actor, "id", None)
    req.reviewed_at = utcnow()
    req.review_reason = ""
    db.session.flush()
    _audit("request.approve", req, actor, rule=decision.rule)
    notify("request.approved", req)


def reject_request(req: DistributionRequest, reason: str, *, actor) -> None:
    """Reject a pending or approved request with a reason the organiser sees."""
    problem = rejection_reason_problem(reason)
    if problem is not None:
        raise RequestError(_(problem, max=1000))
    before = _move(req, "reject")
    req.reviewed_by_id = getattr(actor, "id", None)
    req.reviewed_at = utcnow()
    req.review_reason = reason.strip()
    db.session.flush()
    _audit("request.reject", req, actor, before=before, reason=req.review_reason)
    notify("request.rejected", req)


@dataclass(frozen=True)
class BulkOutcome:
    """What bulk approval did: the approved requests and, for each refused one, why."""

    approved: list[DistributionRequest]
    refused: list[tuple[DistributionRequest, RequestError]]


def approve_requests(requests: Iterable[DistributionRequest], *, actor) -> BulkOutcome:
    """Approve each request in turn (oldest first); those the rule refuses stay pending."""
    approved, refused = [], []
    for req in sorted(requests, key=lambda r: (r.created_at, r.id)):
        try:
            # approve_request checks everything before it changes anything, so a refusal
            # leaves the request as it was.
            approve_request(req, actor=actor)
        except RequestError as exc:
            refused.append((req, exc))
        else:
            approved.append(req)
    return BulkOutcome(approved, refused)


def cancel_requests(activity: Activity, reason: str, *, actor) -> list[DistributionRequest]:
    """The organiser cancelled the activity: every request a school approved or exported goes
    back to that school as cancelled, with the reason, so that its staff take the flyer or the
    post down. It leaves the week's export and frees its quota place; the school's staff are
    told by e-mail. Pending requests are left to reopen_requests (they cannot be approved while
    the activity is cancelled).
    """
    requests = db.session.scalars(
        select(DistributionRequest)
        .where(
            DistributionRequest.activity_id == activity.id,
            DistributionRequest.status.in_(CANCELLABLE_STATES),
        )
        .order_by(DistributionRequest.id)
    ).all()
    now = utcnow()
    for req in requests:
        before = _move(req, "cancel")
        req.cancelled_at = now
        req.cancellation_reason = (reason or "").strip()
        db.session.flush()
        _audit("request.cancel", req, actor, before=before, reason=req.cancellation_reason)
        notify("request.cancelled", req)
    return list(requests)


def reopen_requests(
    activity: Activity, changed: Iterable[str], *, actor
) -> list[DistributionRequest]:
    """After an edit, pending and approved-but-not-exported requests go back to review.

    The changed fields are recorded on each request, so the school sees what changed.
    """
    fields = sorted(set(changed))
    requests = db.session.scalars(
        select(DistributionRequest).where(
            DistributionRequest.activity_id == activity.id,
            DistributionRequest.status.in_(REOPENABLE_STATES),
        )
    ).all()
    now = utcnow()
    for req in requests:
        before = _move(req, "reopen")
        req.changed_at = now
        req.changes = sorted(set(req.changes or []) | set(fields))
        if before == APPROVED:
            req.reviewed_by_id = None
            req.reviewed_at = None
        db.session.flush()
        _audit("request.reopen", req, actor, before=before, changes=fields)
        notify("request.reopened", req)
    return list(requests)
