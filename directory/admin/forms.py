"""The municipal admin's forms."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from directory.admin.statistics import WeekRange
from directory.approvals.display import parse_week
from directory.forms import Form
from directory.i18n import gettext as _
from directory.organisations.forms import (
    org_number_field,
    organisation_email_field,
    required_text_field,
    strip,
)
from directory.pipeline import VersionedForm
from directory.weeks import not_a_week_message, week_choices

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
    """The statistics page's range of weeks, picked from a list and read from the query
    string (ISO weeks, '2026-W48'): a GET form, so no CSRF token. «Ingen grense» leaves that
    end of the range open."""

    class Meta:
        csrf = False

    # `from` is a Python keyword: the attributes are start and end, the query keeps from and to.
    start = SelectField(_l("Fra uke"), name="from", filters=[strip], validate_choice=False)
    end = SelectField(_l("Til uke"), name="to", filters=[strip], validate_choice=False)

    def __init__(self, *args, weeks: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Ingen grense")), *week_choices(weeks or [])]
        choices.sort(key=lambda choice: choice[0] or "9999", reverse=True)  # newest first
        self.start.choices = self.end.choices = choices

    @staticmethod
    def _read_week(field) -> None:
        """Normalise the field to 'YYYY-Www', or refuse a value not on the list with the field
        named (never echoing it)."""
        if not field.data:
            return
        week = parse_week(field.data)
        if week is None or week not in {value for value, _label in field.choices}:
            raise ValidationError(
                _("%(field)s: %(problem)s", field=field.label.text, problem=not_a_week_message())
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


class MunicipalitySettingsForm(VersionedForm):
    """The municipality's name, its messaging app's label, its number and its contact address
    (which the privacy and accessibility statements name); its version is a digest of the
    stored settings (`municipality_fingerprint`)."""

    name = required_text_field(
        _l("Kommunens navn"),
        _l("Skriv inn navnet på kommunen."),
        120,
        _l("Navnet kan ha høyst 120 tegn."),
    )
    messaging_label = required_text_field(
        _l("Navnet på skolenes meldingsapp"),
        _l("Skriv hva meldingsappen heter, for eksempel Vigilo."),
        60,
        _l("Navnet kan ha høyst 60 tegn."),
    )
    org_number = org_number_field(_l("Organisasjonsnummer"))
    contact_email = organisation_email_field(_l("E-post for personvern og tilgjengelighet"))
    # The leisure-card (fritidskort) rules; empty: no such rule.
    fritidskort_min_sessions = IntegerField(
        _l("Fritidskortet: minste antall ganger"),
        validators=[
            Optional(),
            NumberRange(1, 500, message=_l("Antall ganger må være et helt tall fra 1 til 500.")),
        ],
        invalid_value_message=_l("Skriv antall ganger som et helt tall, eller la feltet stå tomt."),
    )
    fritidskort_max_price = IntegerField(
        _l("Fritidskortet: høyeste pris i kroner"),
        validators=[
            Optional(),
            NumberRange(
                0, 100_000, message=_l("Prisen må være et helt antall kroner fra 0 til 100 000.")
            ),
        ],
        invalid_value_message=_l(
            "Skriv prisen som et helt antall kroner, eller la feltet stå tomt."
        ),
    )


CATEGORY_NAME_MAX = 80


def _category_name(label) -> StringField:
    return required_text_field(
        label,
        _l("Skriv inn navnet på alle tre språk."),
        CATEGORY_NAME_MAX,
        _l("Navnet kan ha høyst 80 tegn."),
    )


class CategoryForm(VersionedForm):
    """A category's name in bokmål, nynorsk and English; the slug is made from bokmål once.

    A rename carries a digest of the stored names (`category_fingerprint`); a new category has
    nothing to be stale against."""

    name_nb = _category_name(_l("Navn på bokmål"))
    name_nn = _category_name(_l("Navn på nynorsk"))
    name_en = _category_name(_l("Navn på engelsk"))

    def __init__(self, *args, category=None, **kwargs):
        self.category = category
        super().__init__(*args, **kwargs)

    def validate_name_nb(self, field) -> None:
        from directory.admin.operations import category_name_taken

        exclude = self.category.id if self.category is not None else None
        if field.data and category_name_taken(field.data, exclude_id=exclude):
            raise ValidationError(_("Det finnes allerede en kategori med dette navnet."))
