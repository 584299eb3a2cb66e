"""Importing activities from a CSV file: parse, validate every row, then write all or nothing.

The `import-activities` command calls import_activities() and prints its report. Messages are in
bokmål because the person running the import reads them; every row error carries the physical
line of the CSV file where the row starts (the header is line 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr
from sqlalchemy import select

from directory.activities.models import Activity, Category, Schedule
from directory.activities.schedule import validate_rrule
from directory.audit.operations import record
from directory.csvimport import (
    CsvRow,
    ImportAborted,
    ParsedFile,
    RowError,
    check_columns,
    count_plan,
    int_in_range,
    is_web_url,
    parse_bool,
    quoted,
    read_csv,
    row_values,
    valid_rows,
)
from directory.csvimport import ImportReport as BaseImportReport
from directory.extensions import db
from directory.organisations.models import ORGANISATION_KINDS, Organisation
from directory.policy.orgnumber import is_valid_org_number, normalise_org_number
from directory.schools.models import Municipality
from directory.text import unique_slug
from directory.timeutil import OSLO, utcnow

COLUMNS = (
    "organisation_name",
    "organisation_number",
    "organisation_kind",
    "organisation_verified",
    "title",
    "summary",
    "description",
    "category",
    "age_min",
    "age_max",
    "price_nok",
    "starts_at",
    "ends_at",
    "rrule",
    "venue",
    "address",
    "facebook_post_url",
    "registration_url",
)
# Without these a row cannot become an activity; the other columns may be left out of the file.
REQUIRED_COLUMNS = (
    "organisation_name",
    "organisation_number",
    "organisation_kind",
    "title",
    "age_min",
    "age_max",
    "starts_at",
)

AGE_LIMITS = (0, 25)
MAX_PRICE_NOK = 100_000
MAX_DURATION = timedelta(days=31)
DEFAULT_DURATION_MINUTES = 60
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
TEXT_LIMITS = {
    "organisation_name": 150,
    "title": 150,
    "summary": 300,
    "description": 20_000,
    "venue": 150,
    "address": 200,
    "facebook_post_url": 500,
    "registration_url": 500,
}

# The activity fields a row sets, each from the column of the same name (category apart).
ACTIVITY_FIELDS = (
    "title",
    "summary",
    "description",
    "category_id",
    "age_min",
    "age_max",
    "price_nok",
    "venue",
    "address",
    "facebook_post_url",
    "registration_url",
)
_RULE_SHAPE = re.compile(r"^[A-Z]+=[^;=\s]+(?:;[A-Z]+=[^;=\s]+)*$")


@dataclass
class ActivityRow:
    """A validated row: the organisation it belongs to and the activity's values."""

    line: int
    org_number: str
    org_name: str
    org_kind: str
    org_verified: bool
    fields: dict[str, Any]  # activity columns present in the file, by attribute name
    dtstart: datetime  # naive Europe/Oslo wall time
    duration_minutes: int | None  # None when the file has no ends_at column
    rrule: str | None  # None when the file has no rrule column

    @property
    def key(self) -> tuple[str, str, datetime]:
        """What identifies the activity between imports: organisation, title, first start."""
        return (self.org_number, self.fields["title"].casefold(), self.dtstart)


@dataclass
class ImportReport(BaseImportReport):
    """What an activity import did, with the organisations it created on the way."""

    organisations_created: int = 0


# --- reading the file -----------------------------------------------------------------------


def parse_csv(data: bytes) -> ParsedFile:
    """Read the header and the non-empty rows of a CSV file of activities, or ImportAborted."""
    parsed = read_csv(data, example_column="rrule")
    _check_header(parsed)
    if not parsed.rows and not parsed.errors:
        raise ImportAborted("Filen har bare en overskriftsrad og ingen aktiviteter.")
    return parsed


