"""No route answers malformed input with a 500.

Every route in the URL map is called with unknown, huge and junk path parameters and junk query
strings; every POST route is sent empty, huge, wrongly typed, control-character and NUL-byte
bodies, duplicate keys and uploads of the wrong kind. Each answer is the one status stated here for
that input: a refusal with a message a person can read (or the form shown again with its errors,
where that is the design), or the route's usual answer where the junk is valid input after all; a
refused request must leave every stored row exactly as it was.

PostgreSQL refuses NUL characters in text and SQLite integers past 64 bits; both used to surface
as 500s, so run this file on both databases.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, unquote, urlencode

import pytest
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from directory.accounts.tokens import hash_token
from directory.activities.models import Activity
from directory.approvals.display import upcoming_weeks
from directory.approvals.models import DistributionRequest
from directory.extensions import db, limiter
from directory.organisations.models import Invitation, Membership
from directory.schools.models import Municipality, School, SchoolStaff
from directory.search.query import MAX_PAGE, MAX_PER_PAGE
from directory.storage import upload_storage
from directory.timeutil import utcnow
from directory.weeks import coming_weeks
from tests.conftest import (
    PASSWORD,
    empty_database,
    new_activity,
    new_organisation,
    next_weekday_at,
    open_registration_link,
    quick_user,
    sign_in,
)

INVITATION_TOKEN = "invitasjon-" + "t" * 32
DRAFT_IMAGE = "cd" * 16 + ".png"

# Path segments, already URL-encoded as a client would send them.
JUNK_INTS = ("0", "999999999", str(2**31), str(2**63 - 1), str(2**63), str(10**30), "9" * 5000)
JUNK_NOT_INTS = ("-1", "1.5", "abc", "%D9%A3", "1%00", "%00", "")
JUNK_STRINGS = (
    "..%2F..%2Fetc%2Fpasswd",
    "..",
    "x" * 5000,
    "%00",
    "a%00b",
    quote("æøå-ÆØÅ-日本語-😀-\u202e"),
    "%FF%FE",  # not UTF-8
    quote("<script>alert(1)</script>"),
    quote("'; DROP TABLE organisation; --"),
    "%20",
    "%0D%0ALocation:%20http://evil",
)
JUNK_QUERIES = (
    {"page": "-1"},
    {"page": "0"},
    {"page": "abc"},
    {"page": str(10**30)},
    {"page": "9" * 5000},
    {"page": "1\x00"},
    {"per_page": "100000"},
    {"per_page": "-5"},
    {"municipality": "\x00"},
    {"municipality": "x" * 5000},
    {"municipality": "../etc"},
    {"municipality": "ukjent"},
    {"lang": "xx"},
    {"lang": "\x00"},
    {"lang": "x" * 5000},
    {"status": "tull"},
    {"status": "\x00"},
    {"next": "//evil.example"},
    {"q": "\x00\x01\x02"},
    {"\x00": "1"},
)


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    municipality: object
    org: object  # organisation A, which `owner` owns
    other_org: object  # organisation B, with its own member and activity
    published: Activity
    draft: Activity
    other_activity: Activity
    owner: object
    admin: object
    colleague_membership_id: int  # ids, not objects: a request may delete the row
    other_membership_id: int
    invitation_id: int  # A's open invitation (INVITATION_TOKEN)
    other_municipality_org: object
    school: object  # a school that takes backpack post, with `staff` on its staff
    staff: object
    stranger: object  # an editor of organisation B
    pending: object  # B's request to the school, waiting (next week)
    approved: object  # B's other request, approved (next week)
    rebuild: Callable[[], None] = lambda: None


@pytest.fixture
def world(app, municipality, make_municipality):
    """The world, with `world.rebuild()` to start over after a request that changed it."""

    def build(drammen) -> World:
        lier = Municipality(slug="lier", name="Lier")
        owner = quick_user("eier")
        admin = quick_user("admin", admin_municipality_id=drammen.id)
        colleague = quick_user("kollega")
        stranger = quick_user("fremmed")
        org = new_organisation(drammen, "Organisasjon A", verification="pending")
        other = new_organisation(drammen, "Organisasjon B")
        lier_org = new_organisation(lier, "Lierlaget", verification="pending")
        colleague_membership = Membership(user=colleague, organisation=org, role="editor")
        other_membership = Membership(user=stranger, organisation=other, role="editor")
        invitation = Invitation(
            organisation=org,
            email="invitert@example.org",
            role="editor",
            token_hash=hash_token(INVITATION_TOKEN),
            expires_at=utcnow() + timedelta(days=7),
        )
        db.session.add_all(
            [
                Membership(user=owner, organisation=org, role="owner"),
                colleague_membership,
                other_membership,
                invitation,
            ]
        )
        published = new_activity(org, "Publisert")
        draft = new_activity(
            org, "Utkast", status="draft", image_filename=DRAFT_IMAGE, image_alt="Bilde"
        )
        other_activity = new_activity(other, "Bs aktivitet", flyer_filename="b.pdf")
        second = new_activity(other, "Bs andre aktivitet", flyer_filename="b2.pdf")
        school = School(
            municipality=drammen, slug="fjell-skole", name="Fjell skole", grade_min=1, grade_max=7
        )
        db.session.add(school)
        staff = quick_user("laerer")
        db.session.add(SchoolStaff(user=staff, school=school, role="staff"))

        def request(activity, status):
            req = DistributionRequest(
                activity=activity,
                school=school,
                week=upcoming_weeks()[1],
                channel="backpack_post",
                rule="backpack",
                reasons=["Ranselpost."],
                grades=[3],
                status=status,
            )
            db.session.add(req)
            return req

        pending, approved = request(other_activity, "pending"), request(second, "approved")
        db.session.commit()
        _category(None)  # for the category routes' path parameter
        _school_holiday(drammen.id)  # for the school-calendar routes' path parameter
        upload_storage().put(DRAFT_IMAGE, png_bytes(), "image/png")
        db.session.commit()
        return World(
            municipality=drammen,
            org=org,
            other_org=other,
            published=published,
            draft=draft,
            other_activity=other_activity,
            owner=owner,
            admin=admin,
            colleague_membership_id=colleague_membership.id,
            other_membership_id=other_membership.id,
            invitation_id=invitation.id,
            other_municipality_org=lier_org,
            school=school,
            staff=staff,
            stranger=stranger,
            pending=pending,
            approved=approved,
        )

    def rebuild() -> None:
        empty_database()
        fresh = build(make_municipality(slug="drammen", name="Drammen"))
        fresh.rebuild = rebuild
        vars(current).update(vars(fresh))

    current = build(municipality)
    current.rebuild = rebuild
    return current


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def valid_path_value(w: World, argument: str, path: str = "") -> str:
    """A value for a path parameter of the rule `path` that names something that exists."""
    values = {
        "slug": w.school.slug if path.startswith(("/schools/", "/admin/schools/")) else w.org.slug,
        "request_id": str(w.pending.id),
        "week": upcoming_weeks()[1],
        "channel": "backpack_post",
        "fmt": "pdf",
        "activity_id": str(w.published.id),
        "membership_id": str(w.colleague_membership_id),
        "invitation_id": str(w.invitation_id),
        "org_id": str(w.org.id),
        "name": DRAFT_IMAGE,
        "token": INVITATION_TOKEN,
        "staff_id": str(_staff_row_id(w)),
        "filename": "site.css",
        "user_id": str(w.staff.id),
        "category_id": str(_category(w)),
        "language": "pl",  # a content language (issue 14)
        "holiday_id": str(_school_holiday(w.municipality.id)),  # a school holiday (issue 14)
    }
    assert argument in values, f"a new path parameter <{argument}>: add a valid value here"
    return values[argument]


def build_path(rule, values: dict[str, str]) -> str:
    """The rule's path with each <converter:argument> replaced by an already-encoded value."""

    def fill(match: re.Match) -> str:
        return values[match.group(1)]

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", fill, rule.rule)


