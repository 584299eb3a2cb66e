"""Forms for channel policies: the school's override, the municipal default, a file upload."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from directory.activities.forms import LocalDecimalField, _Range
from directory.forms import Form
from directory.organisations.forms import (
    add_scheme,
    blank_to_none,
    http_url,
    org_number_field,
    required_text_field,
    strip,
)
from directory.pipeline import VersionedForm
from directory.policy.limits import GRADE_RANGE
from directory.policy.orgnumber import is_valid_org_number, normalise_org_number
from directory.policy.routing import MAX_BACKPACK_QUOTA
from directory.policy.school_calendar import MAX_LEAD_DAYS
from directory.weeks import YEAR_OF_WEEKS, coming_weeks, week_choices

INHERIT = "inherit"
ORDER_CHOICES = [("facebook", _l("Facebook først")), ("backpack", _l("Ranselpost først"))]
ON_OFF = [("on", _l("På")), ("off", _l("Av"))]
YES_NO = [("yes", _l("Ja")), ("no", _l("Nei"))]
SAME = (INHERIT, _l("Som kommunen"))
_BOOLS = {"on": True, "off": False, "yes": True, "no": False}


class PolicyForm(VersionedForm):
    """The channel settings. For a school every setting may also be 'as the municipality'."""

    order = SelectField(_l("Rekkefølge etter meldingsappen"))
    facebook_enabled = SelectField(_l("Deling på skolens Facebook-side"))
    backpack_enabled = SelectField(_l("Ranselpost"))
    backpack_weekly_quota = IntegerField(
        _l("Ukekvote for ranselpost"),
        validators=[
            Optional(),
            NumberRange(0, MAX_BACKPACK_QUOTA, _l("Skriv et helt tall fra 0 til %(max)s.")),
        ],
    )
    blackout_inherit = BooleanField(_l("Bruk kommunens stengte uker"))
    # Ticked from a list of weeks with their dates; posted and stored as ISO weeks.
    blackout_weeks = SelectMultipleField(
        _l("Uker uten ranselpost og deling"),
        choices=[],
        validate_choice=False,
        filters=[lambda weeks: [w for w in weeks if w] if weeks else []],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    municipal_in_messaging = SelectField(_l("Kommunale tilbud i meldingsappen"))
    lead_days = IntegerField(
        _l("Frist for forespørsler (dager før uken)"),
        validators=[
            Optional(),
            NumberRange(0, MAX_LEAD_DAYS, _l("Skriv et helt tall fra 0 til %(max)s.")),
        ],
    )

    def __init__(self, *args: Any, override: bool, kept_weeks: Iterable[str] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.override = override
        # This week and the next 51, and the weeks already stored (past ones too), so that
        # nothing stored drops out of the form unseen.
        self._offer_weeks(coming_weeks(YEAR_OF_WEEKS), kept_weeks)
        extra = [SAME] if override else []
        self.order.choices = extra + ORDER_CHOICES
        self.facebook_enabled.choices = extra + ON_OFF
        self.backpack_enabled.choices = extra + ON_OFF
        self.municipal_in_messaging.choices = extra + YES_NO
        if not override:
            del self.blackout_inherit

    def _offer_weeks(self, *weeks: Iterable[str]) -> None:
        offered = [week for week, _label in self.blackout_weeks.choices]
        self.blackout_weeks.choices = week_choices([*offered, *(w for ws in weeks for w in ws)])

    def picked_weeks(self) -> list[str]:
        """The ticked weeks that the form offers (what the page says is chosen)."""
        offered = {week for week, _label in self.blackout_weeks.choices}
        return [week for week in self.blackout_weeks.data or [] if week in offered]

    def validate_blackout_weeks(self, field) -> None:
        offered = {week for week, _label in field.choices}
        if any(week not in offered for week in field.data or []):
            # Not a week the form offers: never echoed back, just what to do.
            raise ValidationError(_l("Velg ukene fra listen."))
        if field.data and self.override and self.blackout_inherit.data:
            # Saving would keep the municipality's weeks and drop these without a word.
            raise ValidationError(
                _l(
                    "Fjern krysset for «Bruk kommunens stengte uker» for å bruke disse ukene, "
                    "eller fjern kryssene ved ukene."
                )
            )

    def fill(self, settings: dict[str, Any]) -> None:
        """Show stored settings; what a school has not set shows as 'as the municipality'."""
        if "order" in settings:
            self.order.data = settings["order"][0]
        elif self.override:
            self.order.data = INHERIT
        for name, yes in (
            ("facebook_enabled", "on"),
            ("backpack_enabled", "on"),
            ("municipal_in_messaging", "yes"),
        ):
            field = getattr(self, name)
            if name in settings:
                field.data = yes if settings[name] else ("off" if yes == "on" else "no")
            elif self.override:
                field.data = INHERIT
        self.backpack_weekly_quota.data = settings.get("backpack_weekly_quota")
        self.lead_days.data = settings.get("lead_days")
        if self.override:
            self.blackout_inherit.data = "blackout_weeks" not in settings
        self._offer_weeks(settings.get("blackout_weeks", []))
        self.blackout_weeks.data = sorted(settings.get("blackout_weeks", []))

    def settings(self) -> dict[str, Any]:
        """The settings the form describes (for a school only those not left to the municipality)."""
        out: dict[str, Any] = {}
        if self.order.data != INHERIT:
            first = self.order.data
            out["order"] = [first, "backpack" if first == "facebook" else "facebook"]
        for name in ("facebook_enabled", "backpack_enabled"):
            if getattr(self, name).data != INHERIT:
                out[name] = _BOOLS[getattr(self, name).data]
        if self.backpack_weekly_quota.data is not None:
            out["backpack_weekly_quota"] = self.backpack_weekly_quota.data
        if not (self.override and self.blackout_inherit.data):
            out["blackout_weeks"] = sorted(set(self.blackout_weeks.data or []))
        if self.municipal_in_messaging.data != INHERIT:
            out["municipal_in_messaging"] = _BOOLS[self.municipal_in_messaging.data]
        if self.lead_days.data is not None:
            out["lead_days"] = self.lead_days.data
        order = ["order", "facebook_enabled", "backpack_enabled", "backpack_weekly_quota",
                 "blackout_weeks", "municipal_in_messaging", "lead_days"]  # fmt: skip
        return {key: out[key] for key in order if key in out}


class PolicyImportForm(Form):
    """Upload a TOML or JSON policy file."""

    policy_file = FileField(
        _l("Fil med retningslinjer (TOML eller JSON)"),
        validators=[FileRequired(_l("Velg en fil."))],
        render_kw={"accept": ".toml,.json,application/json,application/toml"},
    )


# --- the municipal admin's school form ----------------------------------------------------------

MAX_CLASSES, MAX_PUPILS = 50, 2000
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _grade_fields(form_class: type) -> type:
    """Give the form a classes and a pupils field for every possible grade (1–10)."""
    for grade in range(GRADE_RANGE[0], GRADE_RANGE[1] + 1):
        setattr(
            form_class,
            f"classes_{grade}",
            IntegerField(
                _l("Klasser på %(grade)s. trinn", grade=grade),
                validators=[
                    Optional(),
                    _Range(
                        1, MAX_CLASSES, _l("Skriv et helt tall fra 1 til %(max)s.", max=MAX_CLASSES)
                    ),
                ],
                invalid_value_message=_l("Skriv antall klasser som et helt tall."),
                render_kw={"inputmode": "numeric"},
            ),
        )
        setattr(
            form_class,
            f"pupils_{grade}",
            IntegerField(
                _l("Elever på %(grade)s. trinn", grade=grade),
                validators=[
                    Optional(),
                    _Range(
                        0, MAX_PUPILS, _l("Skriv et helt tall fra 0 til %(max)s.", max=MAX_PUPILS)
                    ),
                ],
                invalid_value_message=_l("Skriv antall elever som et helt tall."),
                render_kw={"inputmode": "numeric"},
            ),
        )
    return form_class


@_grade_fields
class SchoolForm(VersionedForm):
    """A school as the municipal admin describes it: grades, channels and aggregate counts only.

    The slug is chosen at creation only (it is in links and exports that people keep); a blank
    one is made from the name.
    """

    name = required_text_field(
        _l("Navn på skolen"),
        _l("Skriv inn navnet på skolen."),
        120,
        _l("Navnet kan ha høyst 120 tegn."),
    )
    slug = StringField(
        _l("Kortnavn i adresser"),
        filters=[strip, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[Length(max=80, message=_l("Kortnavnet kan ha høyst 80 tegn."))],
    )
    org_number = org_number_field(_l("Organisasjonsnummer"))
    grade_min = IntegerField(
        _l("Laveste trinn"),
        validators=[
            InputRequired(_l("Skriv laveste trinn, et tall fra 1 til 10.")),
            _Range(*GRADE_RANGE, _l("Trinnet må være et tall fra 1 til 10.")),
        ],
        invalid_value_message=_l("Skriv trinnet som et helt tall fra 1 til 10."),
        render_kw={"inputmode": "numeric"},
    )
    grade_max = IntegerField(
        _l("Høyeste trinn"),
        validators=[
            InputRequired(_l("Skriv høyeste trinn, et tall fra 1 til 10.")),
            _Range(*GRADE_RANGE, _l("Trinnet må være et tall fra 1 til 10.")),
        ],
        invalid_value_message=_l("Skriv trinnet som et helt tall fra 1 til 10."),
        render_kw={"inputmode": "numeric"},
    )
    area = StringField(
        _l("Område eller bydel"),
        filters=[strip],
        validators=[Length(max=120, message=_l("Området kan ha høyst 120 tegn."))],
    )
    address = StringField(
        _l("Adresse"),
        filters=[strip],
        validators=[Length(max=200, message=_l("Adressen kan ha høyst 200 tegn."))],
    )
    latitude = LocalDecimalField(
        _l("Breddegrad"),
        places=None,
        validators=[
            Optional(),
            _Range(-90, 90, _l("Breddegraden må være mellom -90 og 90.")),
        ],
        invalid_value_message=_l("Skriv breddegraden som et desimaltall, for eksempel 59,7440."),
        render_kw={"inputmode": "decimal"},
    )
    longitude = LocalDecimalField(
        _l("Lengdegrad"),
        places=None,
        validators=[
            Optional(),
            _Range(-180, 180, _l("Lengdegraden må være mellom -180 og 180.")),
        ],
        invalid_value_message=_l("Skriv lengdegraden som et desimaltall, for eksempel 10,2045."),
        render_kw={"inputmode": "decimal"},
    )
    facebook_page_url = StringField(
        _l("Skolens Facebook-side"),
        filters=[strip, add_scheme, blank_to_none],
        validators=[
            Length(max=500, message=_l("Adressen kan ha høyst 500 tegn.")),
            http_url(
                _l(
                    "Skriv adressen til en Facebook-side, for eksempel "
                    "https://www.facebook.com/skolen."
                ),
                hosts=("facebook.com", "fb.com"),
            ),
        ],
        render_kw={"inputmode": "url"},
    )
    accepts_backpack_post = BooleanField(_l("Skolen tar imot ranselpost"))

    def __init__(self, *args: Any, school=None, municipality_id: int, **kwargs: Any):
        self.school = school
        self.municipality_id = municipality_id
        super().__init__(*args, **kwargs)
        if school is not None:
            del self.slug  # fixed after creation

    def validate_slug(self, field) -> None:
        from directory.schools.operations import school_slug_taken

        if not field.data:
            return
        if not SLUG_PATTERN.match(field.data):
            raise ValidationError(
                _l("Bruk bare små bokstaver a–z, sifre og bindestrek, for eksempel fjell-skole.")
            )
        if school_slug_taken(field.data):
            raise ValidationError(_l("Kortnavnet er allerede i bruk av en annen skole."))

    def validate_org_number(self, field) -> None:
        from directory.schools.operations import school_org_number_taken

        if field.data and is_valid_org_number(field.data):
            exclude = self.school.id if self.school is not None else None
            number = normalise_org_number(field.data)
            if school_org_number_taken(self.municipality_id, number, exclude_id=exclude):
                raise ValidationError(
                    _l("En annen skole i kommunen er allerede registrert med dette nummeret.")
                )

    def validate_grade_max(self, field) -> None:
        low = self.grade_min.data
        if field.data is not None and low is not None and not self.grade_min.errors:
            if low > field.data:
                raise ValidationError(_l("Høyeste trinn kan ikke være lavere enn laveste trinn."))

    def validate(self, extra_validators=None) -> bool:
        """The fields, then the counts of each grade in the chosen range: both numbers or none."""
        valid = super().validate(extra_validators)
        lat, lon = self.latitude, self.longitude
        if not (lat.errors or lon.errors) and (lat.data is None) != (lon.data is None):
            blank = lat if lat.data is None else lon
            blank.errors = [
                *blank.errors,
                _l("Fyll inn både breddegrad og lengdegrad, eller ingen av dem."),
            ]
            valid = False
        for grade in self.shown_grades():
            classes, pupils = self.grade_pair(grade)
            if (classes.data is None) != (pupils.data is None) and not (
                classes.errors or pupils.errors
            ):
                blank = classes if classes.data is None else pupils
                blank.errors = [
                    *blank.errors,
                    _l("Fyll inn både klasser og elever for %(grade)s. trinn, eller ingen av dem.",
                       grade=grade),
                ]  # fmt: skip
                valid = False
        return valid

    def grade_pair(self, grade: int):
        """The classes and pupils fields of one grade."""
        return getattr(self, f"classes_{grade}"), getattr(self, f"pupils_{grade}")

    def shown_grades(self) -> list[int]:
        """The grades whose rows the form shows and saves: the chosen range when it is valid,
        otherwise every grade (a new school's first view)."""
        low, high = self.grade_min.data, self.grade_max.data
        if (
            isinstance(low, int)
            and isinstance(high, int)
            and GRADE_RANGE[0] <= low <= high <= GRADE_RANGE[1]
        ):
            return list(range(low, high + 1))
        return list(range(GRADE_RANGE[0], GRADE_RANGE[1] + 1))

    def fill_counts(self, counts: dict[int, tuple[int, int]]) -> None:
        """Show the stored counts (grade -> (classes, pupils))."""
        for grade, (classes, pupils) in counts.items():
            if GRADE_RANGE[0] <= grade <= GRADE_RANGE[1]:
                fields = self.grade_pair(grade)
                fields[0].data, fields[1].data = classes, pupils

    def school_data(self) -> dict[str, Any]:
        """The validated school, with the counts of the grades in its range (unknown left out)."""
        counts = {}
        for grade in range(self.grade_min.data, self.grade_max.data + 1):
            classes, pupils = self.grade_pair(grade)
            if classes.data is not None and pupils.data is not None:
                counts[grade] = (classes.data, pupils.data)
        data = {
            "name": self.name.data,
            "org_number": normalise_org_number(self.org_number.data) or None,
            "grade_min": self.grade_min.data,
            "grade_max": self.grade_max.data,
            "area": self.area.data or "",
            "address": self.address.data or "",
            "latitude": float(self.latitude.data) if self.latitude.data is not None else None,
            "longitude": float(self.longitude.data) if self.longitude.data is not None else None,
            "facebook_page_url": self.facebook_page_url.data,
            "accepts_backpack_post": bool(self.accepts_backpack_post.data),
            "grade_counts": counts,
        }
        if self.school is None:
            data["slug"] = self.slug.data or None
        return data
