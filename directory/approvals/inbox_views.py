"""The school's inbox: its staff review the requests organisers send, approve them one by one or
the ticked ones in one go, reject them with a reason, and find the exports of the approved ones.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from directory import loading
from directory.activities.display import describe_schedule
from directory.approvals import inbox
from directory.approvals.blueprint import bp
from directory.approvals.display import (
    change_labels,
    channel_label,
    status_tabs,
    week_label,
)
from directory.approvals.forms import (
    ApproveRequestForm,
    BulkApproveForm,
    InboxFilterForm,
    RejectRequestForm,
)
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    BulkOutcome,
    approve_request,
    approve_requests,
    recheck,
    reject_request,
)
from directory.errors import DomainError
from directory.i18n import gettext as _
from directory.i18n import ngettext
from directory.permissions import can_manage_school_staff, can_review_requests
from directory.pipeline import INVALID_MESSAGE, Handler, route
from directory.policy.request_states import (
    APPROVED,
    PENDING,
    QUOTA_STATES,
    REQUESTABLE_CHANNELS,
    STATE_NAMES,
    allowed_acts,
)
from directory.schools.models import School
from directory.schools.routing import reason_text
from directory.web import abort_with


def _channel_labels(school: School) -> dict[str, str]:
    label = school.municipality.messaging_label
    return {channel: channel_label(channel, label) for channel in REQUESTABLE_CHANNELS}


def _export_links(school: School, week: str | None = None) -> list[dict]:
    """Per week with approved offers: the week's overview and one export per channel."""
    labels = _channel_labels(school)
    return [
        {
            "week": found_week,
            "label": week_label(found_week),
            "overview": url_for("exports.overview", slug=school.slug, week=found_week),
            "index": url_for("exports.index", slug=school.slug, week=found_week),
            "channels": [
                {
                    "label": labels.get(channel, channel),
                    "count": count,
                    "url": url_for(
                        "exports.preview", slug=school.slug, week=found_week, channel=channel
                    ),
                }
                for channel, count in channels.items()
            ],
        }
        for found_week, channels in inbox.export_weeks(school, week)
    ]


def _inbox_row(req: DistributionRequest, labels: dict[str, str]) -> dict:
    organisation = req.activity.organisation
    return {
        "request": req,
        "activity": req.activity,
        "organisation": organisation,
        "week": week_label(req.week),
        "channel": labels.get(req.channel, req.channel),
        "grades": inbox.grades_text(req.grades or []),
        "state": _(STATE_NAMES[req.status]),
        "changes": change_labels(req.changes or []) if req.changed_at else [],
        "can_approve": req.status == PENDING,
    }


@bp.route("/schools/<slug>/requests", endpoint="list_school_requests")
@login_required
def school_inbox(slug: str):
    """The school's requests, pending first by default: filter by status, week and channel,
    approve the ticked ones in one go, and find the exports of the approved ones."""
    school = loading.school(slug, can_review_requests, selectinload(School.municipality))
    labels = _channel_labels(school)
    form = InboxFilterForm(
        formdata=request.args, channel_labels=labels, weeks=inbox.filter_weeks(school)
    )
    valid = form.validate()
    week = (form.week.data or None) if valid else None
    channel = (form.channel.data or None) if valid else None
    pager = (
        inbox.inbox_page(school, form.chosen_states(), week, channel, form.page_number())
        if valid
        else None
    )
    filters = {"week": week, "channel": channel}
    status = form.status.data if valid else PENDING
    counts = inbox.status_counts(school, week, channel)
    tabs = status_tabs(
        counts,
        lambda state: url_for("approvals.list_school_requests", slug=slug, status=state, **filters),
    )
    bulk = BulkApproveForm(formdata=None, return_week=week or "", return_channel=channel or "")
    return render_template(
        "approvals/inbox.html",
        school=school,
        form=form,
        bulk=bulk,
        page=pager,
        rows=[_inbox_row(req, labels) for req in pager.items] if pager else [],
        tabs=tabs,
        status=status,
        page_args={"slug": slug, "status": status, **filters},
        exports=_export_links(school, week),
        cancelled=[
            {"request": req, "week": week_label(req.week), "channel": labels.get(req.channel)}
            for req in inbox.recently_cancelled(school)
        ],
        can_manage_staff=can_manage_school_staff(current_user, school),
    ), (200 if valid else 400)


def _review_page(
    school: School,
    req: DistributionRequest,
    *,
    reject_form: RejectRequestForm | None = None,
    refusal: DomainError | None = None,
    status: int = 200,
):
    """The review page: the offer first, then the request, the rule's decision (as sent and as
    it is now, its reasons once when they are the same), the approve and reject forms, and the
    history."""
    labels = _channel_labels(school)
    now = None
    if req.status in (PENDING, APPROVED):  # not decided for good: the rule now may differ
        decision = recheck(req)
        sent = list(req.reasons or [])  # stored as bokmål sentences, as reason_texts gives them
        now = {
            "channel": decision.channel,
            "label": channel_label(decision.channel, school.municipality.messaging_label),
            "reasons": [reason_text(reason) for reason in decision.reasons],
            "differs": decision.channel != req.channel,
            # Unchanged since it was sent: the page gives the reasons once.
            "same": decision.channel == req.channel and decision.reason_texts == sent,
            # What the rule said then and no longer says: all the sent decision adds.
            "earlier": [r for r in sent if r not in decision.reason_texts],
        }
    if reject_form is None:
        reject_form = RejectRequestForm(formdata=None)
        reject_form.show_version(req.version)
    exports = _export_links(school, req.week) if req.status in QUOTA_STATES else []
    return render_template(
        "approvals/review.html",
        school=school,
        req=req,
        activity=req.activity,
        row=_inbox_row(req, labels),
        now=now,
        changes=inbox.change_details(req) if req.changed_at else [],
        history=inbox.request_history(req),
        schedule_texts=[describe_schedule(s) for s in req.activity.schedules],
        reject_form=reject_form,
        can_approve="approve" in allowed_acts(req.status),
        can_reject="reject" in allowed_acts(req.status),
        refusal=refusal,
        exports=exports,
    ), status


