"""What every CSV import shares: reading the file, row errors, common values, the report.

The activity import (directory.importing) and the school import (directory.schools.importing)
follow the same rules: UTF-8 with or without a byte-order mark, comma or semicolon, a header
row, every row checked before anything is written, and errors as `linje N: …` where N is the
physical line of the file where the row starts (the header is line 1). Messages are in bokmål
because the person running the import reads them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from directory.extensions import db
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
        return f"linje {self.line}: {self.message}"


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
        return f"{self.created} nye, {self.updated} endret, {self.unchanged} uendret"


# --- reading the file -----------------------------------------------------------------------


def decode_csv_bytes(data: bytes) -> str:
    """The file's text: UTF-8 with or without a byte-order mark, or ImportAborted."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportAborted(
            f"Filen er for stor (over {MAX_FILE_BYTES // (1024 * 1024)} MB). Del den opp."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportAborted(
            f"Filen er ikke gyldig UTF-8 (første feil på linje {line}). "
            "Lagre den som «CSV UTF-8» i regnearket og prøv igjen."
        ) from exc
    if not text.strip():
        raise ImportAborted("Filen er tom.")
    if "\x00" in text:
        raise ImportAborted("Filen ser ikke ut til å være en CSV-fil (den inneholder binærdata).")
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
    where = f" (f.eks. i {example_column})" if example_column else ""
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
                        f"raden har {len(record_values)} felt, men overskriften har "
                        f"{len(columns)}; står det «{delimiter}» i en verdi{where} "
                        "uten anførselstegn rundt?",
                    )
                )
                continue
            padded = record_values + [""] * (len(columns) - len(record_values))
            rows.append(CsvRow(start, dict(zip(columns, padded, strict=False))))
    except csv.Error as exc:
        raise ImportAborted(
            f"Filen kan ikke leses som CSV (linje {reader.line_num}): {exc}"
        ) from exc

    if columns is None:  # only delimiters and blank lines
        raise ImportAborted("Filen er tom.")
    return ParsedFile(columns=columns, rows=rows, errors=errors, header_line=header_line)


def check_columns(parsed: ParsedFile, required: tuple[str, ...]) -> None:
    """ImportAborted when a column is named twice or a required one is missing."""
    columns = parsed.columns
    duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicates:
        raise ImportAborted(
            f"linje {parsed.header_line}: kolonnen(e) "
            + ", ".join(duplicates)
            + " står flere ganger."
        )
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportAborted("Filen mangler kolonnene: " + ", ".join(missing) + ".")


# --- checking rows --------------------------------------------------------------------------


def row_values(
    row: CsvRow,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    text_limits: dict[str, int],
) -> tuple[dict[str, str], list[str]]:
    """A row's values by column (stripped; '' for a column the file leaves out), and the
    problems every import looks for first: a required value missing, a text too long."""
    values = {name: row.values.get(name, "").strip() for name in columns}
    errors: list[str] = []
    for name in required:
        if not values[name]:
            errors.append(f"{name} mangler")
    for name, limit in text_limits.items():
        if len(values[name]) > limit:
            errors.append(f"{name} er lengre enn {limit} tegn")
    return values, errors


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
            known = ", ".join(m.slug for m in municipalities) or "ingen"
            raise ImportAborted(f"Ukjent kommune «{slug}». Kjente kommuner: {known}.")
        return found
    if not municipalities:
        raise ImportAborted(
            "Det finnes ingen kommune ennå. Opprett en med «flask --app directory "
            "create-municipality» (eller kjør seed-demo) først."
        )
    if len(municipalities) > 1:
        raise ImportAborted(
            "Det finnes flere kommuner; velg en med --municipality ("
            + ", ".join(m.slug for m in municipalities)
            + ")."
        )
    return municipalities[0]
