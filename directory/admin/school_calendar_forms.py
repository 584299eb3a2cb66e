"""The municipal admin's school-calendar forms: one holiday, and a calendar file to import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField
from wtforms.validators import InputRequired

from directory.activities.forms import DATE_FORMATS
from directory.forms import Form
from directory.organisations.forms import required_text_field
from directory.policy.school_calendar import school_year_of
from directory.schools.calendar import NewHoliday
from directory.schools.calendar_import import NAME_LENGTH, holiday_problems


class HolidayForm(Form):
    """A holiday: its name and its first and last day (the school year follows the first)."""

    name = required_text_field(
        _l("Navn"),
        _l("Skriv navnet på ferien, for eksempel Høstferie."),
        NAME_LENGTH,
        _l("Navnet kan ha høyst %(max)s tegn."),
    )
    first_day = DateField(
        _l("Første dag"),
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Velg første dag."))],
        invalid_value_message=_l("Skriv datoen som 24.12.2026 eller 2026-12-24."),
    )
    last_day = DateField(
        _l("Siste dag"),
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Velg siste dag."))],
        invalid_value_message=_l("Skriv datoen som 24.12.2026 eller 2026-12-24."),
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        problems = holiday_problems(
            school_year_of(self.first_day.data), self.first_day.data, self.last_day.data
        )
        if problems:
            # The import's phrases, as sentences.
            self.last_day.errors = [problem[:1].upper() + problem[1:] + "." for problem in problems]
            return False
        return True

    def holiday(self) -> NewHoliday:
        """The holiday the form describes."""
        first = self.first_day.data
        return NewHoliday(school_year_of(first), self.name.data, first, self.last_day.data)


class CalendarImportForm(Form):
    """Upload a school calendar as CSV or iCalendar (the same import as the command line)."""

    calendar_file = FileField(
        _l("Fil med skoleruten (CSV eller iCalendar)"),
        validators=[FileRequired(_l("Velg en fil."))],
        render_kw={"accept": ".csv,.ics,text/csv,text/calendar"},
    )
