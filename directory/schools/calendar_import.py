"""Importing a school-year calendar: a small CSV file or an iCalendar file of holidays.

CSV (UTF-8, comma or semicolon, a header row; read by directory.csvimport like every import):

    school_year,name,first_day,last_day
    2026-2027,Høstferie,2026-09-28,2026-10-02
    2026-2027,Juleferie,21.12.2026,01.01.2027

`school_year` is «2026-2027» (August to July); left empty, it is the school year of `first_day`.
Dates are YYYY-MM-DD or DD.MM.YYYY; both days are included.

iCalendar (.ics): one VEVENT per holiday, SUMMARY its name, DTSTART its first day and DTEND the
day after its last (exclusive, as RFC 5545 says; no DTEND: one day). The school year is that of
the first day.

Every holiday valid, or nothing is written; the errors come as `linje N: …` (CSV) or
`VEVENT N: …` (iCalendar). Importing replaces every holiday of each school year the file names,
so importing the same file twice gives the same calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from directory.csvimport import (
    ImportAborted,
    ImportReport,
    RowError,
    check_columns,
    decode_csv_bytes,
    quoted,
    read_csv,
    row_values,
)
from directory.i18n import gettext as _
from directory.policy.school_calendar import (
    MAX_HOLIDAY_DAYS,
    parse_school_year,
    school_year_bounds,
    school_year_of,
)
from directory.schools.calendar import NewHoliday, replace_school_years
from directory.schools.models import Municipality
from directory.timeutil import to_oslo

COLUMNS = ("school_year", "name", "first_day", "last_day")
REQUIRED_COLUMNS = ("name", "first_day", "last_day")
NAME_LENGTH = 80
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NORWEGIAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class EventError(RowError):
    """A problem with one VEVENT of an iCalendar file (`line` is its number, from 1)."""

    def __str__(self) -> str:
        return _("VEVENT %(number)s: %(message)s", number=self.line, message=self.message)


@dataclass
class CalendarReport(ImportReport):
    """What a calendar import did: per school year, the holidays it now has and had before."""

    holidays: list[NewHoliday] = field(default_factory=list)
    years: dict[str, tuple[int, int]] = field(default_factory=dict)

    def years_summary(self) -> str:
        """'2026-2027: 5 ferier (erstattet 4)' per school year."""
        parts = []
        for year, (new, old) in sorted(self.years.items()):
            text = _("%(year)s: %(count)s ferier", year=year, count=new)
            if old:
                text += " " + _("(erstattet %(count)s)", count=old)
            parts.append(text)
        return "; ".join(parts)


def parse_day(value: str) -> date | None:
    """A day written YYYY-MM-DD or DD.MM.YYYY, or None."""
    text = value.strip()
    match = _ISO_DAY.match(text)
    try:
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        match = _NORWEGIAN_DAY.match(text)
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None
    return None


def holiday_problems(school_year: str, first_day: date, last_day: date) -> list[str]:
    """What is wrong with a holiday's days in its school year (empty when nothing)."""
    errors = []
    start, end = school_year_bounds(school_year)
    if not start <= first_day <= end:
        errors.append(
            _(
                "første dag %(day)s er ikke i skoleåret %(year)s (1. august–31. juli)",
                day=first_day.isoformat(),
                year=school_year,
            )
        )
    if last_day < first_day:
        errors.append(_("siste dag er før første dag"))
    elif (last_day - first_day).days + 1 > MAX_HOLIDAY_DAYS:
        errors.append(_("en ferie kan vare høyst %(days)s dager", days=MAX_HOLIDAY_DAYS))
    return errors


def _name_problems(name: str) -> list[str]:
    if not name:
        return [_("navnet mangler")]
    if len(name) > NAME_LENGTH:
        return [_("navnet er lengre enn %(limit)s tegn", limit=NAME_LENGTH)]
    return []


# --- CSV ------------------------------------------------------------------------------------


def _csv_row(values: dict[str, str], line: int) -> tuple[NewHoliday | None, list[RowError]]:
    errors: list[str] = []
    days: dict[str, date | None] = {}
    for column in ("first_day", "last_day"):
        days[column] = parse_day(values[column]) if values[column] else None
        if values[column] and days[column] is None:
            errors.append(
                _(
                    "%(column)s %(value)s er ikke en dato (ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)",
                    column=column,
                    value=quoted(values[column]),
                )
            )
    year = None
    if values["school_year"]:
        year = parse_school_year(values["school_year"])
        if year is None:
            errors.append(
                _(
                    "school_year %(value)s er ikke et skoleår som 2026-2027",
                    value=quoted(values["school_year"]),
                )
            )
    first, last = days["first_day"], days["last_day"]
    if first is not None and last is not None and not errors:
        errors += holiday_problems(year or school_year_of(first), first, last)
    if errors or first is None or last is None:
        return None, [RowError(line, "; ".join(errors))] if errors else []
    return NewHoliday(year or school_year_of(first), values["name"], first, last), []


