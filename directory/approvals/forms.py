"""Forms of the request workflow: the organiser's request and withdrawal, the school's review."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from directory.approvals.display import parse_week
from directory.approvals.operations import SchoolChoice
from directory.forms import Form
from directory.i18n import gettext as _
from directory.organisations.forms import strip
from directory.pipeline import VersionedForm
from directory.policy.request_states import (
    MAX_REASON_LENGTH,
    REQUESTABLE_CHANNELS,
    STATE_NAMES,
    STATES,
)
from directory.schools.models import School
from directory.weeks import not_a_week_message, week_choices, week_in_text

# --- organiser: sending and withdrawing requests ----------------------------------------------


@dataclass(frozen=True)
class SchoolOption:
    """A school on the organiser's request page: why it cannot be asked (None when it can),
    and the grades the activity fits there."""

    school: School
    problem: str | None
    grades: tuple[int, ...]


class RequestSchoolsForm(Form):
    """The organiser's request: one week, the schools to ask and the grades to address at each.

    The schools and their grades are the page's own rows (`options`, set by the view for the
    posted week before validating): a school the page says cannot be asked, one it does not
    list, or a grade outside the activity's age group is refused with the school named.
    """

    week = HiddenField()
    schools = SelectMultipleField(_l("Skoler"), validate_choice=False)
    grades = SelectMultipleField(_l("Trinn"), validate_choice=False)

    options: dict[str, SchoolOption]
    week_refused: bool = False

    def __init__(
        self,
        *args,
        options: dict[str, SchoolOption] | None = None,
        weeks: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.options = options or {}
        self.weeks = list(weeks or [])

    def posted_week(self) -> str | None:
        """The posted week when it is a real ISO week."""
        return parse_week(self.week.data or "")

    def validate_week(self, field) -> None:
        """The week must be one the page offers (`weeks`, set by the view): anything else did
        not come from the page, so it is a 400 that says what to do, never echoing the value."""
        week = self.posted_week()
        if week is not None and week in self.weeks:
            return
        self.week_refused = True
        if week is not None and self.weeks and week < self.weeks[0]:
            raise ValidationError(
                _(
                    "Den valgte uken er passert (%(week)s). Velg en uke fra listen.",
                    week=week_in_text(week),
                )
            )
        raise ValidationError(not_a_week_message())

    def _option(self, slug: str) -> SchoolOption:
        option = self.options.get(slug)
        if option is None:
            raise ValidationError(
                _("Skolen «%(slug)s» er ikke blant skolene tilbudet kan nå.", slug=slug)
            )
        return option

    def validate_schools(self, field) -> None:
        slugs = list(dict.fromkeys(field.data or []))
        if not slugs:
            raise ValidationError(_("Velg minst én skole."))
        for slug in slugs:
            option = self._option(slug)
            if option.problem is not None:
                raise ValidationError(
                    _("%(school)s: %(problem)s", school=option.school.name, problem=option.problem)
                )

    def _picked_grades(self) -> dict[str, set[int]]:
        """The ticked grades per school slug; raises ValidationError for a value not on the page."""
        picked: dict[str, set[int]] = {}
        for value in self.grades.data or []:
            slug, _sep, number = value.rpartition(":")
            if not number.isascii() or not number.isdigit() or len(number) > 2:
                raise ValidationError(_("«%(value)s» er ikke et trinn.", value=value))
            option = self._option(slug)
            grade = int(number)
            if grade not in option.grades:
                raise ValidationError(
                    _(
                        "%(school)s: %(grades)s. trinn passer ikke aldersgruppen til tilbudet.",
                        school=option.school.name,
                        grades=grade,
                    )
                )
            picked.setdefault(slug, set()).add(grade)
        return picked

    def validate_grades(self, field) -> None:
        picked = self._picked_grades()
        for slug in dict.fromkeys(self.schools.data or []):
            option = self.options.get(slug)
            if option is not None and option.problem is None and not picked.get(slug):
                raise ValidationError(
                    _("Velg minst ett trinn for %(school)s.", school=option.school.name)
                )

    def choices(self) -> list[SchoolChoice]:
        """The validated choice: each school with the grades ticked for it."""
        picked = self._picked_grades()
        return [
            SchoolChoice(self.options[slug].school, tuple(sorted(picked[slug])))
            for slug in dict.fromkeys(self.schools.data)
        ]


class WithdrawRequestForm(VersionedForm):
    """The organiser's withdraw button: the request's version, and which list to go back to."""

    return_to = HiddenField(validators=[Optional(), AnyOf(["activity", "organisation"])])


# --- both: the request lists' status filter and page number ---------------------------------


def status_field(default: str) -> SelectField:
    """A request list's status choice: one state, or "all" (the form fills in the choices)."""
    return SelectField(
        _l("Status"),
        default=default,
        choices=[],
        invalid_choice_message=_l("Velg en status fra listen."),
    )


