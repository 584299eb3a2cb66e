"""The public JSON API (/api/v1) and the health check (/healthz). Read-only, no session."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from directory.activities.models import Activity, Category
from directory.api import openapi, schemas, serializers
from directory.api.openapi import operation
from directory.approvals.display import parse_week, week_error
from directory.extensions import db, limiter
from directory.i18n import current_language
from directory.i18n import gettext as _
from directory.organisations.listing import DirectoryError, directory_page, parse_directory_args
from directory.organisations.models import Organisation
from directory.pipeline import run_in_transaction
from directory.schools.calendar import SchoolCalendar
from directory.schools.models import Municipality, School
from directory.schools.routing import decide_for, decision_json
from directory.search.query import QueryError, parse_search_args
from directory.search.service import UnknownFilterValue, search_activities
from directory.timeutil import utcnow
from directory.venues.operations import public_venues
from directory.web import MAX_ID, abort_with

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)
# One generous limit per client address for the whole API: only a loop meets it (not /healthz).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api")(bp)


# --- helpers -------------------------------------------------------------------------------


def _params() -> schemas.MunicipalityParams:
    params, error = serializers.parse_params(request.args)
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


def _parameter_error(status: int, message: str, parameter: str) -> Response:
    """A JSON error that names the query parameter it is about."""
    response = serializers.json_response(schemas.Error(error=message, parameter=parameter))
    response.status_code = status
    return response


# --- routes --------------------------------------------------------------------------------


_ERROR = schemas.Error
_MUNICIPALITY_404 = (_ERROR, "An unknown municipality.")


@bp.route("/activities")
@operation(
    "/api/v1/activities",
    "listActivities",
    "Search public activities",
    description="The same filters as the search pages. Public activities (published or "
    "cancelled, from organisations that are not rejected) whose last occurrence has not ended.",
    tag="activities",
    query=(schemas.SearchParams, schemas.LanguageParams),
    responses={
        200: (schemas.ActivityList, "One page of matches."),
        400: (_ERROR, "A bad parameter; `parameter` names it."),
        404: (_ERROR, "An unknown school (`school` or `near`), organisation or municipality."),
    },
)
def list_activities():
    """Public activities matching the search filters, one page at a time, with facet counts.

    The same parameters as the HTML search pages, parsed and answered by the search service;
    the facet counts are the ones the pages show (directory.search.service.facet_counts).
    """
    try:
        query = parse_search_args(request.args)
        page = search_activities(query)
    except QueryError as exc:
        return _parameter_error(400, exc.message, exc.param)
    except UnknownFilterValue as exc:
        return _parameter_error(404, exc.message, exc.param)
    return serializers.json_response(
        schemas.ActivityList(
            items=serializers.activity_items(page),
            total=page.total,
            page=page.page,
            per_page=page.per_page,
            facets=page.facets,
            suggestion=page.suggestion,
            degraded=page.degraded,
        )
    )


@bp.route("/activities/<int:activity_id>")
@operation(
    "/api/v1/activities/{id}",
    "getActivity",
    "One public activity",
    tag="activities",
    path_params=schemas.ActivityPath,
    query=(schemas.LanguageParams,),
    responses={
        200: (schemas.ActivityDetail, "Everything public about it."),
        404: (_ERROR, "No such public activity (drafts and archived ones too)."),
    },
)
def show_activity(activity_id: int):
    """One public activity with its description, schedules and next occurrences."""
    activity = db.session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(
            selectinload(Activity.organisation).selectinload(Organisation.municipality),
            selectinload(Activity.category),
            selectinload(Activity.schedules),
            selectinload(Activity.translations),
        )
    )
    # The API has no login, so only public activities exist here (drafts are not revealed).
    if activity is None or not activity.is_public:
        abort_with(404, _("Aktiviteten finnes ikke."))
    return serializers.json_response(serializers.activity_detail(activity, now=utcnow()))


@bp.route("/organisations")
@operation(
    "/api/v1/organisations",
    "listOrganisations",
    "The clubs and associations directory, by name",
    description="The same as the /organisations page: organisations that are not rejected "
    "and have a public activity, searched and filtered, one page at a time, with the counts "
    "per filter value.",
    tag="organisations",
    query=(schemas.OrganisationParams, schemas.LanguageParams),
    responses={
        200: (schemas.OrganisationList, "One page of matches."),
        400: (_ERROR, "A bad parameter; `parameter` names it."),
        404: (_ERROR, "An unknown municipality; `parameter` names it."),
    },
)
def list_organisations():
    """The clubs and associations directory: the same filters and counts as the page."""
    try:
        query = parse_directory_args(request.args)
    except DirectoryError as exc:
        return _parameter_error(exc.status, exc.message, exc.param)
    page = directory_page(query, now=utcnow())
    return serializers.json_response(
        schemas.OrganisationList(
            items=[serializers.organisation_item(entry) for entry in page.entries],
            total=page.total,
            page=page.page,
            pages=page.pages,
            facets=schemas.OrganisationFacets(**page.facets),
        )
    )


@bp.route("/categories")
@operation(
    "/api/v1/categories",
    "listCategories",
    "Categories, by name in the language asked for",
    description="The categories organisers choose from and the search filters offer; hidden "
    "ones are left out (their activities keep them).",
    tag="categories",
    query=(schemas.NamesLanguageParams,),
    responses={200: (schemas.CategoryList, "All of them.")},
)
def list_categories():
    """The categories offered to organisers and in the filters (hidden ones left out), by name
    in the request's language."""
    language = current_language()
    categories = db.session.scalars(select(Category).where(Category.hidden.is_(False))).all()
    items = [serializers.category_item(c, language) for c in categories]
    items.sort(key=lambda item: (item.name.casefold(), item.slug))
    return serializers.json_response(schemas.CategoryList(items=items))


