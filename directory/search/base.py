"""The search interface. Views use the service (directory.search.service), which uses a backend.

A backend indexes ActivityDocuments and answers SearchQuery objects with ids in order, a total,
facet counts and, when nothing matched, a spelling suggestion. The Whoosh backend is the default;
a database backend answers when the index is missing or broken (degraded); the PostgreSQL
backend keeps the search in the shared database for several hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from flask_sqlalchemy.pagination import Pagination

if TYPE_CHECKING:
    from directory.activities.models import Activity
    from directory.search.query import SearchQuery

# Facet names and the filter each one counts.
FACETS = (
    "category", "weekday", "time", "free", "accessible", "fritidskort", "trial", "equipment",
)  # fmt: skip
# Multi-select facets -> the SearchQuery attribute holding their choice. Within such a group any
# chosen value matches, so an unchosen value's count must say what ticking it would add: the
# service counts these leaving the group's own choice out ("disjunctive" facets). The other
# facets count within the current result.
MULTI_SELECT_FACETS = {"category": "categories", "weekday": "weekdays", "time": "times"}


class SearchUnavailable(Exception):
    """The backend cannot answer (index missing, corrupt or locked beyond its timeout)."""


@dataclass(frozen=True)
class ActivityDocument:
    """What the index knows about one public activity, built from the database."""

    id: int
    stamp: str  # changes whenever anything indexed changes: compared by check-index
    title: str
    summary: str
    description: str
    tags: str
    organisation_name: str
    organisation_slug: str
    organisation_kind: str
    verified: bool
    municipality: str  # slug
    category: str | None  # slug
    age_min: int
    age_max: int
    weekdays: tuple[int, ...]  # ISO weekdays of its occurrences
    times: tuple[str, ...]  # after_school / evening / weekend
    free: bool
    accessible: bool
    status: str
    dates: tuple[str, ...]  # ISO dates of occurrences within the indexing horizon
    next_start: datetime | None
    last_end: datetime | None
    published_at: datetime | None
    # The first few (start, end) pairs that had not ended at index time: lets the index order
    # by the real next start after next_start has passed, until the nightly reindex.
    upcoming: tuple[tuple[datetime, datetime], ...] = ()
    # Low-threshold flags (issue 13): leisure card, free trial session, equipment lent/not needed.
    fritidskort: bool = False
    trial: bool = False
    equipment: bool = False
    # The venue's coordinates, copied onto the activity (issue 13, "near a school"): both or
    # neither.
    latitude: float | None = None
    longitude: float | None = None
    # The offer's text in other languages (issue 14): (language code, title summary
    # description), in the order of the content languages.
    translations: tuple[tuple[str, str], ...] = ()
    # The listing is confirmed until this Oslo date (issue 14); past it the document stays in
    # the index but no query finds it. None: no date, always current.
    confirmed_until: date | None = None


@dataclass
class SearchResult:
    """A backend's answer: matching ids in order for the requested page, and the rest.

    A backend's facets count within its own result; the service turns them into the counts
    views show (see MULTI_SELECT_FACETS).
    """

    ids: list[int]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    # The multi-select groups with a choice, each counted without its own choice, when the
    # backend counted them along with the result (else the service asks for them).
    open_facets: dict[str, dict[str, int]] | None = None


@dataclass
class ResultPage:
    """The service's answer to a view: the public activities found, in order.

    `ids` are the activities the page lists (public and current when the page was made), with
    their next starts and distances; the activities themselves are loaded from the database
    when first asked for (`items`, or `activities()` for a few), so that a page made of what
    the search already knows (the result cards kept by this process) loads none.
    """

    ids: list[int]
    next_starts: dict[int, datetime | None]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]  # multi-select groups leave their own choice out
    suggestion: str | None
    degraded: bool  # answered from the database because the index could not
    # Every group counted within the result itself (a multi-select group's choice included):
    # with `facets`, what ticking one more value of a group would add to the result.
    facets_within: dict[str, dict[str, int]] = field(default_factory=dict)
    # With `near`: each item's great-circle distance from the school in km (None without
    # coordinates); empty without `near`.
    distances: dict[int, float | None] = field(default_factory=dict)
    # Loads activities by id with what pages show of them (the service's loader).
    loader: Callable[[list[int]], dict[int, Activity]] | None = field(default=None, repr=False)
    loaded: dict[int, Activity] = field(default_factory=dict, repr=False)

    def activities(self, ids: Iterable[int]) -> dict[int, Activity]:
        """These listed activities by id, loaded in one query for those not loaded yet (one
        that has gone since the page was made is left out)."""
        wanted = list(ids)
        missing = [i for i in wanted if i not in self.loaded]
        if missing and self.loader is not None:
            self.loaded.update(self.loader(missing))
        return {i: self.loaded[i] for i in wanted if i in self.loaded}

    @property
    def items(self) -> list[Activity]:
        """Every listed activity, in order."""
        found = self.activities(self.ids)
        return [found[i] for i in self.ids if i in found]

    @property
    def pages(self) -> int:
        """The number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    def pagination(self) -> Pagination:
        """Flask-SQLAlchemy's pagination of this page, for the page links of the template."""
        return _FoundPagination(
            page=self.page,
            per_page=self.per_page,
            max_per_page=None,
            error_out=False,
            items=self.ids,
            total=self.total,
        )


class _FoundPagination(Pagination):
    """The library's pagination over results the search backend already found."""

    def _query_items(self) -> list:
        return list(self._query_args["items"])

    def _query_count(self) -> int:
        return self._query_args["total"]


class SearchBackend(Protocol):
    """One search implementation."""

    name: str

    def index(self, documents: Iterable[ActivityDocument]) -> None:
        """Add or replace these documents."""

    def remove(self, ids: Iterable[int]) -> None:
        """Remove these activity ids (missing ones are ignored)."""

    def update_from(
        self, read: Callable[[], tuple[Iterable[ActivityDocument], Iterable[int]]]
    ) -> None:
        """Write the (documents, ids to remove) that `read` returns, in one commit; `read` runs
        while the writer holds the index, so writes follow the order of the reads."""

    def query(self, query: SearchQuery, *, now: datetime, count_only: bool = False) -> SearchResult:
        """Answer a query in its order, cancelled activities after all the others (whatever the
        order: relevance too); raises SearchUnavailable when it cannot. With `count_only` the
        ids may be left out (the total and the facets are wanted: facet and filter counts)."""

    def rebuild(
        self,
        documents: Iterable[ActivityDocument],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Replace the whole index with these documents; returns how many were indexed."""

    def stamps(self) -> dict[int, str]:
        """Every indexed id with its stamp, for comparing with the database."""

    def check(self) -> bool:
        """Whether the index can be opened and read."""
