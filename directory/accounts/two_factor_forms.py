"""Forms of the two-step login: a code at login, a code to confirm enrolment, and proof of
identity before turning the second step off or replacing the recovery codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from directory.forms import Form
from directory.organisations.forms import strip


class SecondStepForm(Form):
    """The six-digit code from the app, or one recovery code."""

    code = StringField(
        _l("Kode"),
        filters=[strip],
        validators=[
            DataRequired(_l("Skriv inn koden fra appen eller en gjenopprettingskode.")),
            Length(max=40, message=_l("Koden er for lang.")),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class EnrolmentCodeForm(Form):
    """The first code from the app, which shows that it was set up right."""

    code = StringField(
        _l("Kode fra appen"),
        filters=[strip, lambda value: value.replace(" ", "") if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Skriv inn den sekssifrede koden appen viser.")),
            Length(max=20, message=_l("Koden har seks siffer.")),
            Regexp(r"^[0-9]{6}$", message=_l("Koden har seks siffer.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmIdentityForm(Form):
    """The current password or a current code: one of them."""

    password = PasswordField(
        _l("Passordet ditt"),
        validators=[Optional(), Length(max=200, message=_l("Passordet kan ha høyst 200 tegn."))],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("eller en kode fra appen"),
        filters=[strip],
        validators=[Optional(), Length(max=20, message=_l("Koden har seks siffer."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )

    def validate(self, extra_validators=None) -> bool:
        """One of the two must be filled in."""
        if not super().validate(extra_validators):
            return False
        if not self.password.data and not self.code.data:
            self.password.errors.append(
                _l("Skriv inn passordet ditt eller en kode fra appen for å bekrefte.")
            )
            return False
        return True
