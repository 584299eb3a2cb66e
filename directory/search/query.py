"""The search query: one model of the filters, parsed from a query string in one place.

The HTML pages, the JSON API, the calendar feed, the Atom feed and the widget all take the same
parameters and parse them here, so a filter means the same thing everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from directory.i18n import gettext as _
from directory.policy.audience import grade_ages, grades_ages
from directory.policy.limits import AGE_RANGE

WEEKDAY_NAMES = {
    # ISO weekday numbers, Norwegian and English short names.
    "1": 1, "man": 1, "mon": 1,
    "2": 2, "tir": 2, "tue": 2,
    "3": 3, "ons": 3, "wed": 3,
    "4": 4, "tor": 4, "thu": 4,
    "5": 5, "fre": 5, "fri": 5,
    "6": 6, "lor": 6, "lør": 6, "sat": 6,
    "7": 7, "son": 7, "søn": 7, "sun": 7,
}  # fmt: skip
TIMES_OF_DAY = ("after_school", "evening", "weekend")
SORTS = ("relevance", "soonest", "newest", "distance")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 10_000
MAX_TEXT = 200
GRADE_RANGE = (1, 13)
MAX_WITHIN_KM = 100  # `within_km`: a positive number of kilometres up to this
_KM = re.compile(r"([0-9]{1,3})(?:[.,]([0-9]{1,3}))?")  # "2", "2.5" or "2,5"


class QueryError(ValueError):
    """A bad search parameter: which one, and a message for the user (in their language)."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True)
class SearchQuery:
    """What a visitor asked for. Empty values mean 'no filter'."""

    text: str = ""
    age: int | None = None
    grade: int | None = None
    categories: tuple[str, ...] = ()
    weekdays: tuple[int, ...] = ()  # ISO 1 (Monday) .. 7 (Sunday)
    times: tuple[str, ...] = ()  # after_school, evening, weekend
    free: bool = False
    accessible: bool = False
    fritidskort: bool = False  # payable with the municipality's leisure card
    trial: bool = False  # offers a free trial session
    equipment: bool = False  # equipment lent or not needed
    school: str | None = None  # slug
    organisation: str | None = None  # slug
    municipality: str | None = None  # slug
    date_from: date | None = None
    date_to: date | None = None
    near: str | None = None  # a school's slug: measure distances from it (it filters nothing)
    within_km: float | None = None  # only activities this close to `near` (needs `near`)
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    # Filled in by the service from `school` (its grades), never from the query string.
    school_grades: tuple[int, int] | None = field(default=None, compare=False)
    # The school's municipality (slug), filled in with school_grades: the catchment area.
    school_municipality: str | None = field(default=None, compare=False)
    # The (latitude, longitude) of the `near` school, filled in by the service.
    near_point: tuple[float, float] | None = field(default=None, compare=False)

    def age_windows(self) -> list[tuple[int, int]]:
        """The age ranges (inclusive) an activity's ages must overlap, one per age filter:
        the age itself, the grade's two ages, the school's grades' ages. Every backend filters
        by these."""
        windows = []
        if self.age is not None:
            windows.append((self.age, self.age))
        if self.grade is not None:
            windows.append(grade_ages(self.grade))
        if self.school_grades is not None:
            windows.append(grades_ages(*self.school_grades))
        return windows

    @property
    def has_filters(self) -> bool:
        """Whether anything narrows the result beyond paging and sorting."""
        return any(
            (self.text, self.age is not None, self.grade is not None, self.categories,
             self.weekdays, self.times, self.free, self.accessible, self.fritidskort,
             self.trial, self.equipment, self.school, self.within_km is not None,
             self.organisation, self.municipality, self.date_from, self.date_to)
        )  # fmt: skip


def _one(args, name: str) -> str:
    values = [v.strip() for v in args.getlist(name)]
    values = [v for v in values if v]
    if len(values) > 1:
        raise QueryError(name, _("Parameteren «%(name)s» kan bare gis én gang.", name=name))
    value = values[0] if values else ""
    if "\x00" in value:
        raise QueryError(name, _("Parameteren «%(name)s» er ugyldig.", name=name))
    return value


