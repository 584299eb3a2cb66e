"""The database backend: the same answers as the index, from SQL and Python, slower.

It answers when the Whoosh index is missing, corrupt or locked (the service marks such pages
degraded), and can be configured outright with SEARCH_BACKEND = "database". Structured filters
(age, grade, school, category, free, accessibility, municipality, organisation) run in SQL; the
free text is narrowed in SQL with LIKE patterns that tolerate æ/ø/å spelled either way, then
matched exactly in Python with the same Norwegian analysis as the index (stems, compound parts,
folded spellings), so "kurs" finds "Svømmekurs" here too. Schedules are expanded in Python for
weekdays, times of day, dates, "has not ended" and the soonest order; distances from a school
(`within_km`, the distance order) are measured in Python from the activity's coordinates. No
typo tolerance and no spelling suggestions: those need the index. An offer's text in other
languages (issue 14) is matched in Python with each language's analysis, as the index's fields
hold it (directory.search.translated).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, literal, or_, select

from directory.activities.listings import current_listing_condition, oslo_today
from directory.activities.models import Activity, ActivityTranslation, Category, Schedule
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.policy.geo import great_circle_km
from directory.schools.models import Municipality
from directory.search.analysis import analyse, compound_parts, fold, index_analyzer, stem
from directory.search.base import ActivityDocument, SearchResult
from directory.search.documents import (
    ScheduleFacts,
    coordinates,
    public_conditions,
    public_stamps,
    schedule_facts,
    title_sort_key,
)
from directory.search.query import TIMES_OF_DAY, SearchQuery
from directory.search.translated import (
    query_prefix,
    query_terms,
    tokens_by_field,
    translation_text,
)
from directory.search.whoosh_backend import parse_text

_VOWELS = set("aeiouy")
_FOLDED_ANALYZER = index_analyzer(folded=True)
MIN_LIKE = 3  # shorter words are not narrowed in SQL
_CHUNK = 500
FAR = float("inf")  # the distance of an activity without coordinates: after all the others


def like_pattern(word: str) -> str | None:
    """A LIKE pattern that every text containing the word (in any spelling the analysis treats
    as the same) matches: vowels may be æ/ø/å or accented, so they become "_", and "ae" may be
    "æ", so it becomes "%"; a compound's first part stands for it, as its parts may be written
    apart. None when the word is too short to narrow anything."""
    core = word.rstrip("*")
    folded = fold(core)
    parts = compound_parts(folded, folded=True) if core == word else []
    if len(parts) >= 2:  # a compound may be written apart: its first part must be there
        folded = parts[0]
    common = os.path.commonprefix([folded, stem(folded, folded=True)])
    if len(common) < MIN_LIKE:
        return None
    pattern = common.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = pattern.replace("ae", "%")
    pattern = "".join("_" if c in _VOWELS else c for c in pattern)
    return f"%{pattern}%"


def _word_matches(word: str, tokens: set[str]) -> bool:
    if word.endswith("*"):
        core = fold(word[:-1])
        return any(t.startswith(core) for t in tokens)
    if stem(word, folded=True) in tokens:
        return True
    parts = compound_parts(fold(word), folded=True)
    return len(parts) >= 2 and all(stem(p, folded=True) in tokens for p in parts[:2])


def _translated_matches(word: str, tokens: dict[str, set[str]]) -> bool:
    """Whether the word is in the offer's text in another language ({field: tokens})."""
    if not tokens:
        return False
    if word.endswith("*"):
        prefix = query_prefix(word[:-1])
        return any(t.startswith(prefix) for found in tokens.values() for t in found)
    return any(term in tokens.get(field, ()) for field, term in query_terms(word).items())


def _translation_tokens(ids: list[int]) -> dict[int, dict[str, set[str]]]:
    """{activity id: {field: tokens}} of these activities' texts in other languages."""
    texts: dict[int, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(ids), _CHUNK):
        for row in db.session.execute(
            select(
                ActivityTranslation.activity_id,
                ActivityTranslation.language,
                ActivityTranslation.title,
                ActivityTranslation.summary,
                ActivityTranslation.description,
            ).where(ActivityTranslation.activity_id.in_(ids[start : start + _CHUNK]))
        ):
            texts[row.activity_id][row.language] = translation_text(
                row.title, row.summary, row.description
            )
    return {i: tokens_by_field(found) for i, found in texts.items()}


