"""The organiser's side of the request workflow: the "Nå ut via skolene" page, where the routing
decision per school is shown and requests are sent; the request lists; and the withdraw button.
"""

from __future__ import annotations

from collections import Counter

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from directory import loading
from directory.activities.models import Activity
from directory.approvals import inbox
from directory.approvals.blueprint import bp
from directory.approvals.display import (
    change_labels,
    channel_label,
    parse_week,
    status_tabs,
    week_label,
)
from directory.approvals.forms import (
    RequestListFilterForm,
    RequestSchoolsForm,
    SchoolOption,
    WithdrawRequestForm,
)
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    RequestError,
    create_requests,
    withdraw_request,
)
from directory.approvals.reach import Reach, deadline_text
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.i18n import ngettext
from directory.organisations.models import Organisation
from directory.permissions import (
    activity_refusal_status,
    can_edit_organisation,
    can_request_distribution,
    can_withdraw_request,
)
from directory.pipeline import INVALID_MESSAGE, Handler, route
from directory.policy.request_states import PENDING, STATE_NAMES, STATES, allowed_acts
from directory.reach_counts.queries import request_counts
from directory.schools.calendar import day_in_text
from directory.schools.models import School
from directory.web import abort_with
from directory.weeks import (
    not_a_week_message,
    this_week,
    today_in_oslo,
    week_choice_label,
    week_choices,
    week_in_text,
)

# What the organiser's pages show of the activity, loaded with it.
_ACTIVITY_OPTIONS = (selectinload(Activity.organisation).selectinload(Organisation.municipality),)


# --- "Nå ut via skolene" -------------------------------------------------------------------------


@route(bp, "/activities/<int:activity_id>/reach", "reach_schools")
class ReachSchools(Handler):
    """Every school whose grades fit the activity, with the channel it would use and why; the
    organiser ticks the schools (and grades) to ask and sends one request to each."""

    methods = ["GET", "POST"]

    def load(self, activity_id: int) -> None:
        self.activity = loading.activity(activity_id, *_ACTIVITY_OPTIONS)

    def check(self) -> None:
        if not can_request_distribution(current_user, self.activity):
            abort(activity_refusal_status(current_user, self.activity))

    def make_form(self) -> RequestSchoolsForm:
        """The form, with the page's rows for the week shown (the posted one on POST) as the
        schools and grades it accepts. Without a week the page opens on the first week from
        next week on that some school can still be asked for."""
        self.reach = Reach(self.activity)
        self.weeks = self.reach.weeks
        form = RequestSchoolsForm(weeks=self.weeks)
        if form.is_submitted():
            posted = form.posted_week()
            self.week = posted if posted in self.weeks else self.reach.default_week(self.weeks)
        else:
            raw = request.args.get("week", "")
            week = parse_week(raw) if raw.strip() else self.reach.default_week(self.weeks)
            if week is None:
                abort_with(400, not_a_week_message())
            if week in self.reach.calendar.closed:
                abort_with(400, _holiday_week_message(week))
            if week not in self.weeks:
                abort_with(400, _week_outside_message(week, self.weeks))
            self.week = week
        self.rows = self.reach.rows(self.week)
        form.options = {
            row.school.slug: SchoolOption(row.school, row.problem, tuple(row.grades))
            for row in self.rows
        }
        return form

    def show(
        self, form: RequestSchoolsForm, status: int = 200, refusal: RequestError | None = None
    ):
        activity = self.activity
        if form.is_submitted():
            picked_schools = set(form.schools.data or [])
            picked_grades = set(form.grades.data or [])
        else:
            picked_schools = set()
            picked_grades = {f"{r.school.slug}:{g}" for r in self.rows for g in r.grades}
        total = db.session.scalar(
            select(func.count(School.id)).where(
                School.municipality_id == activity.organisation.municipality_id,
                School.active.is_(True),
            )
        )
        sent = db.session.scalar(
            select(func.count(DistributionRequest.id)).where(
                DistributionRequest.activity_id == activity.id
            )
        )
        summary = self.reach.summary(self.week, self.weeks)
        overview = self.reach.overview(self.weeks, today_in_oslo())
        return render_template(
            "approvals/reach.html",
            activity=activity,
            form=form,
            refusal=refusal,
            rows=self.rows,
            summary=summary,
            requestable=summary.requestable,
            picked_schools=picked_schools,
            picked_grades=picked_grades,
            outside=(total or 0) - len(self.rows),
            sent=sent or 0,
            week=self.week,
            week_name=week_choice_label(self.week),
            week_text=week_in_text(self.week),
            weeks=week_choices(self.weeks),
            this_week=this_week(),
            overview=overview,
            holidays_left_out=self.reach.holidays_left_out(self.weeks),
            deadline_text=deadline_text,
            day_in_text=day_in_text,
            week_in_text=week_in_text,
            week_choice_label=week_choice_label,
        ), status

    def invalid(self, form: RequestSchoolsForm):
        return self.show(form, 400 if form.week_refused else 422)

    def act(self, form: RequestSchoolsForm) -> int:
        choices = form.choices()
        create_requests(self.activity, choices, form.posted_week(), actor=current_user)
        return len(choices)

    def refused(self, error: DomainError, form: RequestSchoolsForm):
        if not isinstance(error, RequestError):
            return super().refused(error, form)
        # The rule or another member's request got there between the check and now.
        self.reach = Reach(self.activity)
        self.rows = self.reach.rows(self.week)
        return self.show(form, 422, refusal=error)

    def done(self, sent: int):
        flash(
            ngettext(
                "Forespørselen er sendt til %(num)s skole. Du ser svaret her.",
                "Forespørslene er sendt til %(num)s skoler. Du ser svarene her.",
                sent,
            ),
            "info",
        )
        return redirect(url_for("approvals.list_activity_requests", activity_id=self.activity.id))


