"""The request workflow on the web: the organiser's "Nå ut via skolene" page, where the routing
decision per school is shown and requests are sent; the organiser's request lists and withdraw
button; and /om/kanaler.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from directory.activities.display import describe_schedule
from directory.activities.models import Activity
from directory.approvals import inbox
from directory.approvals.display import (
    change_labels,
    channel_label,
    parse_week,
    upcoming_weeks,
    week_error,
    week_label,
)
from directory.approvals.forms import (
    ApproveRequestForm,
    BulkApproveForm,
    InboxFilterForm,
    RejectRequestForm,
    RequestListFilterForm,
    RequestSchoolsForm,
    SchoolOption,
    WithdrawRequestForm,
)
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    RequestError,
    approve_request,
    approve_requests,
    create_requests,
    fitting_grades,
    recheck,
    reject_request,
    request_problem,
    withdraw_request,
)
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.permissions import (
    activity_refusal_status,
    can_edit_organisation,
    can_request_distribution,
    can_review_requests,
    can_withdraw_request,
)
from directory.policy.channel_policy import default_settings
from directory.policy.request_states import (
    QUOTA_STATES,
    REQUESTABLE_CHANNELS,
    STATE_NAMES,
    STATES,
    allowed_acts,
)
from directory.policy.routing import CHANNELS, RULES
from directory.schools.models import Municipality, School
from directory.schools.routing import default_settings_for, reason_text, schools_in_reach
from directory.schools.views import load_school
from directory.web import abort_with, page_links

bp = Blueprint("approvals", __name__)


def _load_activity(activity_id: int) -> Activity:
    activity = db.session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(selectinload(Activity.organisation).selectinload(Organisation.municipality))
    )
    if activity is None:
        abort(404)
    return activity


@bp.route("/activities/<int:activity_id>/reach", methods=["GET", "POST"])
@login_required
def reach_schools(activity_id: int):
    """Every school whose grades fit the activity, with the channel it would use and why; the
    organiser ticks the schools (and grades) to ask and sends one request to each."""
    activity = _load_activity(activity_id)
    if not can_request_distribution(current_user, activity):
        abort(activity_refusal_status(current_user, activity))
    form = RequestSchoolsForm()
    weeks = upcoming_weeks()
    if form.is_submitted():
        week = form.posted_week() or weeks[0]
    else:
        raw = request.args.get("week", "")
        week = parse_week(raw) if raw.strip() else weeks[0]
        if week is None:
            abort_with(400, week_error())
    if week not in weeks:
        weeks = sorted({*weeks, week})
    municipality = activity.organisation.municipality
    rows = _reach_rows(activity, week)
    form.options = {
        row["school"].slug: SchoolOption(row["school"], row["problem"], tuple(row["grades"]))
        for row in rows
    }
    status, refusal = 200, None
    if form.validate_on_submit():
        choices = form.choices()
        try:
            create_requests(activity, choices, form.posted_week(), actor=current_user)
        except RequestError as exc:
            # The rule or another member's request got there between the check and now.
            db.session.rollback()
            status, refusal = 422, exc
            rows = _reach_rows(activity, week)
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Forespørselen er sendt til %(num)s skole. Du ser svaret her.",
                    "Forespørslene er sendt til %(num)s skoler. Du ser svarene her.",
                    len(choices),
                ),
                "info",
            )
            return redirect(url_for("approvals.list_activity_requests", activity_id=activity.id))
    elif form.is_submitted():
        status = 400 if form.week_refused else 422
    if form.is_submitted():
        picked_schools = set(form.schools.data or [])
        picked_grades = set(form.grades.data or [])
    else:
        picked_schools = set()
        picked_grades = {f"{r['school'].slug}:{g}" for r in rows for g in r["grades"]}
    total = db.session.scalar(
        select(func.count(School.id)).where(
            School.municipality_id == municipality.id, School.active.is_(True)
        )
    )
    sent = db.session.scalar(
        select(func.count(DistributionRequest.id)).where(
            DistributionRequest.activity_id == activity.id
        )
    )
    return render_template(
        "approvals/reach.html",
        activity=activity,
        form=form,
        refusal=refusal,
        rows=rows,
        requestable=sum(1 for row in rows if row["problem"] is None),
        picked_schools=picked_schools,
        picked_grades=picked_grades,
        outside=(total or 0) - len(rows),
        sent=sent or 0,
        week=week,
        week_name=week_label(week),
        weeks=[(w, week_label(w)) for w in weeks],
    ), status


def _reach_rows(activity: Activity, week: str) -> list[dict]:
    """The page's rows: each school in reach with its decision, whether it can be asked (and
    why not) and the grades the activity fits there."""
    label = activity.organisation.municipality.messaging_label
    rows = []
    for school, decision in schools_in_reach(activity, week):
        rows.append(
            {
                "school": school,
                "channel": decision.channel,
                "rule": decision.rule,
                "label": channel_label(decision.channel, label),
                "reasons": [reason_text(reason) for reason in decision.reasons],
                "problem": request_problem(activity, school, week, decision),
                "grades": fitting_grades(activity, school),
            }
        )
    return rows


# --- the organiser's requests --------------------------------------------------------------


def _load_organisation(slug: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        abort(404)
    return organisation


def _load_request(request_id: int) -> DistributionRequest:
    req = db.session.scalar(
        select(DistributionRequest)
        .where(DistributionRequest.id == request_id)
        .options(
            selectinload(DistributionRequest.activity).selectinload(Activity.organisation),
            selectinload(DistributionRequest.school).selectinload(School.municipality),
        )
    )
    if req is None:
        abort(404)
    return req


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


def _organiser_requests(*conditions) -> list[DistributionRequest]:
    """Requests matching the conditions, newest week first, with what the list shows loaded."""
    return list(
        db.session.scalars(
            _organiser_query(*conditions).options(*_LIST_OPTIONS).order_by(*_LIST_ORDER)
        )
    )


def _request_weeks(requests: list[DistributionRequest]) -> list[dict]:
    """The requests grouped by week (newest first), each with what the organiser reads."""
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
                "waiting_again": req.changed_at is not None and req.status == "pending",
                "can_withdraw": "withdraw" in allowed_acts(req.status),
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
    activity = _load_activity(activity_id)
    if not can_request_distribution(current_user, activity):
        abort(activity_refusal_status(current_user, activity))
    requests = _organiser_requests(DistributionRequest.activity_id == activity.id)
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
    organisation = _load_organisation(slug)
    if not can_edit_organisation(current_user, organisation):
        abort(403)
    form = RequestListFilterForm(formdata=request.args)
    valid = form.validate()
    status = form.status.data if valid else None  # refused: no status link is the current one
    mine = Activity.organisation_id == organisation.id
    page = None
    if valid:
        query = _organiser_query(mine, DistributionRequest.status.in_(form.chosen_states()))
        page = inbox.page_of(query, _LIST_ORDER, form.page_number(), options=_LIST_OPTIONS)
    # The counts are the whole organisation's, whichever status is shown; "all" is the default,
    # so its links leave the status out.
    counts = inbox.counts_by_status(_organiser_query(mine))
    tabs = _status_tabs(
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
        page=page,
        page_links=page_links(page.page, page.pages) if page else [],
        weeks=_request_weeks(page.requests) if page else [],
        tabs=tabs,
        status=status,
        page_args={"slug": slug, "status": status if status != "all" else None},
        return_to="organisation",
    ), (200 if valid else 400)


def _status_tabs(counts: dict[str, int], link: Callable[[str], str]) -> list[dict]:
    """A request list's status links: each state and "alle", with its count and its URL."""
    tabs = [
        {"state": state, "label": _(STATE_NAMES[state]), "count": counts[state], "url": link(state)}
        for state in STATES
    ]
    tabs.append(
        {"state": "all", "label": _("alle"), "count": sum(counts.values()), "url": link("all")}
    )
    return tabs


