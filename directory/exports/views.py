"""School staff export approved requests per week and channel; the week's overview; short links.

Looking never changes anything: the index, the previews and the overview are GETs. Downloading
a channel's file is a POST, since it marks the approved requests exported.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from directory import loading
from directory.approvals.display import (
    channel_label,
    grades_text,
    parse_week,
    week_error,
    week_label,
)
from directory.errors import DomainError
from directory.exports.formats import CHANNEL_FORMATS
from directory.exports.formats.facebook import facebook_text
from directory.exports.formats.messaging import message_text
from directory.exports.formats.shared import ExportFile
from directory.exports.forms import ExportForm
from directory.exports.nearby import NEARBY_KM, nearby_offers
from directory.exports.operations import (
    EXPORT_LOCALE,
    ExportResult,
    NothingToExport,
    build_overview,
    channel_batch,
    channel_counts,
    export_requests,
    overview_batch,
    weeks_with_requests,
)
from directory.extensions import limiter
from directory.i18n import gettext as _
from directory.permissions import can_review_requests
from directory.pipeline import Handler, route, run_in_transaction
from directory.policy.reach_counts import REACH_CHANNELS
from directory.policy.request_states import REQUESTABLE_CHANNELS
from directory.policy.routing import CHANNELS
from directory.reach_counts.operations import count_visit, link_visit, within_count_limit
from directory.reach_counts.queries import reach_channel_label, school_week_counts
from directory.schools.models import School
from directory.schools.routing import iso_week
from directory.timeutil import oslo_now
from directory.urls import site_base_url
from directory.web import abort_with
from directory.weeks import not_a_week_message, week_choice_label

bp = Blueprint("exports", __name__)

# Every channel name routes here, so that a known but non-requestable one gets a message; the
# formats are fixed, so a GET of a download URL is a 405 rather than a preview of "x.pdf".
_CHANNEL = "any(" + ", ".join(CHANNELS) + ")"
_FORMAT = "any(" + ", ".join(sorted({f for fs in CHANNEL_FORMATS.values() for f in fs})) + ")"


def _school(slug: str) -> School:
    """The school whose exports the user sees: its own staff only (see `loading.school`)."""
    return loading.school(
        slug,
        can_review_requests,
        selectinload(School.grade_counts),
        selectinload(School.municipality),
    )


def _week(value: str, status: int = 404) -> str:
    """A valid ISO week: in the path, anything else names no page (404); as a filter, 400."""
    week = parse_week(value)
    if week is None:
        abort_with(status, week_error())
    return week


def _channel(value: str) -> str:
    if value not in REQUESTABLE_CHANNELS:
        abort_with(404, _("Denne kanalen har ingen eksport: skolen formidler ikke slike tilbud."))
    return value


def _base_url() -> str:
    """Scheme, host and prefix for links in the files: PUBLIC_BASE_URL when set (as the feeds)."""
    return site_base_url()


def _nothing_message(week: str) -> str:
    return _(
        "Det er ingen godkjente forespørsler å eksportere for %(week)s i denne kanalen.",
        week=week_label(week),
    )


def _attachment(export_file: ExportFile) -> Response:
    response = Response(export_file.content, mimetype=export_file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export_file.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/schools/<slug>/exports")
@login_required
def index(slug: str):
    """The week's approved requests per channel, with links to each export and the overview."""
    school = _school(slug)
    raw = request.args.get("week", "")
    week = parse_week(raw) if raw.strip() else iso_week()
    if week is None:
        abort_with(400, not_a_week_message())
    counts = channel_counts(school, week)
    label = school.municipality.messaging_label
    channels = [
        {
            "channel": channel,
            "label": channel_label(channel, label),
            "approved": counts[channel]["approved"],
            "exported": counts[channel]["exported"],
        }
        for channel in REQUESTABLE_CHANNELS
    ]
    weeks = sorted({iso_week(), week, *weeks_with_requests(school)}, reverse=True)
    return render_template(
        "exports/index.html",
        school=school,
        week=week,
        week_text=week_label(week),
        weeks=[(w, week_choice_label(w)) for w in weeks],
        channels=channels,
        reach=school_week_counts(school, week),
        reach_channels=[(c, reach_channel_label(c, label)) for c in REACH_CHANNELS],
    )


@bp.route(f"/schools/<slug>/exports/<week>/<{_CHANNEL}:channel>")
@login_required
def preview(slug: str, week: str, channel: str):
    """What the channel's export of the week holds; for Facebook, the page to work through."""
    school = _school(slug)
    week = _week(week)
    channel = _channel(channel)
    batch, selection = channel_batch(school, week, channel, base_url=_base_url())
    texts = _export_texts(batch, channel)
    return render_template(
        "exports/show.html",
        school=school,
        week=week,
        week_text=week_label(week),
        channel=channel,
        channel_text=channel_label(channel, school.municipality.messaging_label),
        batch=batch,
        skipped=selection.skipped,
        formats=CHANNEL_FORMATS[channel],
        form=ExportForm(),
        nothing=_nothing_message(week),
        **texts,
    )


