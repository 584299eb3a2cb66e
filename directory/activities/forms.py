"""Activity forms: the organiser's activity form and the small status-action forms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from directory.activities.languages import (
    DEFAULT_LANGUAGES,
    LANGUAGE_CODES,
    language_name,
    parse_languages,
    stored_languages,
)
from directory.activities.schedule import (
    build_rrule,
    format_local_list,
    parse_local_list,
    rule_dates,
    summarise_rule,
)
from directory.activities.uploads import (
    PreparedFile,
    UploadError,
    read_flyer_upload,
    read_image_upload,
)
from directory.forms import Form
from directory.i18n import gettext as _
from directory.pipeline import VersionedForm
from directory.policy.limits import AGE_RANGE, PRICE_RANGE
from directory.timeutil import oslo_now
from directory.venues.models import Venue
from directory.venues.operations import KnownVenue

REPEAT_CHOICES = [
    SelectChoice("once", _l("Én gang")),
    SelectChoice("weekly", _l("Hver uke")),
    SelectChoice("biweekly", _l("Annenhver uke")),
]
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%H.%M"]
MAX_LISTED_DATES = 100
NEW_VENUE = "new"  # the venue choice for a place written in by hand
FACEBOOK_HOSTS = ("facebook.com", "fb.com", "fb.me")
SCHEDULE_FIELDS = (
    "first_date",
    "start_time",
    "end_time",
    "repeat",
    "until",
    "except_dates",
    "extra_dates",
)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _normalise_tags(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return ", ".join(t.strip() for t in value.split(",") if t.strip())


def _optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


def parse_date_list(text: str | None) -> tuple[list[date], list[str]]:
    """Dates written as 24.12.2026 or 2026-12-24, separated by commas, semicolons or lines.

    Returns the dates and the pieces that were not dates.
    """
    found, bad = [], []
    for piece in re.split(r"[,;\s]+", text or ""):
        if not piece:
            continue
        for fmt in DATE_FORMATS:
            try:
                found.append(datetime.strptime(piece, fmt).date())
                break
            except ValueError:
                continue
        else:
            bad.append(piece)
    return found, bad


def format_date_list(values: list[date]) -> str:
    """Dates as the form shows them: 24.12.2026, one a line."""
    return "\n".join(f"{d.day}.{d.month}.{d.year}" for d in sorted(set(values)))


def _short(value: date) -> str:
    return f"{value.day}.{value.month}.{value.year}"


class _Range(NumberRange):
    """NumberRange that stays quiet when the value could not even be read as a number.

    The field already says what is wrong then; a second "must be between" adds nothing.
    """

    def __call__(self, form, field):
        if field.data is None and field.process_errors:
            return
        super().__call__(form, field)


class LocalDecimalField(DecimalField):
    """A decimal number that also accepts a decimal comma, as Norwegians write it."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [v.replace(",", ".").strip() for v in valuelist]
        try:
            super().process_formdata(valuelist)
        except (ValueError, InvalidOperation) as exc:
            raise ValueError(self.invalid_value_message) from exc
        if self.data is not None and not self.data.is_finite():
            # Decimal accepts "NaN" and "Infinity", which no coordinate is.
            self.data = None
            raise ValueError(self.invalid_value_message)