def actor_for(path: str) -> str:
    """Who is signed in to try a path: the admin on admin pages, the school's staff on its
    pages, the owner of A elsewhere."""
    if path.startswith("/admin") or re.match(r"/schools/[^/]+/(staff|invitations)/", path):
        return "admin"  # a school's staff page is for its admins and the municipality's admin
    return "staff" if path.startswith("/schools/") else "owner"


def client_as(app, w: World, who: str):
    """A fresh client, signed in as `who` ('owner', 'admin' or 'anonymous')."""
    client = app.test_client()
    if who != "anonymous":
        sign_in(client, getattr(w, who))
    return client


# --- what must hold for every answer -----------------------------------------------------------


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table except the login sessions."""
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name == "user_session":
            continue
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return state


def stored_junk(state: dict) -> list[str]:
    """Stored text that no accepted request should have written: NULs and runaway lengths."""
    found = []
    for table, rows in state.items():
        for row in rows:
            for value in row:
                if isinstance(value, str) and ("\x00" in value or len(value) > 20_000):
                    found.append(f"{table}: {value[:40]!r}... ({len(value)} chars)")
    return found


def has_clear_message(response) -> bool:
    """A JSON {"error": "..."}, a form with its errors shown, or the error page with its text."""
    if response.is_json:
        error = (response.get_json(silent=True) or {}).get("error")
        return isinstance(error, str) and bool(error.strip())
    body = response.get_data(as_text=True)
    if 'class="errors"' in body or 'role="alert"' in body:
        return True
    heading = re.search(r"<h1>\s*([^<]+?)\s*</h1>", body)
    return bool(heading) and "Til forsiden" in body


class Crashed:
    """Stands in for the response when the app raised (tests propagate exceptions): a 500."""

    status_code = 500

    def __init__(self, exc: Exception):
        self.exc = exc

    def close(self) -> None:
        pass


def send(client, path: str, method: str = "GET", **kwargs):
    """The response, or a Crashed 500 when the request raised."""
    try:
        return client.open(path, method=method, **kwargs)
    except Exception as exc:  # a 500 in production; collected so every failure is reported
        db.session.rollback()
        return Crashed(exc)


def check(response, label: str, problems: list[str], expected: int) -> None:
    """Collect what is wrong with one answer (another status than `expected`, a refusal without
    a message), so a test reports every failure at once."""
    status = response.status_code
    response.close()
    if isinstance(response, Crashed):
        problems.append(f"{label}: 500 ({type(response.exc).__name__}: {response.exc!s:.120})")
    elif status != expected:
        problems.append(f"{label}: {status}, not {expected}")
    elif status >= 400 and not has_clear_message(response):
        problems.append(f"{label}: {status} without a message")


# --- path parameters ---------------------------------------------------------------------------


def rules_with_arguments(app):
    return [rule for rule in app.url_map.iter_rules() if rule.arguments]


def junk_for(rule, argument: str) -> tuple[str, ...]:
    if isinstance(rule._converters[argument], IntegerConverter):
        return JUNK_INTS + JUNK_NOT_INTS
    return JUNK_STRINGS


def asks_to_sign_in(client, path: str, method: str) -> bool:
    """Whether the route sends an anonymous visitor to the login page (before loading)."""
    with client.open(path, method=method) as response:
        return response.status_code == 302 and response.location.startswith("/login")


def routes(adapter, path: str, method: str) -> bool:
    """Whether the (URL-encoded) path matches a rule at all: a junk id may not."""
    try:
        adapter.match(unquote(path, errors="replace"), method=method)
    except NotFound:
        return False
    return True


def test_junk_and_unknown_path_parameters_are_404_with_a_message(app, world):
    """Signed in, a junk or unknown value is a 404; a NUL anywhere is a 400 before routing
    looks at it. An anonymous visitor is sent to sign in first where the page needs it (so an
    unknown id tells nothing), when the path routes at all."""
    problems: list[str] = []
    clients = {who: client_as(app, world, who) for who in ("owner", "admin", "staff", "anonymous")}
    adapter = app.url_map.bind("localhost")
    before = snapshot()
    for rule in rules_with_arguments(app):
        valid = {a: valid_path_value(world, a, rule.rule) for a in rule.arguments}
        methods = sorted((rule.methods or set()) & {"GET", "POST"})
        sign_in_first = {
            m: asks_to_sign_in(clients["anonymous"], build_path(rule, valid), m) for m in methods
        }
        for argument in rule.arguments:
            for junk in junk_for(rule, argument):
                path = build_path(rule, {**valid, argument: junk})
                for method in methods:
                    label = f"{method} {rule.rule} {argument}={junk[:30]!r}"
                    nul = "%00" in junk
                    response = send(clients[actor_for(path)], path, method)
                    check(response, label, problems, 400 if nul else 404)
                    if nul:
                        expected = 400
                    elif sign_in_first[method] and routes(adapter, path, method):
                        expected = 302
                    else:
                        expected = 404
                    anonymous = send(clients["anonymous"], path, method)
                    check(anonymous, label + " (anonymous)", problems, expected)
    assert snapshot() == before
    assert not problems, "\n".join(problems)


def test_ids_of_another_organisation_or_municipality_are_refused(app, world):
    """An id that exists, but not where the path says, is as unknown as an id that does not."""
    owner = client_as(app, world, "owner")
    admin = client_as(app, world, "admin")
    slug, other_id = world.org.slug, world.other_membership_id
    before = snapshot()
    for action, data in (("remove", {}), ("role", {"role": "owner"})):
        response = owner.post(f"/organisations/{slug}/members/{other_id}/{action}", data=data)
        assert response.status_code == 404, action
        assert has_clear_message(response)
    # Organisation B's pages are B's: A's owner is refused there.
    for path in (
        f"/organisations/{world.other_org.slug}/edit",
        f"/activities/{world.other_activity.id}/edit",
        f"/activities/{world.other_activity.id}/archive",
    ):
        assert owner.post(path, data={"name": "Kapret", "version": "1"}).status_code == 403, path
    lier_org = world.other_municipality_org.id
    for action in ("verify", "reject"):
        response = admin.post(f"/admin/organisations/{lier_org}/{action}", data={"reason": "Nei"})
        assert response.status_code == 404, action
    assert snapshot() == before


# --- query strings -----------------------------------------------------------------------------


def get_rules(app):
    return [rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or set())]


# The pages that read a parameter of JUNK_QUERIES. The search pages share one query parser.
SEARCH_PAGES = {"/", "/activities", "/api/v1/activities", "/calendar.ics", "/feed.atom", "/embed"}
MUNICIPALITY_PAGES = {  # the municipality chooses whose list or statement is shown
    "/organisations",
    "/om/kanaler",
    "/personvern",
    "/tilgjengelighet",
    "/api/v1/organisations",
    "/api/v1/schools",
    "/api/v1/school-calendar",
    "/api/v1/venues",
}
REQUEST_LISTS = {"/organisations/<slug>/requests", "/schools/<slug>/requests"}
# The clubs directory (issue 13) pages by 20: every page of JUNK_QUERIES is out of range.
DIRECTORY_PAGES = {"/organisations", "/api/v1/organisations"}


def query_answer(rule: str, name: str, value: str, plain: int) -> int:
    """The answer to one junk parameter of JUNK_QUERIES on a page that answers `plain` without
    it: a page ignores the parameters it does not read."""
    if "\x00" in name + value:
        return 400  # refused before any page looks at it
    if rule in SEARCH_PAGES:
        if name in ("page", "per_page"):
            return 400  # every page and per_page of JUNK_QUERIES is out of range
        if name == "municipality":
            slug = len(value) <= 100 and all(
                c.isascii() and (c.isalnum() or c == "-") for c in value
            )
            return 404 if slug else 400  # an unknown municipality, or no slug at all
    if rule in MUNICIPALITY_PAGES and name == "municipality":
        return 404
    if rule in DIRECTORY_PAGES and name == "page":
        return 400
    if rule in REQUEST_LISTS and name in ("page", "status"):
        return 400
    if rule == "/admin/organisations" and name == "status":
        return 400
    return plain


def test_junk_query_strings_get_the_answer_of_the_page_that_reads_them(app, world):
    """Signed in, so that the pages behind a login read their parameters too."""
    problems: list[str] = []
    clients = {who: client_as(app, world, who) for who in ("owner", "admin", "staff")}
    before = snapshot()
    for rule in get_rules(app):
        values = {a: valid_path_value(world, a, rule.rule) for a in rule.arguments}
        path = build_path(rule, values)
        who = actor_for(path)
        answer = send(clients[who], path)
        plain = answer.status_code
        answer.close()
        for query in JUNK_QUERIES:
            url = f"{path}?{urlencode(query)}"
            ((name, value),) = query.items()
            expected = query_answer(rule.rule, name, value, plain)
            check(send(clients[who], url), f"GET {url[:80]!r} as {who}", problems, expected)
    assert snapshot() == before
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "query",
    [
        {"page": "-1"},
        {"page": "abc"},
        {"page": str(10**30) + "x"},
        {"page": "9" * 5000},
        {"page": "\x00"},
        {"per_page": "0"},
        {"per_page": "101"},
        {"per_page": str(10**30)},
        {"per_page": "1e3"},
        {"municipality": "\x00"},
    ],
)
def test_the_api_answers_junk_parameters_with_a_json_400(client, world, query):
    response = client.get("/api/v1/activities?" + urlencode(query))
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.is_json
    assert response.get_json()["error"].strip()


@pytest.mark.parametrize("junk", [str(10**30), "999999999", str(2**63), "0"])
def test_the_api_answers_unknown_ids_with_a_json_404(client, world, junk):
    response = client.get(f"/api/v1/activities/{junk}")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"].strip()


def test_an_absurd_page_number_is_a_clear_400(client, world):
    response = client.get(f"/api/v1/activities?page={10**30}")
    assert response.status_code == 400
    assert response.get_json()["error"].strip()
    page = client.get(f"/?page={10**30}")
    assert page.status_code == 400
    assert has_clear_message(page)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["page", "per_page", "municipality", "lang", "q", "x"]),
        st.text(max_size=40),
        max_size=4,
    )
)
def test_the_api_answers_any_parameters_as_documented(client, world, params):
    response = client.get("/api/v1/activities?" + urlencode(params))
    assert response.status_code == api_answer(params), (params, response.status_code)
    body = response.get_json()
    if response.status_code == 200:
        assert "items" in body
    else:
        assert body["error"].strip()


def api_answer(params: dict[str, str]) -> int:
    """The documented answer of /api/v1/activities: 400 for a NUL, a page outside 1..MAX_PAGE,
    a per_page outside 1..MAX_PER_PAGE or a municipality that is no slug; 404 for an unknown
    municipality; else 200. Values are read stripped; other parameters are ignored."""
    if any("\x00" in name + value for name, value in params.items()):
        return 400
    values = {name: value.strip() for name, value in params.items()}
    for name, high in (("page", MAX_PAGE), ("per_page", MAX_PER_PAGE)):
        raw = values.get(name, "")
        if raw and not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= high):
            return 400
    slug = values.get("municipality", "")
    if not slug:
        return 200
    if len(slug) > 100 or not all(c.isascii() and (c.isalnum() or c == "-") for c in slug):
        return 400
    known = db.session.scalar(select(Municipality.id).where(Municipality.slug == slug.lower()))
    return 200 if known is not None else 404


# --- bodies of every POST route ----------------------------------------------------------------


def activity_form(w: World) -> dict[str, str]:
    first = next_weekday_at(3, 17).date()
    return {
        "title": "Sjakk for barn",
        "summary": "Vi spiller sjakk",
        "description": "Alle er velkomne",
        "category_id": "",
        "tags": "sjakk",
        "age_min": "7",
        "age_max": "12",
        "price_nok": "0",
        "price_note": "",
        "venue": "Biblioteket",
        "address": "Gata 2",
        "latitude": "59,74",
        "longitude": "10,20",
        "accessibility": "Heis",
        "languages": "norsk",
        "registration_url": "https://example.org/p",
        "facebook_post_url": "",
        "capacity": "12",
        "image_alt": "",
        "first_date": first.isoformat(),
        "start_time": "17:00",
        "end_time": "18:00",
        "repeat": "weekly",
        "until": (first + timedelta(weeks=4)).isoformat(),
        "except_dates": "",
        "extra_dates": "",
    }


def current(obj):
    """The object as now stored (another request may have changed it)."""
    db.session.refresh(obj)
    return obj


@dataclass(frozen=True)
class PostRoute:
    """How to call one POST route with a body that would be accepted, and its answers to the
    malformed bodies of junk_bodies() (a NUL anywhere is a 400 on every route)."""

    who: str
    path: Callable[[World], str]
    valid: Callable[[World], dict[str, str]]
    # The answer to a malformed body: the route's refusal, or for a button its usual answer.
    refused: int
    # Bodies with another answer, by label: junk that is valid input after all.
    odd: Mapping[str, int] = field(default_factory=dict)
    # A public form a signed-in user may send too (and then sees a different form).
    also_signed_in: bool = False
    # The signed-in user's answer to a malformed body, when it differs from `refused`.
    signed_in: int | None = None

    def answer(self, label: str, who: str) -> int:
        """The one right answer to the body labelled `label` from `who`."""
        if label in NUL_BODIES or label.startswith("NUL in "):
            return 400  # refused before any form reads it
        if who != self.who and self.signed_in is not None:
            return self.signed_in
        return self.odd.get(label, self.refused)


# Labels of junk_bodies() that carry a NUL somewhere.
NUL_BODIES = frozenset({"all NUL", "valid + NUL everywhere", "valid + NUL key", "duplicate keys"})
# The valid body with its numbers made huge: unchanged where the body has no number fields.
NUMBERS = ("valid, numbers past 32 bits", "valid, numbers of 30 digits")
# Bodies whose text any free-text field takes (a name, a reason).
ANY_TEXT = (
    "all 'abc'",
    "all -1",
    "all 10**30",
    "all NaN",
    "all 1e309",
    "all control characters",
    "valid + control everywhere",
)
# Bodies that are a valid new password in both fields.
PASSWORDS = ("all 10**30", "all control characters", "valid + control everywhere")


def answers(labels: tuple[str, ...], status: int) -> dict[str, int]:
    """The same answer for several bodies."""
    return dict.fromkeys(labels, status)


def _policy_school(w: World) -> str:
    """A school of the world's municipality for the channel-policy routes (made on first use)."""
    from directory.schools.models import School

    school = db.session.scalar(select(School).where(School.slug == "policy-skole"))
    if school is None:
        school = School(
            municipality_id=w.municipality.id,
            slug="policy-skole",
            name="Policy skole",
            grade_min=1,
            grade_max=7,
        )
        db.session.add(school)
        db.session.commit()
    return school.slug