def _export_texts(batch, channel: str) -> dict:
    """The parts of the files the preview shows, in the files' language."""
    with force_locale(EXPORT_LOCALE):
        texts: dict = {"grades": grades_text(batch.grades)}
        if channel == "school_messaging":
            texts["messages"] = [(offer, message_text(offer)) for offer in batch.offers]
        elif channel == "facebook_share":
            texts["shares"] = [(offer, facebook_text(offer)) for offer in batch.offers]
        else:
            from directory.exports.formats.backpack import copy_plan  # the PDF libraries

            rows, per_flyer = copy_plan(batch)
            texts["copy_rows"] = rows
            texts["per_flyer"] = per_flyer
            texts["total_copies"] = sum(r.total for r in rows if r.total is not None)
        return texts


@route(bp, f"/schools/<slug>/exports/<week>/<{_CHANNEL}:channel>.<{_FORMAT}:fmt>", "download")
class Download(Handler):
    """Download the channel's file of the week, marking its approved requests exported.

    With nothing approved the answer is 409 and a message, never an empty file.
    """

    form_class = ExportForm

    def load(self, slug: str, week: str, channel: str, fmt: str) -> None:
        # The school's own staff only: the loader answers 404 or 403 (see `loading.school`).
        self.school = _school(slug)
        self.week = _week(week)
        self.channel = _channel(channel)
        if fmt not in CHANNEL_FORMATS[self.channel]:
            abort_with(404, _("Denne kanalen eksporteres ikke i det formatet."))
        self.fmt = fmt

    def act(self, form: ExportForm) -> ExportResult:
        return export_requests(
            self.school,
            self.week,
            self.channel,
            self.fmt,
            actor=current_user,
            base_url=_base_url(),
        )

    def refused(self, error: DomainError, form: ExportForm):
        if isinstance(error, NothingToExport):
            abort_with(409, _nothing_message(self.week))
        return super().refused(error, form)

    def done(self, result: ExportResult) -> Response:
        return _attachment(result.file)


@bp.route("/schools/<slug>/overview/<week>")
@login_required
def overview(slug: str, week: str):
    """The week's overview of every approved offer at the school: a page to print or share;
    then the public offers near the school that week (when the school has coordinates)."""
    school = _school(slug)
    week = _week(week)
    from directory.exports.formats.overview import overview_note  # the PDF libraries

    batch = overview_batch(school, week, base_url=_base_url())
    with force_locale(EXPORT_LOCALE):
        note = overview_note()
    return render_template(
        "exports/overview.html",
        school=school,
        week=week,
        week_text=week_label(week),
        batch=batch,
        note=note,
        nearby=nearby_offers(school, week, base_url=_base_url()),
        nearby_km=NEARBY_KM,
    )


@bp.route("/schools/<slug>/overview/<week>.pdf")
@login_required
def overview_pdf(slug: str, week: str):
    """The week's overview as a PDF (changes nothing); 409 when nothing is approved."""
    school = _school(slug)
    week = _week(week)
    try:
        export_file = build_overview(school, week, base_url=_base_url())
    except NothingToExport:
        abort_with(409, _("Skolen har ingen godkjente tilbud for %(week)s.", week=week_label(week)))
    return _attachment(export_file)


# The parameters an export's short link carries: the school, the channel and the ISO week.
REACH_PARAMETERS = ("s", "c", "w")


@bp.route("/a/<int:activity_id>")
@limiter.limit(lambda: current_app.config["SHORT_LINK_RATE_LIMIT"])
def short_link(activity_id: int):
    """The short link in messages and on flyers: a redirect to a public activity.

    Bare, it is permanent (301). With an export's school, channel and week (?s=&c=&w=) the
    visit is counted per activity, school, channel, week and day, and the redirect is a 302
    that is not stored, so that the next visit reaches the site to be counted too. Parameters
    naming no school, channel or week count nothing, and the link still leads to the page.
    Nothing about the visitor is read or stored, and no cookie is set.
    """
    activity = loading.public_activity(activity_id)
    target = url_for("activities.show_activity", activity_id=activity.id)
    if not any(name in request.args for name in REACH_PARAMETERS):
        return redirect(target, code=301)
    if request.method == "GET":  # a HEAD (a link checker) is no visit
        _count_visit(activity)
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def _count_visit(activity) -> None:
    """Count the visit the link's parameters describe, in a transaction of its own; a failure
    is logged, never shown: the link must lead to the activity whatever happens to the
    counter."""

    def count() -> None:
        s, c, w = (request.args.get(name, "") for name in REACH_PARAMETERS)
        visit = link_visit(activity, s, c, w, oslo_now().date())
        if visit is not None and within_count_limit():
            count_visit(visit)

    try:
        run_in_transaction(count)  # commits, or rolls back and raises
    except Exception:
        current_app.logger.exception("could not count a visit through a short link")
