"""The PostgreSQL backend: the search lives in the database every host shares.

Nothing is kept per host. Each public activity has a row in search_document, written by the
transaction that changes the activity (directory.search.sync): a weighted tsvector of the text
as the product's own Norwegian analysis produces it (directory.search.analysis: stems,
index-time compound parts, stop words; the title weighs A, the rest B, the offer's other
languages C, the folded spellings D), and the facts the filters, facets and orders read
(ages, weekday and time-of-day bits, the dates with an occurrence, flags, the next start, the
first upcoming (start, end) pairs, the end of the last occurrence, the listing date, the point).

A search is two statements: one count grouped by category that gives the total and every facet,
and one page of ids in the query's order. The text becomes a tsquery built from the same
analysed words as the Whoosh backend's (directory.search.whoosh_backend.parse_text): each word
matches its stem, its folded stem (æ/ø/å spelled either way), a query compound's parts written
apart, or the word in a translation; a trailing * is a prefix. When nothing matches, words
within Whoosh's edit distances are taken from search_word (pg_trgm on the folded words, the
search word folded by unaccent) and a "did you mean" is offered from the words as written.
Relevance is ts_rank with the weights above, normalised by the document's length, then the
soonest start.

The horizon moves with the calendar through `flask reindex` (nightly): it rewrites every row,
which is a refresh, not a rebuild: searches go on answering from the rows while it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from directory.activities.content_languages import CONTENT_LANGUAGE_CODES
from directory.activities.models import Activity
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.policy.geo import MEAN_EARTH_RADIUS_KM
from directory.policy.limits import AGE_RANGE
from directory.search.analysis import analyse, fold, index_analyzer, spelling_analyzer, stem
from directory.search.base import ActivityDocument, SearchResult, SearchUnavailable
from directory.search.documents import (
    document_for,
    load_public_activities,
    public_conditions,
    title_sort_key,
)
from directory.search.models import EXTENSIONS, SearchDocument, SearchText, SearchWord
from directory.search.query import TIMES_OF_DAY, SearchQuery
from directory.search.translated import field_name, query_prefix, translation_analyzer
from directory.search.whoosh_backend import TextQuery, Word, max_edits, parse_text
from directory.timeutil import OSLO, utcnow

log = logging.getLogger(__name__)

DOCUMENTS = SearchDocument.__table__
TEXTS = SearchText.__table__
WORDS = SearchWord.__table__
# ts_rank's weights for D, C, B, A: folded spellings only widen the match, the other
# languages and the body weigh a third of the title.
RANK_WEIGHTS = "{0, 0.33, 0.33, 1}"
RANK_NORMALISATION = 1  # divide by 1 + log(the document's length): a short title is sharper
MAX_LEXEME = 200  # characters of a lexeme (PostgreSQL's own limit is 2,046 bytes)
MAX_POSITIONS = 32  # positions kept per lexeme and weight
FLAGS = ("free", "accessible", "fritidskort", "trial", "equipment")
# The bits of search_document.facets: ISO weekday d is bit d, then the times of day, the flags.
WEEKDAY_BITS = {day: 1 << day for day in range(1, 8)}
TIME_BITS = {label: 1 << (8 + n) for n, label in enumerate(TIMES_OF_DAY)}
FLAG_BITS = {flag: 1 << (11 + n) for n, flag in enumerate(FLAGS)}
LEXEME, SPELLING = "l", "s"  # SearchWord kinds
WRITE_CHUNK = 500
_INDEX_ANALYZER = index_analyzer()
_FOLDED_ANALYZER = index_analyzer(folded=True)
_SPELLING_ANALYZER = spelling_analyzer()


# --- from documents to rows ----------------------------------------------------------------


def _naive_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


def listed_until(confirmed_until: date | None) -> datetime | None:
    """The moment (naive UTC) a listing confirmed until this Oslo date stops being current."""
    if confirmed_until is None:
        return None
    next_day = datetime.combine(confirmed_until + timedelta(days=1), time(), tzinfo=OSLO)
    return _naive_utc(next_day)


def quote_lexeme(token: str) -> str:
    """A lexeme as tsvector and tsquery input write it: quoted, quotes and backslashes escaped."""
    token = token[:MAX_LEXEME]
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def translation_lexeme(language_field: str, token: str) -> str:
    """A word of the offer's text in another language, kept apart from the Norwegian words."""
    return f"{language_field}:{token}"