def _venue(w: World):
    """A venue of the world's municipality for the venue routes (made on first use)."""
    from directory.venues.models import Venue
    from directory.venues.operations import add_venue

    venue = db.session.scalar(select(Venue).where(Venue.name == "Matrisehallen"))
    if venue is None:
        venue = add_venue(w.municipality, {"name": "Matrisehallen", "address": "Gata 1"},
                          added_by=None, actor=None)  # fmt: skip
        db.session.commit()
    return venue


def _venue_form(w: World) -> dict[str, str]:
    venue = _venue(w)
    return {"name": "Matrisehallen", "address": "Gata 2", "latitude": "59,74",
            "longitude": "10,2", "accessibility": "Heis", "version": str(venue.version)}  # fmt: skip


def _school_form(w: World, **overrides) -> dict[str, str]:
    """A valid school form for the policy school, carrying its current fingerprint."""
    from directory.schools.models import School
    from directory.schools.operations import school_fingerprint

    slug = _policy_school(w)
    school = db.session.scalar(select(School).where(School.slug == slug))
    data = {
        "name": "Skole fra skjemaet",
        "org_number": "974760673",
        "grade_min": "1",
        "grade_max": "2",
        "area": "Sentrum",
        "address": "Skoleveien 1",
        "latitude": "59.7",
        "longitude": "10.2",
        "facebook_page_url": "https://www.facebook.com/skolen",
        "accepts_backpack_post": "y",
        "classes_1": "2",
        "pupils_1": "40",
        "classes_2": "2",
        "pupils_2": "41",
        "version": school_fingerprint(school),
    }
    data.update(overrides)
    return data


