"""What every CSV import shares: reading the file, row errors, common values, the report.

The activity import (directory.importing) and the school import (directory.schools.importing)
follow the same rules: UTF-8 with or without a byte-order mark, comma or semicolon, a header
row, every row checked before anything is written, and errors as `linje N: …` where N is the
physical line of the file where the row starts (the header is line 1). The messages are bokmål
templates in `_()`: the person running the import reads them in the default language, bokmål.

A row's values are checked by the web form's own fields (`FormRules`), so that an import
accepts what the form accepts and refuses what it refuses.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import wtforms
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.validators import Length, NumberRange

from directory.extensions import db
from directory.i18n import gettext as _
from directory.schools.models import Municipality

MAX_FILE_BYTES = 20 * 1024 * 1024
TRUE_WORDS = ("true", "ja", "1", "yes")
FALSE_WORDS = ("false", "nei", "0", "no", "")


class ImportAborted(Exception):
    """The import cannot start: unreadable file, no municipality, ... The message is bokmål."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    """A problem with one row of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return _("linje %(line)s: %(message)s", line=self.line, message=self.message)


@dataclass
class CsvRow:
    """One non-empty data row: where it starts in the file and its values by column name."""

    line: int
    values: dict[str, str]


@dataclass
class ParsedFile:
    """The rows of a CSV file with the columns its header names."""

    columns: list[str]
    rows: list[CsvRow]
    errors: list[RowError] = field(default_factory=list)  # rows that do not fit the header
    warnings: list[str] = field(default_factory=list)
    header_line: int = 1


@dataclass
class ImportReport:
    """What an import did, or would do on a dry run, or why it did nothing."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Whether the file had no errors (and so was, or on a dry run could be, imported)."""
        return not self.errors

    def summary(self) -> str:
        """The counts, e.g. '3 nye, 1 endret, 5 uendret'."""
        return _(
            "%(created)s nye, %(updated)s endret, %(unchanged)s uendret",
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )


# --- reading the file -----------------------------------------------------------------------


def decode_csv_bytes(data: bytes) -> str:
    """The file's text: UTF-8 with or without a byte-order mark, or ImportAborted."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportAborted(
            _(
                "Filen er for stor (over %(megabytes)s MB). Del den opp.",
                megabytes=MAX_FILE_BYTES // (1024 * 1024),
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportAborted(
            _(
                "Filen er ikke gyldig UTF-8 (første feil på linje %(line)s). "
                "Lagre den som «CSV UTF-8» i regnearket og prøv igjen.",
                line=line,
            )
        ) from exc
    if not text.strip():
        raise ImportAborted(_("Filen er tom."))
    if "\x00" in text:
        raise ImportAborted(
            _("Filen ser ikke ut til å være en CSV-fil (den inneholder binærdata).")
        )
    return text


def detect_delimiter(header_line: str) -> str:
    """';' when the header uses semicolons (as Norwegian spreadsheets export), else ','."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def read_csv(data: bytes, *, example_column: str = "") -> ParsedFile:
    """The header (lower-cased column names) and the non-empty rows, or ImportAborted.

    A row with more fields than the header is a row error; `example_column` names a column
    whose values often hold the delimiter, for that error's hint.
    """
    text = decode_csv_bytes(data)
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header_line = 1
    rows: list[CsvRow] = []
    columns: list[str] | None = None
    errors: list[RowError] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                record_values = next(reader)
            except StopIteration:
                break
            if not any(value.strip() for value in record_values):
                continue  # an empty line, or one of only delimiters
            if columns is None:
                columns = [name.strip().lower() for name in record_values]
                header_line = start
                continue
            if len(record_values) > len(columns):
                # A value with the delimiter in it, unquoted, shifts every later column.
                errors.append(
                    RowError(
                        start,
                        _too_many_fields(
                            len(record_values), len(columns), delimiter, example_column
                        ),
                    )
                )
                continue
            padded = record_values + [""] * (len(columns) - len(record_values))
            rows.append(CsvRow(start, dict(zip(columns, padded, strict=False))))
    except csv.Error as exc:
        raise ImportAborted(
            _(
                "Filen kan ikke leses som CSV (linje %(line)s): %(problem)s",
                line=reader.line_num,
                problem=str(exc),
            )
        ) from exc

    if columns is None:  # only delimiters and blank lines
        raise ImportAborted(_("Filen er tom."))
    return ParsedFile(columns=columns, rows=rows, errors=errors, header_line=header_line)