class _Vector:
    """Builds the tsvector input of one document: positions and weights per lexeme."""

    def __init__(self) -> None:
        self.position = 0
        self.lexemes: dict[str, list[str]] = {}

    def add(self, tokens: Iterable[str], weight: str) -> None:
        for token in tokens:
            if not token:
                continue
            self.position = min(self.position + 1, 16383)
            positions = self.lexemes.setdefault(token[:MAX_LEXEME], [])
            if sum(1 for p in positions if p.endswith(weight)) < MAX_POSITIONS:
                positions.append(f"{self.position}{weight}")

    def literal(self) -> str:
        return " ".join(
            f"{quote_lexeme(lexeme)}:{','.join(positions)}"
            for lexeme, positions in self.lexemes.items()
        )


def analysed(doc: ActivityDocument) -> tuple[str, set[str], set[str]]:
    """(tsvector input, the lexemes to remember, the words as written) of one document."""
    body = " ".join(
        part for part in (doc.summary, doc.description, doc.tags, doc.organisation_name) if part
    )
    title_tokens = analyse(doc.title, _INDEX_ANALYZER)
    body_tokens = analyse(body, _INDEX_ANALYZER)
    plain = set(title_tokens) | set(body_tokens)
    folded = [t for t in analyse(f"{doc.title} {body}", _FOLDED_ANALYZER) if t not in plain]
    vector = _Vector()
    vector.add(title_tokens, "A")
    vector.add(body_tokens, "B")
    for language, content in doc.translations:
        if language in CONTENT_LANGUAGE_CODES:
            tokens = analyse(content, translation_analyzer(language))
            vector.add((translation_lexeme(field_name(language), t) for t in tokens), "C")
    vector.add(folded, "D")
    lexemes = {t[:MAX_LEXEME] for t in plain | set(folded)}
    words = {w[:MAX_LEXEME] for w in analyse(f"{doc.title} {body}", _SPELLING_ANALYZER)}
    return vector.literal(), lexemes, words


def facet_bits(doc: ActivityDocument) -> int:
    """The document's facet values as the bits of search_document.facets."""
    bits = sum(WEEKDAY_BITS[d] for d in set(doc.weekdays) if d in WEEKDAY_BITS)
    bits |= sum(TIME_BITS[t] for t in set(doc.times) if t in TIME_BITS)
    return bits | sum(FLAG_BITS[flag] for flag in FLAGS if getattr(doc, flag))


def document_rows(doc: ActivityDocument) -> tuple[dict[str, Any], dict[str, Any], set, set]:
    """(the search_document row, the search_text row, its lexemes, its words as written)."""
    vector, lexemes, words = analysed(doc)
    low, high = max(doc.age_min, AGE_RANGE[0]), min(doc.age_max, AGE_RANGE[1])
    facts = {
        "activity_id": doc.id,
        "stamp": doc.stamp,
        "municipality": doc.municipality,
        "organisation": doc.organisation_slug,
        "category": doc.category,
        "age_min": low,
        "age_max": high,
        "facets": facet_bits(doc),
        "cancelled": doc.status == "cancelled",
        "next_start": _naive_utc(doc.upcoming[0][0]) if doc.upcoming else None,
        "next_end": _naive_utc(doc.upcoming[0][1]) if doc.upcoming else None,
        "last_end": _naive_utc(doc.last_end),
        "listed_until": listed_until(doc.confirmed_until),
        "published_at": _naive_utc(doc.published_at),
        "title_sort": title_sort_key(doc.title),
        "latitude": doc.latitude,
        "longitude": doc.longitude,
    }
    text_row = {
        "activity_id": doc.id,
        "document": vector,
        "dates": [date.fromisoformat(d) for d in doc.dates],
        "upcoming_starts": [_naive_utc(start) for start, _end in doc.upcoming],
        "upcoming_ends": [_naive_utc(end) for _start, end in doc.upcoming],
    }
    return facts, text_row, lexemes, words