class LanguagesField(SelectMultipleField):
    """Tick boxes for the listed languages. Free text sent in their place ("norsk, engelsk",
    from an older form or a script) is read as the languages it names."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        codes: list[str] = []
        for value in valuelist:
            for code in parse_languages(value):
                if code not in codes:
                    codes.append(code)
        self.data = codes


def _web_url(form, field) -> None:
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("Skriv en fullstendig nettadresse som begynner med https://."))


def _facebook_url(form, field) -> None:
    if not field.data:
        return
    host = (urlsplit(field.data).hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in FACEBOOK_HOSTS):
        raise ValidationError(
            _("Lenken må gå til et innlegg på Facebook (facebook.com, fb.com eller fb.me).")
        )


class ActivityForm(VersionedForm):
    """Everything an organiser writes about an activity, and one schedule."""

    title = StringField(
        _l("Tittel"),
        validators=[
            DataRequired(_l("Skriv inn en tittel.")),
            Length(max=150, message=_l("Tittelen kan ha høyst 150 tegn.")),
        ],
        filters=[_strip],
    )
    summary = TextAreaField(
        _l("Kort om aktiviteten"),
        validators=[Length(max=300, message=_l("Ingressen kan ha høyst 300 tegn."))],
        filters=[_strip],
        render_kw={"rows": 2},
    )
    description = TextAreaField(
        _l("Beskrivelse"),
        validators=[Length(max=20000, message=_l("Beskrivelsen kan ha høyst 20 000 tegn."))],
        filters=[_strip],
        render_kw={"rows": 10},
    )
    category_id = SelectField(
        _l("Kategori"),
        coerce=_optional_int,
        choices=[],
        invalid_choice_message=_l("Velg en kategori fra listen."),
    )
    tags = StringField(
        _l("Stikkord"),
        validators=[Length(max=300, message=_l("Stikkordene kan ha høyst 300 tegn til sammen."))],
        filters=[_normalise_tags],
    )
    age_min = IntegerField(
        _l("Alder fra"),
        validators=[
            InputRequired(_l("Skriv inn laveste alder.")),
            _Range(*AGE_RANGE, message=_l("Alderen må være mellom 0 og 25 år.")),
        ],
        invalid_value_message=_l("Skriv alderen som et helt tall."),
        render_kw={"min": AGE_RANGE[0], "max": AGE_RANGE[1], "inputmode": "numeric"},
    )
    age_max = IntegerField(
        _l("Alder til"),
        validators=[
            InputRequired(_l("Skriv inn høyeste alder.")),
            _Range(*AGE_RANGE, message=_l("Alderen må være mellom 0 og 25 år.")),
        ],
        invalid_value_message=_l("Skriv alderen som et helt tall."),
        render_kw={"min": AGE_RANGE[0], "max": AGE_RANGE[1], "inputmode": "numeric"},
    )
    price_nok = IntegerField(
        _l("Pris i kroner"),
        validators=[
            Optional(),
            _Range(*PRICE_RANGE, message=_l("Prisen må være mellom 0 og 100 000 kroner.")),
        ],
        invalid_value_message=_l("Skriv prisen som et helt antall kroner, uten «kr»."),
        default=0,
        render_kw={"min": 0, "inputmode": "numeric"},
    )
    price_note = StringField(
        _l("Om prisen"),
        validators=[Length(max=200, message=_l("Høyst 200 tegn."))],
        filters=[_strip],
    )
    # A place used before (the organisation's own, or another in the municipality), or a new
    # one written in the two fields below; a known place brings its coordinates along.
    venue_choice = SelectField(
        _l("Sted"),
        choices=[],
        default=NEW_VENUE,
        invalid_choice_message=_l("Stedet finnes ikke i listen lenger. Velg et sted på nytt."),
    )
    venue = StringField(
        _l("Navn på nytt sted"),
        validators=[Length(max=150, message=_l("Høyst 150 tegn."))],
        filters=[_strip],
    )
    address = StringField(
        _l("Adresse til nytt sted"),
        validators=[Length(max=200, message=_l("Høyst 200 tegn."))],
        filters=[_strip],
    )
    latitude = LocalDecimalField(
        _l("Breddegrad"),
        places=None,
        validators=[
            Optional(),
            _Range(-90, 90, message=_l("Breddegraden må være mellom -90 og 90.")),
        ],
        invalid_value_message=_l("Skriv breddegraden som et desimaltall, for eksempel 59,7440."),
    )
    longitude = LocalDecimalField(
        _l("Lengdegrad"),
        places=None,
        validators=[
            Optional(),
            _Range(-180, 180, message=_l("Lengdegraden må være mellom -180 og 180.")),
        ],
        invalid_value_message=_l("Skriv lengdegraden som et desimaltall, for eksempel 10,2045."),
    )
    venue_accessibility = TextAreaField(
        _l("Om tilgjengeligheten på det nye stedet"),
        validators=[Length(max=2000, message=_l("Høyst 2000 tegn."))],
        filters=[_strip],
        render_kw={"rows": 2},
    )
    accessibility = TextAreaField(
        _l("Tilgjengelighet"),
        validators=[Length(max=2000, message=_l("Høyst 2000 tegn."))],
        filters=[_strip],
        render_kw={"rows": 3},
    )
    accessible = BooleanField(_l("Tilrettelagt for barn med funksjonsnedsettelser"))
    fritidskort = BooleanField(_l("Kan betales med fritidskortet"))
    trial_session = BooleanField(_l("Gratis prøvetime"))
    equipment_provided = BooleanField(_l("Utstyr lånes ut eller trengs ikke"))
    languages = LanguagesField(
        _l("Språk"),
        default=list(DEFAULT_LANGUAGES),
        invalid_choice_message=_l("Velg språk fra listen, eller skriv dem under «Andre språk»."),
    )
    other_languages = StringField(
        _l("Andre språk"),
        validators=[Length(max=80, message=_l("Høyst 80 tegn."))],
        filters=[_strip],
    )
    registration_url = URLField(
        _l("Lenke til påmelding"),
        validators=[Optional(), Length(max=500, message=_l("Høyst 500 tegn.")), _web_url],
        filters=[_strip],
    )
    facebook_post_url = URLField(
        _l("Lenke til innlegget på Facebook"),
        validators=[
            Optional(),
            Length(max=500, message=_l("Høyst 500 tegn.")),
            _web_url,
            _facebook_url,
        ],
        filters=[_strip],
    )
    capacity = IntegerField(
        _l("Antall plasser"),
        validators=[
            Optional(),
            _Range(1, 100000, message=_l("Antall plasser må være minst 1.")),
        ],
        invalid_value_message=_l("Skriv antall plasser som et helt tall."),
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    image = FileField(_l("Bilde"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
    image_alt = StringField(
        _l("Bildetekst for skjermlesere"),
        validators=[Length(max=200, message=_l("Høyst 200 tegn."))],
        filters=[_strip],
    )
    remove_image = BooleanField(_l("Fjern bildet"))
    flyer = FileField(_l("Flygeblad (PDF)"), render_kw={"accept": "application/pdf"})
    remove_flyer = BooleanField(_l("Fjern flygebladet"))
    # Shown to, and kept for, school organisations only (the operations force it off otherwise).
    school_business = BooleanField(_l("Dette er en skolesak (SFO/AKS-plass, fravær, samtykke)"))

    first_date = DateField(
        _l("Første dato"),
        format=DATE_FORMATS,
        validators=[InputRequired(_l("Velg første dato."))],
        invalid_value_message=_l("Skriv datoen som 24.12.2026 eller 2026-12-24."),
    )
    start_time = TimeField(
        _l("Starter kl."),
        format=TIME_FORMATS,
        validators=[InputRequired(_l("Skriv inn når aktiviteten starter."))],
        invalid_value_message=_l("Skriv klokkeslettet som 17:00."),
    )
    end_time = TimeField(
        _l("Slutter kl."),
        format=TIME_FORMATS,
        validators=[InputRequired(_l("Skriv inn når aktiviteten slutter."))],
        invalid_value_message=_l("Skriv klokkeslettet som 18:30."),
    )
    repeat = SelectField(
        _l("Gjentas"),
        choices=REPEAT_CHOICES,
        default="once",
        invalid_choice_message=_l("Velg en av gjentakelsene i listen."),
    )
    until = DateField(
        _l("Siste dato"),
        format=DATE_FORMATS,
        validators=[Optional()],
        invalid_value_message=_l("Skriv datoen som 24.12.2026 eller 2026-12-24."),
    )
    except_dates = TextAreaField(
        _l("Unntatt datoer"),
        validators=[Length(max=3000, message=_l("For mye tekst."))],
        render_kw={"rows": 3},
    )
    extra_dates = TextAreaField(
        _l("Ekstra datoer"),
        validators=[Length(max=3000, message=_l("For mye tekst."))],
        render_kw={"rows": 3},
    )

    def __init__(
        self,
        *args,
        categories=(),
        locale: str = "nb",
        stored_image: bool = False,
        initial_schedule: dict[str, Any] | None = None,
        venues: Sequence[KnownVenue] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.languages.choices = [(code, language_name(code, locale)) for code in LANGUAGE_CODES]
        self.venues = {str(known.venue.id): known.venue for known in venues}
        own_group, other_group = _("Steder dere har brukt"), _("Andre steder i kommunen")
        self.venue_choice.choices = [SelectChoice(NEW_VENUE, _("Nytt sted (skriv inn under)"))]
        self.venue_choice.choices += [
            SelectChoice(
                str(known.venue.id),
                known.venue.label,
                optgroup=own_group if known.own else other_group,
            )
            for known in venues
        ]
        self.category_id.choices = [SelectChoice("", _("Ingen kategori"))] + [
            SelectChoice(str(c.id), c.name_in(locale)) for c in categories
        ]
        self.stored_image = stored_image
        # The schedule as the form first showed it; an untouched schedule is kept as stored.
        self.initial_schedule = initial_schedule
        self.prepared_image: PreparedFile | None = None
        self.prepared_flyer: PreparedFile | None = None
        self._except: list[date] = []
        self._extra: list[date] = []

    # -- single-field checks -------------------------------------------------------------

    def validate_image(self, field) -> None:
        """Check the uploaded image by its content and keep the cleaned result."""
        if field.data:
            try:
                self.prepared_image = read_image_upload(field.data)
            except UploadError as exc:
                raise ValidationError(exc.message) from exc

    def validate_flyer(self, field) -> None:
        """Check the uploaded flyer and keep it."""
        if field.data:
            try:
                self.prepared_flyer = read_flyer_upload(field.data)
            except UploadError as exc:
                raise ValidationError(exc.message) from exc

    def validate_first_date(self, field) -> None:
        """A first date within reason: this century and not more than three years ahead."""
        if field.data is None:
            return
        if field.data < date(2000, 1, 1):
            raise ValidationError(_("Datoen er for langt tilbake i tid."))
        if field.data > oslo_now().date() + relativedelta(years=3):
            raise ValidationError(_("Første dato kan ikke være mer enn tre år fram i tid."))

    # -- checks across fields ------------------------------------------------------------

    def schedule_changed(self) -> bool:
        """Whether the schedule fields differ from what the form showed first."""
        if self.initial_schedule is None:
            return True
        return any(
            " ".join((getattr(self, name).raw_data or [""])[0].split())
            != _as_text(self.initial_schedule[name])
            for name in SCHEDULE_FIELDS
        )

    def validate(self, extra_validators=None) -> bool:
        """Validate every field, then the rules that tie fields together."""
        ok = super().validate(extra_validators)

        def fail(field, message: str) -> None:
            nonlocal ok
            field.errors.append(message)
            ok = False

        if (
            self.age_min.data is not None
            and self.age_max.data is not None
            and not self.age_min.errors
            and not self.age_max.errors
            and self.age_min.data > self.age_max.data
        ):
            fail(self.age_max, _("Høyeste alder kan ikke være lavere enn laveste alder."))

        lat, lon = self.latitude, self.longitude
        new_place = (self.venue, self.address, lat, lon, self.venue_accessibility)
        if self.chosen_venue() is not None:
            typed = [f for f in new_place if f.data not in (None, "")]
            for typed_field in typed:
                fail(
                    typed_field,
                    _("Du har valgt et sted fra listen. Velg «Nytt sted» for å skrive inn et "
                      "annet sted, eller tøm feltet."),
                )  # fmt: skip
        if not lat.errors and not lon.errors:
            if lat.data is not None and lon.data is None:
                fail(lon, _("Fyll inn lengdegraden også, eller ingen av dem."))
            elif lon.data is not None and lat.data is None:
                fail(lat, _("Fyll inn breddegraden også, eller ingen av dem."))
        if (
            self.chosen_venue() is None
            and not self.venue.data
            and not self.address.data
            and any(f.data not in (None, "") for f in (lat, lon, self.venue_accessibility))
        ):
            fail(self.venue, _("Skriv navnet på stedet, eller velg et sted fra listen."))

        if not self.image_alt.errors and not self.image_alt.data:
            keeps_image = self.stored_image and not self.remove_image.data
            if self.prepared_image is not None or keeps_image:
                fail(
                    self.image_alt,
                    _("Beskriv bildet med noen ord for dem som ikke kan se det."),
                )

        if self.schedule_changed():
            ok = self._validate_schedule(fail) and ok
        return ok

    def _validate_schedule(self, fail) -> bool:
        ok = True

        def failed(field, message):
            nonlocal ok
            fail(field, message)
            ok = False

        first, start, end = self.first_date.data, self.start_time.data, self.end_time.data
        if start and end and not self.end_time.errors and end <= start:
            failed(self.end_time, _("Sluttidspunktet må være etter starttidspunktet."))

        repeating = self.repeat.data in ("weekly", "biweekly")
        until = self.until.data
        # A first date that failed its own check may be near year 9999, where adding 18 months
        # overflows the calendar; its error is already shown.
        first_ok = first is not None and not self.first_date.errors
        if repeating and not self.until.errors:
            if until is None:
                failed(self.until, _("Velg siste dato for en aktivitet som gjentas."))
            elif first_ok and until <= first:
                failed(self.until, _("Siste dato må være etter første dato."))
            elif first_ok and until > first + relativedelta(months=18):
                failed(self.until, _("Siste dato kan være høyst 18 måneder etter første dato."))
        if not repeating:
            until = None

        self._except, bad_except = parse_date_list(self.except_dates.data)
        self._extra, bad_extra = parse_date_list(self.extra_dates.data)
        for field, bad, dates in (
            (self.except_dates, bad_except, self._except),
            (self.extra_dates, bad_extra, self._extra),
        ):
            if bad:
                failed(
                    field,
                    _(
                        "Dette er ikke datoer: %(bad)s. Skriv datoer som 24.12.2026 eller 2026-12-24.",
                        bad=", ".join(bad[:5]),
                    ),
                )
            elif len(dates) > MAX_LISTED_DATES:
                failed(field, _("Høyst %(n)s datoer.", n=MAX_LISTED_DATES))

        schedule_ready = first is not None and not self.first_date.errors and not self.until.errors
        if not schedule_ready or not ok:
            return ok

        rule = rule_dates(first, self.repeat.data, until)
        not_in_rule = sorted(set(self._except) - set(rule))
        if not_in_rule:
            failed(
                self.except_dates,
                _(
                    "Disse datoene er ikke blant datoene aktiviteten gjentas på: %(dates)s.",
                    dates=", ".join(_short(d) for d in not_in_rule),
                ),
            )
        last_allowed = first + relativedelta(months=18)
        outside = sorted(d for d in self._extra if d <= first or d > last_allowed)
        if outside:
            failed(
                self.extra_dates,
                _(
                    "Ekstra datoer må komme etter første dato og høyst 18 måneder senere: %(dates)s.",
                    dates=", ".join(_short(d) for d in outside),
                ),
            )
        if ok and not (set(rule) - set(self._except)) | set(self._extra):
            failed(self.except_dates, _("Alle datoene er unntatt, så aktiviteten har ingen dato."))
        return ok

    # -- values for the operations -------------------------------------------------------

    def chosen_venue(self) -> Venue | None:
        """The known venue picked from the list, or None for a new one (typed in)."""
        return self.venues.get(self.venue_choice.data or NEW_VENUE)

    def new_venue_values(self) -> dict[str, Any]:
        """The new place as typed: name, address, coordinates and accessibility notes (for
        directory.venues.operations.venue_for; empty name and address mean no place)."""
        return {
            "name": self.venue.data or "",
            "address": self.address.data or "",
            "latitude": _coordinate(self.latitude.data),
            "longitude": _coordinate(self.longitude.data),
            "accessibility": self.venue_accessibility.data or "",
        }

    def languages_value(self) -> str:
        """The languages to store: the ticked codes, then any others as written."""
        values = list(self.languages.data or [])
        for value in parse_languages(self.other_languages.data):
            if value not in values:
                values.append(value)
        return stored_languages(values)

    def activity_values(self) -> dict[str, Any]:
        """The Activity columns the form sets (files are handled by the view)."""
        return {
            "title": self.title.data,
            "summary": self.summary.data or "",
            "description": self.description.data or "",
            "category_id": self.category_id.data,
            "tags": self.tags.data or "",
            "age_min": self.age_min.data,
            "age_max": self.age_max.data,
            "price_nok": self.price_nok.data or 0,
            "price_note": self.price_note.data or "",
            "accessibility": self.accessibility.data or "",
            "accessible": bool(self.accessible.data),
            "fritidskort": bool(self.fritidskort.data),
            "trial_session": bool(self.trial_session.data),
            "equipment_provided": bool(self.equipment_provided.data),
            "languages": self.languages_value(),
            "registration_url": self.registration_url.data or None,
            "facebook_post_url": self.facebook_post_url.data or None,
            "capacity": self.capacity.data,
            "image_alt": self.image_alt.data or "",
            "school_business": bool(self.school_business.data),
        }

    def schedule_values(self) -> dict[str, Any] | None:
        """The Schedule columns from the form, or None when the schedule was left untouched."""
        if not self.schedule_changed():
            return None
        start_time: time = self.start_time.data
        dtstart = datetime.combine(self.first_date.data, start_time)
        end = datetime.combine(self.first_date.data, self.end_time.data)
        repeating = self.repeat.data in ("weekly", "biweekly")
        return {
            "dtstart": dtstart,
            "duration_minutes": int((end - dtstart) / timedelta(minutes=1)),
            "rrule": build_rrule(self.repeat.data, self.until.data if repeating else None),
            "exdates": format_local_list(datetime.combine(d, start_time) for d in self._except),
            "rdates": format_local_list(datetime.combine(d, start_time) for d in self._extra),
        }


def _coordinate(value: Decimal | None) -> Decimal | None:
    return None if value is None else round(value, 6)


def schedule_form_data(schedule) -> dict[str, Any]:
    """A stored schedule as the values of the form's schedule fields."""
    start = schedule.dtstart
    end = start + timedelta(minutes=schedule.duration_minutes)
    summary = summarise_rule(schedule)
    return {
        "first_date": start.date(),
        "start_time": start.time(),
        "end_time": end.time(),
        "repeat": summary.repeat or "weekly",
        "until": summary.until if summary.repeat != "once" else None,
        "except_dates": format_date_list([d.date() for d in parse_local_list(schedule.exdates)]),
        "extra_dates": format_date_list([d.date() for d in parse_local_list(schedule.rdates)]),
    }