def _too_many_fields(fields: int, columns: int, delimiter: str, example_column: str) -> str:
    if example_column:
        return _(
            "raden har %(fields)s felt, men overskriften har %(columns)s; står det "
            "«%(delimiter)s» i en verdi (f.eks. i %(example)s) uten anførselstegn rundt?",
            fields=fields,
            columns=columns,
            delimiter=delimiter,
            example=example_column,
        )
    return _(
        "raden har %(fields)s felt, men overskriften har %(columns)s; står det "
        "«%(delimiter)s» i en verdi uten anførselstegn rundt?",
        fields=fields,
        columns=columns,
        delimiter=delimiter,
    )


COORDINATE_COLUMNS = ("latitude", "longitude")
_COORDINATE = re.compile(r"^[+-]?\d{1,3}(?:[.,]\d{1,10})?$")


def check_coordinate_columns(parsed: ParsedFile) -> None:
    """Coordinates come as a pair of columns, or not at all."""
    if ("latitude" in parsed.columns) != ("longitude" in parsed.columns):
        raise ImportAborted(_("Kolonnene latitude og longitude må stå i filen sammen."))


def coordinate_problems(
    v: Mapping[str, str], refused: Mapping[str, Any], ranges: Mapping[str, tuple]
) -> list[str]:
    """The row's latitude and longitude in words when the form refuses them (out of range, not
    a decimal number with a point or a comma) or only one of them is filled in."""
    errors = []
    for name in COORDINATE_COLUMNS:
        if v[name] and (name in refused or not _COORDINATE.match(v[name])):
            low, high = ranges[name]
            errors.append(
                _(
                    "%(column)s %(value)s må være et desimaltall fra %(low)s til %(high)s",
                    column=name,
                    value=quoted(v[name]),
                    low=low,
                    high=high,
                )
            )
    if bool(v["latitude"]) != bool(v["longitude"]):
        errors.append(_("latitude og longitude må fylles ut begge eller ingen av dem"))
    return errors


def check_columns(parsed: ParsedFile, required: tuple[str, ...]) -> None:
    """ImportAborted when a column is named twice or a required one is missing."""
    columns = parsed.columns
    duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicates:
        raise ImportAborted(
            _(
                "linje %(line)s: kolonnen(e) %(columns)s står flere ganger.",
                line=parsed.header_line,
                columns=", ".join(duplicates),
            )
        )
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportAborted(_("Filen mangler kolonnene: %(columns)s.", columns=", ".join(missing)))


# --- checking rows --------------------------------------------------------------------------


def row_values(
    row: CsvRow,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    text_limits: Mapping[str, int],
) -> tuple[dict[str, str], list[str]]:
    """A row's values by column (stripped; '' for a column the file leaves out), and the
    problems every import looks for first: a required value missing, a text too long."""
    values = {name: row.values.get(name, "").strip() for name in columns}
    errors: list[str] = []
    for name in required:
        if not values[name]:
            errors.append(_("%(column)s mangler", column=name))
    for name, limit in text_limits.items():
        if len(values[name]) > limit:
            errors.append(_("%(column)s er lengre enn %(limit)s tegn", column=name, limit=limit))
    return values, errors


@dataclass
class FormCheck:
    """A web form's verdict on one row, by CSV column: the values its fields accepted (as the
    fields convert them) and the messages of those they refused."""

    data: dict[str, Any]
    refused: dict[str, list[str]]