def parse_calendar_csv(data: bytes) -> tuple[list[NewHoliday], list[RowError]]:
    """The holidays of a CSV file and the problems of its rows, or ImportAborted."""
    parsed = read_csv(data, example_column="name")
    unknown = [c for c in parsed.columns if c not in COLUMNS]
    if unknown:
        raise ImportAborted(
            _(
                "Ukjent kolonne: %(names)s. Kjente kolonner: %(known)s.",
                names=", ".join(f"«{c}»" if c else _("(uten navn)") for c in unknown),
                known=", ".join(COLUMNS),
            )
        )
    check_columns(parsed, REQUIRED_COLUMNS)
    if not parsed.rows and not parsed.errors:
        raise ImportAborted(_("Filen har bare en overskriftsrad og ingen ferier."))
    holidays: list[NewHoliday] = []
    errors = list(parsed.errors)
    seen: set[tuple[str, date]] = set()
    for row in parsed.rows:
        values, problems = row_values(row, COLUMNS, REQUIRED_COLUMNS, {"name": NAME_LENGTH})
        if problems:
            errors.append(RowError(row.line, "; ".join(problems)))
            continue
        holiday, row_errors = _csv_row(values, row.line)
        errors += row_errors
        repeated = _repeated(holiday, seen) if holiday is not None else None
        if repeated:
            errors.append(RowError(row.line, repeated))
        elif holiday is not None:
            holidays.append(holiday)
    return holidays, errors


# --- iCalendar ------------------------------------------------------------------------------


def _event_day(value: Any) -> date | None:
    """A DTSTART/DTEND value as a day in Oslo (a date-time counts by its day)."""
    if isinstance(value, datetime):
        return to_oslo(value).date()
    if isinstance(value, date):
        return value
    return None


def _event(component: Any, number: int) -> tuple[NewHoliday | None, list[RowError]]:
    errors: list[str] = []
    name = str(component.get("SUMMARY", "")).strip()
    errors += _name_problems(name)
    start = component.get("DTSTART")
    first = _event_day(start.dt) if start is not None else None
    if first is None:
        errors.append(_("DTSTART mangler eller er ikke en dato"))
    last = first
    end = component.get("DTEND")
    duration = component.get("DURATION")
    if first is not None and end is not None:
        end_day = _event_day(end.dt)
        if end_day is None:
            errors.append(_("DTEND er ikke en dato"))
        elif isinstance(end.dt, datetime) and to_oslo(end.dt).time() != datetime.min.time():
            last = end_day  # a date-time end is inside its day
        else:
            last = end_day - timedelta(days=1)  # DTEND is exclusive (RFC 5545)
    elif first is not None and duration is not None:
        days = max(duration.dt.days, 1)
        last = first + timedelta(days=days - 1)
    if errors or first is None or last is None:
        return None, [EventError(number, "; ".join(errors))]
    if last < first:
        return None, [EventError(number, _("DTEND er før DTSTART"))]
    year = school_year_of(first)
    problems = holiday_problems(year, first, last)
    if problems:
        return None, [EventError(number, "; ".join(problems))]
    return NewHoliday(year, name, first, last), []


def parse_calendar_ics(data: bytes) -> tuple[list[NewHoliday], list[RowError]]:
    """The holidays of an iCalendar file (one VEVENT each), or ImportAborted."""
    from icalendar import Calendar

    text = decode_csv_bytes(data)
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise ImportAborted(
            _("Filen kan ikke leses som iCalendar: %(problem)s", problem=str(exc)[:200])
        ) from exc
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise ImportAborted(_("Filen har ingen VEVENT (ingen ferier)."))
    holidays: list[NewHoliday] = []
    errors: list[RowError] = []
    seen: set[tuple[str, date]] = set()
    for number, component in enumerate(events, start=1):
        try:
            holiday, problems = _event(component, number)
        except (ValueError, TypeError, AttributeError):
            holiday, problems = None, [EventError(number, _("datoene kan ikke leses"))]
        errors += problems
        repeated = _repeated(holiday, seen) if holiday is not None else None
        if repeated:
            errors.append(EventError(number, repeated))
        elif holiday is not None:
            holidays.append(holiday)
    return holidays, errors


def is_icalendar(data: bytes, filename: str | None) -> bool:
    """Whether the file is iCalendar: by its extension, else by how it starts."""
    name = (filename or "").lower()
    if name.endswith((".ics", ".ical", ".ifb")):
        return True
    if name.endswith((".csv", ".txt")):
        return False
    return data.lstrip(b"\xef\xbb\xbf \r\n\t").upper().startswith(b"BEGIN:VCALENDAR")


def _repeated(holiday: NewHoliday, seen: set[tuple[str, date]]) -> str | None:
    """Why a holiday that the file already named (same name, same first day) is refused."""
    key = (holiday.name.casefold(), holiday.first_day)
    if key in seen:
        return _(
            "%(name)s fra %(day)s står allerede i filen",
            name=holiday.name,
            day=holiday.first_day.isoformat(),
        )
    seen.add(key)
    return None


def import_school_calendar(
    data: bytes,
    municipality: Municipality,
    *,
    actor: Any | None = None,
    dry_run: bool = False,
    source_name: str = "",
) -> CalendarReport:
    """Check a CSV or iCalendar file of holidays and, when every holiday is valid and this is no
    dry run, replace the municipality's holidays of each school year the file names (audited).

    Flushes but never commits. Raises ImportAborted when the file cannot be read at all.
    """
    report = CalendarReport(dry_run=dry_run)
    if is_icalendar(data, source_name):
        holidays, errors = parse_calendar_ics(data)
    else:
        holidays, errors = parse_calendar_csv(data)
    report.errors.extend(errors)
    if report.errors:
        return report
    report.holidays = holidays
    report.created = len(holidays)
    if dry_run:
        report.years = {
            year: (sum(1 for h in holidays if h.school_year == year), 0)
            for year in sorted({h.school_year for h in holidays})
        }
        return report
    report.years = replace_school_years(
        municipality, holidays, actor=actor, source_name=source_name
    )
    return report