class RequestListFilterForm(Form):
    """A request list's status filter and page, read from the query string: a GET form, so no
    CSRF token. Page numbers are checked as text, so that 5,000 digits are refused, not parsed.
    """

    class Meta:
        csrf = False

    status = status_field(default="all")
    page = StringField(_l("Side"), filters=[strip])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [(state, _(STATE_NAMES[state])) for state in STATES]
        self.status.choices.append(("all", _("alle")))

    def validate_page(self, field) -> None:
        value = field.data or "1"
        if not (
            value.isascii() and value.isdigit() and len(value) <= 5 and 1 <= int(value) <= 10000
        ):
            raise ValidationError(_("Sidetallet må være et helt tall fra 1."))

    def page_number(self) -> int:
        """The requested page (1 when none was given)."""
        return int(self.page.data or "1")

    def chosen_states(self) -> tuple[str, ...]:
        """The states the list shows."""
        return STATES if self.status.data == "all" else (self.status.data,)


# --- school staff: reviewing requests ------------------------------------------------------------

# Requests in one bulk approval: more than a page of the inbox is a mistake, not a review.
MAX_BULK = 200


class InboxFilterForm(RequestListFilterForm):
    """The inbox filters, read from the query string: a GET form, so no CSRF token.

    The view sets the channel choices (their labels name the municipality's messaging app).
    """

    # Waiting requests first: they are what the inbox is for.
    status = status_field(default="pending")
    # Picked from a list (the view passes the weeks); the query keeps the ISO week, '2026-W50'.
    week = SelectField(_l("Uke"), default="", choices=[], filters=[strip], validate_choice=False)
    channel = SelectField(
        _l("Kanal"), default="", choices=[], invalid_choice_message=_l("Velg en kanal fra listen.")
    )

    def __init__(
        self,
        *args,
        channel_labels: dict[str, str] | None = None,
        weeks: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        labels = channel_labels or {}
        self.channel.choices = [("", _("Alle kanaler"))] + [
            (channel, labels.get(channel, channel)) for channel in REQUESTABLE_CHANNELS
        ]
        self.week.choices = [("", _("Alle uker")), *week_choices(weeks or [])]

    def validate_week(self, field) -> None:
        """A week from the list, kept as 'YYYY-Www'; anything else is refused without being
        echoed."""
        if not field.data:
            return
        week = parse_week(field.data)
        if week is None or week not in {value for value, _label in field.choices}:
            raise ValidationError(not_a_week_message())
        field.data = week


class ApproveRequestForm(VersionedForm):
    """The approve button on a request: the version the reviewer saw."""


class RejectRequestForm(VersionedForm):
    """Rejecting a request: a reason the organiser sees, and the version the reviewer saw."""

    reason = TextAreaField(
        _l("Begrunnelse til arrangøren"),
        filters=[strip],
        validators=[
            DataRequired(_l("Skriv en begrunnelse: arrangøren ser den.")),
            Length(
                max=MAX_REASON_LENGTH,
                message=_l("Begrunnelsen kan være på høyst %(max)s tegn.", max=MAX_REASON_LENGTH),
            ),
        ],
    )


class BulkApproveForm(Form):
    """The inbox's approve-the-ticked-ones button: request ids, and the filters to go back to."""

    requests = SelectMultipleField(
        _l("Forespørsler"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Kryss av for minst én forespørsel."))],
    )
    return_week = HiddenField(filters=[strip])
    return_channel = HiddenField(validators=[Optional(), AnyOf(REQUESTABLE_CHANNELS)])

    def validate_requests(self, field) -> None:
        if len(field.data) > MAX_BULK:
            raise ValidationError(
                _("Du kan godkjenne høyst %(max)s forespørsler om gangen.", max=MAX_BULK)
            )
        if any(not 1 <= value <= 2**31 - 1 for value in field.data):
            raise ValidationError(_("Ukjent forespørsel."))

    def return_filters(self) -> dict[str, str]:
        """The inbox filters the button was pressed under, when they are valid."""
        filters = {}
        week = parse_week(self.return_week.data or "")
        if week is not None:
            filters["week"] = week
        if self.return_channel.data:
            filters["channel"] = self.return_channel.data
        return filters