class FormRules:
    """A web form's own field declarations, applied to the rows of a CSV file.

    `columns` maps each CSV column to the form field that takes the same value. A row is checked
    by those fields themselves (their validators, limits and conversions), so the import accepts
    what the form accepts; the import words its messages with the column, the value and the
    limits the fields declare (`max_lengths`, `ranges`).
    """

    def __init__(self, form_class: type, columns: Mapping[str, str]):
        self.columns = dict(columns)
        # The form's unbound fields in a plain form: no CSRF token, no request needed.
        fields = {name: getattr(form_class, name) for name in self.columns.values()}
        self._row_form = type(f"{form_class.__name__}Row", (wtforms.Form,), fields)
        blank = self._row_form()
        self.max_lengths: dict[str, int] = {}
        self.ranges: dict[str, tuple[Any, Any]] = {}
        for column, name in self.columns.items():
            for validator in blank[name].validators:
                if isinstance(validator, Length) and validator.max >= 0:
                    self.max_lengths[column] = validator.max
                elif isinstance(validator, NumberRange):
                    self.ranges[column] = (validator.min, validator.max)

    def check(self, values: Mapping[str, str]) -> FormCheck:
        """The form's verdict on the row's non-empty values; an empty value is the import's
        own business (required, or left as it is)."""
        given = [column for column in self.columns if values.get(column)]
        form = self._row_form(
            formdata=MultiDict({self.columns[column]: values[column] for column in given})
        )
        form.validate()
        data: dict[str, Any] = {}
        refused: dict[str, list[str]] = {}
        for column in given:
            bound = form[self.columns[column]]
            if bound.errors:
                refused[column] = [str(message) for message in bound.errors]
            else:
                data[column] = bound.data
        return FormCheck(data, refused)


def valid_rows(rows: list[CsvRow], validate: Callable[[CsvRow], tuple], report: ImportReport):
    """The validated value of every row that `validate` accepts; the problems of the others go
    into the report."""
    valid = []
    for row in rows:
        checked, errors = validate(row)
        report.errors.extend(errors)
        if checked is not None:
            valid.append(checked)
    return valid


def count_plan(report: ImportReport, plan: Any, errors: list[RowError]) -> bool:
    """Add the plan's problems to the report (all of them, by line) and, when there are none,
    its counts (`plan.creates`, `plan.updates`, `plan.unchanged`); answers whether the import
    may go on."""
    report.errors.extend(errors)
    report.errors.sort(key=lambda e: e.line)
    if report.errors:
        return False
    report.created = len(plan.creates)
    report.updated = len(plan.updates)
    report.unchanged = plan.unchanged
    return True


# --- checking values ------------------------------------------------------------------------


def parse_bool(value: str) -> bool | None:
    """true/false, ja/nei, yes/no, 1/0 or empty (false); None when it is none of these."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def is_web_url(value: str) -> bool:
    """Whether the value is an absolute http(s) address."""
    if any(ch.isspace() for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def quoted(value: str) -> str:
    """A value for an error message, shortened when long."""
    return f"«{value[:60]}…»" if len(value) > 60 else f"«{value}»"


def other_refusals(
    refused: dict[str, list[str]],
    values: dict[str, str],
    *,
    worded: set[str],
    limits: dict[str, int],
) -> list[str]:
    """The form's messages for the columns the importer has not worded itself already (`worded`,
    and texts over their length, which `row_values` names), each with its column and value."""
    return [
        _(
            "%(column)s %(value)s: %(problem)s",
            column=name,
            value=quoted(values[name]),
            problem=messages[0],
        )
        for name, messages in refused.items()
        if name not in worded and len(values[name]) <= limits.get(name, len(values[name]))
    ]


def int_in_range(text: str, low: int, high: int) -> int | None:
    """The whole number in text when it lies in [low, high], else None."""
    value = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,7}", value):
        return None
    number = int(value)
    return number if low <= number <= high else None


# --- the target -----------------------------------------------------------------------------


def choose_municipality(slug: str | None) -> Municipality:
    """The municipality named by slug, or the only one; ImportAborted otherwise."""
    municipalities = db.session.scalars(select(Municipality).order_by(Municipality.slug)).all()
    if slug:
        found = next((m for m in municipalities if m.slug == slug), None)
        if found is None:
            known = ", ".join(m.slug for m in municipalities) or _("ingen")
            raise ImportAborted(
                _("Ukjent kommune «%(slug)s». Kjente kommuner: %(known)s.", slug=slug, known=known)
            )
        return found
    if not municipalities:
        raise ImportAborted(
            _(
                "Det finnes ingen kommune ennå. Opprett en med «flask --app directory "
                "create-municipality» (eller kjør seed-demo) først."
            )
        )
    if len(municipalities) > 1:
        raise ImportAborted(
            _(
                "Det finnes flere kommuner; velg en med --municipality (%(slugs)s).",
                slugs=", ".join(m.slug for m in municipalities),
            )
        )
    return municipalities[0]
