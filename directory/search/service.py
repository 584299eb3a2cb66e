"""The search service: what views, feeds and the API call to find public activities.

    from directory.search.query import parse_search_args
    from directory.search.service import UnknownFilterValue, search_activities

    query = parse_search_args(request.args)          # QueryError -> 400
    try:
        page = search_activities(query)               # ResultPage
    except UnknownFilterValue as exc:                 # unknown school/organisation/municipality
        abort_with(404, exc.message)

A ResultPage holds the Activity rows of the requested page in order (organisation, category and
schedules loaded), their next start computed from the schedules now, the total, facet counts
(the same for pages and API: multi-select groups leave their own choice out, see facet_counts),
a spelling suggestion and `degraded` (True when the index could not answer and the database
did). Which backend answers is configured by SEARCH_BACKEND ("whoosh", the default, or
"database"); the index lives in SEARCH_INDEX_DIR and follows the database by itself through
an outbox (directory.search.sync, directory.search.outbox). Every order lists cancelled
activities after the others. count_matches() gives only totals (a search without one filter, to
say which filter to loosen when nothing matched). Maintenance: rebuild_index()
(`flask reindex`), catch_up_backlog() (`flask reindex --pending`), check_index()
(`flask check-index`), index_status() (/healthz).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache

from flask import Flask, current_app
from sqlalchemy import Date, Select, bindparam, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from directory import data_version, loading
from directory.activities.listings import current_listing_condition, oslo_today
from directory.activities.models import Activity
from directory.activities.schedule import next_start_span
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.models import Organisation
from directory.policy.geo import great_circle_km
from directory.search import outbox
from directory.search.base import (
    MULTI_SELECT_FACETS,
    ActivityDocument,
    ResultPage,
    SearchBackend,
    SearchResult,
    SearchUnavailable,
)
from directory.search.database_backend import DatabaseBackend
from directory.search.documents import (
    coordinates,
    document_for,
    iter_public_documents,
    load_public_activities,
    public_conditions,
    public_stamps,
)
from directory.search.query import QueryError, SearchQuery
from directory.search.whoosh_backend import WhooshBackend
from directory.shelf import Shelf
from directory.timeutil import utcnow

EXTENSION_KEY = "directory.search"
BACKLOG_BATCH = 1000  # older backlog entries caught up by one write
DEFAULT_BACKLOG_MAX_AGE_SECONDS = 300


class UnknownFilterValue(LookupError):
    """A filter names something that does not exist (school, organisation or municipality).

    `param` is the query parameter, `message` a sentence for the user in their language;
    str(exc) is the message. Views answer 404 (pages) or 400/404 (API).
    """

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass
class IndexDiff:
    """Where the index and the database disagree, by activity id (each list sorted)."""

    missing: list[int] = field(default_factory=list)  # public in the database, not indexed
    extra: list[int] = field(default_factory=list)  # indexed, not public (or gone)
    stale: list[int] = field(default_factory=list)  # indexed from an older version
    titles: dict[int, str] = field(default_factory=dict)  # for reports; deleted ones absent

    @property
    def clean(self) -> bool:
        """Whether the index and the database agree."""
        return not (self.missing or self.extra or self.stale)


# --- backends --------------------------------------------------------------------------------


def get_backend(app: Flask | None = None) -> SearchBackend:
    """The configured backend of the app (one per process, keeping its searcher open)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    kind = app.config.get("SEARCH_BACKEND", "whoosh")
    directory = app.config["SEARCH_INDEX_DIR"]
    timeout = float(app.config.get("SEARCH_WRITER_TIMEOUT", 5.0))
    key = (kind, directory, timeout)
    cache = app.extensions.setdefault(EXTENSION_KEY, {})
    backend = cache.get(key)
    if backend is None:
        if kind == "whoosh":
            backend = WhooshBackend(directory, writer_timeout=timeout)
        elif kind == "database":
            backend = DatabaseBackend()
        elif kind == "postgres":
            from directory.search.postgres_backend import PostgresBackend

            backend = PostgresBackend()
        else:
            raise ValueError(
                f"SEARCH_BACKEND must be 'whoosh', 'postgres' or 'database', not {kind!r}"
            )
        cache[key] = backend
    return backend


