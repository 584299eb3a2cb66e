"""The municipal admin's forms."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import WeekInput

from directory.admin.statistics import WeekRange
from directory.approvals.display import parse_week, week_error
from directory.forms import Form
from directory.organisations.forms import strip

REJECTION_REASON_MAX = 500


class RejectForm(Form):
    """Why the organisation is rejected; the organisation's members see the reason."""

    reason = TextAreaField(
        _l("Begrunnelse"),
        filters=[strip],
        validators=[
            DataRequired(_l("Skriv en begrunnelse. Organisasjonen ser den.")),
            Length(max=REJECTION_REASON_MAX, message=_l("Begrunnelsen kan ha høyst 500 tegn.")),
        ],
    )


class StatisticsFilterForm(Form):
    """The statistics page's range of ISO weeks, read from the query string: a GET form, so no
    CSRF token. An empty field leaves that end of the range open."""

    class Meta:
        csrf = False

    # `from` is a Python keyword: the attributes are start and end, the query keeps from and to.
    start = StringField(_l("Fra uke"), name="from", filters=[strip], widget=WeekInput())
    end = StringField(_l("Til uke"), name="to", filters=[strip], widget=WeekInput())

    @staticmethod
    def _read_week(field) -> None:
        """Normalise the field to 'YYYY-Www', or refuse it with the field named."""
        if not field.data:
            return
        week = parse_week(field.data)
        if week is None:
            raise ValidationError(
                _("%(field)s: %(problem)s", field=field.label.text, problem=week_error())
            )
        field.data = week

    def validate_start(self, field) -> None:
        self._read_week(field)

    def validate_end(self, field) -> None:
        self._read_week(field)
        # The start is validated first; 'YYYY-Www' sorts as the weeks follow each other.
        start = self.start.data if not self.start.errors else None
        if start and field.data and start > field.data:
            raise ValidationError(_("Fra uke kan ikke være etter til uke."))

    def week_range(self) -> WeekRange:
        """The validated range; an empty field is an open end."""
        return WeekRange(self.start.data or None, self.end.data or None)