def _many(args, name: str) -> list[str]:
    values: list[str] = []
    for raw in args.getlist(name):
        values.extend(part.strip() for part in raw.split(","))
    values = [v for v in values if v]
    if len(values) > 20 or any("\x00" in v or len(v) > 60 for v in values):
        raise QueryError(name, _("Parameteren «%(name)s» er ugyldig.", name=name))
    return values


def _int(args, name: str, low: int, high: int, message: str) -> int | None:
    raw = _one(args, name)
    if not raw:
        return None
    try:
        value = int(raw) if raw.isascii() and raw.isdigit() else None
    except ValueError:  # more digits than Python converts (4300): certainly out of range
        value = None
    if value is None or not low <= value <= high:
        raise QueryError(name, message)
    return value


# Parameters that may list several values, comma-separated; yes/no flags and their "no" words.
LIST_PARAMS = ("category", "weekday", "time")
FLAG_PARAMS = ("free", "accessible", "fritidskort", "trial", "equipment")
FLAG_NO = frozenset({"", "0", "false", "nei", "no"})


def _flag(args, name: str) -> bool:
    raw = _one(args, name).lower()
    if raw in FLAG_NO:
        return False
    if raw in ("1", "true", "ja", "yes", "on"):
        return True
    raise QueryError(name, _("Parameteren «%(name)s» må være 1 eller 0.", name=name))


def _date(args, name: str) -> date | None:
    raw = _one(args, name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str):
    raise QueryError(
        name, _("Parameteren «%(name)s» må være en dato på formen ÅÅÅÅ-MM-DD.", name=name)
    )


def _slug(args, name: str) -> str | None:
    raw = _one(args, name)
    if not raw:
        return None
    if len(raw) > 100 or not all(c.isascii() and (c.isalnum() or c == "-") for c in raw):
        raise QueryError(name, _("Parameteren «%(name)s» er ugyldig.", name=name))
    return raw.lower()


def _km(args, name: str) -> float | None:
    raw = _one(args, name)
    if not raw:
        return None
    match = _KM.fullmatch(raw)
    value = float(f"{match.group(1)}.{match.group(2) or 0}") if match else 0.0
    if not 0 < value <= MAX_WITHIN_KM:
        raise QueryError(
            name,
            _("Avstanden må være et tall større enn 0 og høyst %(max)d km, for eksempel 2 "
              "eller 2,5.", max=MAX_WITHIN_KM),
        )  # fmt: skip
    return value


def default_sort(text: str, near: str | None) -> str:
    """The order when none is asked for: distance from a chosen school, else relevance with
    text, else the soonest start."""
    if near:
        return "distance"
    return "relevance" if text else "soonest"