def _uses_index(backend: SearchBackend) -> bool:
    return not isinstance(backend, DatabaseBackend)


# --- searching -------------------------------------------------------------------------------


def resolve_query(query: SearchQuery) -> SearchQuery:
    """The query with its school's grades and municipality filled in, and the point of its
    `near` school; raises UnknownFilterValue for a school, organisation or municipality slug
    that does not exist (or a school no longer active), and QueryError for a `near` school
    without coordinates (nothing to measure from: a bad request, not a missing thing)."""
    # The lists are kept in this process until the public data changes.
    lists = loading.filter_lists() if query.school or query.near or query.municipality else None
    if query.school:
        school = lists.school(query.school)
        if school is None:  # a deactivated school has left the filters: as unknown
            raise UnknownFilterValue(
                "school", _("Skolen «%(slug)s» finnes ikke.", slug=query.school)
            )
        query = replace(
            query,
            school_grades=(school.grade_min, school.grade_max),
            school_municipality=school.municipality_slug,
        )
    if query.near:
        near = lists.school(query.near)
        if near is None:
            raise UnknownFilterValue("near", _("Skolen «%(slug)s» finnes ikke.", slug=query.near))
        point = coordinates(near.latitude, near.longitude)
        if point is None:
            raise QueryError(
                "near",
                _("Skolen %(name)s har ingen koordinater ennå, så avstand kan ikke regnes ut.",
                  name=near.name),
            )  # fmt: skip
        query = replace(query, near_point=point)
    if query.organisation:
        found = db.session.scalar(
            select(Organisation.id).where(Organisation.slug == query.organisation)
        )
        if found is None:
            raise UnknownFilterValue(
                "organisation",
                _("Organisasjonen «%(slug)s» finnes ikke.", slug=query.organisation),
            )
    if lists is not None and query.municipality and lists.municipality(query.municipality) is None:
        raise UnknownFilterValue(
            "municipality", _("Kommunen «%(slug)s» finnes ikke.", slug=query.municipality)
        )
    return query


def search_activities(
    query: SearchQuery,
    *,
    now: datetime | None = None,
    facets: bool = True,
    next_starts: bool = True,
) -> ResultPage:
    """One page of public activities matching the query, in the query's order.

    Raises UnknownFilterValue for an unknown school/organisation/municipality, QueryError for a
    `near` school without coordinates. With `near`, `distances` holds each item's distance
    from the school in km (None for an activity without coordinates). Never raises for
    an unavailable index: the database answers instead and the page is marked degraded. Items
    may be fewer than the page size when the index lists an activity that has just stopped
    being public (it is left out rather than shown). Facet counts follow facet_counts();
    `facets=False` (feeds, which show none) skips the extra counting searches;
    `next_starts=False` (the calendar feed, which writes the rules themselves) leaves
    next_starts empty instead of expanding every item's schedules.
    """
    now = now or utcnow()
    query = resolve_query(query)
    answerer = _Answerer(get_backend(), now)
    result = answerer.query(query)
    within = _without_hidden_categories(result.facets)
    if not facets:
        facets = result.facets
    elif result.open_facets is not None:  # the backend counted them with the result
        facets = {**result.facets, **result.open_facets}
    else:
        facets = facet_counts(query, result.facets, answerer.counts)
    facets = _without_hidden_categories(facets)
    listed, points = _listed(result.ids, oslo_today(now))
    distances: dict[int, float | None] = {}
    if query.near_point is not None:
        for activity_id in listed:
            point = points[activity_id]
            distances[activity_id] = great_circle_km(*query.near_point, *point) if point else None
    page = ResultPage(
        ids=listed,
        next_starts={},
        total=result.total,
        page=query.page,
        per_page=query.per_page,
        facets=facets,
        suggestion=result.suggestion,
        degraded=answerer.degraded,
        facets_within=within,
        distances=distances,
        loader=loading.activities,
    )
    if next_starts:
        page.next_starts = _next_starts(page, now)
    return page


