"""Organisation forms, and the field helpers the registration, school, staff and admin forms
share."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from directory.accounts.operations import normalise_email
from directory.accounts.passwords import NewPassword
from directory.activities.uploads import PreparedFile, UploadError, read_image_upload
from directory.forms import Form
from directory.pipeline import VersionedForm
from directory.policy.orgnumber import is_valid_org_number, normalise_org_number
from directory.policy.routing import ORGANISATION_KINDS

KIND_LABELS = {
    "volunteer": _l("Frivillig lag/forening"),
    "municipal": _l("Kommunalt tilbud"),
    "school": _l("Skole/SFO/AKS"),
    "commercial": _l("Kommersiell aktør"),
}
ROLE_LABELS = {"owner": _l("Eier"), "editor": _l("Redaktør")}
VERIFICATION_LABELS = {
    "pending": _l("Venter på verifisering"),
    "verified": _l("Verifisert"),
    "rejected": _l("Avvist"),
}

DESCRIPTION_MAX = 10_000
_PHONE = re.compile(r"^[0-9+()\- ]{5,30}$")


def strip(value):
    """Trim surrounding white space from submitted text."""
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value):
    """Store an empty optional field as NULL, not as an empty string."""
    return value or None


def optional_int(value):
    """Coerce a select's value to int; the empty placeholder becomes None."""
    if value in ("", None):
        return None
    return int(value)


def add_scheme(value):
    """'www.lag.no' is taken as 'https://www.lag.no'."""
    if isinstance(value, str) and value and "://" not in value:
        return "https://" + value
    return value


def http_url(message, *, hosts: tuple[str, ...] = ()):
    """A validator: an http(s) URL with a real host name, optionally on one of `hosts`."""

    def check(form, field):
        if not field.data:
            return
        try:
            parts = urlsplit(field.data)
        except ValueError:
            raise ValidationError(message) from None
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or "." not in host or " " in field.data:
            raise ValidationError(message)
        if hosts and not any(host == h or host.endswith("." + h) for h in hosts):
            raise ValidationError(message)

    return check


def phone_number(form, field):
    """A validator: digits with the usual separators, and at least five digits."""
    if field.data and (not _PHONE.match(field.data) or sum(c.isdigit() for c in field.data) < 5):
        raise ValidationError(_l("Skriv telefonnummeret med siffer, for eksempel 912 34 567."))


def org_number_format(form, field):
    """A validator: a Norwegian organisation number with the right check digit."""
    if field.data and not is_valid_org_number(field.data):
        raise ValidationError(
            _l("Organisasjonsnummeret er ikke gyldig. Det har ni siffer og et kontrollsiffer.")
        )