def _settings(w: World) -> dict[str, str]:
    """A valid settings form for the admin's municipality, carrying its current fingerprint."""
    from directory.admin.operations import municipality_fingerprint

    municipality = db.session.get(Municipality, w.municipality.id)
    return {
        "name": "Drammen kommune",
        "messaging_label": "Vigilo",
        "org_number": "921234554",
        "contact_email": "personvern@example.org",
        "version": municipality_fingerprint(municipality),
    }


_CATEGORY_FORM = {"name_nb": "Friluft", "name_nn": "Friluft", "name_en": "Outdoor life"}


def _category(w: World | None) -> int:
    """A category for the category routes (made on first use)."""
    from directory.activities.models import Category

    category = db.session.scalar(select(Category).where(Category.slug == "sjakk"))
    if category is None:
        category = Category(slug="sjakk", name_nb="Sjakk", name_nn="Sjakk", name_en="Chess")
        db.session.add(category)
        db.session.commit()
    return category.id


def _school_holiday(municipality_id: int) -> int:
    """A school holiday of the admin's municipality (made on first use, again once removed)."""
    from datetime import date

    from directory.schools.models import SchoolHoliday

    holiday = db.session.scalar(select(SchoolHoliday).where(SchoolHoliday.name == "Høstferie"))
    if holiday is None:
        holiday = SchoolHoliday(
            municipality_id=municipality_id,
            school_year="2026-2027",
            name="Høstferie",
            first_day=date(2026, 9, 28),
            last_day=date(2026, 10, 2),
        )
        db.session.add(holiday)
        db.session.commit()
    return holiday.id


RESET_TOKEN = "passordlenke-" + "r" * 32


def _password_reset_link(w: World) -> str:
    """The owner's open password-reset link (RESET_TOKEN), made on first use."""
    from directory.accounts.models import PasswordReset

    token_hash = hash_token(RESET_TOKEN)
    if (
        db.session.scalar(select(PasswordReset.id).where(PasswordReset.token_hash == token_hash))
        is None
    ):
        db.session.add(
            PasswordReset(
                user_id=w.owner.id, token_hash=token_hash, expires_at=utcnow() + timedelta(hours=1)
            )
        )
        db.session.commit()
    return f"/account/password/reset/{RESET_TOKEN}"


def _listing_link(w: World) -> str:
    """The «Fortsatt aktuell» link of A's published activity, as e-mailed to its owner."""
    from directory.activities.listings import confirmation_token

    return f"/listings/confirm/{confirmation_token(current(w.published), w.owner.id)}"


def _registration_link(w: World) -> str:
    """An open registration link for a new address, made on first use."""
    return open_registration_link(w.municipality.id)


SCHOOL_INVITATION_TOKEN = "skoleinvitasjon-" + "s" * 32


def _staff_row_id(w: World) -> int:
    """The school staff row of the world's teacher (`staff`)."""
    return db.session.scalar(select(SchoolStaff.id).where(SchoolStaff.user_id == w.staff.id))


