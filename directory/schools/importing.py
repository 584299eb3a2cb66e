"""Importing a municipality's schools from a CSV file: every row checked, then all or nothing.

The rules are the activity import's (directory.csvimport): UTF-8 with or without a byte-order
mark, comma or semicolon, `linje N: …` errors, nothing written unless every row is valid. A row
updates the municipality's school with the same organisation number, else the one with the same
slug (given, or made from the name), else creates a school: importing a file twice changes
nothing the second time. Columns left out of the file leave those values as they are.

Only aggregate numbers are stored (classes and pupils per grade): a column that looks like it
holds people (names, birth dates, national identity numbers) refuses the whole file.

A row's values are checked by the municipal admin's school form's own fields (directory.csvimport
.FormRules); the import is stricter only where a file needs it (a Facebook page must be written
with https://, a coordinate as a plain decimal number). Messages are bokmål templates in `_()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from directory.audit.operations import record
from directory.csvimport import (
    CsvRow,
    FormRules,
    ImportAborted,
    ImportReport,
    ParsedFile,
    RowError,
    check_columns,
    check_coordinate_columns,
    coordinate_problems,
    count_plan,
    int_in_range,
    is_web_url,
    other_refusals,
    parse_bool,
    quoted,
    read_csv,
    row_values,
    valid_rows,
)
from directory.extensions import db
from directory.i18n import gettext as _
from directory.policy.orgnumber import is_valid_org_number, normalise_org_number
from directory.schools.forms import MAX_CLASSES, MAX_PUPILS, SLUG_PATTERN, SchoolForm
from directory.schools.models import Municipality, School
from directory.schools.operations import RESERVED_SCHOOL_SLUGS, create_school, update_school
from directory.text import slugify

COLUMNS = (
    "name",
    "slug",
    "org_number",
    "grade_min",
    "grade_max",
    "area",
    "address",
    "latitude",
    "longitude",
    "facebook_page_url",
    "accepts_backpack_post",
    "grade_counts",
)
REQUIRED_COLUMNS = ("name", "grade_min", "grade_max")
# The columns the school form also takes, checked by its own fields (same names).
SCHOOL_RULES = FormRules(
    SchoolForm,
    {
        name: name
        for name in (
            "name", "slug", "org_number", "grade_min", "grade_max", "area", "address",
            "latitude", "longitude", "facebook_page_url",
        )
    },
)  # fmt: skip
# An organisation number has its own message, whatever its length.
TEXT_LIMITS = {k: n for k, n in SCHOOL_RULES.max_lengths.items() if k != "org_number"}

# Parts of a column name that point at a person rather than a school. Long words match inside
# a name (elevnavn, foresatt_epost); short ones only as a whole word (ssn, not "business").
PERSON_WORDS = (
    "fornavn", "etternavn", "mellomnavn", "firstname", "lastname", "surname", "givenname",
    "fullname", "elev", "pupil", "student", "foresatt", "guardian", "forelder", "foreldre",
    "parent", "fodsel", "birth", "personnummer", "personnr", "nationalid", "national-id",
    "identitetsnummer", "socialsecurity",
)  # fmt: skip
PERSON_WORDS_WHOLE = ("ssn", "fnr", "pnr", "dnr", "dob", "nin")
# What a new school gets for the columns a file leaves out.
NEW_SCHOOL_DEFAULTS: dict[str, Any] = {
    "org_number": None,
    "area": "",
    "address": "",
    "latitude": None,
    "longitude": None,
    "facebook_page_url": None,
    "accepts_backpack_post": True,
}


@dataclass
class SchoolRow:
    """A validated row: what identifies the school and the values the file sets."""

    line: int
    slug: str  # given in the file, or made from the name
    slug_given: bool
    org_number: str | None  # None when the file has no org_number value
    fields: dict[str, Any]  # school attributes present in the file
    grade_counts: dict[int, tuple[int, int]] | None  # None when the file has no such column


@dataclass
class _Plan:
    creates: list[SchoolRow] = field(default_factory=list)
    updates: list[tuple[School, SchoolRow, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0


# --- the header ---------------------------------------------------------------------------


def person_column(name: str) -> bool:
    """Whether a column name looks like data about a person (pupil, guardian, ...)."""
    slug = slugify(name)
    joined = slug.replace("-", "")
    if any(word.replace("-", "") in joined for word in PERSON_WORDS):
        return True
    return any(part in PERSON_WORDS_WHOLE for part in slug.split("-"))


def _check_header(parsed: ParsedFile) -> None:
    people = [c for c in parsed.columns if c and c not in COLUMNS and person_column(c)]
    if people:
        names = ", ".join(f"«{c}»" for c in people)
        raise ImportAborted(
            _(
                "Kolonnen(e) %(names)s ser ut til å handle om personer. Katalogen lagrer ingen "
                "opplysninger om elever eller foresatte, bare antall klasser og elever per trinn "
                "(kolonnen grade_counts). Fjern kolonnen(e) og prøv igjen.",
                names=names,
            )
        )
    unknown = [c for c in parsed.columns if c not in COLUMNS]
    if unknown:
        names = ", ".join(f"«{c}»" if c else _("(uten navn)") for c in unknown)
        raise ImportAborted(
            _(
                "Ukjent kolonne: %(names)s. Kjente kolonner: %(known)s.",
                names=names,
                known=", ".join(COLUMNS),
            )
        )
    check_columns(parsed, REQUIRED_COLUMNS)
    check_coordinate_columns(parsed)


def parse_school_csv(data: bytes) -> ParsedFile:
    """The header and rows of a CSV file of schools, or ImportAborted."""
    parsed = read_csv(data, example_column="grade_counts")
    _check_header(parsed)
    if not parsed.rows and not parsed.errors:
        raise ImportAborted(_("Filen har bare en overskriftsrad og ingen skoler."))
    return parsed


# --- one row ------------------------------------------------------------------------------


def _https_address(value: str) -> bool:
    """Whether the value is written out as an https:// address (the form's host rule apart)."""
    return is_web_url(value) and urlsplit(value).scheme == "https"