@bp.route("/schools/<slug>/requests/<int:request_id>", endpoint="review_request")
@login_required
def review(slug: str, request_id: int):
    """One request for the school's staff to review."""
    school = loading.school(slug, can_review_requests, selectinload(School.municipality))
    return _review_page(school, loading.school_request(school, request_id))


class _OneRequest(Handler):
    """A reviewer's act on one of the school's requests, from its review page.

    A stale page (the request changed since it was opened, or no version came with the form) or
    a refusal of the rules shows the review page again with the message, at 409; nothing is
    stored (approving took a lock on the school, which the rollback releases).
    """

    def load(self, slug: str, request_id: int) -> None:
        # The loader checks too: the school's own staff only (403, or 404 to another municipality).
        self.school = loading.school(slug, can_review_requests, selectinload(School.municipality))
        self.req = loading.school_request(self.school, request_id)

    def current_version(self) -> int:
        return self.req.version

    def refused(self, error: DomainError, form):
        return _review_page(self.school, self.req, refusal=error, status=error.status)

    def message(self) -> str:
        """What the flash message says after the act."""
        raise NotImplementedError

    def done(self, result: None):
        flash(self.message(), "success")
        return redirect(url_for("approvals.list_school_requests", slug=self.school.slug))


@route(bp, "/schools/<slug>/requests/<int:request_id>/approve", "approve_request")
class ApproveRequest(_OneRequest):
    """Approve a request if the rule still gives its channel now (quota, blackout week)."""

    form_class = ApproveRequestForm

    def invalid(self, form: ApproveRequestForm):
        abort_with(400, str(INVALID_MESSAGE))

    def act(self, form: ApproveRequestForm) -> None:
        approve_request(self.req, actor=current_user)

    def message(self) -> str:
        return _(
            "«%(title)s» er godkjent for %(week)s.",
            title=self.req.activity.title,
            week=week_label(self.req.week),
        )


@route(bp, "/schools/<slug>/requests/<int:request_id>/reject", "reject_request")
class RejectRequest(_OneRequest):
    """Reject a pending or approved request with a reason the organiser sees."""

    form_class = RejectRequestForm

    def invalid(self, form: RejectRequestForm):
        return _review_page(self.school, self.req, reject_form=form, status=422)

    def act(self, form: RejectRequestForm) -> None:
        reject_request(self.req, form.reason.data, actor=current_user)

    def message(self) -> str:
        return _(
            "«%(title)s» er avvist for %(week)s. Arrangøren ser begrunnelsen.",
            title=self.req.activity.title,
            week=week_label(self.req.week),
        )

    def refused(self, error: DomainError, form: RejectRequestForm):
        form.show_version(self.req.version)  # the page now shows this version; the reason stays
        return _review_page(
            self.school, self.req, reject_form=form, refusal=error, status=error.status
        )


# Not ".../requests/approve": "/requests//approve" (an empty id) would be redirected there.
@route(bp, "/schools/<slug>/requests/bulk-approve", "approve_requests")
class ApproveRequests(Handler):
    """Approve the ticked requests, oldest first; those the rule refuses stay pending and the
    flash message says why for each."""

    form_class = BulkApproveForm

    def load(self, slug: str) -> None:
        self.school = loading.school(slug, can_review_requests, selectinload(School.municipality))

    def act(self, form: BulkApproveForm) -> BulkOutcome:
        self.return_filters = form.return_filters()
        requests = inbox.load_school_requests(self.school, form.requests.data)
        if requests is None:
            abort_with(
                404,
                _("Minst én av forespørslene finnes ikke ved %(school)s. Ingenting er godkjent.",
                  school=self.school.name),
            )  # fmt: skip
        return approve_requests(requests, actor=current_user)

    def done(self, outcome: BulkOutcome):
        if outcome.approved:
            flash(
                ngettext(
                    "%(num)s forespørsel er godkjent.",
                    "%(num)s forespørsler er godkjent.",
                    len(outcome.approved),
                ),
                "success",
            )
        for req, error in outcome.refused:
            flash(
                _(
                    "«%(title)s» (%(week)s) er ikke godkjent: %(message)s %(reasons)s",
                    title=req.activity.title,
                    week=week_label(req.week),
                    message=error.message,
                    reasons=" ".join(error.reasons),
                ).strip(),
                "error",
            )
        return redirect(
            url_for("approvals.list_school_requests", slug=self.school.slug, **self.return_filters)
        )
