"""Importing activities from a CSV file: parse, validate every row, then write all or nothing.

The `import-activities` command calls import_activities() and prints its report. Messages are
bokmål templates in `_()`; every row error carries the physical line of the CSV file where the
row starts (the header is line 1). A row's activity values are checked by the organiser's web
form's own fields, and its organisation's name by the organisation form's, so a file cannot hold
what the forms refuse; like the form, a new activity cannot take a hidden category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr
from sqlalchemy import select

from directory.activities.forms import FACEBOOK_HOSTS, ActivityForm
from directory.activities.listings import oslo_today
from directory.activities.models import Activity, Category, Schedule
from directory.activities.schedule import validate_rrule
from directory.audit.operations import record
from directory.csvimport import (
    CsvRow,
    FormRules,
    ImportAborted,
    ParsedFile,
    RowError,
    check_columns,
    check_coordinate_columns,
    coordinate_problems,
    count_plan,
    is_web_url,
    other_refusals,
    parse_bool,
    quoted,
    read_csv,
    row_values,
    valid_rows,
)
from directory.csvimport import ImportReport as BaseImportReport
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.forms import OrganisationForm
from directory.organisations.models import Organisation
from directory.policy.listing_dates import default_confirmed_until
from directory.policy.orgnumber import is_valid_org_number, normalise_org_number
from directory.policy.routing import ORGANISATION_KINDS
from directory.schools.models import Municipality
from directory.text import unique_slug
from directory.timeutil import OSLO, utcnow
from directory.venues.operations import place_activity, placement, venue_for

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
    "latitude",
    "longitude",
    "facebook_post_url",
    "registration_url",
    "fritidskort",
    "trial_session",
    "equipment_provided",
)
# Yes/no columns: ja/nei, true/false, yes/no, 1/0, or empty (no).
FLAG_COLUMNS = ("fritidskort", "trial_session", "equipment_provided")
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

MAX_DURATION = timedelta(days=31)
DEFAULT_DURATION_MINUTES = 60
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# The columns the organiser's activity form also takes, checked by its own fields (same names).
ACTIVITY_RULES = FormRules(
    ActivityForm,
    {
        name: name
        for name in (
            "title", "summary", "description", "age_min", "age_max", "price_nok", "venue",
            "address", "latitude", "longitude", "facebook_post_url", "registration_url",
        )
    },
)  # fmt: skip
ORGANISATION_RULES = FormRules(OrganisationForm, {"organisation_name": "name"})
TEXT_LIMITS = {**ORGANISATION_RULES.max_lengths, **ACTIVITY_RULES.max_lengths}

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
    hidden_category: str = ""  # the category as the file names it, when it is hidden
    # The venue's coordinates (latitude, longitude) when the row gives them: they place a new
    # venue and fill in a known venue's missing ones, never overwrite them.
    point: tuple[Any, Any] | None = None

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
        raise ImportAborted(_("Filen har bare en overskriftsrad og ingen aktiviteter."))
    return parsed


def _check_header(parsed: ParsedFile) -> None:
    columns = parsed.columns
    known = [c for c in columns if c in COLUMNS]
    if not known:
        raise ImportAborted(
            _(
                "Filen ser ikke ut til å være en CSV-fil med aktiviteter: første linje må være en "
                "overskriftsrad med kolonnenavn som %(columns)s.",
                columns=", ".join(REQUIRED_COLUMNS),
            )
        )
    check_columns(parsed, REQUIRED_COLUMNS)
    check_coordinate_columns(parsed)
    for name in columns:
        if name and name not in COLUMNS:
            parsed.warnings.append(
                _("advarsel: ukjent kolonne «%(column)s» blir ignorert", column=name)
            )
        elif not name:
            parsed.warnings.append(_("advarsel: en kolonne uten navn blir ignorert"))


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
        return text, _(
            "rrule «%(value)s» er ikke en RRULE-verdi (f.eks. FREQ=WEEKLY)",
            value=value.strip()[:80],
        )
    parts = [p.split("=", 1) for p in text.split(";")]
    keys = [k for k, _ in parts]
    if len(keys) != len(set(keys)):
        return text, _("rrule har samme del flere ganger")
    values = dict(parts)
    if values.get("FREQ") not in ALLOWED_FREQUENCIES:
        return text, _("rrule må ha FREQ=DAILY, WEEKLY, MONTHLY eller YEARLY")
    if "UNTIL" in values:
        until = values["UNTIL"]
        if re.fullmatch(r"\d{8}", until):
            try:
                day = datetime.strptime(until, "%Y%m%d").date()
            except ValueError:
                return text, _("rrule har en ugyldig UNTIL-dato: %(until)s", until=until)
            end_of_day = datetime.combine(day, time(23, 59, 59), tzinfo=OSLO).astimezone(UTC)
            values["UNTIL"] = end_of_day.strftime("%Y%m%dT%H%M%SZ")
        elif not re.fullmatch(r"\d{8}T\d{6}Z", until):
            return text, _(
                "UNTIL i rrule må være i UTC (slutte på Z, f.eks. 20261218T225959Z) "
                "eller være en dato (f.eks. 20261218)"
            )
        text = ";".join(f"{k}={values[k]}" for k in keys)
    problem = validate_rrule(text)
    if problem:
        return text, _("ugyldig rrule (%(problem)s)", problem=problem)
    try:
        first = rrulestr(text, dtstart=dtstart.replace(tzinfo=OSLO))[0]
    except IndexError:
        first = None
    except ValueError as exc:
        return text, _("ugyldig rrule (%(problem)s)", problem=str(exc))
    if first is None:
        return text, _("rrule gir ingen datoer fra og med starts_at (er UNTIL eller COUNT feil?)")
    return text, None


@dataclass
class _Lookups:
    """What rows are checked against: the categories by slug and by bokmål name, and the slugs of
    those offered for new activities (the hidden ones are not)."""

    categories: dict[str, Category]
    offered: list[str]


def _load_lookups() -> _Lookups:
    categories: dict[str, Category] = {}
    offered = []
    for category in db.session.scalars(select(Category).order_by(Category.name_nb)):
        categories[category.slug.casefold()] = category
        categories[category.name_nb.strip().casefold()] = category
        if not category.hidden:
            offered.append(category.slug)
    return _Lookups(categories, offered)


def _form_problems(v: dict[str, str], refused: dict[str, list[str]]) -> list[str]:
    """The import's words for the values the web forms refuse."""
    errors = []
    for name in ("age_min", "age_max"):
        if name in refused:
            low, high = ACTIVITY_RULES.ranges[name]
            errors.append(
                _(
                    "%(column)s %(value)s må være et heltall fra %(low)s til %(high)s",
                    column=name,
                    value=quoted(v[name]),
                    low=low,
                    high=high,
                )
            )
    if "price_nok" in refused:
        low, high = ACTIVITY_RULES.ranges["price_nok"]
        errors.append(
            _(
                "price_nok %(value)s må være et helt antall kroner fra %(low)s til %(high)s "
                "(0 er gratis)",
                value=quoted(v["price_nok"]),
                low=low,
                high=high,
            )
        )
    for name in ("facebook_post_url", "registration_url"):
        if not v[name] or len(v[name]) > TEXT_LIMITS[name]:
            continue  # empty, or already too long
        if name in refused or not is_web_url(v[name]):
            if name == "facebook_post_url":
                message = _(
                    "%(column)s %(value)s må være en adresse som begynner med http:// eller "
                    "https://, til et innlegg på Facebook (%(hosts)s)",
                    column=name,
                    value=quoted(v[name]),
                    hosts=", ".join(FACEBOOK_HOSTS),
                )
            else:
                message = _(
                    "%(column)s %(value)s må være en adresse som begynner med http:// eller "
                    "https://",
                    column=name,
                    value=quoted(v[name]),
                )
            errors.append(message)
    errors += coordinate_problems(v, refused, ACTIVITY_RULES.ranges)
    worded = {"age_min", "age_max", "price_nok", "facebook_post_url", "registration_url",
              "latitude", "longitude"}  # fmt: skip
    errors += other_refusals(refused, v, worded=worded, limits=TEXT_LIMITS)
    return errors