@bp.route("/requests/<int:request_id>/withdraw", methods=["POST"], endpoint="withdraw_request")
@login_required
def withdraw(request_id: int):
    """The organiser takes back a request the school has not exported yet."""
    req = _load_request(request_id)
    if not can_withdraw_request(current_user, req):
        abort(403)
    form = WithdrawRequestForm()
    if not form.validate_on_submit():
        abort_with(400, _("Skjemaet var ugyldig. Last inn siden på nytt og prøv igjen."))
    if form.version.data is not None and form.version.data != req.version:
        abort_with(
            409,
            _(
                "Skolen har behandlet forespørselen mens du hadde siden åpen. Ingenting er "
                "endret. Last inn siden på nytt og se den nye statusen."
            ),
        )
    try:
        withdraw_request(req, actor=current_user)
    except RequestError as exc:
        abort_with(409, exc.message)
    db.session.commit()
    flash(
        _(
            "Forespørselen til %(school)s for %(week)s er trukket tilbake.",
            school=req.school.name,
            week=week_label(req.week),
        ),
        "info",
    )
    if form.return_to.data == "organisation":
        return redirect(
            url_for("approvals.list_organisation_requests", slug=req.activity.organisation.slug)
        )
    return redirect(url_for("approvals.list_activity_requests", activity_id=req.activity_id))


