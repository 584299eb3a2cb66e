"""Account forms: logging in and registering an organisation."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from directory.accounts.models import User
from directory.extensions import db
from directory.forms import Form
from directory.organisations.forms import (
    KIND_LABELS,
    email_field,
    kind_choices,
    optional_int,
    org_number_field,
    organisation_email_field,
    password_fields,
    phone_field,
    required_text_field,
    website_field,
    your_name_field,
)
from directory.policy.orgnumber import is_valid_org_number, normalise_org_number
from directory.schools.models import Municipality


class LoginForm(Form):
    """E-mail and password."""

    email = EmailField(
        _l("E-post"),
        validators=[
            DataRequired(_l("Skriv inn e-postadressen din.")),
            Length(max=254, message=_l("E-postadressen kan ha høyst 254 tegn.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Passord"),
        validators=[
            DataRequired(_l("Skriv inn passordet ditt.")),
            Length(max=200, message=_l("Passordet kan ha høyst 200 tegn.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class OrganisationRegistrationForm(Form):
    """A new organisation: the part of registration a signed-in user fills in too."""

    municipality = SelectField(
        _l("Kommune"),
        coerce=optional_int,
        validators=[DataRequired(_l("Velg kommunen organisasjonen hører til."))],
        invalid_value_message=_l("Velg en kommune fra listen."),
        invalid_choice_message=_l("Velg en kommune fra listen."),
    )
    org_name = required_text_field(
        _l("Navn på organisasjonen"),
        _l("Skriv inn navnet på organisasjonen."),
        150,
        _l("Navnet kan ha høyst 150 tegn."),
    )
    kind = SelectField(
        _l("Type organisasjon"),
        choices=kind_choices(),
        validators=[DataRequired(_l("Velg hva slags organisasjon dette er."))],
        invalid_choice_message=_l("Velg en type fra listen."),
    )
    org_number = org_number_field(_l("Organisasjonsnummer (valgfritt)"))
    website_url = website_field(_l("Nettside (valgfritt)"))
    contact_email = organisation_email_field(_l("E-post til organisasjonen (valgfritt)"))
    phone = phone_field(_l("Telefon (valgfritt)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        municipalities = db.session.scalars(select(Municipality).order_by(Municipality.name)).all()
        choices = [SelectChoice(str(m.id), m.name) for m in municipalities]
        if len(municipalities) == 1:
            # Nothing to choose: the only municipality is preselected.
            if self.municipality.data is None:
                self.municipality.data = municipalities[0].id
        else:
            choices.insert(0, SelectChoice("", _l("Velg kommune")))
        self.municipality.choices = choices
        self.municipalities = municipalities

    def validate_org_number(self, field):
        """One organisation number is registered once per municipality."""
        from directory.organisations.operations import org_number_taken

        # Only a municipality from the list: any other id is the municipality field's error,
        # and one past the id range must not reach the database.
        known = self.municipality.data in {m.id for m in self.municipalities}
        if field.data and known and is_valid_org_number(field.data):
            if org_number_taken(self.municipality.data, normalise_org_number(field.data)):
                raise ValidationError(
                    _l(
                        "Dette organisasjonsnummeret er allerede registrert i kommunen. "
                        "Be en eier av organisasjonen om å invitere deg i stedet."
                    )
                )


class RegistrationForm(OrganisationRegistrationForm):
    """A new account and a new organisation in one go.

    Whether the e-mail has an account is not the form's to say (anyone could ask it): the view
    answers alike and tells the account's owner by e-mail.
    """

    name = your_name_field()
    email = email_field(
        _l("E-postadressen din"), _l("Skriv inn e-postadressen din."), autocomplete="email"
    )
    password, password_repeat = password_fields(email_field="email", name_field="name")


class ChangePasswordForm(Form):
    """The current password, and the new one twice."""

    current_password = PasswordField(
        _l("Nåværende passord"),
        validators=[
            DataRequired(_l("Skriv inn passordet du har nå.")),
            Length(max=200, message=_l("Passordet kan ha høyst 200 tegn.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = password_fields(
        email=lambda form: form.user.email, name=lambda form: form.user.name
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


class PasswordResetRequestForm(Form):
    """The e-mail address to send a reset link to."""

    email = email_field(
        _l("E-postadressen til kontoen"),
        _l("Skriv inn e-postadressen din."),
        autocomplete="email",
    )


class PasswordResetForm(Form):
    """A new password, twice, for the account of a reset link."""

    password, password_confirm = password_fields(
        email=lambda form: form.user.email, name=lambda form: form.user.name
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


__all__ = [
    "KIND_LABELS",
    "ChangePasswordForm",
    "LoginForm",
    "OrganisationRegistrationForm",
    "PasswordResetForm",
    "PasswordResetRequestForm",
    "RegistrationForm",
]