@bp.route("/schools")
@operation(
    "/api/v1/schools",
    "listSchools",
    "Schools with their grades and channels, by name",
    tag="schools",
    query=(schemas.MunicipalityParams, schemas.LanguageParams),
    responses={200: (schemas.SchoolList, "All of them."), 404: _MUNICIPALITY_404},
)
def list_schools():
    """Schools with the grades they serve and the channels they have, by name."""
    municipality = _municipality(_params().municipality)
    stmt = (
        select(School)
        .where(School.active.is_(True))  # a deactivated school has left the API
        .options(selectinload(School.municipality))
        .order_by(School.name, School.id)
    )
    if municipality is not None:
        stmt = stmt.where(School.municipality_id == municipality.id)
    schools = db.session.scalars(stmt).all()
    return serializers.json_response(
        schemas.SchoolList(items=[serializers.school_item(s) for s in schools])
    )


@bp.route("/venues")
@operation(
    "/api/v1/venues",
    "listVenues",
    "Public venues with their coordinates, by municipality and name",
    description="The municipality's own venues and those where a public activity is placed, "
    "with how many public activities are there. A place only a draft names is left out.",
    tag="venues",
    query=(schemas.MunicipalityParams, schemas.LanguageParams),
    responses={
        200: (schemas.VenueList, "All of them."),
        400: (_ERROR, "A bad parameter."),
        404: _MUNICIPALITY_404,
    },
)
def list_venues():
    """Public venues (of one municipality), with their counts of public activities."""
    municipality = _municipality(_params().municipality)
    listed = public_venues(municipality)
    return serializers.json_response(
        schemas.VenueList(items=[serializers.venue_item(item) for item in listed])
    )


@bp.route("/routing")
@operation(
    "/api/v1/routing",
    "getRouting",
    "Which channel carries a public activity to a school, and why",
    description="The school's policy (the municipal default with the school's changes) applied "
    "to the activity in an ISO week; the week's backpack-post quota counts pending and approved "
    "requests.",
    tag="routing",
    query=(schemas.RoutingParams, schemas.LanguageParams),
    responses={
        200: (schemas.Routing, "The decision with its reasons."),
        400: (_ERROR, "A missing or malformed parameter; `parameter` names it."),
        404: (
            _ERROR,
            "No such public activity, no such school, or a school in another municipality; "
            "`parameter` names which.",
        ),
    },
)
def routing():
    """The routing decision for a public activity at a school: channel, rule and reasons."""
    args = request.args
    raw_activity = args.get("activity", "").strip()
    if not raw_activity:
        return _parameter_error(400, _("Oppgi aktiviteten med activity=<id>."), "activity")
    if not re.fullmatch(r"[0-9]{1,10}", raw_activity) or int(raw_activity) > MAX_ID:
        return _parameter_error(
            400, _("«activity» må være id-en til en aktivitet (et helt tall)."), "activity"
        )
    school_slug = args.get("school", "").strip()
    if not school_slug:
        return _parameter_error(400, _("Oppgi skolen med school=<kortnavn>."), "school")
    raw_week = args.get("week", "").strip()
    week = parse_week(raw_week) if raw_week else None
    if raw_week and week is None:
        return _parameter_error(400, week_error(), "week")

    activity = db.session.scalar(
        select(Activity)
        .where(Activity.id == int(raw_activity))
        .options(selectinload(Activity.organisation).selectinload(Organisation.municipality))
    )
    # No login here: only public activities exist (a draft is not revealed).
    if activity is None or not activity.is_public:
        return _parameter_error(404, _("Aktiviteten finnes ikke."), "activity")
    if activity.listing_expired:  # out of date: not routed to any school
        return _parameter_error(
            404, _("Aktiviteten er ikke bekreftet som aktuell og formidles ikke."), "activity"
        )
    school = db.session.scalar(select(School).where(School.slug == school_slug))
    if school is None:
        return _parameter_error(
            404, _("Skolen «%(slug)s» finnes ikke.", slug=school_slug), "school"
        )
    if not school.active:
        return _parameter_error(
            404,
            _("Skolen «%(slug)s» er deaktivert og formidler ingen tilbud.", slug=school_slug),
            "school",
        )
    if school.municipality_id != activity.organisation.municipality_id:
        return _parameter_error(
            404,
            _("Skolen «%(slug)s» hører ikke til kommunen der aktiviteten er.", slug=school_slug),
            "school",
        )
    decision = decision_json(decide_for(activity, school, week))
    return serializers.json_response(schemas.Routing.model_validate(decision))