def rule_texts(messaging_label: str) -> list[tuple[str, str]]:
    """The eight rules in the order they are applied, each in plain words."""
    texts = {
        "school-own": _(
            "Når skolen selv (eller skolens SFO/AKS) sender en melding om skolesaker, går den i "
            "%(label)s. Hastemeldinger kan bare komme fra skolen selv.",
            label=messaging_label,
        ),
        "audience": _(
            "Tilbudet må passe for alderen til elevene på skolen. Et tilbud for 14–16 år går "
            "ikke gjennom en barneskole."
        ),
        "commercial": _(
            "Kommersielle arrangører vises bare i katalogen: skolen skal ikke formidle reklame "
            "til elevene."
        ),
        "unverified": _(
            "Organisasjoner som kommunen ikke har verifisert ennå, vises bare i katalogen."
        ),
        "messaging-reserved": _(
            "%(label)s er for skolesaker. Fritidstilbud fra lag og foreninger sendes aldri "
            "der. En skole kan velge å slippe til kommunale tilbud, som kulturskolen.",
            label=messaging_label,
        ),
        "facebook": _(
            "Har arrangøren et eget, offentlig Facebook-innlegg og skolen en Facebook-side, "
            "kan skolen dele innlegget."
        ),
        "backpack": _(
            "Har tilbudet en trykkbar flyer, kan den gå hjem i ranselen, så lenge skolen tar "
            "imot ranselpost, ukekvoten ikke er brukt opp og uken ikke er stengt."
        ),
        "fallback": _("Passer ingen av skolens kanaler, vises tilbudet bare i katalogen."),
    }
    return [(rule, texts[rule]) for rule in RULES]


@bp.route("/om/kanaler")
def channels_page():
    """How offers reach parents through the schools, in plain words, with the municipal default."""
    municipalities = db.session.scalars(select(Municipality).order_by(Municipality.id)).all()
    slug = request.args.get("municipality", "").strip()
    municipality = municipalities[0] if municipalities else None
    if slug:
        municipality = next((m for m in municipalities if m.slug == slug), None)
        if municipality is None:
            abort_with(404, _("Kommunen «%(slug)s» finnes ikke.", slug=slug))
    label = municipality.messaging_label if municipality else "Vigilo"
    settings = default_settings_for(municipality.id) if municipality else default_settings()
    return render_template(
        "pages/channels.html",
        municipality=municipality,
        municipalities=municipalities,
        messaging_label=label,
        channels=[(c, channel_label(c, label)) for c in CHANNELS],
        rules=rule_texts(label),
        settings=settings,
    )