def _school_invitation_id(w: World) -> int:
    """The school's open invitation (SCHOOL_INVITATION_TOKEN), made on first use."""
    from directory.schools.models import SchoolInvitation

    token_hash = hash_token(SCHOOL_INVITATION_TOKEN)
    found = db.session.scalar(
        select(SchoolInvitation.id).where(SchoolInvitation.token_hash == token_hash)
    )
    if found is not None:
        return found
    invitation = SchoolInvitation(
        school_id=w.school.id,
        email="ny.laerer@example.org",
        role="staff",
        token_hash=token_hash,
        expires_at=utcnow() + timedelta(days=7),
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation.id


def _school_invitation_link(w: World) -> str:
    """The link of the school's open invitation."""
    _school_invitation_id(w)
    return f"/schools/invitations/{SCHOOL_INVITATION_TOKEN}"


_POLICY_FORM = {
    "order": "backpack",
    "facebook_enabled": "on",
    "backpack_enabled": "on",
    "backpack_weekly_quota": "3",
    "blackout_weeks": coming_weeks(3)[2],  # a week the form offers
    "municipal_in_messaging": "no",
    "version": "0",
}

POST_ROUTES: dict[str, PostRoute] = {
    "schools.edit_policy": PostRoute(
        "admin",
        lambda w: f"/schools/{_policy_school(w)}/policy",
        lambda w: dict(_POLICY_FORM),
        refused=409,
    ),
    "schools.edit_default_policy": PostRoute(
        "admin", lambda w: "/admin/policy", lambda w: dict(_POLICY_FORM), refused=409
    ),
    "schools.import_school_policy": PostRoute(
        "admin",
        lambda w: f"/schools/{_policy_school(w)}/policy/import",
        lambda w: {},
        refused=400,  # no policy file
    ),
    "schools.import_default_policy": PostRoute(
        "admin", lambda w: "/admin/policy/import", lambda w: {}, refused=400
    ),
    "accounts.login": PostRoute(
        "anonymous",
        lambda w: "/login",
        lambda w: {"email": w.owner.email, "password": PASSWORD},
        also_signed_in=True,
        refused=401,
        odd=answers(NUMBERS, 302),
    ),
    "accounts.logout": PostRoute("owner", lambda w: "/logout", lambda w: {}, refused=302),
    # two-step login: the second step (without the password step's marker), one's own settings
    "accounts.login_two_step": PostRoute(
        "anonymous",
        lambda w: "/login/two-step",
        lambda w: {"code": "123456"},
        also_signed_in=True,
        refused=302,  # no password step before it: back to the login page
    ),
    "accounts.start_two_step": PostRoute(
        "owner", lambda w: "/account/two-step/enrol/start", lambda w: {}, refused=302
    ),
    "accounts.enrol_two_step": PostRoute(
        "owner",
        lambda w: "/account/two-step/enrol",
        lambda w: {"code": "123456"},
        refused=200,  # no secret made yet: the page offers to make one, whatever is sent
    ),
    "accounts.regenerate_recovery_codes": PostRoute(
        "admin",
        lambda w: "/account/two-step/recovery-codes",
        lambda w: {"password": PASSWORD, "code": ""},
        refused=422,
        odd=answers(NUMBERS, 200),
    ),
    "accounts.disable_two_step": PostRoute(
        "owner",
        lambda w: "/account/two-step/disable",
        lambda w: {"password": PASSWORD, "code": ""},
        refused=302,  # the owner has no second step on: back to the settings, whatever is sent
    ),
    # the municipal admin's account administration (the school's staff member)
    **{
        f"admin.{action}": PostRoute(
            "admin",
            (lambda a: lambda w: f"/admin/accounts/{w.staff.id}/{a}")(path),
            lambda w: {},
            refused=302,
        )
        for action, path in (
            ("deactivate", "deactivate"),
            ("reactivate", "reactivate"),
            ("reset_account_two_step", "reset-two-step"),
        )
    },
    "accounts.change_password": PostRoute(
        "owner",
        lambda w: "/account/password",
        lambda w: {
            "current_password": PASSWORD,
            "password": "et-nytt-langt-passord",
            "password_confirm": "et-nytt-langt-passord",
        },
        refused=422,
        odd=answers(NUMBERS, 302),
    ),
    "accounts.request_password_reset": PostRoute(
        "anonymous",
        lambda w: "/account/password/reset",
        lambda w: {"email": w.owner.email},
        also_signed_in=True,
        refused=422,
        odd=answers(NUMBERS, 200),
    ),
    "accounts.reset_password": PostRoute(
        "anonymous",
        lambda w: _password_reset_link(w),
        lambda w: {
            "password": "et-nytt-langt-passord",
            "password_confirm": "et-nytt-langt-passord",
        },
        also_signed_in=True,
        refused=422,
        odd=answers((*NUMBERS, *PASSWORDS), 302),
    ),
    "accounts.register": PostRoute(
        "anonymous",
        lambda w: "/register",
        lambda w: {
            "name": "Nina Ny",
            "email": "nina@example.org",
            "password": "et-langt-passord",
            "password_repeat": "et-langt-passord",
            "org_name": "Ninas lag",
            "kind": "volunteer",
            "municipality": str(w.municipality.id),
            "org_number": "",
            "website_url": "",
            "contact_email": "",
            "phone": "",
        },
        also_signed_in=True,
        refused=422,
    ),
    "accounts.confirm_registration": PostRoute(
        "anonymous",
        lambda w: _registration_link(w),
        lambda w: {},
        also_signed_in=True,
        refused=302,  # a button: the registration completes, whatever else is sent
    ),
    "activities.new_activity": PostRoute(
        "owner", lambda w: f"/organisations/{w.org.slug}/activities/new", activity_form, refused=400
    ),
    "activities.edit_activity": PostRoute(
        "owner",
        lambda w: f"/activities/{w.published.id}/edit",
        lambda w: {**activity_form(w), "version": str(current(w.published).version)},
        refused=409,
    ),
    **{
        f"activities.{action}_activity": PostRoute(
            "owner",
            (
                lambda a: (
                    lambda w: f"/activities/{(w.draft if a == 'publish' else w.published).id}/{a}"
                )
            )(action),
            lambda w: {"note": "Merknad", "return_to": "detail"},
            refused=409,  # no version, so stale whatever else is sent
        )
        for action in ("publish", "unpublish", "cancel", "archive")
    },
    "activities.copy_activity": PostRoute(
        "owner", lambda w: f"/activities/{w.published.id}/copy", lambda w: {}, refused=302
    ),
    "admin.verify": PostRoute(
        "admin", lambda w: f"/admin/organisations/{w.org.id}/verify", lambda w: {}, refused=302
    ),
    "admin.reject": PostRoute(
        "admin",
        lambda w: f"/admin/organisations/{w.org.id}/reject",
        lambda w: {"reason": "Ukjent organisasjon"},
        refused=422,
        odd=answers((*NUMBERS, *ANY_TEXT), 302),
    ),
    "organisations.edit_organisation": PostRoute(
        "owner",
        lambda w: f"/organisations/{w.org.slug}/edit",
        lambda w: {
            "name": "Organisasjon A",
            "description": "Om oss",
            "website_url": "https://a.example.org",
            "facebook_page_url": "https://www.facebook.com/a",
            "email": "post@a.example.org",
            "phone": "912 34 567",
            "org_number": "",
            "version": str(current(w.org).version),
        },
        refused=409,
    ),
    "organisations.invite_member": PostRoute(
        "owner",
        lambda w: f"/organisations/{w.org.slug}/members/invite",
        lambda w: {"email": "ny@example.org", "role": "editor"},
        refused=422,
        odd=answers(NUMBERS, 302),
    ),
    "organisations.change_member_role": PostRoute(
        "owner",
        lambda w: f"/organisations/{w.org.slug}/members/{w.colleague_membership_id}/role",
        lambda w: {"role": "owner"},
        refused=422,
        odd=answers(NUMBERS, 302),
    ),
    "organisations.remove_member": PostRoute(
        "owner",
        lambda w: f"/organisations/{w.org.slug}/members/{w.colleague_membership_id}/remove",
        lambda w: {},
        refused=302,
    ),
    "organisations.revoke_invitation": PostRoute(
        "owner",
        lambda w: f"/organisations/{w.org.slug}/invitations/{w.invitation_id}/revoke",
        lambda w: {},
        refused=302,
    ),
    # requests: the organiser (B's editor) sends and withdraws, the school's staff review
    "approvals.reach_schools": PostRoute(
        "stranger",
        lambda w: f"/activities/{w.pending.activity_id}/reach",
        lambda w: {
            "week": upcoming_weeks()[2],
            "schools": "fjell-skole",
            "grades": "fjell-skole:3",
        },
        refused=400,
        odd=answers(NUMBERS, 302),
    ),
    "approvals.withdraw_request": PostRoute(
        "stranger",
        lambda w: f"/requests/{w.pending.id}/withdraw",
        lambda w: {"version": str(current(w.pending).version), "return_to": "activity"},
        refused=409,  # every junk body carries a missing or malformed version
    ),
    "approvals.approve_request": PostRoute(
        "staff",
        lambda w: f"/schools/fjell-skole/requests/{w.pending.id}/approve",
        lambda w: {"version": str(current(w.pending).version)},
        refused=409,  # every junk body carries a missing or malformed version
    ),
    "approvals.reject_request": PostRoute(
        "staff",
        lambda w: f"/schools/fjell-skole/requests/{w.pending.id}/reject",
        lambda w: {"reason": "Ikke denne uken", "version": str(current(w.pending).version)},
        refused=409,  # every junk body carries a missing or malformed version
    ),
    "approvals.approve_requests": PostRoute(
        "staff",
        lambda w: "/schools/fjell-skole/requests/bulk-approve",
        lambda w: {
            "requests": str(w.pending.id),
            "return_week": upcoming_weeks()[1],
            "return_channel": "backpack_post",
        },
        refused=400,
    ),
    "exports.download": PostRoute(
        "staff",
        lambda w: f"/schools/fjell-skole/exports/{upcoming_weeks()[1]}/backpack_post.pdf",
        lambda w: {},
        refused=200,  # a button: the file, whatever else is sent
    ),
    "organisations.accept_invitation": PostRoute(
        "anonymous",
        lambda w: f"/invitations/{INVITATION_TOKEN}",
        lambda w: {
            "name": "Invitert",
            "password": "et-langt-passord",
            "password_repeat": "et-langt-passord",
        },
        also_signed_in=True,
        refused=422,
        odd=answers((*NUMBERS, "valid + control everywhere"), 302),
        signed_in=302,
    ),
    # school staff: the municipal admin manages the school's staff; the invitee accepts
    "schools.invite_staff_member": PostRoute(
        "admin",
        lambda w: "/schools/fjell-skole/staff/invite",
        lambda w: {"email": "ny.laerer@example.org", "role": "staff"},
        refused=422,
        odd=answers(NUMBERS, 302),
    ),
    "schools.change_staff_member_role": PostRoute(
        "admin",
        lambda w: f"/schools/fjell-skole/staff/{_staff_row_id(w)}/role",
        lambda w: {"role": "admin"},
        refused=422,
        odd=answers(NUMBERS, 302),
    ),
    "schools.remove_staff_member": PostRoute(
        "admin",
        lambda w: f"/schools/fjell-skole/staff/{_staff_row_id(w)}/remove",
        lambda w: {},
        refused=302,
    ),
    "schools.revoke_staff_invitation": PostRoute(
        "admin",
        lambda w: f"/schools/fjell-skole/invitations/{_school_invitation_id(w)}/revoke",
        lambda w: {},
        refused=302,
    ),
    "schools.accept_staff_invitation": PostRoute(
        "anonymous",
        _school_invitation_link,
        lambda w: {
            "name": "Invitert",
            "password": "et-langt-passord",
            "password_repeat": "et-langt-passord",
        },
        also_signed_in=True,
        refused=422,
        odd=answers((*NUMBERS, "valid + control everywhere"), 302),
        signed_in=403,
    ),
    # the municipal admin's school register, settings and (shared) categories
    "schools.new_school": PostRoute(
        "admin",
        lambda w: "/admin/schools/new",
        lambda w: _school_form(w, slug="ny-skole"),
        refused=422,
    ),
    "schools.edit_school": PostRoute(
        "admin",
        lambda w: f"/admin/schools/{_policy_school(w)}/edit",
        lambda w: _school_form(w),
        refused=409,
        odd=answers(NUMBERS, 422),
    ),
    "schools.deactivate_school": PostRoute(
        "admin",
        lambda w: f"/admin/schools/{_policy_school(w)}/deactivate",
        lambda w: {},
        refused=302,
    ),
    "schools.reactivate_school": PostRoute(
        "admin",
        lambda w: f"/admin/schools/{_policy_school(w)}/reactivate",
        lambda w: {},
        refused=302,
    ),
    "admin.edit_settings": PostRoute(
        "admin",
        lambda w: "/admin/settings",
        lambda w: _settings(w),
        refused=409,
        odd=answers(NUMBERS, 422),
    ),
    # Listings that stay current (issue 14): buttons, whatever else is sent.
    "activities.confirm_listing": PostRoute(
        "owner",
        lambda w: f"/activities/{w.published.id}/confirm",
        lambda w: {"return_to": "list"},
        refused=302,
    ),
    "activities.confirm_listing_by_link": PostRoute(
        "anonymous",
        lambda w: _listing_link(w),
        lambda w: {},
        also_signed_in=True,
        refused=200,  # the page saying it is done
    ),
    "admin.new_category": PostRoute(
        "admin",
        lambda w: "/admin/categories/new",
        lambda w: dict(_CATEGORY_FORM),
        refused=422,
        odd=answers((*NUMBERS, *ANY_TEXT), 302),
    ),
    # Offers in the families' languages (issue 14): versioned forms, so junk is stale (409).
    "activities.edit_translation": PostRoute(
        "owner",
        lambda w: f"/activities/{w.published.id}/translations/pl",
        lambda w: {"title": "Trening", "version": str(current(w.published).version)},
        refused=409,
    ),
    "activities.delete_translation": PostRoute(
        "owner",
        lambda w: f"/activities/{w.published.id}/translations/pl/delete",
        lambda w: {"version": str(current(w.published).version)},
        refused=409,
    ),
    "admin.edit_category": PostRoute(
        "admin",
        lambda w: f"/admin/categories/{_category(w)}/edit",
        lambda w: dict(_CATEGORY_FORM),
        refused=409,
    ),
    "admin.new_venue": PostRoute(
        "admin",
        lambda w: "/admin/venues/new",
        lambda w: {
            "name": "Kulturhuset",
            "address": "Torget 1",
            "latitude": "",
            "longitude": "",
            "accessibility": "",
        },  # fmt: skip
        refused=400,
        odd=answers((*NUMBERS, "all -1"), 302),
    ),
    "venues.edit_venue": PostRoute(
        "admin",
        lambda w: f"/venues/{_venue(w).slug}/edit",
        _venue_form,
        refused=409,
    ),
    # the school-year calendar (issue 14)
    "admin.add_school_holiday": PostRoute(
        "admin",
        lambda w: "/admin/school-calendar/holidays",
        lambda w: {"name": "Vinterferie", "first_day": "2027-02-22", "last_day": "2027-02-26"},
        refused=422,
        odd=answers(NUMBERS, 302),
    ),
    "admin.remove_school_holiday": PostRoute(
        "admin",
        lambda w: f"/admin/school-calendar/holidays/{_school_holiday(w.municipality.id)}/remove",
        lambda w: {},
        refused=302,
    ),
    "admin.import_school_calendar": PostRoute(
        "admin", lambda w: "/admin/school-calendar/import", lambda w: {}, refused=400
    ),
    "admin.hide_category": PostRoute(
        "admin", lambda w: f"/admin/categories/{_category(w)}/hide", lambda w: {}, refused=302
    ),
    "admin.show_category": PostRoute(
        "admin", lambda w: f"/admin/categories/{_category(w)}/show", lambda w: {}, refused=302
    ),
}

CONTROL = "\x01\x02\x07\x08\x0b\x0c\x1b[2J\x7f\u0085\u200b\u200e\u202e\u2028\ufeff\ufffe"


def junk_bodies(valid: dict[str, str]) -> list[tuple[str, object, dict]]:
    """(label, data, extra request arguments) for every malformed body of a route."""
    names = list(valid) or ["x"]
    every = lambda value: {name: value for name in names}  # noqa: E731
    bodies: list[tuple[str, object, dict]] = [
        ("empty", {}, {}),
        ("all blank", every(""), {}),
        ("all huge", every("x" * 100_000), {}),
        ("all 'abc'", every("abc"), {}),
        ("all -1", every("-1"), {}),
        ("all 10**30", every(str(10**30)), {}),
        ("all 5000 digits", every("9" * 5000), {}),
        ("all NaN", every("NaN"), {}),
        ("all 1e309", every("1e309"), {}),
        ("all control characters", every(CONTROL), {}),
        ("all NUL", every("\x00"), {}),
        (
            "valid, numbers past 32 bits",
            {k: str(2**31) if v.isdigit() else v for k, v in valid.items()},
            {},
        ),
        (
            "valid, numbers of 30 digits",
            {k: str(10**30) if v.isdigit() else v for k, v in valid.items()},
            {},
        ),
        ("valid + NUL everywhere", {k: v + "\x00" for k, v in valid.items()}, {}),
        ("valid + control everywhere", {k: v + CONTROL for k, v in valid.items()}, {}),
        ("valid + NUL key", {**valid, "\x00": "x", "a\x00b": "\x00"}, {}),
        (
            "duplicate keys",
            MultiDict([(k, v) for k, v in valid.items()] + [(k, "\x00" * 3) for k in names]),
            {},
        ),
        (
            "duplicate keys, junk first",
            MultiDict([(k, "x" * 5000) for k in names] + list(valid.items())),
            {},
        ),
        (
            "JSON instead of a form",
            '{"title": 1, "x": [null]}',
            {"content_type": "application/json"},
        ),
        ("text/plain", "title=x&name=y", {"content_type": "text/plain"}),
        ("broken multipart", b"--x\r\nnonsense", {"content_type": "multipart/form-data"}),
        (
            "files in every text field",
            {
                name: (io.BytesIO(b"\x00\xff" * 50), "f.bin", "application/octet-stream")
                for name in names
            },
            {"content_type": "multipart/form-data"},
        ),
    ]
    for name in valid:
        bodies.append((f"NUL in {name}", {**valid, name: "a\x00b"}, {}))
    if not valid:
        # A button with no fields: the variations of one unknown field say nothing new.
        keep = {"empty", "all huge", "all NUL", "valid + NUL key", "JSON instead of a form"}
        keep |= {"broken multipart", "files in every text field"}
        bodies = [body for body in bodies if body[0] in keep]
    return bodies


def post_and_check(
    app, w: World, endpoint: str, who: str, label: str, data, extra, problems, *, expected: int
):
    """One POST from a fresh client, answered `expected`; a refused one must not have changed
    anything."""
    route = POST_ROUTES[endpoint]
    limiter.reset()  # the login and registration limits would turn later bodies into 429s
    client = client_as(app, w, who)
    path = route.path(w)
    before = snapshot()
    response = send(client, path, "POST", data=data, **extra)
    after = snapshot()
    full_label = f"POST {path[:60]} as {who} [{label}]"
    check(response, full_label, problems, expected)
    if 400 <= response.status_code < 500 and after != before:
        changed = [t for t in before if before[t] != after[t]]
        problems.append(f"{full_label}: refused with {response.status_code} but changed {changed}")
    for junk in stored_junk(after):
        problems.append(f"{full_label}: stored {junk}")
    if response.status_code < 400 and after != before:
        # Start the next body from the same state: a published activity, an open invitation.
        w.rebuild()


SENDERS = [(endpoint, route.who) for endpoint, route in sorted(POST_ROUTES.items())] + [
    (endpoint, "owner") for endpoint, route in sorted(POST_ROUTES.items()) if route.also_signed_in
]


@pytest.mark.parametrize(("endpoint", "who"), SENDERS)
def test_malformed_bodies_get_their_answer_and_a_refusal_changes_nothing(
    app, quiet_search, world, endpoint, who
):
    problems: list[str] = []
    route = POST_ROUTES[endpoint]
    for index in range(len(junk_bodies(route.valid(world)))):
        # Built afresh each time: an accepted request moves the version an edit form carries.
        label, data, extra = junk_bodies(route.valid(world))[index]
        expected = route.answer(label, who)
        post_and_check(app, world, endpoint, who, label, data, extra, problems, expected=expected)
    assert not problems, "\n".join(problems)


def test_every_post_route_is_tried_with_malformed_bodies(app):
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or set())}
    assert posts == set(POST_ROUTES), (
        f"missing: {sorted(posts - set(POST_ROUTES))}, stale: {sorted(set(POST_ROUTES) - posts)}"
    )