def _check_header(parsed: ParsedFile) -> None:
    columns = parsed.columns
    known = [c for c in columns if c in COLUMNS]
    if not known:
        raise ImportAborted(
            "Filen ser ikke ut til å være en CSV-fil med aktiviteter: første linje må være en "
            "overskriftsrad med kolonnenavn som " + ", ".join(REQUIRED_COLUMNS) + "."
        )
    check_columns(parsed, REQUIRED_COLUMNS)
    for name in columns:
        if name and name not in COLUMNS:
            parsed.warnings.append(f"advarsel: ukjent kolonne «{name}» blir ignorert")
        elif not name:
            parsed.warnings.append("advarsel: en kolonne uten navn blir ignorert")


# --- checking values ------------------------------------------------------------------------


def parse_local_datetime(value: str) -> datetime | None:
    """ISO 8601 as naive Europe/Oslo wall time; an offset is converted. None if unreadable.

    A time of day is required: a bare date does not say when the activity starts.
    """
    text = value.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(OSLO).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def exists_in_oslo(local: datetime) -> bool:
    """False for a wall time skipped when the clocks go forward (e.g. 02:30 on that night)."""
    there_and_back = local.replace(tzinfo=OSLO).astimezone(UTC).astimezone(OSLO)
    return there_and_back.replace(tzinfo=None) == local


def normalise_rrule(value: str, dtstart: datetime) -> tuple[str, str | None]:
    """The RRULE value as stored, and an error in bokmål or None.

    An UNTIL must be in UTC (ending in Z) or a date; a date becomes the end of that Oslo day in
    UTC, since a time-zone-bound DTSTART needs a UTC UNTIL (RFC 5545).
    """
    text = value.strip().upper()
    text = text.removeprefix("RRULE:")
    if not text:
        return "", None
    if len(text) > 300 or not _RULE_SHAPE.match(text):
        return text, f"rrule «{value.strip()[:80]}» er ikke en RRULE-verdi (f.eks. FREQ=WEEKLY)"
    parts = [p.split("=", 1) for p in text.split(";")]
    keys = [k for k, _ in parts]
    if len(keys) != len(set(keys)):
        return text, "rrule har samme del flere ganger"
    values = dict(parts)
    if values.get("FREQ") not in ALLOWED_FREQUENCIES:
        return text, "rrule må ha FREQ=DAILY, WEEKLY, MONTHLY eller YEARLY"
    if "UNTIL" in values:
        until = values["UNTIL"]
        if re.fullmatch(r"\d{8}", until):
            try:
                day = datetime.strptime(until, "%Y%m%d").date()
            except ValueError:
                return text, f"rrule har en ugyldig UNTIL-dato: {until}"
            end_of_day = datetime.combine(day, time(23, 59, 59), tzinfo=OSLO).astimezone(UTC)
            values["UNTIL"] = end_of_day.strftime("%Y%m%dT%H%M%SZ")
        elif not re.fullmatch(r"\d{8}T\d{6}Z", until):
            return text, (
                "UNTIL i rrule må være i UTC (slutte på Z, f.eks. 20261218T225959Z) "
                "eller være en dato (f.eks. 20261218)"
            )
        text = ";".join(f"{k}={values[k]}" for k in keys)
    problem = validate_rrule(text)
    if problem:
        return text, f"ugyldig rrule ({problem})"
    try:
        first = rrulestr(text, dtstart=dtstart.replace(tzinfo=OSLO))[0]
    except IndexError:
        first = None
    except ValueError as exc:
        return text, f"ugyldig rrule ({exc})"
    if first is None:
        return text, "rrule gir ingen datoer fra og med starts_at (er UNTIL eller COUNT feil?)"
    return text, None


@dataclass
class _Lookups:
    """What rows are checked against: the categories by slug and by bokmål name."""

    categories: dict[str, Category]
    category_names: list[str]


def _load_lookups() -> _Lookups:
    categories: dict[str, Category] = {}
    names = []
    for category in db.session.scalars(select(Category).order_by(Category.name_nb)):
        categories[category.slug.casefold()] = category
        categories[category.name_nb.strip().casefold()] = category
        names.append(category.slug)
    return _Lookups(categories, names)


