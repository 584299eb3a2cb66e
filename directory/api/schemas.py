"""The API's declarations: its query parameters and the shapes of its answers, as pydantic models.

The views parse `?municipality=` and serialise every /api/v1 answer through these models, and
directory.api.openapi derives the OpenAPI document from their JSON Schema (draft 2020-12, the
dialect of OpenAPI 3.1). Limits and choices come from the modules that enforce them; the search
filters are parsed by directory.search.query (shared with the HTML pages and the feeds), and
tests/test_openapi.py checks that it accepts exactly what `SearchParams` declares.

Description texts are part of the published document, hence in English.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from directory.activities.content_languages import CONTENT_LANGUAGE_CODES
from directory.i18n import LANGUAGE_NAMES
from directory.organisations.listing import MAX_PAGE as ORGANISATIONS_MAX_PAGE
from directory.organisations.listing import MAX_TEXT as ORGANISATIONS_MAX_TEXT
from directory.organisations.listing import PER_PAGE as ORGANISATIONS_PER_PAGE
from directory.policy.activity_states import CANCELLED, PUBLISHED
from directory.policy.routing import CHANNELS, ORGANISATION_KINDS, RULES
from directory.search.query import (
    AGE_RANGE,
    DEFAULT_PER_PAGE,
    GRADE_RANGE,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_TEXT,
    MAX_WITHIN_KM,
    SORTS,
    TIMES_OF_DAY,
    WEEKDAY_NAMES,
)
from directory.timeutil import to_oslo
from directory.web import MAX_ID

NEXT_OCCURRENCES = 10  # how many occurrences an activity's detail lists
MAX_LIST_VALUES = 20  # how many values a repeatable filter takes (directory.search.query._many)

# A query parameter may hold anything but a NUL character (refused with 400 for every request).
NO_NUL = "^[^\\u0000]*$"
SLUG = "^[A-Za-z0-9-]{1,100}$"
CATEGORY_SLUG = "^[A-Za-z0-9-]{1,60}$"
ISO_WEEK = "^[0-9]{4}-W[0-9]{2}$"


def iso(value: datetime) -> str:
    """An aware datetime (or naive Oslo wall time) as ISO 8601 with its Europe/Oslo offset."""
    return to_oslo(value).isoformat()


# --- building blocks ------------------------------------------------------------------------

Count = Annotated[int, Field(ge=0)]
Slug = Annotated[str, StringConstraints(pattern=SLUG)]
CategorySlug = Annotated[str, StringConstraints(pattern=CATEGORY_SLUG)]
Uri = Annotated[str, Field(json_schema_extra={"format": "uri"})]
MunicipalitySlug = Annotated[str, Field(description="The municipality's slug.")]
# Serialised in Oslo time whatever the stored zone; the schema says what the client gets.
OsloDateTime = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Shape(BaseModel):
    """A closed response object: every field is always present, nothing else is."""

    model_config = ConfigDict(extra="forbid")


# --- query parameters -----------------------------------------------------------------------
# Optional parameters default to None (absent); the document leaves that None out.

Flag = Literal[0, 1]


class SearchParams(BaseModel):
    """The search filters of /api/v1/activities (parsed by directory.search.query)."""

    q: str | None = Field(
        None,
        max_length=MAX_TEXT,
        pattern=NO_NUL,
        description="Free text, Norwegian-aware: inflections, compound words, typos and "
        "missing diacritics match. End a word with * for a prefix search.",
    )
    age: int | None = Field(
        None,
        ge=AGE_RANGE[0],
        le=AGE_RANGE[1],
        description="A child's age: activities whose age range includes it.",
    )
    grade: int | None = Field(
        None,
        ge=GRADE_RANGE[0],
        le=GRADE_RANGE[1],
        description="A school grade g (ages g+5 and g+6): activities whose age range overlaps it.",
    )
    category: set[CategorySlug] | None = Field(
        None, max_length=MAX_LIST_VALUES, description="Category slugs (any of)."
    )
    weekday: set[Literal[tuple(sorted(WEEKDAY_NAMES))]] | None = Field(  # type: ignore[valid-type]
        None,
        max_length=MAX_LIST_VALUES,
        description="Days with an occurrence (any of): ISO numbers 1 (Monday) to 7, or short "
        "Norwegian or English names.",
    )
    time: set[Literal[TIMES_OF_DAY]] | None = Field(  # type: ignore[valid-type]
        None,
        max_length=MAX_LIST_VALUES,
        description="Times of day (any of): after_school = Monday–Friday 13:00–17:59, evening = "
        "Monday–Friday from 18:00, weekend = Saturday and Sunday (Oslo time).",
    )
    free: Flag | None = Field(None, description="1: free of charge only.")
    accessible: Flag | None = Field(None, description="1: activities marked accessible only.")
    fritidskort: Flag | None = Field(
        None, description="1: offers that can be paid with the municipality's leisure card only."
    )
    trial: Flag | None = Field(None, description="1: offers with a free trial session only.")
    equipment: Flag | None = Field(
        None, description="1: offers where equipment is lent or not needed only."
    )
    school: Slug | None = Field(
        None,
        description="A school's slug: activities for its grades, in its municipality. "
        "Unknown: 404.",
    )
    organisation: Slug | None = Field(None, description="An organisation's slug. Unknown: 404.")
    municipality: Slug | None = Field(None, description="A municipality's slug. Unknown: 404.")
    date_from: date | None = Field(
        None,
        alias="from",
        description="YYYY-MM-DD: activities with an occurrence on this day or later.",
    )
    date_to: date | None = Field(
        None,
        alias="to",
        description="YYYY-MM-DD: activities with an occurrence on this day or earlier; "
        "not before `from`.",
    )
    near: Slug | None = Field(
        None,
        description="A school's slug: each item's `distance_km` is its great-circle distance "
        "from the school, and the order is by that distance unless `sort` says otherwise. "
        "Filters nothing by itself (the school's grades are `school`). Unknown or inactive: "
        "404; a school without coordinates: 400.",
    )
    within_km: float | None = Field(
        None,
        gt=0,
        le=MAX_WITHIN_KM,
        description="Only activities at most this many kilometres from the `near` school "
        "(activities without coordinates are left out; totals and facets count the same). "
        "Needs `near`. A decimal comma is accepted too: 2,5.",
    )
    sort: Literal[SORTS] | None = Field(  # type: ignore[valid-type]
        None,
        description="Order: relevance (default with text), soonest (default without), newest, "
        "distance (nearest first, activities without coordinates last; the default with "
        "`near`, and only with `near`).",
    )
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(
        DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE, description="Activities per page."
    )


class MunicipalityParams(BaseModel):
    """?municipality=<slug> of the organisations and schools lists."""

    municipality: str | None = Field(
        None,
        pattern=NO_NUL,
        description="A municipality's slug: only its entries. Unknown: 404.",
    )


class OrganisationParams(BaseModel):
    """The filters of /api/v1/organisations (parsed by directory.organisations.listing)."""

    q: str | None = Field(
        None,
        max_length=ORGANISATIONS_MAX_TEXT,
        pattern=NO_NUL,
        description="Text found in the name or description (case-insensitive).",
    )
    category: CategorySlug | None = Field(
        None,
        description="A category slug: organisations with a public activity in it. Unknown: 400.",
    )
    kind: Literal[ORGANISATION_KINDS] | None = Field(  # type: ignore[valid-type]
        None, description="The kind of organisation."
    )
    municipality: str | None = Field(
        None,
        pattern=NO_NUL,
        description="A municipality's slug: only its organisations. Unknown: 404.",
    )
    page: int = Field(
        1,
        ge=1,
        le=ORGANISATIONS_MAX_PAGE,
        description=f"Page number, from 1; {ORGANISATIONS_PER_PAGE} organisations a page.",
    )


class RoutingParams(BaseModel):
    """The activity and school of /api/v1/routing, and the week."""

    activity: int = Field(ge=1, le=MAX_ID, description="A public activity's id.")
    school: Slug = Field(description="A school's slug, in the activity's municipality.")
    week: str | None = Field(
        None,
        pattern=ISO_WEEK,
        description="An ISO week, e.g. 2026-W48; this week (Oslo) when left out.",
    )


class ActivityPath(BaseModel):
    """The path of /api/v1/activities/{id} (directory.web.BoundedIntegerConverter)."""

    id: int = Field(ge=0, le=MAX_ID)


# ?lang= is read for every request by directory.i18n (an unknown value means bokmål).
Language = Literal[tuple(LANGUAGE_NAMES)]  # type: ignore[valid-type]
# The languages an offer's text may be written in besides bokmål (issue 14).
ContentLanguageCode = Literal[CONTENT_LANGUAGE_CODES]  # type: ignore[valid-type]


class LanguageParams(BaseModel):
    """?lang= as every API operation takes it."""

    lang: Language | None = Field(None, description="Language of error messages (default bokmål).")


class NamesLanguageParams(BaseModel):
    """?lang= where it also chooses the language of the names in the answer."""

    lang: Language | None = Field(
        None, description="Language of `name` and of error messages (default bokmål)."
    )


# --- answers ----------------------------------------------------------------------------------


class OrganisationRef(Shape):
    """The organisation behind an activity."""

    slug: Slug
    name: str
    kind: Literal[ORGANISATION_KINDS]  # type: ignore[valid-type]
    verified: bool = Field(description="Whether the municipality has verified the organisation.")


class Activity(Shape):
    """An activity as it appears in a list."""

    id: int = Field(ge=1)
    title: str
    summary: str
    organisation: OrganisationRef
    category: str | None = Field(description="The category's slug.")
    age_min: Count
    age_max: Count
    is_free: bool
    price_nok: Count = Field(description="Whole kroner; 0 is free.")
    fritidskort: bool = Field(
        description="Whether the offer can be paid with the municipality's leisure card "
        "(fritidskortet)."
    )
    trial_session: bool = Field(description="Whether the offer has a free trial session.")
    equipment_provided: bool = Field(description="Whether equipment is lent or not needed.")
    next_start: OsloDateTime | None = Field(
        description="The next occurrence that has not ended, ISO 8601 with the Europe/Oslo "
        "offset; null when none is left."
    )
    has_flyer: bool
    facebook_post_url: str | None
    status: Literal[PUBLISHED, CANCELLED] = Field(
        description="Only public activities are served: published or cancelled."
    )
    url: Uri = Field(description="The activity's web page.")
    venue: str
    address: str
    content_languages: list[ContentLanguageCode] = Field(
        description="The languages the organiser has also written the title, summary and "
        "description in (codes; [] when none). The page in one of them is `url` with "
        "`?content=<code>`."
    )


class ActivityListItem(Activity):
    """An activity as a search lists it."""

    distance_km: float | None = Field(
        ge=0,
        description="The great-circle distance in km from the `near` school to the venue, "
        "rounded to 2 decimals; null without `near` or when the activity has no coordinates.",
    )


class Schedule(Shape):
    """When an activity takes place, in iCalendar terms."""

    dtstart: OsloDateTime
    duration_minutes: Count
    rrule: str | None = Field(description="An RFC 5545 RRULE value.")
    rdates: list[OsloDateTime]
    exdates: list[OsloDateTime]


class Occurrence(Shape):
    """One occurrence of an activity."""

    start: OsloDateTime
    end: OsloDateTime


class Translation(Shape):
    """The activity's title, summary and description in another language, as its organiser
    wrote them (no machine translation)."""

    language: ContentLanguageCode = Field(description="The language's code (BCP 47).")
    title: str
    summary: str
    description: str = Field(description="The Markdown source.")
    description_html: str = Field(description="Rendered and sanitised HTML.")


class ActivityDetail(Activity):
    """Everything public about one activity."""

    description: str = Field(description="The Markdown source.")
    description_html: str = Field(description="Rendered and sanitised HTML.")
    tags: list[str]
    price_note: str
    cancellation_note: str
    schedules: list[Schedule]
    next_occurrences: list[Occurrence] = Field(max_length=NEXT_OCCURRENCES)
    latitude: float | None = Field(ge=-90, le=90)
    longitude: float | None = Field(ge=-180, le=180)
    accessibility: str = Field(description="Accessibility notes.")
    venue_slug: Slug | None = Field(
        description="The venue's slug (see /api/v1/venues); null when it has no venue."
    )
    venue_accessibility: str = Field(description="The venue's own accessibility notes.")
    languages: list[str]
    registration_url: str | None
    capacity: Count | None
    image_url: Uri | None
    image_alt: str
    flyer_url: Uri | None
    municipality: MunicipalitySlug
    expired: bool = Field(
        description="Whether the organiser's confirmation that the offer is current has run "
        "out (the Oslo date is past `confirmed_until`): an expired activity is left out of "
        "every list, feed and search, and may be out of date; `status` stays as it was."
    )
    translations: list[Translation] = Field(
        description="The text in other languages, in the order of `content_languages`."
    )
    confirmed_until: date | None = Field(
        description="The last day (Oslo date) the organiser has confirmed the offer as "
        "current; null when never asked."
    )


# Facet counts keyed by filter value; TypedDicts because the keys are not Python names.
WeekdayCounts = TypedDict("WeekdayCounts", {str(day): Count for day in range(1, 8)})  # type: ignore[misc]
TimeCounts = TypedDict("TimeCounts", {time: Count for time in TIMES_OF_DAY})  # type: ignore[misc]
FlagCounts = TypedDict("FlagCounts", {"1": Count})


class Facets(Shape):
    """Counts per filter value, the same as the search pages show next to their filters.
    `category`, `weekday` and `time` are multi-select (any chosen value matches), so each
    counts with every other filter applied but its own choice left out: with
    `category=idrett`, `musikk` says how many matches ticking it too would bring, and `idrett`
    how many the choice brings. `free`, `accessible`, `fritidskort`, `trial` and `equipment`
    count within the current result."""

    category: dict[CategorySlug, Count] = Field(
        description="Matches per category slug, counted without the `category` choice "
        "(categories without a match left out)."
    )
    weekday: WeekdayCounts = Field(
        description="Matches with an occurrence on each ISO weekday (1 = Monday), counted "
        "without the `weekday` choice."
    )
    time: TimeCounts = Field(
        description="Matches per time of day, counted without the `time` choice."
    )
    free: FlagCounts = Field(description="Matches in the current result that are free of charge.")
    accessible: FlagCounts = Field(description="Matches in the current result marked accessible.")
    fritidskort: FlagCounts = Field(
        description="Matches in the current result payable with the leisure card."
    )
    trial: FlagCounts = Field(
        description="Matches in the current result with a free trial session."
    )
    equipment: FlagCounts = Field(
        description="Matches in the current result where equipment is lent or not needed."
    )


class ActivityList(Shape):
    """One page of matching activities."""

    items: list[ActivityListItem] = Field(max_length=MAX_PER_PAGE)
    total: Count = Field(description="All matches, not just this page.")
    page: int = Field(ge=1, le=MAX_PAGE)
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    facets: Facets
    suggestion: str | None = Field(description="A spelling to try when the text matched nothing.")
    degraded: bool = Field(
        description="True when the search index could not answer and the database did "
        "(no typo tolerance, slower)."
    )


class Organisation(OrganisationRef):
    """An organisation in the clubs and associations directory."""

    url: Uri = Field(description="The organisation's page.")
    municipality: MunicipalitySlug
    categories: list[CategorySlug] = Field(
        description="The categories of its public activities (hidden categories left out)."
    )
    current_offers: Count = Field(
        description="Its published activities with an occurrence that has not ended."
    )
    logo_url: Uri | None = Field(description="Its logo, when it has uploaded one.")


class OrganisationFacets(Shape):
    """Counts per filter value, as /organisations shows them: each counted with the other
    filters applied but its own choice left out."""

    category: dict[CategorySlug, Count] = Field(
        description="Organisations per category slug (those without any left out)."
    )
    kind: dict[Literal[ORGANISATION_KINDS], Count] = Field(  # type: ignore[valid-type]
        description="Organisations per kind (kinds without any left out)."
    )
    municipality: dict[Slug, Count] = Field(
        description="Organisations per municipality slug (those without any left out)."
    )


class OrganisationList(Shape):
    """One page of the directory: organisations that are not rejected and have a public
    activity, by name."""

    items: list[Organisation] = Field(max_length=ORGANISATIONS_PER_PAGE)
    total: Count = Field(description="All matches, not just this page.")
    page: int = Field(ge=1, le=ORGANISATIONS_MAX_PAGE)
    pages: int = Field(ge=1, description="The number of pages (1 when nothing matches).")
    facets: OrganisationFacets


class CategoryNames(Shape):
    """A category's name in each interface language."""

    nb: str = Field(description="Bokmål.")
    nn: str = Field(description="Nynorsk.")
    en: str = Field(description="English.")