@pytest.mark.parametrize("endpoint", ["activities.new_activity", "activities.edit_activity"])
@pytest.mark.parametrize(
    "upload",
    [
        {"image": (b"<?php system($_GET['c']); ?>", "bilde.png", "image/png")},
        {"image": (b"%PDF-1.4 not an image", "bilde.jpg", "image/jpeg")},
        {"image": (b"", "tom.png", "image/png")},
        {"image": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "avkuttet.png", "image/png")},
        {"flyer": (b"\x89PNG\r\n\x1a\n", "flyer.pdf", "application/pdf")},
        {"flyer": (b"%PDF-1.4\n%%EOF", "flyer.pdf", "text/html")},
        {"flyer": (b"<html>", "flyer.html", "text/html")},
    ],
    ids=lambda u: "-".join(f"{k}:{v[1]}:{v[2]}" for k, v in u.items()),
)
def test_an_upload_of_the_wrong_kind_is_refused_with_the_form_errors(
    app, quiet_search, world, endpoint, upload
):
    data = {**POST_ROUTES[endpoint].valid(world), "image_alt": "Et bilde"}
    for name, (content, filename, mimetype) in upload.items():
        data[name] = (io.BytesIO(content), filename, mimetype)
    client = client_as(app, world, "owner")
    before = snapshot()
    files_before = set(upload_storage().names())
    response = client.post(
        POST_ROUTES[endpoint].path(world), data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400, response.status_code
    assert 'class="errors"' in response.get_data(as_text=True)
    assert snapshot() == before
    assert set(upload_storage().names()) == files_before, "a refused upload left a file behind"


def test_a_body_over_the_size_limit_is_a_413_with_a_message(app, world):
    client = client_as(app, world, "owner")
    before = snapshot()
    response = client.post(
        f"/organisations/{world.org.slug}/edit",
        data={"description": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)},
    )
    assert response.status_code == 413
    assert has_clear_message(response)
    assert snapshot() == before


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            name: st.text(max_size=60)
            for name in ("name", "description", "website_url", "email", "phone", "org_number")
        },
    )
)
def test_any_text_in_the_organisation_form_is_stored_cleanly_or_refused(
    app, quiet_search, world, fields
):
    """Whatever text arrives, the page follows the form's verdict: a save, or the form with its
    errors (422); a NUL is refused (400) before the form reads it."""
    problems: list[str] = []
    data = {**POST_ROUTES["organisations.edit_organisation"].valid(world), **fields}
    expected = organisation_form_answer(world, data)
    post_and_check(
        app,
        world,
        "organisations.edit_organisation",
        "owner",
        repr(fields),
        data,
        {},
        problems,
        expected=expected,
    )
    assert not problems, "\n".join(problems)