def parse_grade_counts(
    text: str, grade_min: int | None, grade_max: int | None
) -> tuple[dict[int, tuple[int, int]], list[str]]:
    """`1:2:48;2:2:45` as {grade: (classes, pupils)}, and the problems found."""
    counts: dict[int, tuple[int, int]] = {}
    problems: list[str] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        pieces = [p.strip() for p in part.split(":")]
        numbers = [int_in_range(p, 0, 100_000) for p in pieces] if len(pieces) == 3 else []
        if len(numbers) != 3 or None in numbers:
            problems.append(
                _(
                    "grade_counts %(value)s må være trinn:klasser:elever, f.eks. 1:2:48",
                    value=quoted(part),
                )
            )
            continue
        grade, classes, pupils = numbers
        if grade in counts:
            problems.append(_("grade_counts har %(grade)s. trinn flere ganger", grade=grade))
        elif (
            grade_min is not None and grade_max is not None and not grade_min <= grade <= grade_max
        ):
            problems.append(
                _(
                    "grade_counts har %(grade)s. trinn, men skolen har %(low)s.–%(high)s. trinn",
                    grade=grade,
                    low=grade_min,
                    high=grade_max,
                )
            )
        elif not 1 <= classes <= MAX_CLASSES:
            problems.append(
                _(
                    "grade_counts: %(grade)s. trinn må ha fra 1 til %(max)s klasser",
                    grade=grade,
                    max=MAX_CLASSES,
                )
            )
        elif pupils > MAX_PUPILS:
            problems.append(
                _(
                    "grade_counts: %(grade)s. trinn kan ha høyst %(max)s elever",
                    grade=grade,
                    max=MAX_PUPILS,
                )
            )
        else:
            counts[grade] = (classes, pupils)
    return counts, problems


