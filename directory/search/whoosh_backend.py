"""The Whoosh backend: a file index in SEARCH_INDEX_DIR, searched with Norwegian analysis.

Layout. The directory holds whole Whoosh indexes by name (activities_v<schema>_<random>) and a
file CURRENT naming the one in use. rebuild() writes a complete new index beside the old one and
then replaces CURRENT atomically (os.replace), so searches keep answering from the old index
during a rebuild and never see a half-built one. The index before is kept until the next rebuild,
because another process may still be reading it.

Two bugs of whoosh-reloaded 2.7.5 shape this module (tests/search/test_whoosh_bugs.py):
- Require(query, filter) raises AssertionError with the default optimisation, so filters are
  given as searcher.search(q, filter=...).
- Searcher.refresh() after a segment merge returns duplicates, so a stale searcher is closed and
  a new one opened: `if not searcher.up_to_date(): searcher.close(); searcher = ix.searcher()`.

Memory. Whoosh maps a segment file into memory and then copies each part of it it opens into a
BytesIO of its own: every worker held a private copy of the whole index (11 MB at 10,000
activities). Here the parts are read straight from the mapping (`_MappedPart`), so the workers
share the file's pages through the page cache.

Speed. One searcher is kept open per process (reopened when CURRENT or the index generation
changes). Every filter query and every text term becomes a bitmap of document numbers (a Python
int) the first time it is used and is cached with the searcher; sorting by date and the "has not
ended" filter read the index's columns once per searcher. A query is then a few AND/OR/bit_count
operations on integers (filters, words, facet counts), BM25F scores for the candidates left
(one by one when few remain, else one searcher.search(..., filter=...)), a sort of the page, and
the page's stored ids. Near a school: each document's point is a column; the distances from one
school are computed once per searcher (a table by document number, kept for a few schools), and
`within_km` becomes a cached bitmap like any other filter.

Time. next_start is computed at index time and goes stale as occurrences pass. The index also
keeps the first few upcoming (start, end) pairs of each activity in a column, and orders "soonest"
by the first pair that has not ended at query time; `flask reindex` should still run nightly so the
horizon (400 days) and the weekday/time/date terms move with the calendar.
"""

from __future__ import annotations

import heapq
import logging
import os
import re
import secrets
import struct
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from whoosh import columns, fields, index
from whoosh.filedb import compound
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import LockError
from whoosh.query import Every, Or, Query, Term, TermRange

from directory.activities.content_languages import CONTENT_LANGUAGE_CODES
from directory.policy.geo import great_circle_km
from directory.policy.limits import AGE_RANGE
from directory.search.analysis import (
    compound_parts,
    fold,
    index_analyzer,
    is_stopword,
    spelling_analyzer,
    stem,
)
from directory.search.base import (
    MULTI_SELECT_FACETS,
    ActivityDocument,
    SearchResult,
    SearchUnavailable,
)
from directory.search.documents import title_sort_key
from directory.search.query import TIMES_OF_DAY, SearchQuery
from directory.search.translated import (
    field_name,
    query_prefix,
    query_terms,
    translation_analyzer,
)
from directory.timeutil import OSLO

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4  # 2: fritidskort, trial, equipment flags; 3: the venue's point; 4: issue 14
INDEX_PREFIX = f"activities_v{SCHEMA_VERSION}_"
POINTER_FILE = "CURRENT"
REBUILD_LOCK = "REBUILD_LOCK"
_NAME_PATTERN = re.compile(r"^activities_v\d+_[0-9a-f]{12}$")

NEVER = 2**62  # the sort key of "no known next start"
TITLE_BOOST = 3.0
COMPOUND_BOOST = 0.7
SCORED_FIELDS = ("title", "body")
DIRECT_SCORING_LIMIT = 1500  # score up to this many candidates one by one, else search
MAX_RANKINGS = 256  # rankings of texts kept per searcher (each at most DIRECT_SCORING_LIMIT)
_PAIR = struct.Struct("<2q")
_POINT = struct.Struct("<2d")  # latitude, longitude
FAR = float("inf")  # the distance of an activity without coordinates: after all the others
MAX_DISTANCE_TABLES = 64  # distances kept per searcher, one table per point measured from
_QUERY_WORD = re.compile(r"(\w+)(\*?)")


class _MappedReader:
    """The file interface Whoosh reads a part of a segment through (read, readline, seek,
    tell; pickle asks for readline), over a memoryview of the mapped segment file: nothing is
    copied but what is read."""

    __slots__ = ("_view", "_position", "_size")

    def __init__(self, view: memoryview):
        self._view = view
        self._position = 0
        self._size = len(view)

    def read(self, size: int | None = -1) -> bytes:
        start = self._position
        end = self._size if size is None or size < 0 else min(start + size, self._size)
        self._position = max(start, end)
        return self._view[start:end].tobytes()

    def readline(self, size: int | None = -1) -> bytes:
        start = self._position
        end = self._size if size is None or size < 0 else min(start + size, self._size)
        stop = start
        while stop < end:  # in short steps: a line (pickle's text opcodes) is short
            step = self._view[stop : min(stop + 256, end)].tobytes()
            newline = step.find(b"\n")
            if newline >= 0:
                stop += newline + 1
                break
            stop += len(step)
        self._position = max(start, stop)
        return self._view[start:stop].tobytes()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._position
        elif whence == os.SEEK_END:
            offset += self._size
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        self._position = offset
        return offset

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._view = memoryview(b"")