def _upsert(table, casts: dict[str, Any] | None = None):
    columns = [c.name for c in table.columns]
    values = {name: bindparam(name) for name in columns}
    for name, type_ in (casts or {}).items():
        values[name] = cast(bindparam(name), type_)
    statement = insert(table).values(values)
    return statement.on_conflict_do_update(
        index_elements=[table.c.activity_id],
        set_={name: statement.excluded[name] for name in columns if name != "activity_id"},
    )


def _remember_words(connection: Connection, kind: str, terms: set[str]) -> None:
    """Add the terms not known yet (in one order: concurrent writers never wait in a circle)."""
    wanted = sorted(terms)
    for start in range(0, len(wanted), WRITE_CHUNK):
        chunk = wanted[start : start + WRITE_CHUNK]
        known = set(
            connection.scalars(
                select(WORDS.c.term).where(WORDS.c.kind == kind, WORDS.c.term.in_(chunk))
            )
        )
        new = [{"kind": kind, "term": t, "folded": fold(t)} for t in chunk if t not in known]
        if new:
            connection.execute(insert(WORDS).on_conflict_do_nothing(), new)


def write_documents(
    connection: Connection,
    documents: Iterable[ActivityDocument],
    remove_ids: Iterable[int] = (),
    *,
    words: tuple[set[str], set[str]] | None = None,
) -> int:
    """Write these documents and remove these ids in the connection's transaction; returns how
    many were written. With `words`, the lexemes and words as written are collected there
    instead of being added to search_word (a refresh adds them all at the end)."""
    facts, texts, lexemes, spelled = [], [], set(), set()
    for doc in documents:
        fact, text_row, doc_lexemes, doc_words = document_rows(doc)
        facts.append(fact)
        texts.append(text_row)
        lexemes |= doc_lexemes
        spelled |= doc_words
    removed = sorted(set(remove_ids) - {row["activity_id"] for row in facts})
    for start in range(0, len(removed), WRITE_CHUNK):
        chunk = removed[start : start + WRITE_CHUNK]
        for table in (DOCUMENTS, TEXTS):
            connection.execute(delete(table).where(table.c.activity_id.in_(chunk)))
    if facts:
        facts.sort(key=lambda row: row["activity_id"])  # one order for every writer
        texts.sort(key=lambda row: row["activity_id"])
        connection.execute(_upsert(DOCUMENTS), facts)
        connection.execute(_upsert(TEXTS, {"document": TSVECTOR}), texts)
    if words is not None:
        words[0].update(lexemes)
        words[1].update(spelled)
    else:
        _remember_words(connection, LEXEME, lexemes)
        _remember_words(connection, SPELLING, spelled)
    return len(facts)


def write_in_transaction(session: Session, activity_ids: Iterable[int]) -> None:
    """Bring these activities' rows up to date inside the session's own transaction (called
    before its commit, after its last flush): public ones written, the others removed."""
    wanted = set(activity_ids)
    connection = session.connection()
    # A session of its own on the same connection: it reads what this transaction flushed,
    # with none of the caller's loaded (possibly partial) collections.
    with Session(bind=connection, autoflush=False) as reader:
        activities = load_public_activities(reader, wanted)
        now = utcnow()
        documents = [document_for(activities[i], now=now) for i in sorted(activities)]
    write_documents(connection, documents, wanted - activities.keys())


def _waiting_for_reindex(connection: Connection) -> bool:
    """Whether no search row is written while public activities exist (the search tables of
    an installation upgraded to this backend, before its first `flask reindex`)."""
    if connection.scalar(select(literal(1)).select_from(DOCUMENTS).limit(1)):
        return False
    public = (
        select(literal(1))
        .select_from(Activity)
        .join(Organisation, Activity.organisation_id == Organisation.id)
        .where(*public_conditions())
        .limit(1)
    )
    return bool(connection.scalar(public))


# --- the text query --------------------------------------------------------------------------