def activity_form_data(activity) -> dict[str, Any]:
    """An activity's stored values as the form's initial data."""
    data = {
        name: getattr(activity, name)
        for name in (
            "title", "summary", "description", "category_id", "tags", "age_min", "age_max",
            "price_nok", "price_note", "accessibility", "accessible", "languages", "registration_url", "facebook_post_url",
            "capacity", "image_alt", "version", "school_business", "fritidskort",
            "trial_session", "equipment_provided",
        )
    }  # fmt: skip
    languages = parse_languages(activity.languages)
    data["languages"] = [value for value in languages if value in LANGUAGE_CODES]
    data["other_languages"] = ", ".join(v for v in languages if v not in LANGUAGE_CODES)
    if activity.schedules:
        data.update(schedule_form_data(activity.schedules[0]))
    return data


def _as_text(value: Any) -> str:
    """A schedule field's value as the form writes it, whitespace-insensitive."""
    if value is None:
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


class StatusForm(VersionedForm):
    """A status button: publish, unpublish, cancel (with an optional public note) or archive."""

    note = StringField(
        _l("Merknad (vises offentlig)"),
        validators=[Length(max=300, message=_l("Merknaden kan ha høyst 300 tegn."))],
        filters=[_strip],
    )
    return_to = HiddenField(validators=[Optional(), AnyOf(["list", "detail"])])


class TranslationForm(VersionedForm):
    """The activity's title, summary and description in one other language; the same limits as
    the activity form. Carries the activity's version: a save elsewhere meanwhile is a 409."""

    # The activity form's own fields (labels, limits, messages).
    title = ActivityForm.title
    summary = ActivityForm.summary
    description = ActivityForm.description


class ConfirmListingForm(Form):
    """The «Fortsatt aktuell» button: one click renews the listing. `return_to` says which page
    to go back to (the activity's page, else the organisation's list)."""

    return_to = HiddenField()
