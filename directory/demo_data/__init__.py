"""The fixed material the demo is built from, read from the TOML files beside this module.

demo.toml lists the municipalities and the texts the generator picks from; each municipality has
its own file (schools, venues, organisations, notices, school policies); templates.toml holds the
kinds of activity and accounts.toml the demo logins. The categories are the standard ones
(directory.activities.categories), as on a new database.

Names of schools are real Drammen and Lier schools; every address, number, person and account is
made up. The demo generator (directory.demo) varies these with a seeded random generator.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any


class DemoDataError(Exception):
    """A demo data file does not say what the demo needs."""


@dataclass(frozen=True)
class SchoolSpec:
    """A school: grades served, area, address and its channels."""

    name: str
    grade_min: int
    grade_max: int
    area: str
    address: str
    latitude: float  # made up near the real school, for «near the school»
    longitude: float
    facebook: bool
    backpack: bool


@dataclass(frozen=True)
class Venue:
    """Where an organisation meets."""

    name: str
    address: str
    latitude: float
    longitude: float
    step_free: bool


@dataclass(frozen=True)
class Template:
    """A kind of activity an organisation offers, and how the demo varies it into titles.

    The fields and their values are described at the top of templates.toml.
    """

    base: str
    category: str
    ages: tuple[int, int]
    summary: str
    text: str
    expand: str = "plain"
    options: tuple = ()
    duration: int = 60
    pattern: str = "weekly"
    price: str = "club"
    bring: str = ""
    tags: str = ""
    # Low-threshold flags: payable with the leisure card, a free trial session, equipment lent.
    fritidskort: bool = False
    trial_session: bool = False
    equipment_provided: bool = False


@dataclass(frozen=True)
class OrgSpec:
    """A demo organisation: what it is, where it meets and what it offers."""

    key: str
    name: str
    kind: str
    lead: str
    templates: tuple[str, ...]
    venues: tuple[str, ...]
    size: int = 1  # a rough share of the municipality's activities
    verification: str = "verified"
    facebook: bool = True
    rejection_reason: str = ""


@dataclass(frozen=True)
class NoticeSpec:
    """A school's own notice about school matters (SFO/AKS places): it goes in the messaging app."""

    org: str  # the OrgSpec key of the school-kind organisation
    title: str
    summary: str
    description: str
    ages: tuple[int, int]
    weeks_ahead: int  # the notice's date, counted in weeks from this week's Monday


@dataclass(frozen=True)
class Place:
    """Where the "places" variants of an activity happen: the area's school hosts them."""

    where: str
    school: str


@dataclass(frozen=True)
class HolidaySpec:
    """A school holiday of the current school year as a rule the demo turns into dates: a whole
    ISO week (`week`), month-days (`first`/`last`, "MM-DD", the autumn ones in the school year's
    first calendar year), or Easter (`easter`: Monday of Holy Week to Easter Monday)."""

    name: str
    week: int | None = None
    first: str | None = None
    last: str | None = None
    easter: bool = False


@dataclass(frozen=True)
class MunicipalitySpec:
    """A demo municipality and everything in it."""

    slug: str
    name: str
    org_number: str
    activities: int  # its school notices count towards these
    places: tuple[Place, ...]
    schools: tuple[SchoolSpec, ...]
    organisations: tuple[OrgSpec, ...]
    venues: dict[str, Venue]
    notices: tuple[NoticeSpec, ...] = ()
    # The leisure-card rules (None: no such rule).
    fritidskort_min_sessions: int | None = None
    fritidskort_max_price: int | None = None
    # School name -> channel policy settings; when present, the municipality also gets the
    # default policy.
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The school holidays of the current school year (the municipality's school calendar).
    holidays: tuple[HolidaySpec, ...] = ()


@dataclass(frozen=True)
class AccountSpec:
    """A demo login as its file gives it (the password follows from the role)."""

    email: str
    name: str
    role: str  # municipal_admin, owner, editor, school_admin, school_staff
    target: str  # municipality slug, organisation key or school name
    description: str


def _read(name: str) -> dict[str, Any]:
    path = files(__name__) / f"{name}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(f"{name}.toml: {exc}") from exc


def _frozen(value: Any) -> Any:
    """Lists as tuples, all the way down, so that the specs stay immutable."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


def _make(cls: type, table: dict[str, Any], where: str):
    try:
        return cls(**{key: _frozen(value) for key, value in table.items()})
    except TypeError as exc:  # a missing or unknown key
        raise DemoDataError(f"{where}: {exc}") from exc


def _municipality(slug: str) -> MunicipalitySpec:
    data = _read(slug)
    where = f"{slug}.toml"
    return MunicipalitySpec(
        slug=slug,
        name=data["name"],
        org_number=data["org_number"],
        activities=data["activities"],
        places=tuple(_make(Place, p, where) for p in data.get("places", [])),
        schools=tuple(_make(SchoolSpec, s, where) for s in data.get("school", [])),
        organisations=tuple(_make(OrgSpec, o, where) for o in data.get("organisation", [])),
        venues={key: _make(Venue, v, where) for key, v in data.get("venue", {}).items()},
        notices=tuple(_make(NoticeSpec, n, where) for n in data.get("notice", [])),
        policies=data.get("policy", {}),
        holidays=tuple(_make(HolidaySpec, h, where) for h in data.get("holiday", [])),
        fritidskort_min_sessions=data.get("fritidskort_min_sessions"),
        fritidskort_max_price=data.get("fritidskort_max_price"),
    )


_DEMO = _read("demo")

MUNICIPALITIES: tuple[MunicipalitySpec, ...] = tuple(
    _municipality(slug) for slug in _DEMO["municipalities"]
)
TEMPLATES: dict[str, Template] = {
    key: _make(Template, table, "templates.toml") for key, table in _read("templates").items()
}
VENUES: dict[str, Venue] = {
    key: venue for municipality in MUNICIPALITIES for key, venue in municipality.venues.items()
}
ACCOUNTS: tuple[AccountSpec, ...] = tuple(
    _make(AccountSpec, account, "accounts.toml") for account in _read("accounts")["account"]
)
KIND_PARAGRAPHS: dict[str, str] = _DEMO["kind_paragraphs"]
PRICE_NOTES: tuple[str, ...] = _frozen(_DEMO["price_notes"])
CANCELLATION_NOTES: tuple[str, ...] = _frozen(_DEMO["cancellation_notes"])
REJECTION_REASONS: tuple[str, ...] = _frozen(_DEMO["rejection_reasons"])
# Per channel, the states the requests of one school and week end up in, in this order.
REQUEST_PLAN: dict[str, tuple[str, ...]] = {
    channel: _frozen(states) for channel, states in _DEMO["request_plan"].items()
}