def _any(parts: list[str]) -> str:
    parts = [p for p in dict.fromkeys(parts) if p]
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _all(parts: list[str]) -> str:
    return "(" + " & ".join(quote_lexeme(p) for p in parts) + ")"


def word_query(word: Word, expansions: Iterable[str] = ()) -> str:
    """The tsquery of one search word: any of the spellings it may be indexed under."""
    if word.prefix is not None:
        prefixes = [quote_lexeme(word.prefix) + ":*", quote_lexeme(fold(word.prefix)) + ":*"]
        prefixes += [
            quote_lexeme(translation_lexeme(field_name(code), query_prefix(word.prefix))) + ":*"
            for code in CONTENT_LANGUAGE_CODES
        ]
        return _any(prefixes)
    options = [quote_lexeme(word.stemmed), quote_lexeme(word.folded)]
    if word.parts:
        options.append(_all(list(word.parts)))
    if word.folded_parts:
        options.append(_all(list(word.folded_parts)))
    options += [quote_lexeme(translation_lexeme(f, t)) for f, t in word.translated]
    options += [quote_lexeme(t) for t in expansions]
    return _any(options)


def text_query(text: TextQuery, expansions: dict[str, list[str]] | None = None) -> str:
    """Every word must match: the words' tsqueries joined by &."""
    expansions = expansions or {}
    return " & ".join(word_query(w, expansions.get(w.text, ())) for w in text.parsed)


def rank_query(text: TextQuery, expansions: dict[str, list[str]] | None = None) -> str | None:
    """The terms that score (prefixes filter, they do not score), any of them."""
    expansions = expansions or {}
    terms: list[str] = []
    for word in text.parsed:
        if word.prefix is not None:
            continue
        terms += [quote_lexeme(word.stemmed), *(quote_lexeme(p) for p in word.parts)]
        terms += [quote_lexeme(translation_lexeme(f, t)) for f, t in word.translated]
        terms += [quote_lexeme(t) for t in expansions.get(word.text, ())]
    return _any(terms) or None


def title_prefix_query(text: TextQuery) -> str | None:
    """A tsquery for a prefix word found in a title (those rank first among the unscored)."""
    prefixes = [quote_lexeme(w.prefix) + ":*A" for w in text.parsed if w.prefix is not None]
    return _any(prefixes) or None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _tsquery(value: str) -> ColumnElement:
    return cast(literal(value), TSQUERY)


# --- the backend -----------------------------------------------------------------------------


