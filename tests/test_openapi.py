"""/api/v1/openapi.json: a valid OpenAPI document that matches what the API really answers.

The document is derived from the API's pydantic models (directory.api.schemas). It is checked
with openapi-spec-validator; the search parser is checked to accept exactly the values the
document declares; then real responses to many requests
(filters, detail, lists, errors, /healthz up and down) are validated against the schema the
document gives for that path and status, with jsonschema. A bounded schemathesis run then
generates requests from the document and checks that none is a 5xx and every answer conforms.
"""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.globals import _cv_app
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import MultiDict

from directory.api.openapi import openapi_document
from directory.extensions import db
from directory.search.query import QueryError, parse_search_args
from directory.search.service import get_backend
from tests.conftest import next_weekday_at

DOCUMENT_URI = "urn:directory:openapi"


# --- validating responses against the document ---------------------------------------------


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("uri")
    def is_absolute_uri(value: object) -> bool:
        # jsonschema checks "uri" only with an optional package; an absolute http(s) URL here.
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value

    return checker


class ResponseValidator:
    """Validates a test response against the document's schema for its path and status."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.registry = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
            for path in document["paths"]
        ]
        self.format_checker = _format_checker()

    def template_for(self, path: str) -> str:
        """The documented path template that matches a concrete path."""
        matches = [template for pattern, template in self.templates if pattern.match(path)]
        assert matches, f"{path} is not documented"
        # /api/v1/activities/{id} would also match a literal sibling; prefer the literal one.
        return min(matches, key=lambda t: t.count("{"))

    def schema_pointer(self, path: str, status: int) -> str:
        """A JSON pointer (within the document) to the response schema of path and status."""
        template = self.template_for(path)
        responses = self.document["paths"][template]["get"]["responses"]
        assert str(status) in responses, f"{status} is not documented for GET {template}"
        escaped = template.replace("~", "~0").replace("/", "~1")
        return f"#/paths/{escaped}/get/responses/{status}/content/application~1json/schema"

    def validate(self, response, path: str | None = None) -> Any:
        """Raise ValidationError unless the response conforms; returns its JSON body."""
        path = path or urlsplit(response.request.url).path
        pointer = self.schema_pointer(path, response.status_code)
        assert response.mimetype == "application/json"
        body = response.get_json()
        validator = Draft202012Validator(
            {"$ref": DOCUMENT_URI + pointer},
            registry=self.registry,
            format_checker=self.format_checker,
        )
        validator.validate(body)
        return body


@pytest.fixture(scope="module")
def document():
    """The OpenAPI document, validated once."""
    return openapi_document()


@pytest.fixture(scope="module")
def conforms(document):
    """conforms(response) validates a response against the document and returns its body."""
    return ResponseValidator(document).validate


# --- a small world with every shape of data ------------------------------------------------


def _days(days: int, hour: int = 17):
    return next_weekday_at(0, hour) + timedelta(days=days)


@pytest.fixture
def world(app, make_municipality, make_organisation, make_category, make_activity, make_school):
    """Activities of every kind the API shows, schools and organisations in two municipalities."""
    idrett = make_category(slug="idrett", name_nb="Idrett")
    musikk = make_category(slug="musikk", name_nb="Musikk")
    make_category(slug="gammel", name_nb="Gammel", hidden=True)
    lier = make_municipality(slug="lier", name="Lier")
    klubb = make_organisation(slug="bragernes-il", name="Bragernes IL", kind="volunteer")
    skole = make_organisation(slug="kulturskolen", name="Kulturskolen", kind="municipal")
    ny = make_organisation(slug="nytt-lag", name="Nytt lag", verification="pending")
    i_lier = make_organisation(slug="lier-il", name="Lier IL", municipality=lier)
    make_organisation(slug="avvist", name="Avvist", verification="rejected")
    make_school(slug="fjell", name="Fjell skole", grade_min=1, grade_max=7)
    make_school(
        slug="lier-u",
        name="Lier ungdomsskole",
        grade_min=8,
        grade_max=10,
        municipality=lier,
        facebook_page_url=None,
        accepts_backpack_post=False,
    )
    make_activity(
        title="Fotballtrening for 8–10 år",
        organisation=klubb,
        category=idrett,
        age_min=8,
        age_max=10,
        price_nok=450,
        flyer_filename="flyer.pdf",
        image_filename="bilde.jpg",
        image_alt="Barn som spiller fotball",
        facebook_post_url="https://www.facebook.com/bragernes/posts/1",
        latitude=Decimal("59.743900"),
        longitude=Decimal("10.204500"),
        registration_url="https://example.org/pamelding",
        capacity=30,
        tags="fotball, lag",
        schedule={"dtstart": next_weekday_at(1, 17), "rrule": "FREQ=WEEKLY"},
    )
    make_activity(
        title="Svømmekurs",
        organisation=klubb,
        category=idrett,
        age_min=6,
        age_max=9,
        price_nok=0,
        accessible=True,
        schedule={"dtstart": next_weekday_at(5, 11), "rrule": "FREQ=WEEKLY;COUNT=8"},
    )
    korps = make_activity(
        title="Skolekorps",
        organisation=skole,
        category=musikk,
        age_min=9,
        age_max=16,
        price_nok=200,
        schedule={"dtstart": next_weekday_at(2, 18, 30), "rrule": "FREQ=WEEKLY"},
    )
    korps.schedules[0].exdates = (next_weekday_at(2, 18, 30) + timedelta(days=7)).strftime(
        "%Y%m%dT%H%M%S"
    )
    korps.schedules[0].rdates = _days(40, 12).strftime("%Y%m%dT%H%M%S")
    make_activity(
        title="Avlyst sjakk", organisation=ny, status="cancelled", cancellation_note="Syk"
    )
    make_activity(title="Innebandy i Lier", organisation=i_lier, category=idrett)
    make_activity(title="Utkast", organisation=klubb, status="draft")
    db.session.commit()
    return {"korps": korps}


LIST_QUERIES = [
    "",
    "q=fotball",
    "q=fotbal",  # a typo: found by tolerance, with a suggestion
    "q=xyzzyqq",  # nothing at all
    "q=kurs&sort=soonest",
    "q=fotball&age=9&category=idrett",
    "age=9",
    "grade=3",
    "category=idrett&category=musikk",
    "category=idrett,musikk&free=1",
    "weekday=2",
    "weekday=man,tir,lør",
    "time=after_school&time=weekend",
    "time=evening",
    "free=1&accessible=1",
    "school=fjell",
    "school=lier-u",
    "organisation=bragernes-il",
    "municipality=lier",
    "from=2000-01-01&to=2999-12-31",
    "sort=newest&per_page=2&page=2",
    "per_page=100",
    "page=10000",
    "q=fotball&age=9&grade=4&category=idrett&weekday=2&time=after_school&free=0&accessible=0"
    "&school=fjell&organisation=bragernes-il&municipality=drammen&sort=relevance",
    "lang=en&q=sang",
    "lang=nn&age=12",
]


def test_the_served_document_is_valid_openapi(client, document):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = response.get_json()
    assert served == document
    assert served["openapi"].startswith("3.1")
    validate_openapi(served)  # raises on an invalid document


def test_the_validator_rejects_a_broken_document(document):
    broken = openapi_document()
    broken["paths"]["/api/v1/activities"]["get"]["responses"]["200"]["content"] = "nonsense"
    with pytest.raises(Exception, match="nonsense|not of type|not valid"):
        validate_openapi(broken)


def test_every_api_route_is_documented(app, document):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            routes.add(re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule))
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    assert routes == set(document["paths"])


def test_every_search_parameter_is_documented(document):
    class Recorder(dict):
        """A MultiDict stand-in that remembers which parameters the parser reads."""

        read: set[str] = set()

        def getlist(self, name):
            self.read.add(name)
            return []

    parse_search_args(Recorder())
    documented = {p["name"] for p in document["paths"]["/api/v1/activities"]["get"]["parameters"]}
    assert documented == Recorder.read | {"lang"}


def _parameter_schemas(document, path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}


def test_the_search_parser_accepts_what_the_document_declares(app, document):
    """directory.search.query parses the filters, directory.api.schemas declares them: at every
    documented edge (range, length, count, choice, pattern, date) the two agree."""

    # Parameters that mean something only beside another: given with it.
    needs = {"sort": [("near", "fjell")], "within_km": [("near", "fjell")]}

    def parses(name: str, *values: object) -> bool:
        try:
            parse_search_args(
                MultiDict([(name, str(value)) for value in values] + needs.get(name, []))
            )
        except QueryError as exc:
            assert exc.param == name, (exc.param, name, values)
            return False
        return True

    parameters = _parameter_schemas(document, "/api/v1/activities")
    del parameters["lang"]  # read by directory.i18n, where an unknown language means bokmål
    with app.test_request_context():
        for name, schema in parameters.items():
            items = schema.get("items", schema)
            if "minimum" in schema:
                assert parses(name, schema["minimum"]) and parses(name, schema["maximum"]), name
                assert not parses(name, schema["maximum"] + 1), name
                assert not parses(name, schema["minimum"] - 1), name
            if "exclusiveMinimum" in schema:
                assert parses(name, schema["maximum"]) and not parses(name, schema["maximum"] + 1)
                assert not parses(name, schema["exclusiveMinimum"]), name
            if "maxLength" in schema:
                assert parses(name, "a" * schema["maxLength"]), name
                assert not parses(name, "a" * (schema["maxLength"] + 1)), name
            if "enum" in items:
                assert all(parses(name, value) for value in items["enum"]), name
                assert not parses(name, "nonsense"), name
            if "maxItems" in schema:
                values = items.get("enum") or [f"k{n}" for n in range(schema["maxItems"] + 1)]
                many = [values[n % len(values)] for n in range(schema["maxItems"] + 1)]
                assert parses(name, *many[:-1]) and not parses(name, *many), name
            pattern = items.get("pattern")
            if pattern and not re.search(pattern, "a/b"):
                assert re.search(pattern, "a-B-1") and parses(name, "a-B-1"), name
                assert not parses(name, "a/b"), name
            if items.get("format") == "date":
                assert parses(name, "2026-03-01") and not parses(name, "2026-02-30"), name


def test_routing_takes_the_documented_activity_ids(client, document):
    schema = _parameter_schemas(document, "/api/v1/routing")["activity"]
    largest = client.get(f"/api/v1/routing?activity={schema['maximum']}&school=fjell")
    assert largest.status_code == 404  # a valid id that names no activity
    too_large = client.get(f"/api/v1/routing?activity={schema['maximum'] + 1}&school=fjell")
    assert too_large.status_code == 400
    assert too_large.get_json()["parameter"] == "activity"


@pytest.mark.parametrize("query", LIST_QUERIES)
def test_list_responses_conform(client, world, conforms, query):
    response = client.get(f"/api/v1/activities?{query}")
    assert response.status_code == 200
    body = conforms(response)
    assert body["total"] >= len(body["items"])


def test_list_responses_really_carry_the_optional_shapes(client, world, conforms):
    """The conformance runs above see nulls and non-nulls, suggestions and facets."""
    everything = conforms(client.get("/api/v1/activities?per_page=100"))
    items = everything["items"]
    assert {i["category"] is None for i in items} == {True, False}
    assert {i["facebook_post_url"] is None for i in items} == {True, False}
    assert {i["status"] for i in items} == {"published", "cancelled"}
    assert {i["organisation"]["verified"] for i in items} == {True, False}
    assert everything["facets"]["category"] == {"idrett": 3, "musikk": 1}
    typo = conforms(client.get("/api/v1/activities?q=fotbal"))
    assert typo["suggestion"] == "fotball"


def test_detail_responses_conform(client, world, conforms):
    ids = [i["id"] for i in client.get("/api/v1/activities?per_page=100").get_json()["items"]]
    assert len(ids) == 5
    for activity_id in ids:
        body = conforms(client.get(f"/api/v1/activities/{activity_id}"))
        assert body["id"] == activity_id
    korps = conforms(client.get(f"/api/v1/activities/{world['korps'].id}"))
    assert korps["schedules"][0]["exdates"] and korps["schedules"][0]["rdates"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/organisations",
        "/api/v1/organisations?municipality=lier",
        "/api/v1/schools",
        "/api/v1/schools?municipality=drammen",
        "/api/v1/categories",
        "/api/v1/categories?lang=en",
        "/api/v1/openapi.json",
    ],
)
def test_other_lists_conform(client, world, conforms, path):
    response = client.get(path)
    assert response.status_code == 200
    conforms(response)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/activities?age=99", 400),
        ("/api/v1/activities?sort=price", 400),
        ("/api/v1/activities?from=2026-05-02&to=2026-05-01", 400),
        ("/api/v1/activities?q=a%00b", 400),
        ("/api/v1/activities?school=atlantis", 404),
        ("/api/v1/activities?near=atlantis", 404),
        ("/api/v1/activities?near=fjell", 400),  # a school without coordinates
        ("/api/v1/activities?within_km=2", 400),  # a distance needs `near`
        ("/api/v1/activities?sort=distance", 400),
        ("/api/v1/activities?organisation=atlantis", 404),
        ("/api/v1/activities?municipality=atlantis", 404),
        ("/api/v1/activities/999999", 404),
        ("/api/v1/activities/0", 404),
        ("/api/v1/organisations?municipality=atlantis", 404),
        ("/api/v1/schools?municipality=atlantis", 404),
        ("/api/v1/schools?municipality=a%00", 400),
        ("/healthz?x=%00", 400),
        ("/api/v1/routing", 400),
        ("/api/v1/routing?activity=abc&school=fjell", 400),
        ("/api/v1/routing?activity=1", 400),
        ("/api/v1/routing?activity=1&school=fjell&week=2026-W99", 400),
        ("/api/v1/routing?activity=999999&school=fjell", 404),
    ],
)
def test_error_responses_conform(client, world, conforms, path, status):
    response = client.get(path)
    assert response.status_code == status
    conforms(response, urlsplit(path).path)


def test_routing_responses_conform(client, world, conforms):
    ids = [i["id"] for i in client.get("/api/v1/activities?per_page=100").get_json()["items"]]
    channels = set()
    for activity_id in ids:
        response = client.get(f"/api/v1/routing?activity={activity_id}&school=fjell")
        if response.status_code == 404:  # the Lier activity: Fjell is in Drammen
            assert conforms(response)["parameter"] == "school"
            continue
        channels.add(conforms(response)["channel"])
    assert len(channels) >= 2
    unknown_school = client.get(f"/api/v1/routing?activity={ids[0]}&school=atlantis")
    assert unknown_school.status_code == 404
    conforms(unknown_school)


def test_a_draft_is_a_conforming_404(client, world, conforms):
    from directory.activities.models import Activity

    draft = db.session.scalar(db.select(Activity).where(Activity.status == "draft"))
    response = client.get(f"/api/v1/activities/{draft.id}")
    assert response.status_code == 404
    conforms(response)


def test_health_conforms_up_and_down(app, client, world, conforms):
    up = client.get("/healthz")
    assert up.status_code == 200
    assert conforms(up) == {"status": "ok", "database": "ok", "search": "ok", "disk": "ok"}

    get_backend().close()
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    down = client.get("/healthz")
    assert down.status_code == 503
    assert conforms(down)["search"] == "degraded"
    degraded = conforms(client.get("/api/v1/activities?q=svømmekurs"))
    assert degraded["degraded"] is True
    assert [i["title"] for i in degraded["items"]] == ["Svømmekurs"]


@pytest.mark.parametrize(
    "change",
    [
        lambda body: body["items"][0].update(secret="x"),  # an undocumented field
        lambda body: body["items"][0].pop("next_start"),  # a missing one
        lambda body: body["items"][0].update(next_start="tirsdag kl. 17"),  # not date-time
        lambda body: body["items"][0].update(url="/activities/1"),  # not absolute
        lambda body: body["facets"]["time"].update(morning=1),  # an unknown time of day
        lambda body: body.update(total="1"),  # a wrong type
    ],
)
def test_the_schemas_catch_a_drifting_response(client, world, document, change):
    """The validation above can fail: the schemas are closed and typed."""
    response = client.get("/api/v1/activities")
    body = response.get_json()
    change(body)

    class Changed:
        status_code = 200
        mimetype = "application/json"

        def get_json(self):
            return body

    with pytest.raises(ValidationError):
        ResponseValidator(document).validate(Changed(), "/api/v1/activities")


# --- generated requests (schemathesis) --------------------------------------------------------


@contextmanager
def _outside_the_test_context():
    # As IsolatedClient does: each generated request runs in its own app context, so nothing
    # from the test's session leaks into it.
    db.session.commit()
    token = _cv_app.set(None)
    try:
        yield
    finally:
        _cv_app.reset(token)


def test_generated_requests_never_fail_and_always_conform(app, world):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_dict(openapi_document())
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9 + 1  # + /api/v1/school-calendar

    for operation in operations:

        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            with _outside_the_test_context():
                response = case.call(app=app)
            case.validate_response(response, checks=checks)

        run()
