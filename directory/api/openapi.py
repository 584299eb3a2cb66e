"""The OpenAPI 3.1 description of the JSON API and /healthz, served at /api/v1/openapi.json.

Written as data next to the code it describes; the limits and choices (ages, sort orders,
weekday names, page sizes, organisation kinds) come from the modules that enforce them, so the
document cannot drift from the parser. tests/test_openapi.py validates the document and checks
real responses against it.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from directory.organisations.models import ORGANISATION_KINDS
from directory.policy.routing import CHANNELS, RULES
from directory.search.query import (
    AGE_RANGE,
    DEFAULT_PER_PAGE,
    GRADE_RANGE,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_TEXT,
    SORTS,
    TIMES_OF_DAY,
    WEEKDAY_NAMES,
)

API_VERSION = "1.0.0"
MAX_LIST_VALUES = 20  # how many values a repeatable filter takes (directory.search.query._many)
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns (directory.web.BoundedIntegerConverter)

# A query parameter may hold anything but a NUL character (refused with 400 for every request).
NO_NUL = "^[^\\u0000]*$"
SLUG = "^[A-Za-z0-9-]{1,100}$"
CATEGORY_SLUG = "^[A-Za-z0-9-]{1,60}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, also allowing null (JSON Schema 2020-12 type lists)."""
    schema = dict(schema)
    schema["type"] = [schema["type"], "null"]
    return schema


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A closed object whose properties are all required (every field is always present)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_COUNT = {"type": "integer", "minimum": 0}
_DATE_TIME = {"type": "string", "format": "date-time"}
_TEXT = {"type": "string"}

# --- schemas --------------------------------------------------------------------------------

ORGANISATION_REF = _object(
    {
        "slug": {"type": "string", "pattern": SLUG},
        "name": _TEXT,
        "kind": {"type": "string", "enum": list(ORGANISATION_KINDS)},
        "verified": {
            "type": "boolean",
            "description": "Whether the municipality has verified the organisation.",
        },
    },
    "The organisation behind an activity.",
)

ACTIVITY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer", "minimum": 1},
    "title": _TEXT,
    "summary": _TEXT,
    "organisation": _ref("OrganisationRef"),
    "category": _nullable({"type": "string", "description": "The category's slug."}),
    "age_min": {"type": "integer", "minimum": 0},
    "age_max": {"type": "integer", "minimum": 0},
    "is_free": {"type": "boolean"},
    "price_nok": {"type": "integer", "minimum": 0, "description": "Whole kroner; 0 is free."},
    "next_start": _nullable(
        {
            "type": "string",
            "format": "date-time",
            "description": "The next occurrence that has not ended, ISO 8601 with the "
            "Europe/Oslo offset; null when none is left.",
        }
    ),
    "has_flyer": {"type": "boolean"},
    "facebook_post_url": _nullable(_TEXT),
    "status": {
        "type": "string",
        "enum": ["published", "cancelled"],
        "description": "Only public activities are served: published or cancelled.",
    },
    "url": {"type": "string", "format": "uri", "description": "The activity's web page."},
    "venue": _TEXT,
    "address": _TEXT,
}

SCHEDULE = _object(
    {
        "dtstart": _DATE_TIME,
        "duration_minutes": {"type": "integer", "minimum": 0},
        "rrule": _nullable({"type": "string", "description": "An RFC 5545 RRULE value."}),
        "rdates": {"type": "array", "items": _DATE_TIME},
        "exdates": {"type": "array", "items": _DATE_TIME},
    },
    "When an activity takes place, in iCalendar terms.",
)

OCCURRENCE = _object({"start": _DATE_TIME, "end": _DATE_TIME})

ACTIVITY_DETAIL_PROPERTIES: dict[str, Any] = {
    **ACTIVITY_PROPERTIES,
    "description": {"type": "string", "description": "The Markdown source."},
    "description_html": {"type": "string", "description": "Rendered and sanitised HTML."},
    "tags": {"type": "array", "items": _TEXT},
    "price_note": _TEXT,
    "cancellation_note": _TEXT,
    "schedules": {"type": "array", "items": _ref("Schedule")},
    "next_occurrences": {"type": "array", "items": _ref("Occurrence"), "maxItems": 10},
    "latitude": _nullable({"type": "number", "minimum": -90, "maximum": 90}),
    "longitude": _nullable({"type": "number", "minimum": -180, "maximum": 180}),
    "accessibility": {"type": "string", "description": "Accessibility notes."},
    "languages": {"type": "array", "items": _TEXT},
    "registration_url": _nullable(_TEXT),
    "capacity": _nullable({"type": "integer", "minimum": 0}),
    "image_url": _nullable({"type": "string", "format": "uri"}),
    "image_alt": _TEXT,
    "flyer_url": _nullable({"type": "string", "format": "uri"}),
    "municipality": {"type": "string", "description": "The municipality's slug."},
}