# --- the school's inbox: reviewing requests ------------------------------------------------------


def _load_review_school(slug: str) -> School:
    """The school whose requests the user reviews: its own staff only."""
    return load_school(slug, can_review_requests, selectinload(School.municipality))


def _load_school_request(school: School, request_id: int) -> DistributionRequest:
    """One of the school's requests; another school's request does not exist here (404)."""
    req = db.session.scalar(
        select(DistributionRequest)
        .where(DistributionRequest.id == request_id, DistributionRequest.school_id == school.id)
        .options(selectinload(DistributionRequest.activity).selectinload(Activity.organisation))
    )
    if req is None:
        abort(404)
    return req


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
        "can_approve": req.status == "pending",
    }


@bp.route("/schools/<slug>/requests", endpoint="list_school_requests")
@login_required
def school_inbox(slug: str):
    """The school's requests, pending first by default: filter by status, week and channel,
    approve the ticked ones in one go, and find the exports of the approved ones."""
    school = _load_review_school(slug)
    labels = _channel_labels(school)
    form = InboxFilterForm(formdata=request.args, channel_labels=labels)
    valid = form.validate()
    week = (form.week.data or None) if valid else None
    channel = (form.channel.data or None) if valid else None
    page = (
        inbox.inbox_page(school, form.chosen_states(), week, channel, form.page_number())
        if valid
        else None
    )
    filters = {"week": week, "channel": channel}
    status = form.status.data if valid else "pending"
    counts = inbox.status_counts(school, week, channel)
    tabs = _status_tabs(
        counts,
        lambda state: url_for("approvals.list_school_requests", slug=slug, status=state, **filters),
    )
    bulk = BulkApproveForm(formdata=None, return_week=week or "", return_channel=channel or "")
    return render_template(
        "approvals/inbox.html",
        school=school,
        form=form,
        bulk=bulk,
        page=page,
        rows=[_inbox_row(req, labels) for req in page.requests] if page else [],
        tabs=tabs,
        status=status,
        page_args={"slug": slug, "status": status, **filters},
        weeks=sorted({*inbox.known_weeks(school), *upcoming_weeks()}),
        exports=_export_links(school, week),
    ), (200 if valid else 400)


def _review_page(
    school: School,
    req: DistributionRequest,
    *,
    reject_form: RejectRequestForm | None = None,
    refusal: RequestError | None = None,
    status: int = 200,
):
    """The review page: the offer, the decision as sent and as it is now, what changed, the
    history, and the approve and reject forms."""
    labels = _channel_labels(school)
    now = None
    if req.status in ("pending", "approved"):
        decision = recheck(req)
        now = {
            "channel": decision.channel,
            "label": channel_label(decision.channel, school.municipality.messaging_label),
            "reasons": [reason_text(reason) for reason in decision.reasons],
            "differs": decision.channel != req.channel,
        }
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
        reject_form=reject_form or RejectRequestForm(formdata=None, version=req.version),
        can_approve="approve" in allowed_acts(req.status),
        can_reject="reject" in allowed_acts(req.status),
        refusal=refusal,
        exports=exports,
    ), status


def _stale(req: DistributionRequest, version: int | None) -> RequestError | None:
    """A refusal when the request changed since the reviewer opened it, else None."""
    if version is None or version == req.version:
        return None
    return RequestError(
        _(
            "Forespørselen er endret mens du hadde siden åpen (%(state)s nå). Ingenting er "
            "gjort. Se over den nye versjonen før du godkjenner eller avviser.",
            state=_(STATE_NAMES[req.status]),
        )
    )


@bp.route("/schools/<slug>/requests/<int:request_id>", endpoint="review_request")
@login_required
def review(slug: str, request_id: int):
    """One request for the school's staff to review."""
    school = _load_review_school(slug)
    req = _load_school_request(school, request_id)
    return _review_page(school, req)