class Category(Shape):
    """A category of activities, named in each interface language."""

    slug: CategorySlug = Field(description="The `category` filter value.")
    name: str = Field(description="The name in the language asked for (`lang`).")
    names: CategoryNames


class CategoryList(Shape):
    """All categories that are not hidden."""

    items: list[Category]


class School(Shape):
    """A school and the channels it has; nothing about its pupils beyond the grades."""

    slug: str
    name: str
    grades: list[Annotated[int, Field(ge=GRADE_RANGE[0], le=GRADE_RANGE[1])]] = Field(min_length=1)
    has_facebook_page: bool
    accepts_backpack_post: bool
    municipality: MunicipalitySlug


class SchoolList(Shape):
    """All active schools."""

    items: list[School]


class Venue(Shape):
    """A place where activities happen; coordinates as the municipality or an organiser gave
    them (never geocoded)."""

    slug: Slug
    name: str
    address: str
    latitude: float | None = Field(ge=-90, le=90)
    longitude: float | None = Field(ge=-180, le=180)
    accessibility: str = Field(description="Accessibility notes about the place.")
    municipality: MunicipalitySlug
    activities: Count = Field(description="How many public activities are placed there.")
    url: Uri = Field(description="The venue's web page, listing what happens there.")


class VenueList(Shape):
    """Public venues: the municipality's own and those of public activities."""

    items: list[Venue]