class _MappedPart(BufferFile):
    """whoosh.filedb.structfile.BufferFile without its BytesIO copy of the buffer."""

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = _MappedReader(memoryview(buf))
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False


# CompoundStorage.open_file (the only user of this name in that module) opens each part of a
# mapped segment file as a BufferFile: it now opens a _MappedPart. Pinned: Whoosh-Reloaded 2.7.5.
compound.BufferFile = _MappedPart


def unavailable(what: str, exc: BaseException) -> SearchUnavailable:
    """A SearchUnavailable for a Whoosh failure, with the failure's tracebacks released.

    Whoosh leaves files open when it fails to read a corrupt index; they are closed when the
    frames of the traceback go. Releasing them here, with the ResourceWarning silenced, keeps
    that noise out of the logs (and out of test runs, where warnings are errors). The message
    keeps the cause; the traceback is not chained on purpose.
    """
    message = f"{what}: {exc!r}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            current.__traceback__ = None
            current = current.__cause__ or current.__context__
    return SearchUnavailable(message)


def build_schema() -> fields.Schema:
    """The index schema (changing it means raising SCHEMA_VERSION: old indexes are then ignored
    until `flask reindex` builds a new one)."""
    keyword = {"lowercase": False, "commas": False, "scorable": False}
    numeric = {"bits": 64, "sortable": True, "shift_step": 16, "signed": True}
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        stamp=fields.STORED(),
        title=fields.TEXT(analyzer=index_analyzer(), phrase=False),
        body=fields.TEXT(analyzer=index_analyzer(), phrase=False),
        folded=fields.TEXT(analyzer=index_analyzer(folded=True), phrase=False),
        spelling=fields.TEXT(analyzer=spelling_analyzer(), phrase=False),
        ages=fields.KEYWORD(**keyword),
        category=fields.KEYWORD(**keyword),
        weekdays=fields.KEYWORD(**keyword),
        times=fields.KEYWORD(**keyword),
        municipality=fields.KEYWORD(**keyword),
        organisation=fields.KEYWORD(**keyword),
        dates=fields.KEYWORD(**keyword),
        status=fields.KEYWORD(**keyword),
        free=fields.BOOLEAN(),
        accessible=fields.BOOLEAN(),
        fritidskort=fields.BOOLEAN(),
        trial=fields.BOOLEAN(),
        equipment=fields.BOOLEAN(),
        verified=fields.BOOLEAN(),
        next_start=fields.NUMERIC(**numeric),
        last_end=fields.NUMERIC(**numeric),
        listed_until=fields.NUMERIC(**numeric),  # the last second of confirmed_until (Oslo)
        published_at=fields.NUMERIC(**numeric),
        upcoming=fields.COLUMN(columns.VarBytesColumn()),
        title_sort=fields.COLUMN(columns.VarBytesColumn()),
        point=fields.COLUMN(columns.VarBytesColumn()),  # _POINT, or empty without coordinates
        # The offer's text in each other language, with that language's analyser (issue 14).
        **{
            field_name(code): fields.TEXT(analyzer=translation_analyzer(code), phrase=False)
            for code in CONTENT_LANGUAGE_CODES
        },
    )


SCHEMA = build_schema()


def _epoch(value: datetime | None, default: int) -> int:
    return int(value.timestamp()) if value is not None else default


def listed_until(confirmed_until: date | None) -> int:
    """The last second (epoch) a listing confirmed until this Oslo date is current; NEVER
    without a date."""
    if confirmed_until is None:
        return NEVER
    next_day = datetime.combine(confirmed_until + timedelta(days=1), time(), tzinfo=OSLO)
    return int(next_day.timestamp()) - 1


def document_fields(doc: ActivityDocument) -> dict[str, Any]:
    """The values Whoosh stores for one document."""
    body = " ".join(
        part for part in (doc.summary, doc.description, doc.tags, doc.organisation_name) if part
    )
    low, high = max(doc.age_min, AGE_RANGE[0]), min(doc.age_max, AGE_RANGE[1])
    return {
        "id": str(doc.id),
        "stamp": doc.stamp,
        "title": doc.title,
        "body": body,
        "folded": f"{doc.title} {body}",
        "spelling": f"{doc.title} {body}",
        "ages": " ".join(str(age) for age in range(low, high + 1)),
        "category": doc.category or "",
        "weekdays": " ".join(str(d) for d in doc.weekdays),
        "times": " ".join(doc.times),
        "municipality": doc.municipality,
        "organisation": doc.organisation_slug,
        "dates": " ".join(doc.dates),
        "status": doc.status,
        "free": doc.free,
        "accessible": doc.accessible,
        "fritidskort": doc.fritidskort,
        "trial": doc.trial,
        "equipment": doc.equipment,
        "verified": doc.verified,
        "next_start": _epoch(doc.next_start, NEVER),
        "last_end": _epoch(doc.last_end, 0),
        "listed_until": listed_until(doc.confirmed_until),
        "published_at": _epoch(doc.published_at, 0),
        "upcoming": b"".join(
            _PAIR.pack(_epoch(start, 0), _epoch(end, 0)) for start, end in doc.upcoming
        ),
        "title_sort": title_sort_key(doc.title).encode(),
        "point": (
            _POINT.pack(doc.latitude, doc.longitude)
            if doc.latitude is not None and doc.longitude is not None
            else b""
        ),
        **{field_name(code): text for code, text in doc.translations},
    }


