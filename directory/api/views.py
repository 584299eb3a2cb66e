"""The public JSON API (/api/v1) and the health check (/healthz). Read-only, no session."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from directory.activities.models import Activity, Schedule
from directory.activities.schedule import next_start
from directory.api import serializers
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.schools.models import Municipality, School
from directory.timeutil import utcnow
from directory.web import abort_with

PUBLIC_STATES = ("published", "cancelled")

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)


# --- helpers -------------------------------------------------------------------------------


def _params(*, paged: bool = False) -> dict:
    params, error = serializers.parse_params(request.args, paged=paged)
    if error:
        abort_with(400, error)
    return params


def _municipality(slug: str | None) -> Municipality | None:
    """The municipality named by ?municipality=, None when not asked for, 404 when unknown."""
    if slug is None:
        return None
    municipality = db.session.scalar(select(Municipality).where(Municipality.slug == slug))
    if municipality is None:
        abort_with(404, _("Kommunen «%(slug)s» finnes ikke.", slug=slug))
    return municipality


def _public_activity_filter(municipality: Municipality | None) -> list:
    """SQL conditions for activities anyone may see (the organisation table must be joined)."""
    conditions = [
        Activity.status.in_(PUBLIC_STATES),
        Organisation.verification != "rejected",
    ]
    if municipality is not None:
        conditions.append(Organisation.municipality_id == municipality.id)
    return conditions


def _upcoming_activity_ids(
    municipality: Municipality | None, now: datetime
) -> list[tuple[int, datetime]]:
    """(id, next start) of every public activity with an occurrence that has not ended, soonest
    first.

    The next start follows from RRULE/RDATE/EXDATE expansion, which SQL cannot do, so only the
    schedule columns are read here and the full rows are loaded for one page afterwards.
    """
    rows = db.session.execute(
        select(
            Activity.title,
            Schedule.activity_id,
            Schedule.dtstart,
            Schedule.duration_minutes,
            Schedule.rrule,
            Schedule.rdates,
            Schedule.exdates,
        )
        .join(Activity, Schedule.activity_id == Activity.id)
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(*_public_activity_filter(municipality))
    ).all()
    schedules_by_activity: dict[int, list] = defaultdict(list)
    titles: dict[int, str] = {}
    for row in rows:
        schedules_by_activity[row.activity_id].append(row)
        titles[row.activity_id] = row.title
    upcoming = []
    for activity_id, schedules in schedules_by_activity.items():
        start = next_start(schedules, after=now)
        if start is not None:
            upcoming.append((activity_id, start))
    # The same order as the HTML home page: by start, then title, then id.
    upcoming.sort(key=lambda pair: (pair[1], titles[pair[0]].casefold(), pair[0]))
    return upcoming


def _load_activities(ids: list[int]) -> dict[int, Activity]:
    activities = db.session.scalars(
        select(Activity)
        .where(Activity.id.in_(ids))
        .options(
            selectinload(Activity.organisation).selectinload(Organisation.municipality),
            selectinload(Activity.category),
            selectinload(Activity.schedules),
        )
    ).all()
    return {a.id: a for a in activities}


# --- routes --------------------------------------------------------------------------------


@bp.route("/activities")
def list_activities():
    """Public activities with an occurrence still to come, soonest first, one page at a time."""
    params = _params(paged=True)
    municipality = _municipality(params["municipality"])
    now = utcnow()
    upcoming = _upcoming_activity_ids(municipality, now)
    page, per_page = params["page"], params["per_page"]
    window = upcoming[(page - 1) * per_page : page * per_page]
    activities = _load_activities([activity_id for activity_id, _start in window])
    items = [
        serializers.activity_item(activities[activity_id], next_start=start)
        for activity_id, start in window
        if activity_id in activities  # deleted between the two queries
    ]
    return jsonify(items=items, total=len(upcoming), page=page, per_page=per_page)


@bp.route("/activities/<int:activity_id>")
def show_activity(activity_id: int):
    """One public activity with its description, schedules and next occurrences."""
    activity = db.session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(
            selectinload(Activity.organisation).selectinload(Organisation.municipality),
            selectinload(Activity.category),
            selectinload(Activity.schedules),
        )
    )
    # The API has no login, so only public activities exist here (drafts are not revealed).
    if activity is None or not activity.is_public:
        abort_with(404, _("Aktiviteten finnes ikke."))
    return jsonify(serializers.activity_detail(activity, now=utcnow()))


@bp.route("/organisations")
def list_organisations():
    """Organisations that are not rejected, by name."""
    params = _params()
    municipality = _municipality(params["municipality"])
    stmt = (
        select(Organisation)
        .where(Organisation.verification != "rejected")
        .options(selectinload(Organisation.municipality))
        .order_by(Organisation.name, Organisation.id)
    )
    if municipality is not None:
        stmt = stmt.where(Organisation.municipality_id == municipality.id)
    organisations = db.session.scalars(stmt).all()
    return jsonify(items=[serializers.organisation_item(o) for o in organisations])


@bp.route("/schools")
def list_schools():
    """Schools with the grades they serve and the channels they have, by name."""
    params = _params()
    municipality = _municipality(params["municipality"])
    stmt = (
        select(School).options(selectinload(School.municipality)).order_by(School.name, School.id)
    )
    if municipality is not None:
        stmt = stmt.where(School.municipality_id == municipality.id)
    schools = db.session.scalars(stmt).all()
    return jsonify(items=[serializers.school_item(s) for s in schools])


# --- health --------------------------------------------------------------------------------

HEALTH_CHECKS_KEY = "directory.health_checks"
HealthCheck = Callable[[], object]


def register_health_check(app: Flask, name: str, check: HealthCheck) -> None:
    """Add or replace a component check; it passes unless it raises or returns False."""
    app.extensions.setdefault(HEALTH_CHECKS_KEY, {})[name] = check


def check_database() -> bool:
    """The database answers a trivial query."""
    db.session.execute(text("SELECT 1"))
    return True


def check_search() -> bool:
    """Listing is served by the database until the search index exists; the search package
    replaces this check with one of its own."""
    return True


@bp.record_once
def _register_health_blueprint(state: BlueprintSetupState) -> None:
    # /healthz lives outside /api/v1; registering it with the API keeps create_app() unchanged.
    state.app.register_blueprint(health_bp)


@health_bp.record_once
def _install_default_checks(state: BlueprintSetupState) -> None:
    # setdefault: a package that registered its own check before the blueprint keeps it.
    checks = state.app.extensions.setdefault(HEALTH_CHECKS_KEY, {})
    checks.setdefault("database", check_database)
    checks.setdefault("search", check_search)


@health_bp.route("/healthz")
def healthz():
    """{"status": "ok", <component>: "ok"|"error", ...}; 503 when any component fails."""
    report: dict[str, str] = {}
    for name, check in current_app.extensions[HEALTH_CHECKS_KEY].items():
        try:
            passed = check() is not False
        except Exception:  # any failure of a component is reported, never raised
            current_app.logger.exception("health check %s failed", name)
            db.session.rollback()
            passed = False
        report[name] = "ok" if passed else "error"
    healthy = all(value == "ok" for value in report.values())
    response = jsonify(status="ok" if healthy else "degraded", **report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
