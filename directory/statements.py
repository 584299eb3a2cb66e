"""The privacy and accessibility statements that Norwegian public bodies must publish.

Several municipalities may share one database: each is the controller for its own residents,
so a statement lists every municipality with its number and contact address, or one of them
with ?municipality=<slug>.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from directory.extensions import db
from directory.i18n import gettext as _
from directory.schools.models import Municipality
from directory.web import abort_with

bp = Blueprint("pages", __name__)

SUPERVISORY_AUTHORITY_URL = "https://www.uutilsynet.no/"
DATA_PROTECTION_AUTHORITY_URL = "https://www.datatilsynet.no/"


def _municipalities() -> tuple[list[Municipality], Municipality | None]:
    """Every municipality, or the one ?municipality= names (404 for an unknown slug)."""
    slug = request.args.get("municipality", "").strip()
    if slug:
        chosen = db.session.scalar(select(Municipality).where(Municipality.slug == slug))
        if chosen is None:
            abort_with(404, _("Kommunen «%(slug)s» finnes ikke.", slug=slug))
        return [chosen], chosen
    return list(db.session.scalars(select(Municipality).order_by(Municipality.name))), None


def _page(template: str):
    municipalities, chosen = _municipalities()
    return render_template(
        template,
        municipalities=municipalities,
        chosen=chosen,
        session_hours=current_app.config["SESSION_LIFETIME_HOURS"],
        supervisory_url=SUPERVISORY_AUTHORITY_URL,
        data_protection_url=DATA_PROTECTION_AUTHORITY_URL,
    )


@bp.route("/personvern")
def privacy():
    """The privacy statement: what is stored about whom, for how long, and whom to ask."""
    return _page("pages/privacy.html")


@bp.route("/tilgjengelighet")
def accessibility():
    """The accessibility statement after the Norwegian model (WCAG 2.1 AA)."""
    return _page("pages/accessibility.html")