# --- the text query ------------------------------------------------------------------------


def max_edits(word: str) -> int:
    """Typo tolerance: 1 edit for words of 4-7 letters, 2 from 8 letters, none below 4."""
    return 2 if len(word) >= 8 else 1 if len(word) >= 4 else 0


@dataclass(frozen=True)
class Word:
    """One word of a free-text search, analysed the way the index was."""

    text: str  # lowercase, as typed (a prefix word keeps its *)
    stemmed: str
    folded: str  # folded, then stemmed: for the diacritics-insensitive field
    parts: tuple[str, ...]  # stems of a query compound's first two parts, or ()
    # The same parts folded, as the diacritics-insensitive field holds them: "svommekurs"
    # finds "Svømming og kurs" as "svømmekurs" does.
    folded_parts: tuple[str, ...] = ()
    # (field, term): the word as each content language's field holds it (issue 14).
    translated: tuple[tuple[str, str], ...] = ()

    @property
    def prefix(self) -> str | None:
        """The prefix of a word typed with a trailing *."""
        return self.text[:-1] if self.text.endswith("*") else None


@dataclass(frozen=True)
class TextQuery:
    """The words of a free-text search; every word must match (title, body or compound part)."""

    words: tuple[str, ...]
    parsed: tuple[Word, ...]

    def scoring_terms(self, expansions: dict[str, list[tuple[str, str, float]]]) -> list[Term]:
        """The terms whose BM25F scores order the results: title weighs TITLE_BOOST times the
        body; compound parts, folded spellings and typo corrections weigh less."""
        terms: dict[tuple[str, str], float] = {}

        def add(fieldname: str, text: str, boost: float) -> None:
            key = (fieldname, text)
            terms[key] = max(terms.get(key, 0.0), boost)

        for word in self.parsed:
            if word.prefix is not None:
                continue  # a prefix matches many words equally: it filters, it does not score
            add("title", word.stemmed, TITLE_BOOST)
            add("body", word.stemmed, 1.0)
            for part in word.parts:
                add("title", part, TITLE_BOOST * COMPOUND_BOOST / 2)
                add("body", part, COMPOUND_BOOST / 2)
            for fieldname, text in word.translated:
                add(fieldname, text, 1.0)
            for fieldname, text, boost in expansions.get(word.text, ()):
                if fieldname in SCORED_FIELDS:  # "folded" only widens the match
                    add(fieldname, text, boost)
        return [Term(f, t, boost=b) for (f, t), b in terms.items()]


@lru_cache(maxsize=1024)
def parse_text(text: str) -> TextQuery:
    """The words of a free-text search, each required; stop words are dropped; a trailing *
    makes a word a prefix (at least two letters). The analysis depends on the text alone, and
    a search page asks twice (its result and its counts): kept for the texts searched lately."""
    words: list[str] = []
    for match in _QUERY_WORD.finditer(text.lower()):
        word, star = match.group(1), match.group(2)
        if star and len(word) >= 2:
            word += "*"
        elif is_stopword(word):
            continue
        if word not in words:
            words.append(word)
    parsed = []
    for word in words:
        core = word.rstrip("*")
        prefix = word.endswith("*")
        parts = compound_parts(core) if not prefix else []
        folded_parts = compound_parts(fold(core), folded=True) if not prefix else []
        parsed.append(
            Word(
                text=word,
                stemmed=stem(core),
                folded=stem(fold(core), folded=True),
                parts=tuple(stem(p) for p in parts[:2]) if len(parts) >= 2 else (),
                folded_parts=(
                    tuple(stem(p, folded=True) for p in folded_parts[:2])
                    if len(folded_parts) >= 2
                    else ()
                ),
                translated=tuple(query_terms(core).items()) if not word.endswith("*") else (),
            )
        )
    return TextQuery(tuple(words), tuple(parsed))


# --- document number sets as bitmaps -------------------------------------------------------

_BYTE_BITS = tuple(tuple(i for i in range(8) if b >> i & 1) for b in range(256))


def to_bitmap(docnums: Iterable[int], size: int) -> int:
    """Document numbers as an int whose bit n is set for document n."""
    buffer = bytearray((size >> 3) + 1)
    for n in docnums:
        buffer[n >> 3] |= 1 << (n & 7)
    return int.from_bytes(buffer, "little")