LISTED_KEPT = "listed"


def _listed(ids: list[int], today) -> tuple[list[int], dict[int, tuple[float, float] | None]]:
    """Of the ids the backend found, in its order, those still public and current (the index
    may list one that has just stopped being either: it is left out rather than shown), and
    their points. Whether an activity is listed depends only on the public data and the day:
    this process keeps each answer for the day under the public data's version, and asks the
    database (one light query, no activity loaded) only about the ids it has no answer for."""
    if not ids:
        return [], {}
    kept: Shelf[tuple[date, bool, tuple[float, float] | None]] = data_version.kept_shelf(
        LISTED_KEPT, "NEXT_STARTS_KEPT_ENTRIES", switchable=False
    )
    points: dict[int, tuple[float, float] | None] = {}
    missing = []
    for activity_id in ids:
        found = kept.get(activity_id)
        if found is None or found[0] != today:
            missing.append(activity_id)
        elif found[1]:
            points[activity_id] = found[2]
    if missing:
        rows = db.session.execute(_listed_statement(), {"ids": missing, "today": today})
        found_now = {row.id: coordinates(row.latitude, row.longitude) for row in rows}
        for activity_id in missing:
            listed = activity_id in found_now
            kept.put(activity_id, (today, listed, found_now.get(activity_id)))
            if listed:
                points[activity_id] = found_now[activity_id]
    return [i for i in ids if i in points], points


@cache
def _listed_statement() -> Select:
    """_listed()'s query, built once (the ids and the day are its parameters)."""
    return (
        select(Activity.id, Activity.latitude, Activity.longitude)
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(
            Activity.id.in_(bindparam("ids", expanding=True)),
            *public_conditions(),
            current_listing_condition(bindparam("today", type_=Date())),
        )
    )


NEXT_STARTS_KEPT = "next_starts"


def _next_starts(page: ResultPage, now: datetime) -> dict[int, datetime | None]:
    """Each listed activity's next start at `now`. This process keeps each answer with the
    time until which it holds (next_start_span), under the public data's version; only the
    activities without a current answer are loaded (in one query, kept by the page for its
    cards)."""
    kept: Shelf[tuple[datetime, datetime | None, datetime | None]] = data_version.kept_shelf(
        NEXT_STARTS_KEPT, "NEXT_STARTS_KEPT_ENTRIES", switchable=False
    )
    starts: dict[int, datetime | None] = {}
    missing = []
    for activity_id in page.ids:
        found = kept.get(activity_id)
        if found is not None and found[0] <= now and (found[2] is None or now < found[2]):
            starts[activity_id] = found[1]
        else:
            missing.append(activity_id)
    for activity_id, activity in page.activities(missing).items():
        start, until = next_start_span(activity.schedules, after=now)
        kept.put(activity_id, (now, start, until))
        starts[activity_id] = start
    return starts


def count_matches(queries: Iterable[SearchQuery], *, now: datetime | None = None) -> list[int]:
    """How many public activities each query finds, in the order given: totals only (the
    cheapest order and the smallest page, no activities loaded, no facet counts of its own).

    For a search that found nothing: the same search without one filter at a time, to say which
    filter to loosen. Raises UnknownFilterValue as search_activities does.
    """
    now = now or utcnow()
    answerer = _Answerer(get_backend(), now)
    return [
        answerer.counts(replace(resolve_query(q), sort="soonest", page=1, per_page=1)).total
        for q in queries
    ]


