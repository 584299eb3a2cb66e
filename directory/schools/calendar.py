"""The municipality's school-year calendar as stored: its holidays, the weeks they close, and
the operations that add, remove and replace them (each audited; they flush, never commit).

The rules are in directory.policy.school_calendar; this module reads the rows and hands them
over as plain Holiday values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import format_date
from sqlalchemy import delete, select

from directory.audit.operations import record
from directory.extensions import db
from directory.policy.school_calendar import (
    Holiday,
    WeekClash,
    blackout_weeks,
    clash_weeks,
    holiday_weeks,
    school_year_of,
)
from directory.schools.models import Municipality, SchoolHoliday


@dataclass(frozen=True)
class NewHoliday:
    """A holiday to store: its school year, name and days."""

    school_year: str
    name: str
    first_day: date
    last_day: date


def municipality_holidays(municipality_id: int) -> list[SchoolHoliday]:
    """The municipality's holidays by school year and first day."""
    return list(
        db.session.scalars(
            select(SchoolHoliday)
            .where(SchoolHoliday.municipality_id == municipality_id)
            .order_by(SchoolHoliday.school_year, SchoolHoliday.first_day, SchoolHoliday.id)
        )
    )


def as_holidays(rows: Iterable[SchoolHoliday]) -> list[Holiday]:
    """The rows as the pure rule's values."""
    return [Holiday(row.name, row.first_day, row.last_day) for row in rows]


class SchoolCalendar:
    """One municipality's holidays read once: the closed weeks and the weeks that clash."""

    def __init__(self, municipality_id: int):
        self.rows = municipality_holidays(municipality_id)
        holidays = as_holidays(self.rows)
        self.closed: frozenset[str] = blackout_weeks(holidays)
        self.clashes: dict[str, WeekClash] = clash_weeks(holidays)

    def weeks_of(self, row: SchoolHoliday) -> list[str]:
        """The closed weeks the holiday touches."""
        return holiday_weeks(Holiday(row.name, row.first_day, row.last_day), self.closed)

    def by_year(self) -> list[tuple[str, list[SchoolHoliday]]]:
        """The holidays grouped by school year, in order."""
        years: dict[str, list[SchoolHoliday]] = {}
        for row in self.rows:
            years.setdefault(row.school_year, []).append(row)
        return list(years.items())


def closed_weeks(municipality_id: int) -> frozenset[str]:
    """The weeks whose every school day is a holiday in the municipality."""
    return SchoolCalendar(municipality_id).closed


def _audit(action: str, obj: Any, municipality: Municipality, actor: Any, **data: Any) -> None:
    record(action, obj, actor=actor, municipality_id=municipality.id, data=data)


def _row(municipality: Municipality, holiday: NewHoliday) -> SchoolHoliday:
    return SchoolHoliday(
        municipality_id=municipality.id,
        school_year=holiday.school_year,
        name=holiday.name,
        first_day=holiday.first_day,
        last_day=holiday.last_day,
    )


def _values(holiday: SchoolHoliday | NewHoliday) -> dict[str, str]:
    return {
        "school_year": holiday.school_year,
        "name": holiday.name,
        "first_day": holiday.first_day.isoformat(),
        "last_day": holiday.last_day.isoformat(),
    }


def add_holiday(municipality: Municipality, holiday: NewHoliday, *, actor: Any) -> SchoolHoliday:
    """Store one holiday of the municipality (audited)."""
    row = _row(municipality, holiday)
    db.session.add(row)
    db.session.flush()
    _audit("school_holiday.add", row, municipality, actor, **_values(row))
    return row


def remove_holiday(row: SchoolHoliday, *, actor: Any) -> None:
    """Delete one holiday (audited, with what it was)."""
    municipality = row.municipality
    _audit("school_holiday.remove", row, municipality, actor, **_values(row))
    db.session.delete(row)
    db.session.flush()


def replace_school_years(
    municipality: Municipality,
    holidays: Sequence[NewHoliday],
    *,
    actor: Any,
    source_name: str = "",
) -> dict[str, tuple[int, int]]:
    """Replace the holidays of every school year the list names with the list's (audited once).
    Answers, per school year, how many holidays it now has and how many it had before."""
    years = sorted({holiday.school_year for holiday in holidays})
    before = {year: 0 for year in years}
    for row in municipality_holidays(municipality.id):
        if row.school_year in before:
            before[row.school_year] += 1
    db.session.execute(
        delete(SchoolHoliday).where(
            SchoolHoliday.municipality_id == municipality.id,
            SchoolHoliday.school_year.in_(years),
        )
    )
    for holiday in holidays:
        db.session.add(_row(municipality, holiday))
    db.session.flush()
    counts = {
        year: (sum(1 for h in holidays if h.school_year == year), before[year]) for year in years
    }
    record(
        "import.school_calendar",
        municipality,
        actor=actor,
        municipality_id=municipality.id,
        data={
            "file": source_name,
            "school_years": {year: {"holidays": new, "replaced": old}
                             for year, (new, old) in counts.items()},
        },
    )  # fmt: skip
    return counts


def current_school_year(today: date) -> str:
    """The school year of a day (August to July)."""
    return school_year_of(today)


def day_in_text(day: date) -> str:
    """A day as a deadline reads: «fredag 11. desember» in the visitor's language."""
    return format_date(day, "EEEE d. MMMM")