def _counts(keys: list[str] | None = None, *, pattern: str | None = None) -> dict[str, Any]:
    """Counts keyed by filter value (fixed keys, or any key matching a pattern)."""
    if keys is not None:
        return {
            "type": "object",
            "properties": {key: _COUNT for key in keys},
            "required": keys,
            "additionalProperties": False,
        }
    schema: dict[str, Any] = {"type": "object", "additionalProperties": _COUNT}
    if pattern:
        schema["propertyNames"] = {"pattern": pattern}
    return schema


FACETS = _object(
    {
        "category": {
            **_counts(pattern=CATEGORY_SLUG),
            "description": "Matches per category slug, counted without the `category` choice "
            "(categories without a match left out).",
        },
        "weekday": {
            **_counts([str(day) for day in range(1, 8)]),
            "description": "Matches with an occurrence on each ISO weekday (1 = Monday), "
            "counted without the `weekday` choice.",
        },
        "time": {
            **_counts(list(TIMES_OF_DAY)),
            "description": "Matches per time of day, counted without the `time` choice.",
        },
        "free": {
            **_counts(["1"]),
            "description": "Matches in the current result that are free of charge.",
        },
        "accessible": {
            **_counts(["1"]),
            "description": "Matches in the current result marked accessible.",
        },
    },
    "Counts per filter value, the same as the search pages show next to their filters. "
    "`category`, `weekday` and `time` are multi-select (any chosen value matches), so each "
    "counts with every other filter applied but its own choice left out: with "
    "`category=idrett`, `musikk` says how many matches ticking it too would bring, and `idrett` "
    "how many the choice brings. `free` and `accessible` count within the current result.",
)

ACTIVITY_LIST = _object(
    {
        "items": {"type": "array", "items": _ref("Activity"), "maxItems": MAX_PER_PAGE},
        "total": {**_COUNT, "description": "All matches, not just this page."},
        "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "facets": _ref("Facets"),
        "suggestion": _nullable(
            {"type": "string", "description": "A spelling to try when the text matched nothing."}
        ),
        "degraded": {
            "type": "boolean",
            "description": "True when the search index could not answer and the database did "
            "(no typo tolerance, slower).",
        },
    },
    "One page of matching activities.",
)

ORGANISATION = _object(
    {
        **ORGANISATION_REF["properties"],
        "url": {"type": "string", "format": "uri", "description": "The organisation's page."},
        "municipality": {"type": "string", "description": "The municipality's slug."},
    }
)

SCHOOL = _object(
    {
        "slug": _TEXT,
        "name": _TEXT,
        "grades": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": 13},
            "minItems": 1,
        },
        "has_facebook_page": {"type": "boolean"},
        "accepts_backpack_post": {"type": "boolean"},
        "municipality": {"type": "string", "description": "The municipality's slug."},
    },
    "A school and the channels it has; nothing about its pupils beyond the grades.",
)

CATEGORY = _object(
    {
        "slug": {
            "type": "string",
            "pattern": CATEGORY_SLUG,
            "description": "The `category` filter value.",
        },
        "name": {"type": "string", "description": "The name in the language asked for (`lang`)."},
        "names": _object(
            {
                "nb": {**_TEXT, "description": "Bokmål."},
                "nn": {**_TEXT, "description": "Nynorsk."},
                "en": {**_TEXT, "description": "English."},
            }
        ),
    },
    "A category of activities, named in each interface language.",
)

ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "minLength": 1, "description": "What went wrong."},
        "parameter": {
            "type": "string",
            "description": "The query parameter at fault (search filters and routing).",
        },
    },
    "required": ["error"],
    "additionalProperties": False,
}

ROUTING = _object(
    {
        "channel": {
            "type": "string",
            "enum": list(CHANNELS),
            "description": "The channel that would carry the offer to this school's parents.",
        },
        "rule": {
            "type": "string",
            "enum": list(RULES),
            "description": "The id of the rule that settled it (see /om/kanaler).",
        },
        "reasons": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "description": "One sentence per rule considered, in the order applied, in the "
            "language asked for.",
        },
    },
    "Which channel carries an offer to one school, and why.",
)