class _Answerer:
    """Asks the configured backend; once the index cannot answer, the database answers this
    and every later question of the same search (which is then degraded)."""

    def __init__(self, backend: SearchBackend, now: datetime):
        self.backend = backend
        self.now = now
        self.degraded = False

    def query(self, query: SearchQuery, *, count_only: bool = False) -> SearchResult:
        """The backend's answer to the query, or the database's."""
        try:
            return self.backend.query(query, now=self.now, count_only=count_only)
        except SearchUnavailable as exc:
            current_app.logger.warning(
                "search index unavailable, answering from the database: %s", exc
            )
            self.backend = DatabaseBackend()
            self.degraded = True
            return self.backend.query(query, now=self.now, count_only=count_only)

    def counts(self, query: SearchQuery) -> SearchResult:
        """The total and the facets of the query (its page of ids may be left out)."""
        return self.query(query, count_only=True)


def _without_hidden_categories(facets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The counts without hidden categories: they are no filter choice (activities keep them)."""
    counts = facets.get("category")
    if not counts:
        return facets
    hidden = {c.slug for c in loading.filter_lists().categories if c.hidden}
    if not hidden:
        return facets
    return {**facets, "category": {k: v for k, v in counts.items() if k not in hidden}}


def facet_counts(
    query: SearchQuery,
    facets: dict[str, dict[str, int]],
    answer: Callable[[SearchQuery], SearchResult],
) -> dict[str, dict[str, int]]:
    """The facet counts every view and the API show, from the counts within the result.

    A multi-select group (MULTI_SELECT_FACETS) with a choice is counted in the same search
    without that group's own choice ("disjunctive" facets): each value's count is how many
    matches it has under all the other filters, so "Musikk (3)" next to a ticked "Idrett" says
    what ticking Musikk too would bring. The other groups (free, accessible) count within the
    current result. `answer` runs a query through the backend that answered the result.
    The search page writes an unticked value's count as what it adds, "(+2)": this count less
    the results that already have it (ResultPage.facets_within).
    """
    counts = {name: dict(values) for name, values in facets.items()}
    for facet, attribute in MULTI_SELECT_FACETS.items():
        if getattr(query, attribute):
            # Only the counts are wanted: the cheapest order and the smallest page.
            wider = replace(query, **{attribute: ()}, sort="soonest", page=1, per_page=1)
            counts[facet] = dict(answer(wider).facets.get(facet, {}))
    return counts


def index_status(*, now: datetime | None = None) -> str:
    """The search state for /healthz: "ok" when the configured backend can answer; "degraded"
    when search falls back to the database (index missing, corrupt or from another version);
    "behind" when a change has waited in the backlog longer than SEARCH_BACKLOG_MAX_AGE_SECONDS
    (its worker died after the commit, or the index cannot be written: `reindex --pending`)."""
    backend = get_backend()
    if not backend.check():
        return "degraded"
    if _uses_index(backend) and index_behind(now=now):
        return "behind"
    return "ok"


def index_behind(*, now: datetime | None = None) -> bool:
    """Whether the backlog holds an entry older than SEARCH_BACKLOG_MAX_AGE_SECONDS."""
    seconds = current_app.config.get(
        "SEARCH_BACKLOG_MAX_AGE_SECONDS", DEFAULT_BACKLOG_MAX_AGE_SECONDS
    )
    try:
        with _new_session() as session:
            oldest = outbox.oldest_queued_at(session)
    except SQLAlchemyError as exc:
        # The database's own check reports it; the index may still answer.
        current_app.logger.warning("search backlog unreadable: %s", exc)
        return False
    return oldest is not None and oldest < (now or utcnow()) - timedelta(seconds=seconds)


# --- writing ---------------------------------------------------------------------------------


def _new_session() -> Session:
    # A session of its own: the caller's may be mid-commit (sync) or hold unrelated objects.
    return Session(db.engine, expire_on_commit=False)


def write_activities(ids: Iterable[int], *, include_backlog: bool = True) -> int:
    """Bring these activities up to date in the index: public ones (re)indexed, others removed.

    Reads the database through a new short-lived session while holding the index's writer lock,
    so that concurrent writers never put back an older version. With include_backlog, their
    backlog entries and the BACKLOG_BATCH longest-queued others are written too and then cleared
    (unless a change queued them again meanwhile). Raises SearchUnavailable when the index cannot
    be written (the entries stay queued). Returns how many activities were written.
    """
    backend = get_backend()
    if not _uses_index(backend):
        return 0
    wanted = set(ids)
    queued: list[outbox.Entry] = []
    now = utcnow()
    with _new_session() as session:

        def read() -> tuple[list[ActivityDocument], list[int]]:
            if include_backlog:
                queued.extend(outbox.entries(session, wanted, oldest=BACKLOG_BATCH))
                wanted.update(entry.activity_id for entry in queued)
            activities = load_public_activities(session, wanted)
            documents = [document_for(activities[i], now=now) for i in sorted(activities)]
            session.rollback()  # end the read: the documents are plain data
            return documents, sorted(wanted - activities.keys())

        if not wanted and not include_backlog:
            return 0
        backend.update_from(read)
        if queued:
            outbox.clear(session, queued)
            session.commit()
    return len(wanted)


def follow_changes(ids: Iterable[int]) -> bool:
    """Write changed activities to the index after a commit; never raises.

    Their backlog entries, queued by the change itself, are cleared on success and stay queued
    (with the attempt counted) on failure. Returns whether the write succeeded.
    """
    ids = set(ids)
    try:
        write_activities(ids)
        return True
    except Exception as exc:  # the index must never break the request that changed the data
        current_app.logger.warning("search index not updated for %d activities: %s", len(ids), exc)
        try:
            with _new_session() as session:
                outbox.note_failure(session, ids, str(exc) or type(exc).__name__)
                session.commit()
        except Exception:
            current_app.logger.exception("could not count the failed search index write")
        return False


def catch_up_backlog() -> int:
    """Write every activity in the backlog to the index (`flask reindex --pending`).

    Returns how many were written; raises SearchUnavailable when the index cannot be written.
    """
    written = 0
    before = None
    while True:
        pending = pending_count()
        if not pending or pending == before:  # done, or entries re-queued meanwhile
            return written
        before = pending
        written += write_activities((), include_backlog=True)


def pending_count() -> int:
    """How many activities wait in the backlog for the index."""
    with _new_session() as session:
        return outbox.pending_count(session)


def public_activity_count() -> int:
    """How many activities are public (what a rebuild indexes)."""
    return (
        db.session.scalar(
            select(func.count(Activity.id)).join(Organisation).where(*public_conditions())
        )
        or 0
    )


def rebuild_index(progress: Callable[[int], None] | None = None) -> int:
    """Build a new index of every public activity and switch to it; returns how many.

    Searches keep using the old index until the new one is complete. Changes committed while
    the rebuild ran are repaired right after the switch. The backlog entries queued before it
    began are cleared; those queued since stay for their own writers.
    """
    backend = get_backend()
    if not _uses_index(backend):
        return 0
    started = utcnow()
    with _new_session() as session:
        queued = outbox.all_entries(session)
        session.rollback()  # the rebuild reads what was committed after these were queued
        _total, documents = iter_public_documents(session, now=started)
        count = backend.rebuild(documents, progress=progress)
    repair_index()
    with _new_session() as session:
        outbox.clear(session, queued)
        session.commit()
    return count


def check_index() -> IndexDiff:
    """Compare the index with the database by stamp; raises SearchUnavailable without an index."""
    backend = get_backend()
    indexed = backend.stamps()
    with _new_session() as session:
        public = public_stamps(session)
        diff = IndexDiff(
            missing=sorted(public.keys() - indexed.keys()),
            extra=sorted(indexed.keys() - public.keys()),
            stale=sorted(i for i in public.keys() & indexed.keys() if public[i][0] != indexed[i]),
        )
        diff.titles = {i: public[i][1] for i in diff.missing + diff.stale}
        if diff.extra:
            diff.titles.update(
                session.execute(
                    select(Activity.id, Activity.title).where(Activity.id.in_(diff.extra))
                ).all()
            )
    return diff


def repair_index() -> IndexDiff:
    """Write whatever check_index() finds different; returns what it found."""
    diff = check_index()
    if not diff.clean:
        write_activities(diff.missing + diff.extra + diff.stale, include_backlog=False)
    return diff