def _parse_time(v: dict[str, str], name: str, example: str, errors: list[str]) -> datetime | None:
    """The column's time as naive Oslo wall time, or None (with the problem added to errors)."""
    if not v[name]:
        return None
    value = parse_local_datetime(v[name])
    if value is None:
        errors.append(
            _(
                "%(column)s %(value)s er ikke en gyldig tid i ISO 8601 (f.eks. %(example)s)",
                column=name,
                value=quoted(v[name]),
                example=example,
            )
        )
    elif not 2000 <= value.year <= 2100:
        errors.append(
            _("%(column)s %(value)s har et urimelig årstall", column=name, value=quoted(v[name]))
        )
        return None
    elif not exists_in_oslo(value):
        errors.append(
            _(
                "%(column)s %(value)s finnes ikke i norsk tid (sommertid)",
                column=name,
                value=quoted(v[name]),
            )
        )
        return None
    return value


def validate_row(
    row: CsvRow, columns: set[str], lookups: _Lookups
) -> tuple[ActivityRow | None, list[RowError]]:
    """Check one row; the validated values, or None and every problem found."""
    v, errors = row_values(row, COLUMNS, REQUIRED_COLUMNS, TEXT_LIMITS)
    activity = ACTIVITY_RULES.check(v)
    organisation = ORGANISATION_RULES.check(v)

    org_number = normalise_org_number(v["organisation_number"])
    if v["organisation_number"] and not is_valid_org_number(org_number):
        errors.append(
            _(
                "organisation_number %(value)s er ikke et gyldig organisasjonsnummer (ni sifre "
                "med riktig kontrollsiffer)",
                value=quoted(v["organisation_number"]),
            )
        )
    kind = v["organisation_kind"].lower()
    if kind and kind not in ORGANISATION_KINDS:
        errors.append(
            _(
                "organisation_kind %(value)s må være en av %(kinds)s",
                value=quoted(v["organisation_kind"]),
                kinds=", ".join(ORGANISATION_KINDS),
            )
        )
    verified = parse_bool(v["organisation_verified"])
    if verified is None:
        errors.append(
            _(
                "organisation_verified %(value)s må være ja/nei, true/false, yes/no, 1/0 eller tom",
                value=quoted(v["organisation_verified"]),
            )
        )

    flags: dict[str, bool] = {}
    for name in FLAG_COLUMNS:
        flag = parse_bool(v[name])
        if flag is None:
            errors.append(
                _(
                    "%(column)s %(value)s må være ja/nei, true/false, yes/no, 1/0 eller tom",
                    column=name,
                    value=quoted(v[name]),
                )
            )
        else:
            flags[name] = flag

    errors.extend(_form_problems(v, {**organisation.refused, **activity.refused}))
    age_min, age_max = activity.data.get("age_min"), activity.data.get("age_max")
    if age_min is not None and age_max is not None and age_min > age_max:
        errors.append(
            _(
                "age_min (%(age_min)s) kan ikke være større enn age_max (%(age_max)s)",
                age_min=age_min,
                age_max=age_max,
            )
        )
    price = activity.data.get("price_nok") or 0

    category = None
    if v["category"]:
        category = lookups.categories.get(v["category"].casefold())
        if category is None:
            errors.append(
                _(
                    "ukjent kategori %(value)s; kjente kategorier: %(known)s",
                    value=quoted(v["category"]),
                    known=", ".join(lookups.offered) or _("ingen kategorier finnes ennå"),
                )
            )

    starts_at = _parse_time(v, "starts_at", "2026-09-01T17:00", errors)
    ends_at = _parse_time(v, "ends_at", "2026-09-01T18:30", errors)
    duration = None
    if "ends_at" in columns:
        duration = DEFAULT_DURATION_MINUTES
    if starts_at and ends_at:
        elapsed = ends_at.replace(tzinfo=OSLO).astimezone(UTC) - starts_at.replace(
            tzinfo=OSLO
        ).astimezone(UTC)
        if elapsed < timedelta(minutes=1):
            errors.append(_("ends_at må være etter starts_at"))
        elif elapsed > MAX_DURATION:
            errors.append(
                _("ends_at er mer enn %(days)s dager etter starts_at", days=MAX_DURATION.days)
            )
        else:
            duration = int(elapsed.total_seconds() // 60)

    rrule = None
    if "rrule" in columns:
        rrule = ""
        if v["rrule"] and starts_at:
            rrule, problem = normalise_rrule(v["rrule"], starts_at)
            if problem:
                errors.append(problem)

    if errors:
        return None, [RowError(row.line, message) for message in errors]

    fields: dict[str, Any] = {"title": v["title"], "age_min": age_min, "age_max": age_max}
    for name in ("summary", "description", "venue", "address"):
        if name in columns:
            fields[name] = v[name]
    for name in ("facebook_post_url", "registration_url"):
        if name in columns:
            fields[name] = v[name] or None
    if "price_nok" in columns:
        fields["price_nok"] = price
    for name in FLAG_COLUMNS:
        if name in columns:
            fields[name] = flags[name]
    if "category" in columns:
        fields["category_id"] = category.id if category else None
    lat, lon = activity.data.get("latitude"), activity.data.get("longitude")
    point = (lat, lon) if lat is not None and lon is not None else None
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
            hidden_category=v["category"] if category is not None and category.hidden else "",
            point=point,
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
                    _(
                        "samme aktivitet (organisasjon, tittel og første start) som på linje "
                        "%(line)s",
                        line=seen[row.key],
                    ),
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
                        _(
                            "organisation_kind «%(kind)s» er ikke den samme som for "
                            "organisasjonsnummeret på linje %(line)s («%(first_kind)s»)",
                            kind=row.org_kind,
                            line=first.line,
                            first_kind=first.org_kind,
                        ),
                    )
                )
            _create(plan, row, errors)
            continue
        if org.rejected:
            warnings.append(
                _(
                    "advarsel: linje %(line)s: organisasjonen %(name)s er avvist av kommunen; "
                    "aktiviteten vises ikke offentlig",
                    line=row.line,
                    name=org.name,
                )
            )
        activity = existing.get(row.key)
        if activity is None:
            _create(plan, row, errors)
            continue
        if row.hidden_category and activity.category_id != row.fields["category_id"]:
            # Like the form: an activity keeps a category that was hidden since, but cannot
            # move to one.
            errors.append(_hidden_category_error(row))
            continue
        schedule = next(s for s in activity.schedules if s.dtstart == row.dtstart)
        changes = {
            name: value for name, value in row.fields.items() if getattr(activity, name) != value
        }
        if row.point is not None and activity.venue_id is not None and activity.latitude is None:
            # Coordinates for a venue that has none: the venue and its activities get them.
            changes[POINT] = row.point
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