HEALTH = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "database": {"type": "string", "enum": ["ok", "error"]},
        "search": {"type": "string", "enum": ["ok", "degraded", "error"]},
    },
    "required": ["status", "database", "search"],
    "additionalProperties": {
        "type": "string",
        "description": 'Further components: "ok" or what is wrong.',
    },
}

# --- parameters -----------------------------------------------------------------------------


def _query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description, **extra}


def _list(name: str, items: dict[str, Any], description: str) -> dict[str, Any]:
    return _query(
        name,
        {"type": "array", "items": items, "maxItems": MAX_LIST_VALUES, "uniqueItems": True},
        description + " Repeat the parameter or separate values by commas.",
        style="form",
        explode=True,
    )


FLAG = {"type": "integer", "enum": [0, 1]}

SEARCH_PARAMETERS = [
    _query(
        "q",
        {"type": "string", "maxLength": MAX_TEXT, "pattern": NO_NUL},
        "Free text, Norwegian-aware: inflections, compound words, typos and missing "
        "diacritics match. End a word with * for a prefix search.",
    ),
    _query(
        "age",
        {"type": "integer", "minimum": AGE_RANGE[0], "maximum": AGE_RANGE[1]},
        "A child's age: activities whose age range includes it.",
    ),
    _query(
        "grade",
        {"type": "integer", "minimum": GRADE_RANGE[0], "maximum": GRADE_RANGE[1]},
        "A school grade g (ages g+5 and g+6): activities whose age range overlaps it.",
    ),
    _list("category", {"type": "string", "pattern": CATEGORY_SLUG}, "Category slugs (any of)."),
    _list(
        "weekday",
        {"type": "string", "enum": sorted(WEEKDAY_NAMES)},
        "Days with an occurrence (any of): ISO numbers 1 (Monday) to 7, or short Norwegian "
        "or English names.",
    ),
    _list(
        "time",
        {"type": "string", "enum": list(TIMES_OF_DAY)},
        "Times of day (any of): after_school = Monday–Friday 13:00–17:59, evening = "
        "Monday–Friday from 18:00, weekend = Saturday and Sunday (Oslo time).",
    ),
    _query("free", FLAG, "1: free of charge only."),
    _query("accessible", FLAG, "1: activities marked accessible only."),
    _query(
        "school",
        {"type": "string", "pattern": SLUG},
        "A school's slug: activities for its grades, in its municipality. Unknown: 404.",
    ),
    _query(
        "organisation",
        {"type": "string", "pattern": SLUG},
        "An organisation's slug. Unknown: 404.",
    ),
    _query(
        "municipality",
        {"type": "string", "pattern": SLUG},
        "A municipality's slug. Unknown: 404.",
    ),
    _query(
        "from",
        {"type": "string", "format": "date"},
        "YYYY-MM-DD: activities with an occurrence on this day or later.",
    ),
    _query(
        "to",
        {"type": "string", "format": "date"},
        "YYYY-MM-DD: activities with an occurrence on this day or earlier; not before `from`.",
    ),
    _query(
        "sort",
        {"type": "string", "enum": list(SORTS)},
        "Order: relevance (default with text), soonest (default without), newest.",
    ),
    _query(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        "Page number, from 1.",
    ),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
        "Activities per page.",
    ),
]

LANG = _query(
    "lang",
    {"type": "string", "enum": ["nb", "nn", "en"]},
    "Language of error messages (default bokmål).",
)

MUNICIPALITY = _query(
    "municipality",
    {"type": "string", "pattern": NO_NUL},
    "A municipality's slug: only its entries. Unknown: 404.",
)