def _form_problems(v: dict[str, str], refused: dict[str, list[str]]) -> list[str]:
    """The import's words for the values the school form refuses, and for those the import
    itself is stricter about."""
    errors = []
    for name in ("grade_min", "grade_max"):
        if name in refused:
            low, high = SCHOOL_RULES.ranges[name]
            errors.append(
                _(
                    "%(column)s %(value)s må være et trinn fra %(low)s til %(high)s",
                    column=name,
                    value=quoted(v[name]),
                    low=low,
                    high=high,
                )
            )
    errors += coordinate_problems(v, refused, SCHOOL_RULES.ranges)
    page = v["facebook_page_url"]
    if page and len(page) <= TEXT_LIMITS["facebook_page_url"]:
        if "facebook_page_url" in refused or not _https_address(page):
            errors.append(
                _(
                    "facebook_page_url %(value)s må være adressen til en Facebook-side som "
                    "begynner med https:// (f.eks. https://www.facebook.com/skolen)",
                    value=quoted(page),
                )
            )
    worded = {"grade_min", "grade_max", "latitude", "longitude", "facebook_page_url", "org_number"}
    errors += other_refusals(refused, v, worded=worded, limits=TEXT_LIMITS)
    return errors


def validate_row(row: CsvRow, columns: set[str]) -> tuple[SchoolRow | None, list[RowError]]:
    """Check one row; the validated values, or None and every problem found."""
    v, errors = row_values(row, COLUMNS, REQUIRED_COLUMNS, TEXT_LIMITS)
    form = SCHOOL_RULES.check(v)

    slug = v["slug"].lower()
    if slug and not SLUG_PATTERN.match(slug):
        errors.append(
            _(
                "slug %(value)s kan bare ha små bokstaver a–z, sifre og bindestrek "
                "(f.eks. fjell-skole)",
                value=quoted(v["slug"]),
            )
        )
    org_number = normalise_org_number(v["org_number"]) or None
    if org_number and ("org_number" in form.refused or not is_valid_org_number(org_number)):
        errors.append(
            _(
                "org_number %(value)s er ikke et gyldig organisasjonsnummer "
                "(ni sifre med riktig kontrollsiffer)",
                value=quoted(v["org_number"]),
            )
        )

    errors.extend(_form_problems(v, form.refused))
    low, high = form.data.get("grade_min"), form.data.get("grade_max")
    if low is not None and high is not None and low > high:
        errors.append(
            _(
                "grade_min (%(low)s) kan ikke være større enn grade_max (%(high)s)",
                low=low,
                high=high,
            )
        )
        low = high = None

    backpack = None
    if "accepts_backpack_post" in columns:
        backpack = parse_bool(v["accepts_backpack_post"]) if v["accepts_backpack_post"] else None
        if backpack is None:
            errors.append(
                _(
                    "accepts_backpack_post %(value)s må være ja/nei, true/false, yes/no eller 1/0",
                    value=quoted(v["accepts_backpack_post"]),
                )
            )

    counts = None
    if "grade_counts" in columns:
        counts, problems = parse_grade_counts(v["grade_counts"], low, high)
        errors.extend(problems)

    if errors:
        return None, [RowError(row.line, message) for message in errors]

    fields: dict[str, Any] = {"name": v["name"], "grade_min": low, "grade_max": high}
    for name in ("area", "address"):
        if name in columns:
            fields[name] = v[name]
    if "org_number" in columns:
        fields["org_number"] = org_number
    if "latitude" in columns:
        for name in ("latitude", "longitude"):
            value = form.data.get(name)
            fields[name] = float(value) if value is not None else None
    if "facebook_page_url" in columns:
        fields["facebook_page_url"] = v["facebook_page_url"] or None
    if backpack is not None:
        fields["accepts_backpack_post"] = backpack
    return (
        SchoolRow(
            line=row.line,
            slug=slug or slugify(v["name"]),
            slug_given=bool(slug),
            org_number=org_number,
            fields=fields,
            grade_counts=counts,
        ),
        [],
    )


# --- matching and writing -----------------------------------------------------------------


def _stored_counts(school: School) -> dict[int, tuple[int, int]]:
    return {c.grade: (c.classes, c.pupils) for c in school.grade_counts}


def _changes(school: School, row: SchoolRow) -> dict[str, Any]:
    """What the row would change in the school, as update_school() takes it."""
    changes = {name: value for name, value in row.fields.items() if getattr(school, name) != value}
    stored = _stored_counts(school)
    if row.grade_counts is not None:
        wanted = row.grade_counts
    else:  # counts outside a narrowed grade range go
        low, high = row.fields["grade_min"], row.fields["grade_max"]
        wanted = {g: c for g, c in stored.items() if low <= g <= high}
    if wanted != stored:
        changes["grade_counts"] = wanted
    return changes


