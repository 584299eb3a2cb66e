"""Calendars (.ics), the Atom feed and the embeddable widget: public, cacheable, no cookie.

Each takes the same filters as the search pages (parsed by directory.search.query) and asks the
search service for the activities, so a filter means the same everywhere. Responses carry an
ETag and a Last-Modified date and answer conditional requests with 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    render_template,
    request,
)
from flask_babel import format_datetime, get_locale
from werkzeug.http import is_resource_modified

from directory import data_version, loading
from directory.activities.content_languages import content_text
from directory.activities.models import Activity
from directory.calendar import Events, activity_calendar, activity_events, calendar_of, ics_filename
from directory.extensions import limiter
from directory.feeds.atom import AtomEntry, AtomFeed, build_feed
from directory.feeds.links import filter_args
from directory.i18n import gettext as _
from directory.rendering import format_price
from directory.search.base import ResultPage
from directory.search.query import (
    QueryError,
    SearchQuery,
    parse_search_args,
)
from directory.search.service import UnknownFilterValue, search_activities
from directory.security import allow_framing
from directory.shelf import shelved
from directory.timeutil import OSLO, utcnow
from directory.urls import absolute_url, site_base_url, site_origin
from directory.web import abort_with

bp = Blueprint("feeds", __name__)

CALENDAR_LIMIT = 500
ATOM_LIMIT = 50
EMBED_LIMIT = 20
MAX_AGE = 300  # seconds a client or shared cache may keep a response without asking again
REFRESH_INTERVAL = timedelta(hours=6)  # what subscribed calendars are asked to poll at
# Part of every ETag: bump it when the output format changes, so caches fetch the new form.
FORMAT_VERSION = "1"
# One generous limit per client address for all feeds and the widget: only a loop meets it.
feed_limit = limiter.shared_limit(lambda: current_app.config["FEED_RATE_LIMIT"], scope="feeds")


# --- helpers --------------------------------------------------------------------------------


def _locale() -> str:
    locale = get_locale()
    return locale.language if locale else "nb"


def _parse_query() -> SearchQuery:
    try:
        return parse_search_args(request.args)
    except QueryError as exc:
        abort_with(400, exc.message)
        raise  # unreachable: abort_with raises


def _search(query: SearchQuery, limit: int, *, next_starts: bool = True) -> ResultPage:
    """The first `limit` matching public activities, in the query's order, in one page."""
    try:
        return search_activities(
            replace(query, page=1, per_page=limit), facets=False, next_starts=next_starts
        )
    except UnknownFilterValue as exc:
        abort_with(404, exc.message)
        raise  # unreachable: abort_with raises
    except QueryError as exc:  # a `near` school without coordinates
        abort_with(400, exc.message)
        raise  # unreachable: abort_with raises


def _today() -> str:
    return datetime.now(OSLO).date().isoformat()


def _fingerprint(kind: str, activities: list[Activity], *extra: object) -> str:
    """An ETag value from what the output is made of: rows, versions, filters, language, host."""
    rows = [
        (
            a.id,
            a.version,
            a.updated_at.isoformat(),
            a.organisation.id,
            a.organisation.version,
            a.category.name_in(_locale()) if a.category else None,
        )
        for a in activities
    ]
    material = repr(
        (FORMAT_VERSION, kind, site_origin(), request.script_root, _locale(), rows, extra)
    )
    return hashlib.sha256(material.encode()).hexdigest()[:40]


def _last_changed(activities: list[Activity]) -> datetime:
    """The latest change among these activities and their organisations."""
    stamps = [a.updated_at for a in activities] + [a.organisation.updated_at for a in activities]
    return max(stamps, default=datetime(2000, 1, 1, tzinfo=UTC))