def _holiday_week_message(week: str) -> str:
    """A holiday week asked for by its address: the page leaves those out."""
    return _(
        "Det er skoleferie i %(week)s, så skolene tar ikke imot forespørsler for den uken. "
        "Velg en uke fra listen.",
        week=week_in_text(week),
    )


def _week_outside_message(week: str, weeks: list[str]) -> str:
    """Why a real ISO week is not one the page offers, and what to do instead."""
    if week < weeks[0]:
        return _(
            "Den valgte uken er passert (%(week)s). Velg en uke fra listen.",
            week=week_in_text(week),
        )
    return ngettext(
        "Du kan be skolene om denne uken og den neste. Velg en uke fra listen.",
        "Du kan be skolene om denne uken og de %(num)s neste. Velg en uke fra listen.",
        len(weeks) - 1,
    )


# --- the organiser's requests --------------------------------------------------------------------

# What the organiser's lists show of each request, loaded with it, and their order.
_LIST_OPTIONS = (
    selectinload(DistributionRequest.activity),
    selectinload(DistributionRequest.school).selectinload(School.municipality),
    selectinload(DistributionRequest.requested_by),
    selectinload(DistributionRequest.reviewed_by),
    selectinload(DistributionRequest.exported_by),
)
_LIST_ORDER = (
    DistributionRequest.week.desc(),
    Activity.title,
    School.name,
    DistributionRequest.id.desc(),
)


def _organiser_query(*conditions):
    """The requests matching the conditions, joined to what the list is ordered by."""
    return (
        select(DistributionRequest)
        .join(DistributionRequest.school)
        .join(DistributionRequest.activity)
        .where(*conditions)
    )


def _request_weeks(requests: list[DistributionRequest]) -> list[dict]:
    """The requests grouped by week (newest first), each with what the organiser reads: the
    visits through the school's links included (one query for the list)."""
    reach = request_counts(requests)
    weeks: list[dict] = []
    for req in requests:
        if not weeks or weeks[-1]["week"] != req.week:
            weeks.append({"week": req.week, "label": week_label(req.week), "rows": []})
        weeks[-1]["rows"].append(
            {
                "request": req,
                "channel": channel_label(req.channel, req.school.municipality.messaging_label),
                "state": _(STATE_NAMES[req.status]),
                "changes": change_labels(req.changes or []) if req.changed_at else [],
                "waiting_again": req.changed_at is not None and req.status == PENDING,
                "can_withdraw": "withdraw" in allowed_acts(req.status),
                "reach": reach.get(req.id, []),
            }
        )
    return weeks


