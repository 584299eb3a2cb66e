"""The municipal admin's school calendar: the school years and their holidays, a holiday added
or removed, and a calendar file imported (the same import as `import-school-calendar`)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from directory import loading
from directory.admin.blueprint import bp
from directory.admin.school_calendar_forms import CalendarImportForm, HolidayForm
from directory.csvimport import MAX_FILE_BYTES, ImportAborted
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.forms import ConfirmForm
from directory.permissions import can_edit_school_calendar
from directory.pipeline import Handler, route
from directory.schools.calendar import SchoolCalendar, add_holiday, day_in_text, remove_holiday
from directory.schools.calendar_import import import_school_calendar
from directory.schools.models import Municipality, SchoolHoliday
from directory.weeks import week_in_text


def _municipality() -> Municipality:
    """The signed-in admin's municipality (the blueprint's gate lets only admins in)."""
    municipality = db.session.get(Municipality, current_user.admin_municipality_id)
    if municipality is None or not can_edit_school_calendar(current_user, municipality.id):
        abort(403)
    return municipality


def _calendar_page(
    municipality: Municipality,
    *,
    form: HolidayForm | None = None,
    import_form: CalendarImportForm | None = None,
    status: int = 200,
):
    return render_template(
        "admin/school_calendar.html",
        municipality=municipality,
        calendar=SchoolCalendar(municipality.id),
        form=form or HolidayForm(formdata=None),
        import_form=import_form or CalendarImportForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        day_in_text=day_in_text,
        week_in_text=week_in_text,
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
    ), status


@bp.route("/school-calendar")
def school_calendar():
    """The municipality's school years with their holidays and the weeks they close."""
    return _calendar_page(_municipality())


class _Calendar(Handler):
    """An act on the signed-in admin's own municipality's calendar."""

    def load(self) -> None:
        self.municipality = _municipality()

    def done(self, result):
        return redirect(url_for("admin.school_calendar"))


@route(bp, "/school-calendar/holidays", "add_school_holiday")
class AddSchoolHoliday(_Calendar):
    """Add one holiday; its school year follows from its first day."""

    form_class = HolidayForm

    def invalid(self, form: HolidayForm):
        return _calendar_page(self.municipality, form=form, status=422)

    def act(self, form: HolidayForm) -> SchoolHoliday:
        return add_holiday(self.municipality, form.holiday(), actor=current_user)

    def done(self, holiday: SchoolHoliday):
        flash(
            _(
                "%(name)s (%(first)s–%(last)s) er lagt til skoleåret %(year)s.",
                name=holiday.name,
                first=day_in_text(holiday.first_day),
                last=day_in_text(holiday.last_day),
                year=holiday.school_year,
            ),
            "success",
        )
        return super().done(holiday)


@route(bp, "/school-calendar/holidays/<int:holiday_id>/remove", "remove_school_holiday")
class RemoveSchoolHoliday(_Calendar):
    """Remove one holiday of the admin's municipality (another municipality's is unknown)."""

    form_class = ConfirmForm

    def load(self, holiday_id: int) -> None:
        super().load()
        self.holiday = loading.owned(
            SchoolHoliday, holiday_id, municipality_id=self.municipality.id
        )

    def act(self, form: ConfirmForm) -> str:
        name = self.holiday.name
        remove_holiday(self.holiday, actor=current_user)
        return name

    def done(self, name: str):
        flash(_("%(name)s er fjernet fra skoleruten.", name=name), "success")
        return super().done(name)


class _CalendarRefused(DomainError):
    """A calendar file that cannot be imported: its errors, shown at the upload field (400)."""

    def __init__(self, messages: list[str]):
        super().__init__(messages[0], 400)
        self.messages = messages


@route(bp, "/school-calendar/import", "import_school_calendar")
class ImportSchoolCalendar(_Calendar):
    """Import a CSV or iCalendar file: every holiday valid, or nothing is stored; each school
    year in the file replaces that year's holidays."""

    form_class = CalendarImportForm

    def invalid(self, form: CalendarImportForm):
        return _calendar_page(self.municipality, import_form=form, status=400)

    def act(self, form: CalendarImportForm):
        upload = form.calendar_file.data
        try:
            report = import_school_calendar(
                upload.read(MAX_FILE_BYTES + 1),
                self.municipality,
                actor=current_user,
                source_name=upload.filename or "",
            )
        except ImportAborted as exc:
            raise _CalendarRefused([exc.message]) from exc
        if report.errors:
            raise _CalendarRefused([str(error) for error in report.errors])
        return report

    def refused(self, error: DomainError, form: CalendarImportForm):
        if isinstance(error, _CalendarRefused):
            form.calendar_file.errors = [_("Ingenting er importert.")] + error.messages[:20]
            return self.invalid(form)
        return super().refused(error, form)

    def done(self, report):
        flash(_("Skoleruten er importert: %(years)s.", years=report.years_summary()), "success")
        return super().done(report)