def validate_row(
    row: CsvRow, columns: set[str], lookups: _Lookups
) -> tuple[ActivityRow | None, list[RowError]]:
    """Check one row; the validated values, or None and every problem found."""
    v, errors = row_values(row, COLUMNS, REQUIRED_COLUMNS, TEXT_LIMITS)

    org_number = normalise_org_number(v["organisation_number"])
    if v["organisation_number"] and not is_valid_org_number(org_number):
        errors.append(
            f"organisation_number {quoted(v['organisation_number'])} er ikke et gyldig "
            "organisasjonsnummer (ni sifre med riktig kontrollsiffer)"
        )
    kind = v["organisation_kind"].lower()
    if kind and kind not in ORGANISATION_KINDS:
        errors.append(
            f"organisation_kind {quoted(v['organisation_kind'])} må være en av "
            + ", ".join(ORGANISATION_KINDS)
        )
    verified = parse_bool(v["organisation_verified"])
    if verified is None:
        errors.append(
            f"organisation_verified {quoted(v['organisation_verified'])} må være ja/nei, "
            "true/false, yes/no, 1/0 eller tom"
        )

    ages = {}
    for name in ("age_min", "age_max"):
        if v[name]:
            ages[name] = int_in_range(v[name], *AGE_LIMITS)
            if ages[name] is None:
                errors.append(f"{name} {quoted(v[name])} må være et heltall fra 0 til 25")
    if ages.get("age_min") is not None and ages.get("age_max") is not None:
        if ages["age_min"] > ages["age_max"]:
            errors.append(
                f"age_min ({ages['age_min']}) kan ikke være større enn age_max ({ages['age_max']})"
            )

    price = 0
    if v["price_nok"]:
        price = int_in_range(v["price_nok"], 0, MAX_PRICE_NOK)
        if price is None:
            errors.append(
                f"price_nok {quoted(v['price_nok'])} må være et helt antall kroner fra 0 "
                f"til {MAX_PRICE_NOK} (0 er gratis)"
            )

    category = None
    if v["category"]:
        category = lookups.categories.get(v["category"].casefold())
        if category is None:
            known = ", ".join(lookups.category_names) or "ingen kategorier finnes ennå"
            errors.append(f"ukjent kategori {quoted(v['category'])}; kjente kategorier: {known}")

    starts_at = ends_at = None
    if v["starts_at"]:
        starts_at = parse_local_datetime(v["starts_at"])
        if starts_at is None:
            errors.append(
                f"starts_at {quoted(v['starts_at'])} er ikke en gyldig tid i ISO 8601 "
                "(f.eks. 2026-09-01T17:00)"
            )
        elif not 2000 <= starts_at.year <= 2100:
            errors.append(f"starts_at {quoted(v['starts_at'])} har et urimelig årstall")
            starts_at = None
        elif not exists_in_oslo(starts_at):
            errors.append(f"starts_at {quoted(v['starts_at'])} finnes ikke i norsk tid (sommertid)")
            starts_at = None
    if v["ends_at"]:
        ends_at = parse_local_datetime(v["ends_at"])
        if ends_at is None:
            errors.append(
                f"ends_at {quoted(v['ends_at'])} er ikke en gyldig tid i ISO 8601 "
                "(f.eks. 2026-09-01T18:30)"
            )
        elif not exists_in_oslo(ends_at):
            errors.append(f"ends_at {quoted(v['ends_at'])} finnes ikke i norsk tid (sommertid)")
            ends_at = None
    duration = None
    if "ends_at" in columns:
        duration = DEFAULT_DURATION_MINUTES
    if starts_at and ends_at:
        elapsed = ends_at.replace(tzinfo=OSLO).astimezone(UTC) - starts_at.replace(
            tzinfo=OSLO
        ).astimezone(UTC)
        if elapsed < timedelta(minutes=1):
            errors.append("ends_at må være etter starts_at")
        elif elapsed > MAX_DURATION:
            errors.append("ends_at er mer enn 31 dager etter starts_at")
        else:
            duration = int(elapsed.total_seconds() // 60)

    rrule = None
    if "rrule" in columns:
        rrule = ""
        if v["rrule"] and starts_at:
            rrule, problem = normalise_rrule(v["rrule"], starts_at)
            if problem:
                errors.append(problem)

    for name in ("facebook_post_url", "registration_url"):
        if v[name] and not is_web_url(v[name]):
            errors.append(
                f"{name} {quoted(v[name])} må være en adresse som begynner med http:// eller https://"
            )

    if errors:
        return None, [RowError(row.line, message) for message in errors]

    fields: dict[str, Any] = {
        "title": v["title"],
        "age_min": ages["age_min"],
        "age_max": ages["age_max"],
    }
    for name in ("summary", "description", "venue", "address"):
        if name in columns:
            fields[name] = v[name]
    for name in ("facebook_post_url", "registration_url"):
        if name in columns:
            fields[name] = v[name] or None
    if "price_nok" in columns:
        fields["price_nok"] = price
    if "category" in columns:
        fields["category_id"] = category.id if category else None
    assert starts_at is not None
    return (
        ActivityRow(
            line=row.line,
            org_number=org_number,
            org_name=v["organisation_name"],
            org_kind=kind,
            org_verified=bool(verified),
            fields=fields,
            dtstart=starts_at,
            duration_minutes=duration,
            rrule=rrule,
        ),
        [],
    )


# --- the import -----------------------------------------------------------------------------


def _activity_key(activity: Activity, org_number: str) -> tuple[str, str, datetime] | None:
    if not activity.schedules:
        return None
    first = min(s.dtstart for s in activity.schedules)
    return (org_number, activity.title.casefold(), first)


@dataclass
class _Plan:
    """What a valid file leads to: the rows to create and the changes to existing activities."""

    new_orgs: dict[str, ActivityRow] = field(default_factory=dict)  # number -> first row
    creates: list[ActivityRow] = field(default_factory=list)
    updates: list[tuple[Activity, Schedule, ActivityRow, dict[str, Any]]] = field(
        default_factory=list
    )
    unchanged: int = 0


def _plan(
    rows: list[ActivityRow], municipality: Municipality, warnings: list[str]
) -> tuple[_Plan, list[RowError]]:
    """Match rows to organisations and activities, finding what would change."""
    numbers = {row.org_number for row in rows}
    orgs = {
        org.org_number: org
        for org in db.session.scalars(
            select(Organisation).where(
                Organisation.municipality_id == municipality.id,
                Organisation.org_number.in_(numbers),
            )
        )
    }
    existing: dict[tuple[str, str, datetime], Activity] = {}
    for number, org in orgs.items():
        for activity in sorted(org.activities, key=lambda a: a.id, reverse=True):
            key = _activity_key(activity, number)
            if key is not None:
                existing[key] = activity  # the lowest id wins when keys repeat

    plan = _Plan()
    errors: list[RowError] = []
    seen: dict[tuple[str, str, datetime], int] = {}
    for row in rows:
        if row.key in seen:
            errors.append(
                RowError(
                    row.line,
                    f"samme aktivitet (organisasjon, tittel og første start) som på linje "
                    f"{seen[row.key]}",
                )
            )
            continue
        seen[row.key] = row.line
        org = orgs.get(row.org_number)
        if org is None:
            first = plan.new_orgs.setdefault(row.org_number, row)
            if first is not row and first.org_kind != row.org_kind:
                errors.append(
                    RowError(
                        row.line,
                        f"organisation_kind «{row.org_kind}» er ikke den samme som for "
                        f"organisasjonsnummeret på linje {first.line} («{first.org_kind}»)",
                    )
                )
            plan.creates.append(row)
            continue
        if org.rejected:
            warnings.append(
                f"advarsel: linje {row.line}: organisasjonen {org.name} er avvist av kommunen; "
                "aktiviteten vises ikke offentlig"
            )
        activity = existing.get(row.key)
        if activity is None:
            plan.creates.append(row)
            continue
        schedule = next(s for s in activity.schedules if s.dtstart == row.dtstart)
        changes = {
            name: value for name, value in row.fields.items() if getattr(activity, name) != value
        }
        schedule_changes = {}
        if row.duration_minutes is not None and schedule.duration_minutes != row.duration_minutes:
            schedule_changes["duration_minutes"] = row.duration_minutes
        if row.rrule is not None and schedule.rrule != row.rrule:
            schedule_changes["rrule"] = row.rrule
        if changes or schedule_changes:
            changes.update({f"schedule.{k}": v for k, v in schedule_changes.items()})
            plan.updates.append((activity, schedule, row, changes))
        else:
            plan.unchanged += 1
    return plan, errors


def _apply(plan: _Plan, municipality: Municipality) -> dict[str, Organisation]:
    """Write the plan to the session (flushed, not committed)."""
    orgs = {
        org.org_number: org
        for org in db.session.scalars(
            select(Organisation).where(Organisation.municipality_id == municipality.id)
        )
    }
    taken = set(db.session.scalars(select(Organisation.slug)))
    now = utcnow()
    for number, row in plan.new_orgs.items():
        slug = unique_slug(row.org_name, lambda s: s in taken)
        taken.add(slug)
        org = Organisation(
            municipality=municipality,
            slug=slug,
            name=row.org_name,
            kind=row.org_kind,
            org_number=number,
            verification="verified" if row.org_verified else "pending",
            verified_at=now if row.org_verified else None,
        )
        db.session.add(org)
        orgs[number] = org
    for row in plan.creates:
        activity = Activity(
            organisation=orgs[row.org_number], status="published", published_at=now, **row.fields
        )
        activity.schedules.append(
            Schedule(
                dtstart=row.dtstart,
                duration_minutes=row.duration_minutes or DEFAULT_DURATION_MINUTES,
                rrule=row.rrule or "",
            )
        )
        db.session.add(activity)
    for activity, schedule, _row, changes in plan.updates:
        for name, value in changes.items():
            if name.startswith("schedule."):
                setattr(schedule, name.removeprefix("schedule."), value)
            else:
                setattr(activity, name, value)
        # A schedule-only change still makes the activity newer, for feeds and caches.
        activity.updated_at = now
    db.session.flush()
    return orgs


def import_activities(
    data: bytes,
    municipality: Municipality,
    *,
    actor: Any | None = None,
    dry_run: bool = False,
    source_name: str = "",
) -> ImportReport:
    """Validate a CSV file and, when every row is valid and this is no dry run, write it all.

    Flushes but never commits: the caller commits once, or rolls back. Raises ImportAborted when
    the file cannot be read at all; row problems come back in the report's errors.
    """
    report = ImportReport(dry_run=dry_run)
    parsed = parse_csv(data)
    report.warnings.extend(parsed.warnings)
    report.errors.extend(parsed.errors)

    lookups = _load_lookups()
    columns = set(parsed.columns)
    valid: list[ActivityRow] = valid_rows(
        parsed.rows, lambda row: validate_row(row, columns, lookups), report
    )

    plan, errors = _plan(valid, municipality, report.warnings)
    if not count_plan(report, plan, errors):
        return report
    report.organisations_created = len(plan.new_orgs)
    if dry_run or not (plan.creates or plan.updates):
        return report

    _apply(plan, municipality)
    record(
        "import.activities",
        municipality,
        actor=actor,
        municipality_id=municipality.id,
        data={
            "file": source_name,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "organisations_created": report.organisations_created,
        },
    )
    db.session.flush()
    return report