class Routing(Shape):
    """Which channel carries an offer to one school, and why."""

    channel: Literal[CHANNELS] = Field(  # type: ignore[valid-type]
        description="The channel that would carry the offer to this school's parents."
    )
    rule: Literal[RULES] = Field(  # type: ignore[valid-type]
        description="The id of the rule that settled it (see /om/kanaler)."
    )
    reasons: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        description="One sentence per rule considered, in the order applied, in the language "
        "asked for.",
    )


class SchoolHoliday(Shape):
    """One school holiday of a municipality."""

    municipality: MunicipalitySlug
    school_year: Annotated[str, StringConstraints(pattern="^[0-9]{4}-[0-9]{4}$")] = Field(
        description="The school year, August to July, e.g. 2026-2027."
    )
    name: str = Field(min_length=1, description="The holiday's name, e.g. Høstferie.")
    first_day: date = Field(description="The first day of the holiday (included).")
    last_day: date = Field(description="The last day of the holiday (included).")
    blackout_weeks: list[Annotated[str, StringConstraints(pattern=ISO_WEEK)]] = Field(
        description="The ISO weeks the holiday touches whose every school day (Monday to Friday) "
        "is a holiday: no school takes requests for them. A week with only some holiday days "
        "is not listed."
    )


class SchoolCalendar(Shape):
    """School holidays by municipality, school year and first day."""

    items: list[SchoolHoliday]


class Error(Shape):
    """An error: what went wrong, and for a bad parameter which one."""

    error: str = Field(min_length=1, description="What went wrong.")
    # Absent, never null: serialised with exclude_none.
    parameter: str = Field(
        None,  # type: ignore[assignment]
        description="The query parameter at fault (search filters and routing).",
    )


class Health(BaseModel):
    """/healthz: the overall status and one entry per component."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[
        str, Annotated[str, Field(description='Further components: "ok" or what is wrong.')]
    ]

    status: Literal["ok", "degraded"]
    database: Literal["ok", "error"]
    search: Literal["ok", "degraded", "behind", "error"] = Field(
        description='"degraded": search answers from the database (index missing or broken); '
        '"behind": a change has waited longer than SEARCH_BACKLOG_MAX_AGE_SECONDS to reach the '
        "index."
    )
    disk: Literal["ok", "low", "error"] = Field(
        description='"low": a folder the site writes to has less than DISK_MIN_FREE_BYTES free.'
    )