class DatabaseBackend:
    """SearchBackend answered from the database; nothing to index."""

    name = "database"

    def index(self, documents: Iterable[ActivityDocument]) -> None:
        """Nothing to do: the database is the index."""

    def remove(self, ids: Iterable[int]) -> None:
        """Nothing to do: the database is the index."""

    def update(self, documents: Iterable[ActivityDocument], remove_ids: Iterable[int]) -> None:
        """Nothing to do: the database is the index."""

    def update_from(
        self, read: Callable[[], tuple[Iterable[ActivityDocument], Iterable[int]]]
    ) -> None:
        """Nothing to do: the database is the index."""

    def rebuild(
        self,
        documents: Iterable[ActivityDocument],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Nothing to build; returns 0."""
        return 0

    def stamps(self) -> dict[int, str]:
        """The database's own stamps: always in agreement."""
        return {k: stamp for k, (stamp, _title) in public_stamps(db.session).items()}

    def check(self) -> bool:
        """The database backend is as available as the database."""
        return True

    # --- querying ---

    def _conditions(
        self, query: SearchQuery, words: list[str], now: datetime
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = list(public_conditions())
        conditions.append(current_listing_condition(oslo_today(now)))
        for low, high in query.age_windows():
            conditions += [Activity.age_min <= high, Activity.age_max >= low]
        if query.categories:
            conditions.append(Category.slug.in_(query.categories))
        if query.free:
            conditions.append(Activity.price_nok == 0)
        if query.accessible:
            conditions.append(Activity.accessible.is_(True))
        if query.fritidskort:
            conditions.append(Activity.fritidskort.is_(True))
        if query.trial:
            conditions.append(Activity.trial_session.is_(True))
        if query.equipment:
            conditions.append(Activity.equipment_provided.is_(True))
        for slug in {query.municipality, query.school_municipality} - {None}:
            conditions.append(Municipality.slug == slug)
        if query.organisation:
            conditions.append(Organisation.slug == query.organisation)
        text_columns = (
            Activity.title,
            Activity.summary,
            Activity.description,
            Activity.tags,
            Organisation.name,
        )
        for word in words:
            pattern = like_pattern(word)
            if pattern is not None:
                # An offer with text in other languages stays a candidate: those words are
                # matched in Python (SQLite's LIKE folds the case of ASCII letters only).
                conditions.append(
                    or_(
                        *(c.ilike(pattern, escape="\\") for c in text_columns),
                        Activity.id.in_(select(ActivityTranslation.activity_id)),
                    )
                )
        return conditions

    def query(self, query: SearchQuery, *, now: datetime, count_only: bool = False) -> SearchResult:
        """Answer a query from the database (never raises SearchUnavailable); the page costs
        nothing more than the count here, so `count_only` changes nothing."""
        words = parse_text(query.text).words
        rows = db.session.execute(
            select(
                Activity.id,
                Activity.title,
                Activity.summary,
                Activity.description,
                Activity.tags,
                Activity.price_nok,
                Activity.accessible,
                Activity.fritidskort,
                Activity.trial_session,
                Activity.equipment_provided,
                Activity.status,
                Activity.published_at,
                Activity.created_at,
                Activity.latitude,
                Activity.longitude,
                Organisation.name.label("organisation_name"),
                func.coalesce(Category.slug, literal("")).label("category_slug"),
            )
            .join(Organisation, Activity.organisation_id == Organisation.id)
            .join(Municipality, Organisation.municipality_id == Municipality.id)
            .outerjoin(Category, Activity.category_id == Category.id)
            .where(and_(*self._conditions(query, words, now)))
        ).all()

        scores: dict[int, int] = {}
        if words:
            kept = []
            translated = _translation_tokens([row.id for row in rows])
            for row in rows:
                body = " ".join((row.summary, row.description, row.tags, row.organisation_name))
                title_tokens = set(analyse(row.title, _FOLDED_ANALYZER))
                tokens = title_tokens | set(analyse(body, _FOLDED_ANALYZER))
                other = translated.get(row.id, {})
                if all(_word_matches(w, tokens) or _translated_matches(w, other) for w in words):
                    kept.append(row)
                    scores[row.id] = sum(3 for w in words if _word_matches(w, title_tokens))
            rows = kept

        distances: dict[int, float] = {}
        if query.near_point is not None:
            lat, lon = query.near_point
            for row in rows:
                point = coordinates(row.latitude, row.longitude)
                distances[row.id] = great_circle_km(lat, lon, *point) if point else FAR
            if query.within_km is not None:
                rows = [row for row in rows if distances[row.id] <= query.within_km]

        facts = self._facts([row.id for row in rows], now)
        matched = []
        for row in rows:
            fact = facts[row.id]
            if fact.last_end is None or fact.last_end < now:
                continue  # its last occurrence has ended
            if query.weekdays and not set(query.weekdays) & set(fact.weekdays):
                continue
            if query.times and not set(query.times) & set(fact.times):
                continue
            if (query.date_from or query.date_to) and not _has_date(fact, query):
                continue
            matched.append(row)

        facets = {
            "category": defaultdict(int),
            "weekday": {str(d): 0 for d in range(1, 8)},
            "time": dict.fromkeys(TIMES_OF_DAY, 0),
            "free": {"1": 0},
            "accessible": {"1": 0},
            "fritidskort": {"1": 0},
            "trial": {"1": 0},
            "equipment": {"1": 0},
        }
        for row in matched:
            fact = facts[row.id]
            if row.category_slug:
                facets["category"][row.category_slug] += 1
            for day in fact.weekdays:
                facets["weekday"][str(day)] += 1
            for label in fact.times:
                facets["time"][label] += 1
            facets["free"]["1"] += row.price_nok == 0
            facets["accessible"]["1"] += bool(row.accessible)
            facets["fritidskort"]["1"] += bool(row.fritidskort)
            facets["trial"]["1"] += bool(row.trial_session)
            facets["equipment"]["1"] += bool(row.equipment_provided)
        facets["category"] = dict(facets["category"])

        def soonest(row) -> tuple:
            start = facts[row.id].next_start
            return (start is None, start or now, title_sort_key(row.title), row.id)

        if query.sort == "newest":
            matched.sort(key=lambda r: (title_sort_key(r.title), r.id))
            matched.sort(key=lambda r: r.published_at or r.created_at, reverse=True)
        elif query.sort == "relevance" and words:
            matched.sort(key=soonest)
            matched.sort(key=lambda r: scores.get(r.id, 0), reverse=True)
        elif query.sort == "distance" and distances:
            # Nearest first, those without coordinates last; ties by the soonest start.
            matched.sort(key=lambda r: (distances[r.id], soonest(r)))
        else:
            matched.sort(key=soonest)
        # Cancelled activities after all the others, each part in the order above (a stable sort).
        matched.sort(key=lambda r: r.status == "cancelled")
        offset = (query.page - 1) * query.per_page
        ids = [row.id for row in matched[offset : offset + query.per_page]]
        return SearchResult(ids=ids, total=len(matched), facets=facets, suggestion=None)

    def _facts(self, ids: list[int], now: datetime) -> dict[int, ScheduleFacts]:
        schedules: dict[int, list] = defaultdict(list)
        for start in range(0, len(ids), _CHUNK):
            for row in db.session.execute(
                select(
                    Schedule.activity_id,
                    Schedule.dtstart,
                    Schedule.duration_minutes,
                    Schedule.rrule,
                    Schedule.rdates,
                    Schedule.exdates,
                ).where(Schedule.activity_id.in_(ids[start : start + _CHUNK]))
            ):
                schedules[row.activity_id].append(row)
        return {i: schedule_facts(schedules.get(i, []), now=now) for i in ids}


def _has_date(fact: ScheduleFacts, query: SearchQuery) -> bool:
    start = (query.date_from or date.min).isoformat()
    end = (query.date_to or date(9999, 12, 31)).isoformat()
    return any(start <= day <= end for day in fact.dates)