def organisation_form_answer(w: World, data: dict[str, str]) -> int:
    """The organisation page's answer to `data`: 400 for a NUL, else the form's own verdict."""
    from directory.organisations.forms import OrganisationForm

    if any("\x00" in value for value in data.values()):
        return 400
    organisation = current(w.org)
    with current_app.test_request_context(method="POST", data=data):
        return 302 if OrganisationForm(organisation=organisation).validate() else 422


# --- regressions: the fixes these tests led to ---------------------------------------------------


@pytest.mark.parametrize("number", [str(2**31), str(2**63), str(10**30), "%D9%A3"])
def test_ids_past_the_id_range_or_in_other_scripts_do_not_route(client, world, number):
    """The int converter stops at 2**31 - 1 (PostgreSQL's INTEGER; it raised past it, SQLite
    past 2**63 - 1) and reads ASCII digits only (Werkzeug's also took '٣' as 3)."""
    for path in (f"/activities/{number}", f"/api/v1/activities/{number}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert has_clear_message(response)


def test_the_largest_id_is_simply_unknown(client, world):
    assert client.get(f"/activities/{2**31 - 1}").status_code == 404


@pytest.mark.parametrize("municipality_id", [str(2**31), str(10**30), "0", "-1"])
def test_registering_in_an_unknown_municipality_is_a_form_error(app, world, municipality_id):
    """The organisation-number check looked the number up in the chosen municipality before
    the choice itself was validated, so a huge id reached PostgreSQL."""
    data = {
        **POST_ROUTES["accounts.register"].valid(world),
        "municipality": municipality_id,
        "org_number": "914778271",
    }
    before = snapshot()
    response = send(app.test_client(), "/register", "POST", data=data)
    assert response.status_code == 422
    assert 'id="municipality-err"' in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(
    "path",
    ["/?municipality=a%00b", "/organisations/a%00b", "/api/v1/activities?municipality=%00"],
)
def test_a_nul_character_anywhere_is_a_400_with_a_message(client, world, path):
    response = client.get(path)
    assert response.status_code == 400
    assert has_clear_message(response)
    assert "NUL" in response.get_data(as_text=True)


def test_a_nul_character_in_a_valid_form_is_refused_and_nothing_is_stored(app, world):
    client = client_as(app, world, "owner")
    before = snapshot()
    data = {**POST_ROUTES["organisations.edit_organisation"].valid(world), "name": "Lag\x00et"}
    response = client.post(f"/organisations/{world.org.slug}/edit", data=data)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_file_sent_in_a_text_field_is_an_empty_field_not_a_crash(app, world):
    client = client_as(app, world, "owner")
    before = snapshot()
    response = client.post(
        f"/organisations/{world.org.slug}/members/invite",
        data={"email": (io.BytesIO(b"x"), "e.txt", "text/plain"), "role": "editor"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'id="email-err"' in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_json_body_is_an_empty_form_not_a_crash(app, world):
    client = client_as(app, world, "owner")
    before = snapshot()
    for body in ('{"title": 1, "age_min": [2]}', "[1, 2]", "7", "null"):
        response = client.post(
            f"/organisations/{world.org.slug}/activities/new",
            data=body,
            content_type="application/json",
        )
        assert response.status_code == 400, body
        assert 'class="errors"' in response.get_data(as_text=True)
    assert snapshot() == before


def test_every_form_reads_only_text_into_text_fields():
    """All forms derive from directory.forms.Form, which keeps files and JSON out of text
    fields; a form built on FlaskForm directly would bring the 500s back."""
    from flask_wtf import FlaskForm

    import directory.accounts.forms  # noqa: F401 - importing registers the form classes
    import directory.activities.forms  # noqa: F401
    import directory.admin.forms  # noqa: F401
    import directory.organisations.forms  # noqa: F401
    from directory.forms import Form

    assert FlaskForm.__subclasses__() == [Form]


def test_a_page_number_with_thousands_of_digits_is_a_clear_query_error(app):
    from directory.search.query import QueryError, parse_search_args

    with app.test_request_context(), pytest.raises(QueryError):
        parse_search_args(MultiDict({"page": "9" * 5000}))


def test_a_repeating_schedule_at_the_end_of_the_calendar_is_a_form_error(app, world):
    """A first date near year 9999 is refused, and checking the last date against it must not
    overflow the calendar on the way."""
    client = client_as(app, world, "owner")
    data = {
        **activity_form(world),
        "first_date": "9999-12-20",
        "until": "9999-12-31",
        "repeat": "weekly",
    }
    before = snapshot()
    response = send(client, f"/organisations/{world.org.slug}/activities/new", "POST", data=data)
    assert response.status_code == 400
    assert 'id="first_date-err"' in response.get_data(as_text=True)
    assert snapshot() == before