class PostgresBackend:
    """SearchBackend over the search_document table; no state of its own in the process."""

    name = "postgres"

    # --- writing ---

    def index(self, documents: Iterable[ActivityDocument]) -> None:
        """Add or replace these documents (in a transaction of their own)."""
        with db.engine.begin() as connection:
            write_documents(connection, documents)

    def remove(self, ids: Iterable[int]) -> None:
        """Remove these activity ids."""
        with db.engine.begin() as connection:
            write_documents(connection, (), ids)

    def update_from(
        self, read: Callable[[], tuple[Iterable[ActivityDocument], Iterable[int]]]
    ) -> None:
        """Write what `read` returns, in one transaction."""
        documents, remove_ids = read()
        with db.engine.begin() as connection:
            write_documents(connection, documents, remove_ids)

    def rebuild(
        self,
        documents: Iterable[ActivityDocument],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Rewrite every row from these documents, a batch per transaction, then remove the
        rows of activities not among them and rebuild search_word; returns how many.

        A refresh: the rows answer searches all along. A change committed meanwhile wrote its
        own row; the service's repair after the rebuild puts back any the refresh overwrote.
        """
        written: set[int] = set()
        words: tuple[set[str], set[str]] = (set(), set())
        batch: list[ActivityDocument] = []

        def flush() -> None:
            with db.engine.begin() as connection:
                write_documents(connection, batch, words=words)
            written.update(doc.id for doc in batch)
            if progress is not None:
                progress(len(batch))
            batch.clear()

        for doc in documents:
            batch.append(doc)
            if len(batch) >= WRITE_CHUNK:
                flush()
        if batch:
            flush()
        with db.engine.begin() as connection:
            indexed = set(connection.scalars(select(DOCUMENTS.c.activity_id)))
            indexed |= set(connection.scalars(select(TEXTS.c.activity_id)))
            write_documents(connection, (), indexed - written, words=words)
            for kind, terms in ((LEXEME, words[0]), (SPELLING, words[1])):
                known = set(connection.scalars(select(WORDS.c.term).where(WORDS.c.kind == kind)))
                stale = sorted(known - terms)
                for start in range(0, len(stale), WRITE_CHUNK):
                    connection.execute(
                        delete(WORDS).where(
                            WORDS.c.kind == kind,
                            WORDS.c.term.in_(stale[start : start + WRITE_CHUNK]),
                        )
                    )
                _remember_words(connection, kind, terms - known)
        return len(written)

    # --- reading ---

    def stamps(self) -> dict[int, str]:
        """Every row's activity id with its stamp."""
        try:
            with db.engine.connect() as connection:
                return dict(
                    connection.execute(select(DOCUMENTS.c.activity_id, DOCUMENTS.c.stamp)).all()
                )
        except SQLAlchemyError as exc:
            raise SearchUnavailable(f"the search table cannot be read: {exc}") from None

    def check(self) -> bool:
        """Whether the tables and the extensions are there, and the rows have been written
        (not an upgraded installation still waiting for its first `flask reindex`)."""
        try:
            with db.engine.connect() as connection:
                for table in (DOCUMENTS, TEXTS, WORDS):
                    connection.execute(select(table.c[0]).limit(1)).all()
                present = connection.scalar(
                    text("SELECT count(*) FROM pg_extension WHERE extname = ANY(:names)"),
                    {"names": list(EXTENSIONS)},
                )
                waiting = _waiting_for_reindex(connection)
        except SQLAlchemyError as exc:
            log.warning("PostgreSQL search unavailable: %s", exc)
            return False
        return present == len(EXTENSIONS) and not waiting

    def query(self, query: SearchQuery, *, now: datetime, count_only: bool = False) -> SearchResult:
        """Answer a query; raises SearchUnavailable when the database cannot (the service
        then answers from the database backend, degraded). `count_only`: the total and the
        facets, no page of ids."""
        try:
            with db.engine.connect() as connection:
                return self._query(connection, query, _naive_utc(now), count_only=count_only)
        except SQLAlchemyError as exc:
            log.warning("PostgreSQL search failed: %s", exc)
            raise SearchUnavailable(f"PostgreSQL search failed: {exc}") from None

    @staticmethod
    def _choices(query: SearchQuery) -> dict[str, ColumnElement[bool]]:
        """The conditions of the multi-select groups with a choice (MULTI_SELECT_FACETS)."""
        d = DOCUMENTS.c
        chosen: dict[str, ColumnElement[bool]] = {}
        if query.categories:
            chosen["category"] = d.category.in_(query.categories)
        if query.weekdays:
            mask = sum(WEEKDAY_BITS[day] for day in query.weekdays)
            chosen["weekday"] = d.facets.op("&")(mask) != 0
        if query.times:
            mask = sum(TIME_BITS[t] for t in query.times)
            chosen["time"] = d.facets.op("&")(mask) != 0
        return chosen

    @staticmethod
    def _group_passes(query: SearchQuery) -> dict[str, Callable[[str | None, int], bool]]:
        """The same choices as tests of a counted group (category, facet bits)."""
        tests: dict[str, Callable[[str | None, int], bool]] = {}
        if query.categories:
            chosen = set(query.categories)
            tests["category"] = lambda slug, bits: slug in chosen
        if query.weekdays:
            days = sum(WEEKDAY_BITS[day] for day in query.weekdays)
            tests["weekday"] = lambda slug, bits: bool(bits & days)
        if query.times:
            times = sum(TIME_BITS[t] for t in query.times)
            tests["time"] = lambda slug, bits: bool(bits & times)
        return tests

    def _filters(self, query: SearchQuery, now: datetime) -> tuple[list[ColumnElement], bool]:
        """The conditions of the filters but the multi-select groups (see _choices), and
        whether they read search_text (the dates)."""
        d = DOCUMENTS.c
        conditions: list[ColumnElement[bool]] = [
            d.last_end >= now,
            or_(d.listed_until.is_(None), d.listed_until > now),
        ]
        for low, high in query.age_windows():
            conditions += [d.age_min <= high, d.age_max >= low]
        for flag in FLAGS:
            if getattr(query, flag):
                conditions.append(d.facets.op("&")(FLAG_BITS[flag]) != 0)
        for slug in {query.municipality, query.school_municipality} - {None}:
            conditions.append(d.municipality == slug)
        if query.organisation:
            conditions.append(d.organisation == query.organisation)
        dated = bool(query.date_from or query.date_to)
        if dated:
            days = func.unnest(TEXTS.c.dates).table_valued("day").render_derived()
            first, last = query.date_from or date.min, query.date_to or date(9999, 12, 31)
            conditions.append(
                exists(select(literal(1)).select_from(days).where(days.c.day.between(first, last)))
            )
        if query.within_km is not None and query.near_point is not None:
            conditions.append(self._distance(query.near_point) <= query.within_km)
        return conditions, dated

    @staticmethod
    def _distance(point: tuple[float, float]) -> ColumnElement[float]:
        """The great-circle distance in km from the point, as directory.policy.geo measures
        it (NULL without coordinates)."""
        d = DOCUMENTS.c
        phi1, lam1 = func.radians(literal(point[0])), func.radians(literal(point[1]))
        phi2, lam2 = func.radians(d.latitude), func.radians(d.longitude)
        h = func.power(func.sin((phi2 - phi1) / 2), 2) + func.cos(phi1) * func.cos(
            phi2
        ) * func.power(func.sin((lam2 - lam1) / 2), 2)
        return 2 * MEAN_EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(h)))

    @staticmethod
    def _later_start(now: datetime) -> ColumnElement:
        """The start of the first stored upcoming occurrence not ended by `now` (NULL: none):
        for a row whose next occurrence has ended since it was written."""
        own = TEXTS.alias("own_text")
        pairs = (
            func.unnest(own.c.upcoming_starts, own.c.upcoming_ends)
            .table_valued("s", "e")
            .render_derived()
        )
        return (
            select(func.min(pairs.c.s))
            .select_from(own.join(pairs, true()))  # a function in FROM sees `own`
            .where(own.c.activity_id == DOCUMENTS.c.activity_id, pairs.c.e > now)
            .scalar_subquery()
        )

    def _soonest(self, now: datetime) -> ColumnElement:
        """The start of the first occurrence not ended by `now` (NULL: none known)."""
        d = DOCUMENTS.c
        return case((d.next_end > now, d.next_start), else_=self._later_start(now))

    def _expansions(self, connection: Connection, text: TextQuery) -> dict[str, list[str]]:
        """The indexed lexemes within each word's edit distance (first letter kept), as Whoosh
        finds them for its typo tolerance."""
        found: dict[str, list[str]] = {}
        for word in text.parsed:
            edits = max_edits(word.text)
            if word.prefix is not None or not edits:
                continue
            terms: list[str] = []
            for target in dict.fromkeys((word.stemmed, word.folded)):
                for term in self._near_words(connection, LEXEME, target):
                    if term[:1] == target[:1] and edit_distance(term, target) <= edits:
                        terms.append(term)
            found[word.text] = list(dict.fromkeys(terms))
        return found

    @staticmethod
    def _near_words(connection: Connection, kind: str, target: str) -> list[str]:
        """Indexed words of a kind whose folded form shares enough trigrams with the target
        (folded by unaccent)."""
        return list(
            connection.scalars(
                select(WORDS.c.term).where(
                    WORDS.c.kind == kind,
                    WORDS.c.folded.op("%")(func.unaccent(target)),
                )
            )
        )

    def _suggest(self, connection: Connection, words: list[str]) -> str | None:
        """The words with each unknown one replaced by the closest spelling some document
        holds, the one most documents hold among equally close ones."""
        corrected, changed = [], False
        for word in words:
            known = connection.scalar(
                select(literal(1)).where(WORDS.c.kind == SPELLING, WORDS.c.term == word)
            )
            if word.endswith("*") or known:
                corrected.append(word)
                continue
            near = [t for t in self._near_words(connection, SPELLING, word) if t[:1] == word[:1]]
            best = None
            for edits in range(1, max(max_edits(word), 1) + 1):
                candidates = sorted(t for t in near if edit_distance(t, word) <= edits)
                counted = [(self._frequency(connection, c), c) for c in candidates]
                counted = [pair for pair in counted if pair[0]]
                if counted:
                    best = max(counted)[1]
                    break
            corrected.append(best or word)
            changed = changed or best is not None
        return " ".join(corrected) if changed else None

    @staticmethod
    def _frequency(connection: Connection, word: str) -> int:
        """How many documents hold a word as written (by its stem or a compound's part)."""
        condition = TEXTS.c.document.op("@@")(_tsquery(quote_lexeme(stem(word))))
        return connection.scalar(select(func.count()).where(condition)) or 0

    def _query(
        self, connection: Connection, query: SearchQuery, now: datetime, *, count_only: bool
    ) -> SearchResult:
        d = DOCUMENTS.c
        # Indexes over rows in memory cost little more than reading rows in order: without
        # this the planner reads every search_text row for a common word.
        connection.execute(text("SET LOCAL random_page_cost = 1.1"))
        conditions, dated = self._filters(query, now)
        choices = self._choices(query)
        passes = self._group_passes(query)
        search_text = parse_text(query.text)
        joined = DOCUMENTS.join(TEXTS, TEXTS.c.activity_id == d.activity_id)
        source = joined if search_text.parsed or dated else DOCUMENTS
        suggestion = None
        expansions: dict[str, list[str]] = {}
        where = and_(*conditions)
        if search_text.parsed:
            matched = TEXTS.c.document.op("@@")(_tsquery(text_query(search_text)))
            groups = self._groups(connection, source, and_(where, matched))
            counted = self._count(groups, passes)
            if not counted[1]:
                suggestion = self._suggest(connection, search_text.words)
                expansions = self._expansions(connection, search_text)
                if any(expansions.values()):
                    tolerant = _tsquery(text_query(search_text, expansions))
                    matched = TEXTS.c.document.op("@@")(tolerant)
                    groups = self._groups(connection, source, and_(where, matched))
                    counted = self._count(groups, passes)
            where = and_(where, matched)
        else:
            groups = self._groups(connection, source, where)
            counted = self._count(groups, passes)
        facets, total, open_facets = counted
        if not total and _waiting_for_reindex(connection):
            # Upgraded, never filled: the database answers (degraded) until `flask reindex`.
            raise SearchUnavailable("the search rows are not written yet: run flask reindex")
        offset = (query.page - 1) * query.per_page
        ids: list[int] = []
        if offset < total and not count_only:
            where = and_(where, *choices.values())
            if query.sort == "soonest" or (query.sort == "relevance" and not search_text.parsed):
                page = self._soonest_page(source, where, now, offset, query.per_page)
            else:
                # "cancelled" as an expression: no index order for it tempts the planner into
                # walking the soonest index through every row.
                cancelled_last = case((d.cancelled, 1), else_=0)
                page = (
                    select(d.activity_id)
                    .select_from(source)
                    .where(where)
                    .order_by(cancelled_last, *self._order(query, search_text, expansions, now))
                    .offset(offset)
                    .limit(query.per_page)
                )
            ids = list(connection.scalars(page))
        return SearchResult(
            ids=ids, total=total, facets=facets, suggestion=suggestion, open_facets=open_facets
        )

    def _order(self, query: SearchQuery, text: TextQuery, expansions, now: datetime) -> list:
        """The ORDER BY after `cancelled` for relevance, newest and distance."""
        d = DOCUMENTS.c
        ties = [self._soonest(now).asc().nulls_last(), d.title_sort, d.activity_id]
        if query.sort == "newest":
            return [d.published_at.desc().nulls_last(), d.title_sort, d.activity_id]
        if query.sort == "distance" and query.near_point is not None:
            return [self._distance(query.near_point).asc().nulls_last(), *ties]
        order = []
        scoring = rank_query(text, expansions)
        if scoring:
            weights = literal_column(f"'{RANK_WEIGHTS}'::real[]")
            rank = func.ts_rank(weights, TEXTS.c.document, _tsquery(scoring), RANK_NORMALISATION)
            order.append(rank.desc())
        prefixes = title_prefix_query(text)
        if prefixes:
            order.append(TEXTS.c.document.op("@@")(_tsquery(prefixes)).desc())
        return [*order, *ties]

    def _soonest_page(self, source, where, now: datetime, offset: int, limit: int):
        """The page in the soonest order, from two ordered parts: the rows whose next
        occurrence has not ended (in the order of an index: the home listing reads a page of
        rows, not all of them) and the few whose next occurrence ended since they were written
        (ordered by their later start, read from search_text)."""
        d = DOCUMENTS.c
        wanted = offset + limit
        later = self._later_start(now)
        fresh = (
            select(d.activity_id, d.cancelled, d.next_start.label("start"), d.title_sort)
            .select_from(source)
            .where(where, d.next_end > now)
            .order_by(d.cancelled, d.next_start, d.title_sort, d.activity_id)
            .limit(wanted)
        )
        stale = (
            select(d.activity_id, d.cancelled, later.label("start"), d.title_sort)
            .select_from(source)
            .where(where, or_(d.next_end <= now, d.next_end.is_(None)))
            .order_by(d.cancelled, later.asc().nulls_last(), d.title_sort, d.activity_id)
            .limit(wanted)
        )
        both = union_all(fresh, stale).subquery()
        return (
            select(both.c.activity_id)
            .order_by(
                both.c.cancelled, both.c.start.asc().nulls_last(), both.c.title_sort,
                both.c.activity_id,
            )
            .offset(offset)
            .limit(limit)
        )  # fmt: skip

    @staticmethod
    def _groups(connection: Connection, source, where) -> list[tuple[str | None, int, int]]:
        """(category, facet bits, count) of the rows matching everything but the multi-select
        groups' choices: one grouped count answers the total, the facets and the facets of each
        group without its own choice."""
        d = DOCUMENTS.c
        return [
            (slug, bits, n)
            for slug, bits, n in connection.execute(
                select(d.category, d.facets, func.count())
                .select_from(source)
                .where(where)
                .group_by(d.category, d.facets)
            )
        ]

    @staticmethod
    def _facets(groups: Iterable[tuple[str | None, int, int]]) -> tuple[dict, int]:
        """The facet counts and the total of these groups."""
        category: dict[str, int] = {}
        by_bits: dict[int, int] = {}
        total = 0
        for slug, bits, n in groups:
            total += n
            if slug:
                category[slug] = category.get(slug, 0) + n
            by_bits[bits] = by_bits.get(bits, 0) + n
        counts = dict.fromkeys([*WEEKDAY_BITS.values(), *TIME_BITS.values(),
                                *FLAG_BITS.values()], 0)  # fmt: skip
        for bits, n in by_bits.items():
            for bit in counts:
                if bits & bit:
                    counts[bit] += n
        facets = {
            "category": category,
            "weekday": {str(day): counts[bit] for day, bit in WEEKDAY_BITS.items()},
            "time": {label: counts[bit] for label, bit in TIME_BITS.items()},
            **{flag: {"1": counts[FLAG_BITS[flag]]} for flag in FLAGS},
        }
        return facets, total

    def _count(
        self, groups: list[tuple[str | None, int, int]], passes: dict[str, Callable]
    ) -> tuple[dict, int, dict | None]:
        """(facets within the result, its total, each chosen group's facets without its own
        choice or None without choices) from the groups of _groups()."""
        chosen = [g for g in groups if all(test(g[0], g[1]) for test in passes.values())]
        facets, total = self._facets(chosen)
        if not passes:
            return facets, total, None
        open_facets = {}
        for name in passes:
            others = [t for other, t in passes.items() if other != name]
            wider = [g for g in groups if all(test(g[0], g[1]) for test in others)]
            open_facets[name] = self._facets(wider)[0][name]
        return facets, total, open_facets
