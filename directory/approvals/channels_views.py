"""The public page /om/kanaler: how offers reach parents through the schools, in plain words."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from directory.approvals.blueprint import bp
from directory.approvals.display import channel_label
from directory.extensions import db
from directory.i18n import gettext as _
from directory.policy.channel_policy import default_settings
from directory.policy.routing import CHANNELS, RULES
from directory.schools.models import Municipality
from directory.schools.routing import default_settings_for
from directory.web import abort_with


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