def _create(plan: _Plan, row: ActivityRow, errors: list[RowError]) -> None:
    """Plan a new activity, unless its category is hidden (the form offers no hidden one)."""
    if row.hidden_category:
        errors.append(_hidden_category_error(row))
    else:
        plan.creates.append(row)


def _hidden_category_error(row: ActivityRow) -> RowError:
    return RowError(
        row.line,
        _(
            "kategorien %(value)s er skjult og tilbys ikke lenger; velg en annen kategori",
            value=quoted(row.hidden_category),
        ),
    )


# A planned change that is no column: coordinates for the activity's venue (see _plan).
POINT = "venue.point"


def _place(name: str, address: str, point: tuple[Any, Any] | None) -> dict[str, Any]:
    latitude, longitude = point or (None, None)
    return {"name": name, "address": address, "latitude": latitude, "longitude": longitude}


def _placed_fields(org: Organisation, row: ActivityRow, actor: Any | None) -> dict[str, Any]:
    """The row's activity columns with its venue and address turned into the venue of that
    name and address in the municipality (found, or added for the organisation)."""
    fields = dict(row.fields)
    if "venue" not in fields and "address" not in fields:
        return fields
    place = _place(fields.pop("venue", ""), fields.pop("address", ""), row.point)
    return {**fields, **placement(venue_for(org, place, actor=actor))}


def _apply(
    plan: _Plan, municipality: Municipality, actor: Any | None = None
) -> dict[str, Organisation]:
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
        org = orgs[row.org_number]
        if org.id is None:
            db.session.flush()  # the new organisation's venues need its id
        activity = Activity(
            organisation=org,
            status="published",
            published_at=now,
            confirmed_until=default_confirmed_until(oslo_today(now)),
            **_placed_fields(org, row, actor),
        )
        activity.schedules.append(
            Schedule(
                dtstart=row.dtstart,
                duration_minutes=row.duration_minutes or DEFAULT_DURATION_MINUTES,
                rrule=row.rrule or "",
            )
        )
        db.session.add(activity)
    for activity, schedule, row, changes in plan.updates:
        for name, value in changes.items():
            if name.startswith("schedule."):
                setattr(schedule, name.removeprefix("schedule."), value)
            elif name != POINT:
                setattr(activity, name, value)
        if {"venue", "address", POINT} & changes.keys():
            place = _place(activity.venue, activity.address, row.point)
            place_activity(activity, venue_for(activity.organisation, place, actor=actor))
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

    _apply(plan, municipality, actor)
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