def password_fields(*, email_field=None, name_field=None, email=None, name=None):
    """The new-password and repeat fields used wherever an account gets a password.

    The password rule (directory.accounts.passwords) refuses the account's own e-mail and name:
    `email_field`/`name_field` name the form's fields holding them; `email`/`name` give them as a
    value or as a callable taking the form (an invited address, say).
    """
    password = PasswordField(
        _l("Passord"),
        validators=[
            DataRequired(_l("Velg et passord.")),
            NewPassword(email_field=email_field, name_field=name_field, email=email, name=name),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("Gjenta passordet"),
        validators=[
            DataRequired(_l("Skriv passordet en gang til.")),
            EqualTo("password", _l("Passordene er ikke like.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, repeat


def kind_choices() -> list[SelectChoice]:
    """The organisation kinds with a placeholder first."""
    return [SelectChoice("", _l("Velg type"))] + [
        SelectChoice(kind, KIND_LABELS[kind]) for kind in ORGANISATION_KINDS
    ]


def role_choices() -> list[SelectChoice]:
    """The member roles."""
    return [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


def required_text_field(label, missing, limit: int, too_long, **render_kw) -> StringField:
    """A required line of text (a name, say) of at most `limit` characters; `missing` and
    `too_long` are the messages when it is empty or too long."""
    return StringField(
        label,
        filters=[strip],
        validators=[DataRequired(missing), Length(max=limit, message=too_long)],
        render_kw=render_kw or None,
    )


def your_name_field() -> StringField:
    """The name of the person making an account."""
    return required_text_field(
        _l("Navnet ditt"),
        _l("Skriv inn navnet ditt."),
        120,
        _l("Navnet kan ha høyst 120 tegn."),
        autocomplete="name",
    )


def email_field(label, missing, **render_kw) -> EmailField:
    """A required e-mail address; `missing` is the message when it is empty."""
    return EmailField(
        label,
        filters=[strip],
        validators=[
            DataRequired(missing),
            Length(max=254, message=_l("E-postadressen kan ha høyst 254 tegn.")),
            Email(_l("Skriv en gyldig e-postadresse.")),
        ],
        render_kw=render_kw or None,
    )


def invitee_email_field(**render_kw) -> EmailField:
    """The address an invitation goes to (organisation members, school staff)."""
    return email_field(
        _l("E-post"), _l("Skriv inn e-postadressen til den du vil invitere."), **render_kw
    )


def org_number_field(label) -> StringField:
    """An optional Norwegian organisation number, checked digit and all."""
    return StringField(
        label,
        filters=[strip, blank_to_none],
        validators=[
            Length(max=30, message=_l("Organisasjonsnummeret har ni siffer.")),
            org_number_format,
        ],
        render_kw={"inputmode": "numeric"},
    )


# The organisation's contact fields, shared by registration and the organisation's edit form.


def website_field(label) -> StringField:
    """An optional http(s) web address; a missing scheme gets https://."""
    return StringField(
        label,
        filters=[strip, add_scheme, blank_to_none],
        validators=[
            Length(max=500, message=_l("Adressen kan ha høyst 500 tegn.")),
            http_url(_l("Skriv en nettadresse, for eksempel https://www.laget.no.")),
        ],
        render_kw={"inputmode": "url"},
    )


def organisation_email_field(label) -> EmailField:
    """An optional e-mail address of the organisation (not of a person's account)."""
    return EmailField(
        label,
        filters=[strip, blank_to_none],
        validators=[
            Optional(),
            Length(max=254, message=_l("E-postadressen kan ha høyst 254 tegn.")),
            Email(_l("Skriv en gyldig e-postadresse.")),
        ],
    )


def phone_field(label, **render_kw) -> StringField:
    """An optional telephone number."""
    return StringField(
        label,
        filters=[strip, blank_to_none],
        validators=[Length(max=30, message=_l("Telefonnummeret er for langt.")), phone_number],
        render_kw={"inputmode": "tel", **render_kw},
    )


class OrganisationForm(VersionedForm):
    """The organisation's public page: name, description and contact details."""

    name = required_text_field(
        _l("Navn på organisasjonen"),
        _l("Skriv inn navnet på organisasjonen."),
        150,
        _l("Navnet kan ha høyst 150 tegn."),
    )
    description = TextAreaField(
        _l("Om organisasjonen"),
        filters=[strip],
        validators=[
            Length(max=DESCRIPTION_MAX, message=_l("Beskrivelsen kan ha høyst 10 000 tegn."))
        ],
    )
    website_url = website_field(_l("Nettside"))
    facebook_page_url = StringField(
        _l("Facebook-side"),
        filters=[strip, add_scheme, blank_to_none],
        validators=[
            Length(max=500, message=_l("Adressen kan ha høyst 500 tegn.")),
            http_url(
                _l(
                    "Skriv adressen til en Facebook-side, for eksempel https://www.facebook.com/laget."
                ),
                hosts=("facebook.com", "fb.com"),
            ),
        ],
        render_kw={"inputmode": "url"},
    )
    email = organisation_email_field(_l("E-post til organisasjonen"))
    phone = phone_field(_l("Telefon"), autocomplete="tel")
    org_number = org_number_field(_l("Organisasjonsnummer"))
    logo = FileField(_l("Logo"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
    remove_logo = BooleanField(_l("Fjern logoen"))

    def __init__(self, *args, organisation=None, **kwargs):
        self.organisation = organisation
        self.prepared_logo: PreparedFile | None = None
        super().__init__(*args, **kwargs)

    def validate_logo(self, field):
        """Check the uploaded logo by its content and keep the cleaned result, as an
        activity's image."""
        if field.data:
            try:
                self.prepared_logo = read_image_upload(field.data)
            except UploadError as exc:
                raise ValidationError(exc.message) from exc

    def validate_org_number(self, field):
        """The number must not belong to another organisation in the same municipality."""
        from directory.organisations.operations import org_number_taken

        if field.data and self.organisation is not None and is_valid_org_number(field.data):
            if org_number_taken(
                self.organisation.municipality_id,
                normalise_org_number(field.data),
                exclude_id=self.organisation.id,
            ):
                raise ValidationError(
                    _l(
                        "En annen organisasjon i kommunen er allerede registrert med dette nummeret."
                    )
                )


class InviteForm(Form):
    """Invite someone by e-mail to join as owner or editor."""

    email = invitee_email_field()
    role = SelectField(
        _l("Rolle"),
        choices=role_choices(),
        default="editor",
        invalid_choice_message=_l("Velg eier eller redaktør."),
    )

    def __init__(self, *args, organisation=None, **kwargs):
        self.organisation = organisation
        super().__init__(*args, **kwargs)

    def validate_email(self, field):
        """Someone who is already a member needs no invitation."""
        if self.organisation is None or not field.data:
            return
        wanted = normalise_email(field.data)
        if any(m.user.email == wanted for m in self.organisation.memberships):
            raise ValidationError(_l("Denne personen er allerede medlem av organisasjonen."))


class RoleForm(Form):
    """Change a member's role."""

    role = SelectField(
        _l("Rolle"),
        choices=role_choices(),
        invalid_choice_message=_l("Velg eier eller redaktør."),
    )


class ConfirmForm(Form):
    """A button with nothing but a CSRF token behind it."""


class InvitationAccountForm(Form):
    """Create an account while accepting an invitation; the e-mail is the invited one."""

    name = your_name_field()
    password, password_repeat = password_fields(
        name_field="name", email=lambda form: form.invited_email
    )

    def __init__(self, *args, email: str = "", **kwargs):
        self.invited_email = email
        super().__init__(*args, **kwargs)