def _list_validators(kind: str, query: SearchQuery, *extra: object, hourly: bool = False):
    """(ETag, Last-Modified) of a filtered list, known before any search: the public data's
    version (directory.data_version), the filters, the language, the host and the time the
    list depends on. A list changes when public data changes, and at midnight, when finished
    activities and expired listings drop out; with `hourly`, every hour too, as its "next time"
    texts move with the clock."""
    version, changed_at = data_version.current()
    now = datetime.now(OSLO)
    since = (
        now.replace(minute=0, second=0, microsecond=0)
        if hourly
        else now.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    material = repr(
        (FORMAT_VERSION, kind, site_origin(), request.script_root, _locale(), version,
         sorted(filter_args(query).items()), since.isoformat(), extra)
    )  # fmt: skip
    etag = hashlib.sha256(material.encode()).hexdigest()[:40]
    candidates = [since.astimezone(UTC)] + ([changed_at] if changed_at is not None else [])
    return etag, max(candidates)


def _conditional(
    etag: str,
    last_modified: datetime,
    build: Callable[[], bytes],
    *,
    mimetype: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """A 304 when the client's copy is current, else the built body; both with cache headers.

    The ETag is weak: the bytes differ between two requests (an iCalendar DTSTAMP is the time
    of writing) while the content is the same.
    """
    last_modified = min(last_modified.astimezone(UTC).replace(microsecond=0), utcnow())
    if not is_resource_modified(request.environ, etag=f'W/"{etag}"', last_modified=last_modified):
        response = Response(status=304)
    else:
        response = Response(build(), mimetype=mimetype, headers=headers or {})
    response.set_etag(etag, weak=True)
    response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    return response


def _kept_events(page: ResultPage, *, this_year: int) -> list[Events]:
    """The events of the page's activities: each activity's as this process wrote them for the
    same site, language and year (kept until the public data changes, like the result cards),
    the others written from their activities, loaded together in one query."""
    shelf = data_version.kept_shelf("calendar_events", "CALENDAR_EVENTS_KEPT")
    base_url = site_base_url()
    locale = _locale()
    cancelled_label = _("Avlyst")
    return shelved(
        page.ids,
        shelf,
        lambda i: (base_url, locale, this_year, i),
        page.activities,
        lambda _i, activity: activity_events(
            activity,
            base_url=base_url,
            this_year=this_year,
            locale=locale,
            cancelled_label=cancelled_label,
        ),
    )


# --- routes ---------------------------------------------------------------------------------


@bp.route("/activities/<int:activity_id>.ics")
@feed_limit
def activity_ics(activity_id: int):
    """One public activity as an iCalendar file, one event per schedule."""
    activity = loading.public_activity(activity_id)
    filename = ics_filename(activity.title)
    # ?content=uk: the activity's text in that language (as its page with ?content= shows it).
    text = content_text(activity, request.args.get("content"))
    texts = {activity.id: text} if text is not None else None
    return _conditional(
        _fingerprint("activity.ics", [activity], text.language if text else None),
        _last_changed([activity]),
        lambda: activity_calendar(
            [activity],
            base_url=site_base_url(),
            now=utcnow(),
            name=text.title if text else activity.title,
            locale=_locale(),
            cancelled_label=_("Avlyst"),
            texts=texts,
        ),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/calendar.ics")
@feed_limit
def calendar_feed():
    """The filtered public activities as a subscribable calendar, soonest first, at most 500.

    A client's copy that is still current is answered 304 before any search runs."""
    query = replace(_parse_query(), sort="soonest")
    etag, last_modified = _list_validators("calendar.ics", query)

    def build() -> bytes:
        # The events carry their rules: the items' next starts would be computed for nothing.
        page = _search(query, CALENDAR_LIMIT, next_starts=False)
        now = utcnow()
        return calendar_of(
            _kept_events(page, this_year=now.astimezone(OSLO).year),
            now=now,
            name=_("Aktiviteter for barn og unge"),
            refresh_interval=REFRESH_INTERVAL,
        )

    return _conditional(
        etag,
        last_modified,
        build,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="aktiviteter.ics"'},
    )


def _entry_summary(activity: Activity, next_start: datetime | None) -> str:
    parts = []
    if activity.status == "cancelled":
        parts.append(_("Aktiviteten er avlyst."))
    if activity.summary:
        parts.append(activity.summary.strip())
    parts.append(_("Alder: %(min)s–%(max)s år.", min=activity.age_min, max=activity.age_max))
    parts.append(_("Pris: %(price)s.", price=format_price(activity.price_nok)))
    if next_start is not None:
        # TRANSLATORS: a CLDR date pattern: EEEE weekday, d day, MMMM month, HH:mm time.
        when = format_datetime(next_start, _("EEEE d. MMMM 'kl.' HH:mm"))
        parts.append(_("Neste gang: %(when)s.", when=when))
    place = ", ".join(p for p in (activity.venue, activity.address) if p)
    if place:
        parts.append(_("Sted: %(place)s.", place=place))
    return " ".join(parts)


@bp.route("/feed.atom")
@feed_limit
def atom_feed():
    """The filtered public activities as an Atom feed, newest published first, at most 50."""
    query = replace(_parse_query(), sort="newest")
    args = filter_args(query)
    etag, last_modified = _list_validators("feed.atom", query, hourly=True)

    def build() -> bytes:
        result = _search(query, ATOM_LIMIT)
        # Newest published first, whatever order the backend had for equal dates.
        activities = sorted(
            result.items,
            key=lambda a: ((a.published_at or a.created_at), a.id),
            reverse=True,
        )
        locale = _locale()
        entries = [
            AtomEntry(
                id=absolute_url("activities.show_activity", activity_id=a.id, lang=None),
                title=_("Avlyst: %(title)s", title=a.title) if a.status == "cancelled" else a.title,
                updated=max(a.updated_at, a.organisation.updated_at),
                published=a.published_at,
                link=absolute_url("activities.show_activity", activity_id=a.id),
                summary=_entry_summary(a, result.next_starts.get(a.id)),
                author=a.organisation.name,
                categories=((a.category.slug, a.category.name_in(locale)),) if a.category else (),
            )
            for a in activities
        ]
        feed = AtomFeed(
            id=absolute_url("feeds.atom_feed", **args, lang=None),
            title=_("Aktiviteter for barn og unge"),
            subtitle=_("Nye og oppdaterte aktiviteter i Aktivitetskatalogen"),
            updated=min(last_modified, utcnow()),
            self_link=absolute_url("feeds.atom_feed", **args),
            alternate_link=absolute_url("activities.home", **args),
            author=_("Aktivitetskatalogen"),
            lang=locale,
        )
        return build_feed(feed, entries)

    return _conditional(etag, last_modified, build, mimetype="application/atom+xml")


@bp.route("/embed")
@feed_limit
def embed():
    """A compact list of the filtered activities for a school or municipal page's iframe."""
    # First, so that an error page (a bad filter) shows inside the iframe too.
    allow_framing()
    query = _parse_query()
    limit = min(query.per_page, EMBED_LIMIT)
    args = filter_args(query)
    etag, last_modified = _list_validators("embed", query, query.sort, limit, hourly=True)

    def build() -> bytes:
        result = _search(replace(query, page=1, per_page=limit), limit)
        html = render_template(
            "feeds/embed.html",
            items=[
                {
                    "activity": a,
                    "url": absolute_url("activities.show_activity", activity_id=a.id),
                    "next_start": result.next_starts.get(a.id),
                }
                for a in result.items
            ],
            total=result.total,
            all_url=absolute_url("activities.home", **args),
            lang=g.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"],
        )
        return html.encode("utf-8")

    return _conditional(etag, last_modified, build, mimetype="text/html")