def _state_counts(requests: list[DistributionRequest]) -> list[tuple[str, str, int]]:
    """How many requests are in each state, in the order of the states (empty ones left out)."""
    counts = Counter(req.status for req in requests)
    return [(state, _(STATE_NAMES[state]), counts[state]) for state in STATES if counts[state]]


@bp.route("/activities/<int:activity_id>/requests")
@login_required
def list_activity_requests(activity_id: int):
    """Every request sent for the activity, newest week first, with its status and reasons."""
    activity = loading.activity(activity_id, *_ACTIVITY_OPTIONS)
    if not can_request_distribution(current_user, activity):
        abort(activity_refusal_status(current_user, activity))
    requests = list(
        db.session.scalars(
            _organiser_query(DistributionRequest.activity_id == activity.id)
            .options(*_LIST_OPTIONS)
            .order_by(*_LIST_ORDER)
        )
    )
    return render_template(
        "approvals/list_requests.html",
        activity=activity,
        organisation=activity.organisation,
        weeks=_request_weeks(requests),
        counts=_state_counts(requests),
        return_to="activity",
    )


@bp.route("/organisations/<slug>/requests")
@login_required
def list_organisation_requests(slug: str):
    """Every request of all the organisation's activities, in one place: newest week first, a
    page at a time, filtered by status (all by default)."""
    organisation = loading.organisation(slug)
    if not can_edit_organisation(current_user, organisation):
        abort(403)
    form = RequestListFilterForm(formdata=request.args)
    valid = form.validate()
    status = form.status.data if valid else None  # refused: no status link is the current one
    mine = Activity.organisation_id == organisation.id
    pager = None
    if valid:
        pager = inbox.paginate(
            _organiser_query(mine, DistributionRequest.status.in_(form.chosen_states()))
            .options(*_LIST_OPTIONS)
            .order_by(*_LIST_ORDER),
            form.page_number(),
        )
    # The counts are the whole organisation's, whichever status is shown; "all" is the default,
    # so its links leave the status out.
    counts = inbox.counts_by_status(_organiser_query(mine))
    tabs = status_tabs(
        counts,
        lambda state: url_for(
            "approvals.list_organisation_requests",
            slug=slug,
            status=state if state != "all" else None,
        ),
    )
    return render_template(
        "approvals/list_requests.html",
        activity=None,
        organisation=organisation,
        form=form,
        page=pager,
        weeks=_request_weeks(pager.items) if pager else [],
        tabs=tabs,
        status=status,
        page_args={"slug": slug, "status": status if status != "all" else None},
        return_to="organisation",
    ), (200 if valid else 400)


@route(bp, "/requests/<int:request_id>/withdraw", "withdraw_request")
class WithdrawRequest(Handler):
    """The organiser takes back a request the school has not exported yet."""

    form_class = WithdrawRequestForm

    def load(self, request_id: int) -> None:
        self.req = loading.distribution_request(request_id)

    def check(self) -> None:
        if not can_withdraw_request(current_user, self.req):
            abort(403)

    def current_version(self) -> int:
        return self.req.version

    def invalid(self, form: WithdrawRequestForm):
        abort_with(400, str(INVALID_MESSAGE))  # hidden fields no person fills in: tampered with

    def act(self, form: WithdrawRequestForm) -> str | None:
        withdraw_request(self.req, actor=current_user)
        return form.return_to.data

    def done(self, return_to: str | None):
        req = self.req
        flash(
            _(
                "Forespørselen til %(school)s for %(week)s er trukket tilbake.",
                school=req.school.name,
                week=week_label(req.week),
            ),
            "info",
        )
        if return_to == "organisation":
            return redirect(
                url_for("approvals.list_organisation_requests", slug=req.activity.organisation.slug)
            )
        return redirect(url_for("approvals.list_activity_requests", activity_id=req.activity_id))