def _plan(
    rows: list[SchoolRow], municipality: Municipality, warnings: list[str]
) -> tuple[_Plan, list[RowError]]:
    """Match rows to schools by organisation number, then by slug, finding what would change."""
    schools = db.session.scalars(select(School)).all()
    by_slug = {s.slug: s for s in schools}
    by_org = {
        s.org_number: s for s in schools if s.municipality_id == municipality.id and s.org_number
    }
    plan = _Plan()
    errors: list[RowError] = []
    seen: dict[tuple[str, Any], int] = {}
    for row in rows:
        school = by_org.get(row.org_number) if row.org_number else None
        if school is not None and row.slug_given and row.slug != school.slug:
            errors.append(
                RowError(
                    row.line,
                    _(
                        "org_number %(number)s hører til %(school)s (slug «%(slug)s»), ikke til "
                        "slug «%(given)s»",
                        number=row.org_number,
                        school=school.name,
                        slug=school.slug,
                        given=row.slug,
                    ),
                )
            )
            continue
        if school is None and row.slug in RESERVED_SCHOOL_SLUGS:
            errors.append(
                RowError(
                    row.line,
                    _("slug «%(slug)s» er reservert; gi skolen en annen slug", slug=row.slug),
                )
            )
            continue
        if school is None:
            school = by_slug.get(row.slug)
            if school is not None and school.municipality_id != municipality.id:
                errors.append(
                    RowError(
                        row.line,
                        _(
                            "slug «%(slug)s» er tatt av %(school)s i en annen kommune "
                            "(%(municipality)s); gi skolen en annen slug",
                            slug=row.slug,
                            school=school.name,
                            municipality=school.municipality.name,
                        ),
                    )
                )
                continue
        keys = [("school", school.id if school is not None else row.slug)]
        if row.org_number:
            keys.append(("org_number", row.org_number))
        repeated = next((seen[key] for key in keys if key in seen), None)
        if repeated is not None:
            errors.append(
                RowError(
                    row.line,
                    _(
                        "samme skole (samme slug eller org_number) som på linje %(line)s",
                        line=repeated,
                    ),
                )
            )
            continue
        for key in keys:
            seen[key] = row.line
        if school is None:
            plan.creates.append(row)
            continue
        if not school.active:
            warnings.append(
                _(
                    "advarsel: linje %(line)s: %(school)s er deaktivert; importen endrer den, "
                    "men aktiverer den ikke",
                    line=row.line,
                    school=school.name,
                )
            )
        changes = _changes(school, row)
        if changes:
            plan.updates.append((school, row, changes))
        else:
            plan.unchanged += 1
    return plan, errors


def import_schools(
    data: bytes,
    municipality: Municipality,
    *,
    actor: Any | None = None,
    dry_run: bool = False,
    source_name: str = "",
) -> ImportReport:
    """Validate a CSV file of schools and, when every row is valid and this is no dry run,
    create and update the municipality's schools (each audited, and the import as a whole).

    Flushes but never commits: the caller commits once, or rolls back. Raises ImportAborted when
    the file cannot be read or its columns are wrong; row problems come back in the report.
    """
    report = ImportReport(dry_run=dry_run)
    parsed = parse_school_csv(data)
    report.errors.extend(parsed.errors)
    columns = set(parsed.columns)
    valid: list[SchoolRow] = valid_rows(parsed.rows, lambda row: validate_row(row, columns), report)

    plan, errors = _plan(valid, municipality, report.warnings)
    if not count_plan(report, plan, errors):
        return report
    if dry_run or not (plan.creates or plan.updates):
        return report

    created = [
        create_school(
            municipality,
            {
                **NEW_SCHOOL_DEFAULTS,
                **row.fields,
                "slug": row.slug,
                "grade_counts": row.grade_counts or {},
            },
            actor=actor,
        )
        for row in plan.creates
    ]
    for school, _row, changes in plan.updates:
        update_school(school, changes, actor=actor)
    record(
        "import.schools",
        municipality,
        actor=actor,
        municipality_id=municipality.id,
        data={
            "file": source_name,
            "created": [school.slug for school in created],
            "updated": [school.slug for school, _row, _changes in plan.updates],
            "unchanged": report.unchanged,
        },
    )
    db.session.flush()
    return report