# --- the document ---------------------------------------------------------------------------

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Aktivitetskatalogen API",
        "version": API_VERSION,
        "summary": "Public activities for children and youth, their organisations, and schools.",
        "description": (
            "Read-only, no key, no cookie. Every answer is JSON, errors too. Times are ISO 8601 "
            "with the Europe/Oslo offset. Unknown query parameters are ignored. Messages are in "
            "bokmål unless `lang` asks for nynorsk or English."
        ),
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    },
    "paths": {
        "/api/v1/activities": {
            "get": {
                "operationId": "listActivities",
                "summary": "Search public activities",
                "description": "The same filters as the search pages. Public activities "
                "(published or cancelled, from organisations that are not rejected) whose last "
                "occurrence has not ended.",
                "tags": ["activities"],
                "parameters": [*SEARCH_PARAMETERS, LANG],
                "responses": {
                    "200": _json(_ref("ActivityList"), "One page of matches."),
                    "400": _error("A bad parameter; `parameter` names it."),
                    "404": _error("An unknown school, organisation or municipality."),
                },
            }
        },
        "/api/v1/activities/{id}": {
            "get": {
                "operationId": "getActivity",
                "summary": "One public activity",
                "tags": ["activities"],
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                    },
                    LANG,
                ],
                "responses": {
                    "200": _json(_ref("ActivityDetail"), "Everything public about it."),
                    "404": _error("No such public activity (drafts and archived ones too)."),
                },
            }
        },
        "/api/v1/organisations": {
            "get": {
                "operationId": "listOrganisations",
                "summary": "Organisations that are not rejected, by name",
                "tags": ["organisations"],
                "parameters": [MUNICIPALITY, LANG],
                "responses": {
                    "200": _json(
                        _object({"items": {"type": "array", "items": _ref("Organisation")}}),
                        "All of them.",
                    ),
                    "404": _error("An unknown municipality."),
                },
            }
        },
        "/api/v1/categories": {
            "get": {
                "operationId": "listCategories",
                "summary": "Categories, by name in the language asked for",
                "description": "The categories organisers choose from and the search filters "
                "offer; hidden ones are left out (their activities keep them).",
                "tags": ["categories"],
                "parameters": [
                    _query(
                        "lang",
                        {"type": "string", "enum": ["nb", "nn", "en"]},
                        "Language of `name` and of error messages (default bokmål).",
                    )
                ],
                "responses": {
                    "200": _json(
                        _object({"items": {"type": "array", "items": _ref("Category")}}),
                        "All of them.",
                    ),
                },
            }
        },
        "/api/v1/schools": {
            "get": {
                "operationId": "listSchools",
                "summary": "Schools with their grades and channels, by name",
                "tags": ["schools"],
                "parameters": [MUNICIPALITY, LANG],
                "responses": {
                    "200": _json(
                        _object({"items": {"type": "array", "items": _ref("School")}}),
                        "All of them.",
                    ),
                    "404": _error("An unknown municipality."),
                },
            }
        },
        "/api/v1/routing": {
            "get": {
                "operationId": "getRouting",
                "summary": "Which channel carries a public activity to a school, and why",
                "description": "The school's policy (the municipal default with the school's "
                "changes) applied to the activity in an ISO week; the week's backpack-post quota "
                "counts pending and approved requests.",
                "tags": ["routing"],
                "parameters": [
                    _query(
                        "activity",
                        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        "A public activity's id.",
                        required=True,
                    ),
                    _query(
                        "school",
                        {"type": "string", "pattern": SLUG},
                        "A school's slug, in the activity's municipality.",
                        required=True,
                    ),
                    _query(
                        "week",
                        {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"},
                        "An ISO week, e.g. 2026-W48; this week (Oslo) when left out.",
                    ),
                    LANG,
                ],
                "responses": {
                    "200": _json(_ref("Routing"), "The decision with its reasons."),
                    "400": _error("A missing or malformed parameter; `parameter` names it."),
                    "404": _error(
                        "No such public activity, no such school, or a school in another "
                        "municipality; `parameter` names which."
                    ),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This description",
                "tags": ["meta"],
                "responses": {
                    "200": _json({"type": "object"}, "The OpenAPI 3.1 document."),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Whether the database and the search index work",
                "tags": ["meta"],
                "responses": {
                    "200": _json(_ref("Health"), "Every component is ok."),
                    "503": _json(
                        _ref("Health"),
                        "A component is down, or search answers from the database "
                        '("search": "degraded").',
                    ),
                },
            }
        },
    },
    "components": {
        "schemas": {
            "OrganisationRef": ORGANISATION_REF,
            "Activity": _object(ACTIVITY_PROPERTIES, "An activity as it appears in a list."),
            "ActivityDetail": _object(
                ACTIVITY_DETAIL_PROPERTIES, "Everything public about one activity."
            ),
            "Schedule": SCHEDULE,
            "Occurrence": OCCURRENCE,
            "Facets": FACETS,
            "ActivityList": ACTIVITY_LIST,
            "Organisation": ORGANISATION,
            "School": SCHOOL,
            "Category": CATEGORY,
            "Routing": ROUTING,
            "Error": ERROR,
            "Health": HEALTH,
        }
    },
    "tags": [
        {"name": "activities"},
        {"name": "organisations"},
        {"name": "schools"},
        {"name": "categories"},
        {"name": "routing"},
        {"name": "meta"},
    ],
}

# Every path answers a request with a NUL character in it with 400 (directory.web).
for _path, _item in _DOCUMENT["paths"].items():
    _item["get"]["responses"].setdefault("400", _error("A NUL character in the request."))


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (a fresh copy: callers may change it)."""
    return deepcopy(_DOCUMENT)