@bp.route("/school-calendar")
@operation(
    "/api/v1/school-calendar",
    "getSchoolCalendar",
    "School holidays by municipality and school year, with the weeks they close",
    description="Weeks whose every school day (Monday to Friday) is a holiday are blackout "
    "weeks for every school channel of the municipality.",
    tag="schools",
    query=(schemas.MunicipalityParams, schemas.LanguageParams),
    responses={
        200: (schemas.SchoolCalendar, "The holidays (of one municipality, or of all)."),
        400: (_ERROR, "A bad parameter."),
        404: _MUNICIPALITY_404,
    },
)
def school_calendar():
    """The school holidays (of one municipality) with the blackout weeks each one closes."""
    municipality = _municipality(_params().municipality)
    if municipality is not None:
        municipalities = [municipality]
    else:
        municipalities = list(db.session.scalars(select(Municipality).order_by(Municipality.slug)))
    items = []
    for each in municipalities:
        calendar = SchoolCalendar(each.id)
        items += [
            schemas.SchoolHoliday(
                municipality=each.slug,
                school_year=row.school_year,
                name=row.name,
                first_day=row.first_day,
                last_day=row.last_day,
                blackout_weeks=calendar.weeks_of(row),
            )
            for row in calendar.rows
        ]
    return serializers.json_response(schemas.SchoolCalendar(items=items))


@bp.route("/openapi.json")
@operation(
    "/api/v1/openapi.json",
    "getOpenApi",
    "This description",
    tag="meta",
    responses={200: (None, "The OpenAPI 3.1 document.")},
)
def openapi_json():
    """The OpenAPI 3.1 description of this API and /healthz."""
    response = jsonify(openapi.openapi_document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


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


def check_search() -> str:
    """The search index's state: "ok", or "degraded" when it is missing or broken and search
    answers from the database."""
    from directory.search.service import index_status

    return index_status()


def watched_folders() -> list[Path]:
    """Where the app writes: the instance, upload (unless uploads are in the database) and
    search-index folders and the SQLite database's folder; each as its nearest existing folder
    (uploads appear with the first)."""
    config = current_app.config
    folders = [
        current_app.instance_path,
        config.get("UPLOAD_FOLDER") if config.get("UPLOAD_STORAGE") == "folder" else None,
        config.get("SEARCH_INDEX_DIR"),
    ]
    database = db.engine.url
    if database.get_backend_name() == "sqlite" and database.database not in (None, "", ":memory:"):
        folders.append(str(Path(database.database).parent))
    found: list[Path] = []
    for folder in filter(None, folders):
        path = Path(folder).absolute()
        while not path.exists() and path != path.parent:
            path = path.parent
        if path not in found:
            found.append(path)
    return found


def check_disk() -> str:
    """ "ok", or "low" when a folder the app writes to has less than DISK_MIN_FREE_BYTES free
    (uploads and index writes would soon fail)."""
    minimum = current_app.config["DISK_MIN_FREE_BYTES"]
    low = [path for path in watched_folders() if shutil.disk_usage(path).free < minimum]
    if low:
        current_app.logger.warning("low disk space in %s", ", ".join(map(str, low)))
        return "low"
    return "ok"


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
    checks.setdefault("disk", check_disk)


@health_bp.route("/healthz")
@operation(
    "/healthz",
    "health",
    "Whether the database, the search index and the disk are fine",
    tag="meta",
    responses={
        200: (schemas.Health, "Every component is ok."),
        503: (
            schemas.Health,
            'A component is down; search answers from the database ("search": "degraded") or '
            'the index lags behind the database ("search": "behind"); or free disk space is '
            'low ("disk": "low").',
        ),
    },
)
def healthz():
    """{"status": "ok", <component>: "ok"|"error", ...}; 503 when any component fails."""
    report: dict[str, str] = {}
    for name, check in current_app.extensions[HEALTH_CHECKS_KEY].items():
        try:
            # In a transaction of its own: a failed check leaves the session clean for the next.
            outcome = run_in_transaction(check)
        except Exception:  # any failure of a component is reported, never raised
            current_app.logger.exception("health check %s failed", name)
            outcome = False
        # A check may name its own state ("degraded"); anything but "ok" counts as failing.
        report[name] = (
            outcome if isinstance(outcome, str) else "error" if outcome is False else "ok"
        )
    healthy = all(value == "ok" for value in report.values())
    response = jsonify(status="ok" if healthy else "degraded", **report)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