def from_bitmap(bits: int) -> list[int]:
    """The document numbers of a bitmap, ascending."""
    found: list[int] = []
    for i, byte in enumerate(bits.to_bytes((bits.bit_length() + 7) // 8, "little")):
        if byte:
            base = i << 3
            found.extend(base + j for j in _BYTE_BITS[byte])
    return found


def first_in_order(bits: int, order: list[int], wanted: int) -> list[int]:
    """The first `wanted` document numbers of `order` that are in the bitmap."""
    flags = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    last = len(flags)
    found: list[int] = []
    for n in order:
        byte = n >> 3
        if byte < last and flags[byte] >> (n & 7) & 1:
            found.append(n)
            if len(found) == wanted:
                break
    return found


# --- per-searcher state --------------------------------------------------------------------


@dataclass
class _Timed:
    """A value computed for `now`, valid while valid_from <= now < valid_until."""

    value: Any
    valid_from: int
    valid_until: int

    def fits(self, now: int) -> bool:
        """Whether the value still holds at `now`."""
        return self.valid_from <= now < self.valid_until


CACHE_BYTES = 32 * 1024 * 1024  # bitmaps kept per searcher


@dataclass
class _State:
    """An open searcher and what was computed from it (dropped together when it is reopened).

    Every term and filter query becomes a bitmap of document numbers the first time it is used;
    AND/OR/count of bitmaps are single integer operations, so filters, facets and the text's
    word matching cost microseconds once their terms are cached.
    """

    name: str
    ix: Any
    searcher: Any
    size: int = 0
    bitmaps: OrderedDict = field(default_factory=OrderedDict)
    max_bitmaps: int = 4096
    column_cache: dict[str, list] = field(default_factory=dict)
    live: _Timed | None = None
    soonest: _Timed | None = None
    soonest_order: tuple[list, list[int]] | None = None  # (the keys it sorts, docnums)
    rankings: OrderedDict = field(default_factory=OrderedDict)  # terms -> docnums, best first
    ids: dict[int, int] = field(default_factory=dict)  # docnum -> activity id, as read
    distance_tables: OrderedDict = field(default_factory=OrderedDict)
    categories: tuple[str, ...] | None = None  # the category slugs the index holds

    def __post_init__(self) -> None:
        self.size = self.searcher.reader().doc_count_all()
        self.max_bitmaps = max(64, min(4096, CACHE_BYTES // max(1, self.size // 8)))

    def close(self) -> None:
        """Close the searcher (its caches go with this object)."""
        try:
            self.searcher.close()
        except Exception:  # closing a searcher on deleted files may fail; it is dropped anyway
            log.debug("closing a stale searcher failed", exc_info=True)

    def _cached(self, key: tuple, compute: Callable[[], int]) -> int:
        bits = self.bitmaps.get(key)
        if bits is None:
            bits = compute()
            self.bitmaps[key] = bits
            if len(self.bitmaps) > self.max_bitmaps:
                self.bitmaps.popitem(last=False)
        else:
            self.bitmaps.move_to_end(key)
        return bits

    def bits(self, q: Query) -> int:
        """The documents matching a query (deleted ones excluded), as a cached bitmap."""
        if type(q) is Term and q.boost == 1.0:
            return self.term(q.fieldname, q.text)
        return self._cached(
            ("q", repr(q)), lambda: to_bitmap(self.searcher.docs_for_query(q), self.size)
        )

    def term(self, fieldname: str, text: str) -> int:
        """The documents holding one term (named by the field and the text: no repr per use)."""
        return self._cached(
            ("t", fieldname, text),
            lambda: to_bitmap(self.searcher.docs_for_query(Term(fieldname, text)), self.size),
        )

    def expand(self, fieldname: str, prefix: str) -> list[str]:
        """The indexed words of a field that start with a prefix."""
        return [
            t.decode() if isinstance(t, bytes) else t
            for t in self.searcher.reader().expand_prefix(fieldname, prefix)
        ]

    def prefix_bits(self, fieldname: str, prefix: str) -> int:
        """The documents holding any word of a field that starts with the prefix."""

        def compute() -> int:
            bits = 0
            for text in self.expand(fieldname, prefix):
                bits |= self.term(fieldname, text)
            return bits

        return self._cached(("prefix", fieldname, prefix), compute)

    def column(self, name: str) -> list:
        """A column's values by document number."""
        values = self.column_cache.get(name)
        if values is None:
            reader = self.searcher.reader()
            if reader.has_column(name):
                column = reader.column_reader(name)
                values = [column[n] for n in range(self.size)]
            else:  # an empty index has no columns
                values = []
            self.column_cache[name] = values
        return values

    def ranking(self, terms: list[Term], rank: Callable[[], list[int]]) -> list[int]:
        """The documents the terms reach, best first, as `rank()` orders them once; kept for
        the last MAX_RANKINGS sets of terms."""
        key = tuple((t.fieldname, t.text, t.boost) for t in terms)
        found = self.rankings.get(key)
        if found is None:
            found = rank()
            self.rankings[key] = found
            if len(self.rankings) > MAX_RANKINGS:
                self.rankings.popitem(last=False)
        else:
            self.rankings.move_to_end(key)
        return found

    def activity_id(self, docnum: int) -> int:
        """The activity a document stands for (its stored id, read once per searcher)."""
        found = self.ids.get(docnum)
        if found is None:
            found = self.ids[docnum] = int(self.searcher.stored_fields(docnum)["id"])
        return found

    def soonest_docnums(self, now: int) -> list[int]:
        """Every document number in soonest_keys() order, sorted once for as long as those keys
        hold (a page of a large result is then read off the front, not sorted out of it)."""
        keys = self.soonest_keys(now)
        if self.soonest_order is None or self.soonest_order[0] is not keys:
            self.soonest_order = (keys, sorted(range(len(keys)), key=keys.__getitem__))
        return self.soonest_order[1]

    def distances(self, point: tuple[float, float]) -> list[float]:
        """Each document's great-circle distance from the point in km (FAR without
        coordinates), by document number; kept for the few points (schools) asked about."""
        table = self.distance_tables.get(point)
        if table is None:
            lat, lon = point
            table = [
                great_circle_km(lat, lon, *_POINT.unpack(packed)) if packed else FAR
                for packed in self.column("point")
            ]
            self.distance_tables[point] = table
            if len(self.distance_tables) > MAX_DISTANCE_TABLES:
                self.distance_tables.popitem(last=False)
        else:
            self.distance_tables.move_to_end(point)
        return table

    def within_bits(self, point: tuple[float, float], km: float) -> int:
        """The documents with coordinates at most `km` from the point, as a cached bitmap."""
        return self._cached(
            ("within", point, km),
            lambda: to_bitmap(
                (n for n, d in enumerate(self.distances(point)) if d <= km), self.size
            ),
        )

    def live_bits(self, now: int) -> int:
        """Documents whose last occurrence has not ended by `now` and whose listing has not
        expired by then (issue 14: checked here, at query time, not by a nightly reindex)."""
        if self.live is None or not self.live.fits(now):
            last_end = self.column("last_end")
            listed = self.column("listed_until")
            alive = from_bitmap(self.bits(Every()))
            live = [n for n in alive if min(last_end[n], listed[n]) >= now]
            valid_until = min((min(last_end[n], listed[n]) for n in live), default=NEVER) + 1
            self.live = _Timed(to_bitmap(live, self.size), now, valid_until)
        return self.live.value

    def soonest_keys(self, now: int) -> list:
        """(next start not ended by `now`, title key, docnum) by document number."""
        if self.soonest is None or not self.soonest.fits(now):
            upcoming = self.column("upcoming")
            next_start = self.column("next_start")
            titles = self.column("title_sort")
            keys: list = []
            valid_until = NEVER
            for n, packed in enumerate(upcoming):
                start = NEVER
                if packed:
                    for pair_start, pair_end in _PAIR.iter_unpack(packed):
                        if pair_end > now:
                            start = pair_start
                            valid_until = min(valid_until, pair_end)
                            break
                elif next_start[n] != NEVER:  # written without pairs: trust next_start
                    start = next_start[n]
                keys.append((start, titles[n], n))
            self.soonest = _Timed(keys, now, valid_until)
        return self.soonest.value


# --- the backend ---------------------------------------------------------------------------


class WhooshBackend:
    """SearchBackend over a Whoosh index directory; one instance per process and directory."""

    name = "whoosh"

    def __init__(self, directory: str | os.PathLike, *, writer_timeout: float = 5.0):
        self.directory = Path(directory)
        self.writer_timeout = writer_timeout
        self._state: _State | None = None
        self._lock = threading.RLock()

    # --- opening ---

    def current_name(self) -> str:
        """The name of the index in use; SearchUnavailable when there is none."""
        try:
            name = (self.directory / POINTER_FILE).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SearchUnavailable(f"no search index in {self.directory.name}") from exc
        if not _NAME_PATTERN.match(name):
            raise SearchUnavailable("the search index pointer is unreadable")
        if not name.startswith(INDEX_PREFIX):
            raise SearchUnavailable("the search index was built by another version: reindex")
        return name

    def _open(self, name: str):
        try:
            return index.open_dir(str(self.directory), indexname=name, schema=SCHEMA)
        except Exception as exc:  # missing or corrupt files, whatever Whoosh raises for them
            failure = unavailable("the search index cannot be opened", exc)
        raise failure

    def _current_state(self) -> _State:
        name = self.current_name()
        state = self._state
        if state is not None and state.name == name:
            try:
                if state.searcher.up_to_date():
                    return state
            except Exception:  # files of a replaced index may be gone: reopen below
                log.debug("up_to_date() failed; reopening", exc_info=True)
        # Never searcher.refresh(): whoosh-reloaded 2.7.5 returns duplicates after a merge.
        if state is not None:
            state.close()
        self._state = None
        ix = self._open(name)
        try:
            searcher = ix.searcher()
        except Exception as exc:
            failure = unavailable("the search index cannot be read", exc)
            raise failure from None
        self._state = _State(name, ix, searcher)
        return self._state

    def close(self) -> None:
        """Close the open searcher (a new one opens at the next query)."""
        with self._lock:
            if self._state is not None:
                self._state.close()
                self._state = None

    def check(self) -> bool:
        """Whether the index can be opened and read."""
        try:
            with self._lock:
                self._current_state().searcher.doc_count()
        except SearchUnavailable:
            return False
        except Exception as exc:
            log.warning("%s", unavailable("the search index failed its check", exc))
            return False
        return True

    # --- writing ---

    def _writer(self):
        ix = self._open(self.current_name())
        try:
            return ix.writer(timeout=self.writer_timeout)
        except LockError as exc:
            raise SearchUnavailable("the search index is locked by another writer") from exc
        except Exception as exc:
            failure = unavailable("the search index cannot be written", exc)
            raise failure from None

    def update(self, documents: Iterable[ActivityDocument], remove_ids: Iterable[int]) -> None:
        """Add or replace documents and remove ids, in one commit (SearchUnavailable if locked)."""
        self.update_from(lambda: (documents, remove_ids))

    def update_from(
        self, read: Callable[[], tuple[Iterable[ActivityDocument], Iterable[int]]]
    ) -> None:
        """update() with the (documents, remove_ids) that `read` returns, called while this
        writer holds the index's lock: writers then write in the order they read the database,
        so a slow one never puts back an older version of a document than the last writer's."""
        writer = self._writer()
        try:
            documents, remove_ids = read()
        except BaseException:
            writer.cancel()
            raise
        if not documents and not remove_ids:
            writer.cancel()  # nothing to write: no new generation for the searchers to open
            return
        try:
            for activity_id in remove_ids:
                writer.delete_by_term("id", str(activity_id))
            for doc in documents:
                writer.update_document(**document_fields(doc))
            writer.commit()
        except BaseException as exc:
            writer.cancel()
            if isinstance(exc, Exception) and not isinstance(exc, SearchUnavailable):
                failure = unavailable("the search index write failed", exc)
                raise failure from None
            raise

    def index(self, documents: Iterable[ActivityDocument]) -> None:
        """Add or replace these documents."""
        self.update(documents, ())

    def remove(self, ids: Iterable[int]) -> None:
        """Remove these activity ids (missing ones are ignored)."""
        self.update((), ids)

    def rebuild(
        self,
        documents: Iterable[ActivityDocument],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write a complete new index beside the current one, then switch CURRENT to it.

        One rebuild at a time per directory (SearchUnavailable if another is running): each
        removes the files of older builds when it finishes.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        storage = FileStorage(str(self.directory))
        rebuilding = storage.lock(REBUILD_LOCK)
        if not rebuilding.acquire(blocking=False):
            raise SearchUnavailable("another rebuild of the search index is running")
        try:
            try:
                previous = self.current_name()
            except SearchUnavailable:
                previous = None
            name = INDEX_PREFIX + secrets.token_hex(6)
            ix = storage.create_index(SCHEMA, indexname=name)
            writer = ix.writer(limitmb=128)
            count = 0
            try:
                for doc in documents:
                    writer.add_document(**document_fields(doc))
                    count += 1
                    if progress is not None:
                        progress(1)
                writer.commit()
            except BaseException:
                writer.cancel()
                self._remove_index_files(keep={previous} if previous else set())
                raise
            self._write_pointer(name)
            self._remove_index_files(keep={name, previous} if previous else {name})
            return count
        finally:
            rebuilding.release()

    def _write_pointer(self, name: str) -> None:
        temporary = self.directory / f"{POINTER_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        temporary.write_text(name + "\n", encoding="ascii")
        os.replace(temporary, self.directory / POINTER_FILE)

    def _remove_index_files(self, *, keep: set[str]) -> None:
        """Delete the files of indexes other than `keep` (older builds, abandoned rebuilds)."""
        for path in self.directory.iterdir():
            match = re.match(r"^_?(activities_v\d+_[0-9a-f]{12})_", path.name)
            if match and match.group(1) not in keep:
                try:
                    path.unlink()
                except OSError:
                    log.warning("could not remove old index file %s", path.name)

    # --- reading ---

    def stamps(self) -> dict[int, str]:
        """Every indexed id with its stamp, for comparing with the database."""
        with self._lock:
            try:
                searcher = self._current_state().searcher
                found = {}
                for docnum in searcher.reader().all_doc_ids():
                    stored = searcher.stored_fields(docnum)
                    found[int(stored["id"])] = stored["stamp"]
                return found
            except SearchUnavailable:
                raise
            except Exception as exc:
                failure = unavailable("the search index cannot be read", exc)
            self._drop_state()
            raise failure

    def _drop_state(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None

    def query(self, query: SearchQuery, *, now: datetime, count_only: bool = False) -> SearchResult:
        """Answer a query; raises SearchUnavailable when the index cannot answer. (The page
        costs little here: `count_only` changes nothing.)"""
        with self._lock:
            for _attempt in (1, 2):
                state = self._current_state()
                try:
                    return self._query(state, query, now)
                except SearchUnavailable:
                    raise
                except Exception as exc:
                    # Another worker's merge may have removed a file this searcher had not read
                    # yet: a fresh searcher answers. A corrupt segment fails twice.
                    failure = unavailable("the search index failed", exc)
                self._drop_state()
            log.warning("%s", failure)
            raise failure

    def _filter_groups(self, query: SearchQuery) -> list[list[Query]]:
        """Filter queries: OR within a group, AND between groups."""
        groups: list[list[Query]] = []
        for low, high in query.age_windows():
            groups.append([Term("ages", str(age)) for age in range(low, high + 1)])
        if query.categories:
            groups.append([Term("category", c) for c in query.categories])
        if query.weekdays:
            groups.append([Term("weekdays", str(d)) for d in query.weekdays])
        if query.times:
            groups.append([Term("times", t) for t in query.times])
        if query.free:
            groups.append([Term("free", True)])
        if query.accessible:
            groups.append([Term("accessible", True)])
        for flag in ("fritidskort", "trial", "equipment"):
            if getattr(query, flag):
                groups.append([Term(flag, True)])
        for slug in {query.municipality, query.school_municipality} - {None}:
            groups.append([Term("municipality", slug)])
        if query.organisation:
            groups.append([Term("organisation", query.organisation)])
        if query.date_from or query.date_to:
            start = (query.date_from or date.min).isoformat()
            end = (query.date_to or date(9999, 12, 31)).isoformat()
            groups.append([TermRange("dates", start, end)])
        return groups

    def _allowed(self, state: _State, query: SearchQuery, now: int) -> int:
        """The documents passing every filter (and not ended), as a bitmap."""
        allowed = state.live_bits(now)
        for group in self._filter_groups(query):
            union = 0
            for q in group:
                union |= state.bits(q)
            allowed &= union
        if query.within_km is not None and query.near_point is not None:
            allowed &= state.within_bits(query.near_point, query.within_km)
        return allowed

    def _word_bits(self, state: _State, word: Word, *, tolerant: bool, expansions: dict) -> int:
        """The documents a word matches: strictly, or also by folded spelling and typos."""
        if word.prefix is not None:
            bits = (
                state.prefix_bits("title", word.prefix)
                | state.prefix_bits("body", word.prefix)
                | state.prefix_bits("folded", fold(word.prefix))
            )
            for code in CONTENT_LANGUAGE_CODES:
                bits |= state.prefix_bits(field_name(code), query_prefix(word.prefix))
            return bits
        bits = state.term("title", word.stemmed) | state.term("body", word.stemmed)
        # With or without æ/ø/å and accents: "svommekurs" finds what "svømmekurs" finds.
        bits |= state.term("folded", word.folded)
        for fieldname, text in word.translated:  # or the offer's text in another language
            bits |= state.term(fieldname, text)
        if word.parts:
            # A query compound also finds its parts written apart ("fotball trening").
            both = -1
            for part in word.parts:
                both &= state.term("title", part) | state.term("body", part)
            bits |= both
        if word.folded_parts:
            both = -1
            for part in word.folded_parts:
                both &= state.term("folded", part)
            bits |= both
        if tolerant:
            found = []
            edits = max_edits(word.text)
            if edits:
                reader = state.searcher.reader()
                for fieldname, text, boost in (
                    ("title", word.stemmed, TITLE_BOOST / 2),
                    ("body", word.stemmed, 0.5),
                    ("folded", word.folded, 0.0),
                ):
                    found += [
                        (fieldname, t, boost)
                        for t in reader.terms_within(fieldname, text, edits, prefix=1)
                    ]
            expansions[word.text] = found
            for fieldname, text, _boost in found:
                bits |= state.term(fieldname, text)
        return bits

    def _match_text(
        self, state: _State, text: TextQuery, allowed: int, *, tolerant: bool, expansions: dict
    ) -> int:
        matched = allowed
        for word in text.parsed:
            if not matched:
                break
            matched &= self._word_bits(state, word, tolerant=tolerant, expansions=expansions)
        return matched

    def _query(self, state: _State, query: SearchQuery, now_dt: datetime) -> SearchResult:
        now = int(now_dt.timestamp())
        allowed = self._allowed(state, query, now)
        text = parse_text(query.text)
        suggestion = None
        expansions: dict[str, list] = {}
        matched = allowed
        if text.parsed:
            matched = self._match_text(state, text, allowed, tolerant=False, expansions=expansions)
            if not matched:
                suggestion = self._suggest(state, text.words)
                if allowed:
                    matched = self._match_text(
                        state, text, allowed, tolerant=True, expansions=expansions
                    )
        facets = self._facets(state, matched)
        total = matched.bit_count()
        offset = (query.page - 1) * query.per_page
        wanted = offset + query.per_page
        docnums: list[int] = []
        if offset < total:
            # Cancelled activities come after all the others, in any order (they stay listed,
            # marked «Avlyst», but never ahead of an offer that takes place).
            cancelled = matched & state.term("status", "cancelled")
            for part in (matched & ~cancelled, cancelled):
                if part and len(docnums) < wanted:
                    docnums += self._ordered(
                        state, query, text, expansions, part, wanted - len(docnums), now
                    )
        docnums = docnums[offset:wanted]
        ids = [state.activity_id(n) for n in docnums]
        return SearchResult(
            ids=ids,
            total=total,
            facets=facets,
            suggestion=suggestion,
            open_facets=self._open_facets(state, query, text, now),
        )

    def _open_facets(
        self, state: _State, query: SearchQuery, text: TextQuery, now: int
    ) -> dict[str, dict[str, int]] | None:
        """Each multi-select group with a choice counted without its own choice (what the
        service would otherwise ask for in a second search, the same query less that choice):
        a few more bitmap operations on what the result has cached. None without a choice."""
        chosen = [(f, a) for f, a in MULTI_SELECT_FACETS.items() if getattr(query, a)]
        if not chosen:
            return None
        counted = {}
        for facet, attribute in chosen:
            allowed = self._allowed(state, replace(query, **{attribute: ()}), now)
            matched = allowed
            if text.parsed:
                matched = self._match_text(state, text, allowed, tolerant=False, expansions={})
                if not matched and allowed:
                    matched = self._match_text(state, text, allowed, tolerant=True, expansions={})
            counted[facet] = self._facets(state, matched)[facet]
        return counted

    def _ordered(
        self,
        state: _State,
        query: SearchQuery,
        text: TextQuery,
        expansions: dict,
        matched: int,
        wanted: int,
        now: int,
    ) -> list[int]:
        """The first `wanted` documents of `matched` in the query's order."""
        if query.sort == "relevance" and text.parsed:
            return self._by_relevance(state, text, expansions, matched, wanted, now)
        if query.sort == "newest":
            published = state.column("published_at")
            titles = state.column("title_sort")
            return heapq.nsmallest(
                wanted, from_bitmap(matched), key=lambda n: (-published[n], titles[n], n)
            )
        keys = state.soonest_keys(now)
        if query.sort == "distance" and query.near_point is not None:
            # Nearest first, those without coordinates last; ties by the soonest start.
            distances = state.distances(query.near_point)
            return heapq.nsmallest(
                wanted, from_bitmap(matched), key=lambda n: (distances[n], keys[n])
            )
        # Soonest. A large result (the home listing: everything) is read off the front of the
        # documents sorted once by that key; a small one is sorted out of its own few.
        count = matched.bit_count()
        if count * count >= 2 * wanted * state.size:
            return first_in_order(matched, state.soonest_docnums(now), wanted)
        return heapq.nsmallest(wanted, from_bitmap(matched), key=keys.__getitem__)

    def _by_relevance(
        self, state: _State, text: TextQuery, expansions: dict, matched: int, wanted: int, now: int
    ) -> list[int]:
        """The first `wanted` matches by BM25F score, then those no scoring term reaches
        (prefix-only and compound-part matches: title matches first) by soonest start."""
        terms = text.scoring_terms(expansions)
        scored_bits = 0
        for t in terms:
            scored_bits |= state.term(t.fieldname, t.text)
        every_scored = scored_bits
        scored_bits &= matched
        searcher = state.searcher
        scored: list[int] = []
        if scored_bits:
            count = scored_bits.bit_count()
            if every_scored.bit_count() <= DIRECT_SCORING_LIMIT:
                # Every document the words reach, ranked once per searcher; the filters pick
                # from that ranking (a document's score does not depend on the others').
                ranking = state.ranking(
                    terms,
                    lambda: self._score_directly(state, terms, from_bitmap(every_scored)),
                )
                scored = first_in_order(scored_bits, ranking, wanted)
            elif count <= DIRECT_SCORING_LIMIT:
                scored = self._score_directly(state, terms, from_bitmap(scored_bits))[:wanted]
            else:
                # Filters as a docnum set through filter=..., never Require(): see the module doc.
                results = searcher.search(
                    Or(terms), filter=set(from_bitmap(scored_bits)), limit=min(wanted, count)
                )
                scored = [hit.docnum for hit in results]
        if len(scored) >= wanted:
            return scored
        rest = from_bitmap(matched & ~scored_bits)
        keys = state.soonest_keys(now)
        title_hits = 0
        for word in text.parsed:
            if word.prefix is not None:
                title_hits |= state.prefix_bits("title", word.prefix)
        rest = heapq.nsmallest(
            wanted - len(scored),
            rest,
            key=lambda n: (not (title_hits >> n) & 1, keys[n]),
        )
        return scored + rest

    def _score_directly(self, state: _State, terms: list[Term], docnums: list[int]) -> list[int]:
        """BM25F scores of a few documents, term by term, as Whoosh's Or(terms) would give them;
        cheaper than a search when filters leave few candidates. Best first, ties by docnum."""
        searcher = state.searcher
        context = searcher.context()
        scores = dict.fromkeys(docnums, 0.0)
        for t in terms:
            matcher = t.matcher(searcher, context)
            for n in docnums:
                if not matcher.is_active():
                    break
                if matcher.id() < n:
                    matcher.skip_to(n)
                    if not matcher.is_active():
                        break
                if matcher.id() == n:
                    scores[n] += matcher.score()
        return sorted(docnums, key=lambda n: (-scores[n], n))

    def _facets(self, state: _State, matched: int) -> dict[str, dict[str, int]]:
        """Counts within the result set: category slug, ISO weekday, time of day and the flags."""
        if state.categories is None:  # the index's categories: read once per open searcher
            reader = state.searcher.reader()
            state.categories = tuple(v.decode() for v in reader.lexicon("category") if v)
        categories = state.categories

        def count(fieldname: str, value) -> int:
            return (matched & state.term(fieldname, value)).bit_count()

        category = {c: count("category", c) for c in categories}
        return {
            "category": {c: n for c, n in category.items() if n},
            "weekday": {str(d): count("weekdays", str(d)) for d in range(1, 8)},
            "time": {t: count("times", t) for t in TIMES_OF_DAY},
            "free": {"1": count("free", True)},
            "accessible": {"1": count("accessible", True)},
            "fritidskort": {"1": count("fritidskort", True)},
            "trial": {"1": count("trial", True)},
            "equipment": {"1": count("equipment", True)},
        }

    def _suggest(self, state: _State, words: list[str]) -> str | None:
        """The words with each unknown one replaced by the closest frequent indexed spelling."""
        reader = state.searcher.reader()
        corrected, changed = [], False
        for word in words:
            if word.endswith("*") or reader.doc_frequency("spelling", word):
                corrected.append(word)
                continue
            best = None
            for edits in range(1, max(max_edits(word), 1) + 1):
                candidates = list(reader.terms_within("spelling", word, edits, prefix=1))
                if candidates:
                    best = max(candidates, key=lambda c: (reader.doc_frequency("spelling", c), c))
                    break
            corrected.append(best or word)
            changed = changed or best is not None
        return " ".join(corrected) if changed else None
