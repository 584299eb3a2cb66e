"""Where the routing decision shows: the organiser's "Nå ut via skolene" page and /om/kanaler.

Nothing is sent from here yet: the page shows, per school, which channel an offer would use and
why, before any request exists. Sending requests and the school side come with the requests.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from directory.activities.models import Activity
from directory.approvals.display import (
    channel_label,
    parse_week,
    upcoming_weeks,
    week_error,
    week_label,
)
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.permissions import can_edit_activity
from directory.policy.channel_policy import default_settings
from directory.policy.routing import CHANNELS, RULES
from directory.schools.models import Municipality, School
from directory.schools.routing import default_settings_for, reason_text, schools_in_reach
from directory.web import abort_with

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


@bp.route("/activities/<int:activity_id>/reach")
@login_required
def reach_schools(activity_id: int):
    """Every school whose grades fit the activity, with the channel it would use and why."""
    activity = _load_activity(activity_id)
    if not can_edit_activity(current_user, activity):
        abort(403)
    weeks = upcoming_weeks()
    raw = request.args.get("week", "")
    week = parse_week(raw) if raw.strip() else weeks[0]
    if week is None:
        abort_with(400, week_error())
    if week not in weeks:
        weeks = sorted({*weeks, week})
    municipality = activity.organisation.municipality
    reached = schools_in_reach(activity, week)
    total = db.session.scalar(
        select(func.count(School.id)).where(School.municipality_id == municipality.id)
    )
    rows = [
        {
            "school": school,
            "channel": decision.channel,
            "rule": decision.rule,
            "label": channel_label(decision.channel, municipality.messaging_label),
            "reasons": [reason_text(reason) for reason in decision.reasons],
        }
        for school, decision in reached
    ]
    return render_template(
        "approvals/reach.html",
        activity=activity,
        rows=rows,
        outside=(total or 0) - len(rows),
        week=week,
        weeks=[(w, week_label(w)) for w in weeks],
    )


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