def parse_search_args(args) -> SearchQuery:
    """A SearchQuery from request arguments (a MultiDict); raises QueryError on bad input.

    Unknown parameters are ignored. Lists (category, weekday, time) may repeat or be
    comma-separated.
    """
    text = _one(args, "q")
    if len(text) > MAX_TEXT:
        raise QueryError("q", _("Søketeksten kan ha høyst %(n)d tegn.", n=MAX_TEXT))
    weekdays = []
    for value in _many(args, "weekday"):
        if value.lower() not in WEEKDAY_NAMES:
            raise QueryError(
                "weekday", _("Ukedagen «%(value)s» er ukjent. Bruk 1–7 (mandag = 1).", value=value)
            )
        weekdays.append(WEEKDAY_NAMES[value.lower()])
    times = [t.lower() for t in _many(args, "time")]
    for value in times:
        if value not in TIMES_OF_DAY:
            raise QueryError(
                "time",
                _("Tidspunktet «%(value)s» er ukjent. Bruk after_school, evening eller weekend.",
                  value=value),
            )  # fmt: skip
    categories = [c.lower() for c in _many(args, "category")]
    for value in categories:
        if not all(c.isascii() and (c.isalnum() or c == "-") for c in value):
            raise QueryError("category", _("Kategorien «%(value)s» er ugyldig.", value=value))
    near = _slug(args, "near")
    within_km = _km(args, "within_km")
    sort = _one(args, "sort").lower() or default_sort(text, near)
    if sort not in SORTS:
        raise QueryError(
            "sort", _("Sorteringen må være relevance, soonest, newest eller distance.")
        )
    if sort == "distance" and not near:
        raise QueryError(
            "sort", _("Sortering etter avstand krever en skole å måle fra (near=<skole>).")
        )
    if within_km is not None and not near:
        raise QueryError(
            "within_km",
            _("Avstandsgrensen krever en skole å måle fra: velg «Nær skole» også."),
        )
    query = SearchQuery(
        text=text,
        age=_int(args, "age", *AGE_RANGE, _("Alderen må være et helt tall fra 0 til 25.")),
        grade=_int(args, "grade", *GRADE_RANGE, _("Trinnet må være et helt tall fra 1 til 13.")),
        categories=tuple(dict.fromkeys(categories)),
        weekdays=tuple(sorted(set(weekdays))),
        times=tuple(t for t in TIMES_OF_DAY if t in times),
        free=_flag(args, "free"),
        accessible=_flag(args, "accessible"),
        fritidskort=_flag(args, "fritidskort"),
        trial=_flag(args, "trial"),
        equipment=_flag(args, "equipment"),
        school=_slug(args, "school"),
        organisation=_slug(args, "organisation"),
        municipality=_slug(args, "municipality"),
        date_from=_date(args, "from"),
        date_to=_date(args, "to"),
        near=near,
        within_km=within_km,
        sort=sort,
        page=_int(args, "page", 1, MAX_PAGE, _("Sidetallet må være et helt tall fra 1 og oppover."))
        or 1,
        per_page=_int(
            args, "per_page", 1, MAX_PER_PAGE,
            _("Antall per side må være et helt tall fra 1 til %(n)d.", n=MAX_PER_PAGE),
        ) or DEFAULT_PER_PAGE,
    )  # fmt: skip
    if query.date_from and query.date_to and query.date_to < query.date_from:
        raise QueryError("to", _("Sluttdatoen kan ikke være før startdatoen."))
    return query


def query_to_args(query: SearchQuery, **overrides) -> dict[str, object]:
    """The query as URL parameters (for links: pagination, facets, feeds), without defaults."""
    args: dict[str, object] = {
        "q": query.text or None,
        "age": query.age,
        "grade": query.grade,
        "category": list(query.categories) or None,
        "weekday": list(query.weekdays) or None,
        "time": list(query.times) or None,
        "free": 1 if query.free else None,
        "accessible": 1 if query.accessible else None,
        "fritidskort": 1 if query.fritidskort else None,
        "trial": 1 if query.trial else None,
        "equipment": 1 if query.equipment else None,
        "school": query.school,
        "organisation": query.organisation,
        "municipality": query.municipality,
        "from": query.date_from.isoformat() if query.date_from else None,
        "to": query.date_to.isoformat() if query.date_to else None,
        "near": query.near,
        "within_km": f"{query.within_km:g}" if query.within_km is not None else None,
        "sort": None if query.sort == default_sort(query.text, query.near) else query.sort,
        "page": query.page if query.page != 1 else None,
        "per_page": query.per_page if query.per_page != DEFAULT_PER_PAGE else None,
    }
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not None}


def clean_search_args(args) -> list[tuple[str, str]]:
    """The search parameters without the empty ones and those that repeat a default (the first
    page, the default page size and order, an unticked flag), in their order. The language
    stays as it was asked for (?lang=nb too).

    The form sends every field, filled or not; the page answers with a redirect to this.
    Only ever leaves parameters out, so the clean parameters are clean already (no loop).
    """
    text = " ".join(v.strip() for v in args.getlist("q")).strip()
    near = " ".join(v.strip() for v in args.getlist("near")).strip()
    defaults = {
        "page": {"1"},
        "per_page": {str(DEFAULT_PER_PAGE)},
        "sort": {default_sort(text, near or None)},
        **dict.fromkeys(FLAG_PARAMS, FLAG_NO),
    }
    kept = []
    for key, value in args.items(multi=True):
        parts = value.split(",") if key in LIST_PARAMS else [value]
        if not any(part.strip() for part in parts):
            continue
        if value.strip().lower() in defaults.get(key, ()):
            continue
        kept.append((key, value))
    return kept