@bp.route(
    "/schools/<slug>/requests/<int:request_id>/approve",
    methods=["POST"],
    endpoint="approve_request",
)
@login_required
def approve_one(slug: str, request_id: int):
    """Approve a request if the rule still gives its channel now (quota, blackout week)."""
    school = _load_review_school(slug)
    req = _load_school_request(school, request_id)
    form = ApproveRequestForm()
    if not form.validate_on_submit():
        abort_with(400, _("Skjemaet var ugyldig. Last inn siden på nytt og prøv igjen."))
    refusal = _stale(req, form.version.data)
    if refusal is None:
        try:
            approve_request(req, actor=current_user)
        except RequestError as exc:
            refusal = exc
    if refusal is not None:
        db.session.rollback()  # releases the lock on the school that approving took
        return _review_page(school, req, refusal=refusal, status=409)
    db.session.commit()
    flash(
        _(
            "«%(title)s» er godkjent for %(week)s.",
            title=req.activity.title,
            week=week_label(req.week),
        ),
        "success",
    )
    return redirect(url_for("approvals.list_school_requests", slug=school.slug))


@bp.route(
    "/schools/<slug>/requests/<int:request_id>/reject",
    methods=["POST"],
    endpoint="reject_request",
)
@login_required
def reject_one(slug: str, request_id: int):
    """Reject a pending or approved request with a reason the organiser sees."""
    school = _load_review_school(slug)
    req = _load_school_request(school, request_id)
    form = RejectRequestForm()
    if not form.validate_on_submit():
        if form.version.errors:  # a hidden field no person fills in: the page was tampered with
            abort_with(400, _("Skjemaet var ugyldig. Last inn siden på nytt og prøv igjen."))
        return _review_page(school, req, reject_form=form, status=422)
    refusal = _stale(req, form.version.data)
    if refusal is None:
        try:
            reject_request(req, form.reason.data, actor=current_user)
        except RequestError as exc:
            refusal = exc
    if refusal is not None:
        db.session.rollback()
        form.version.data = req.version  # the page now shows this version; the reason stays
        return _review_page(school, req, reject_form=form, refusal=refusal, status=409)
    db.session.commit()
    flash(
        _(
            "«%(title)s» er avvist for %(week)s. Arrangøren ser begrunnelsen.",
            title=req.activity.title,
            week=week_label(req.week),
        ),
        "success",
    )
    return redirect(url_for("approvals.list_school_requests", slug=school.slug))


# Not ".../requests/approve": "/requests//approve" (an empty id) would be redirected there.
@bp.route("/schools/<slug>/requests/bulk-approve", methods=["POST"], endpoint="approve_requests")
@login_required
def approve_many(slug: str):
    """Approve the ticked requests, oldest first; those the rule refuses stay pending and the
    flash message says why for each."""
    school = _load_review_school(slug)
    form = BulkApproveForm()
    if not form.validate_on_submit():
        errors = [error for messages in form.errors.values() for error in messages]
        abort_with(400, str(errors[0]) if errors else _("Skjemaet var ugyldig."))
    requests = inbox.load_school_requests(school, form.requests.data)
    if requests is None:
        abort_with(
            404,
            _("Minst én av forespørslene finnes ikke ved %(school)s. Ingenting er godkjent.",
              school=school.name),
        )  # fmt: skip
    outcome = approve_requests(requests, actor=current_user)
    db.session.commit()
    if outcome.approved:
        flash(
            ngettext(
                "%(num)s forespørsel er godkjent.",
                "%(num)s forespørsler er godkjent.",
                len(outcome.approved),
            ),
            "success",
        )
    for req, exc in outcome.refused:
        reasons = " ".join(exc.reasons)
        flash(
            _(
                "«%(title)s» (%(week)s) er ikke godkjent: %(message)s %(reasons)s",
                title=req.activity.title,
                week=week_label(req.week),
                message=exc.message,
                reasons=reasons,
            ).strip(),
            "error",
        )
    return redirect(
        url_for("approvals.list_school_requests", slug=school.slug, **form.return_filters())
    )
