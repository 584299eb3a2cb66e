"""The password rule with its messages, the common-password list, and a WTForms validator."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from wtforms.validators import ValidationError

from directory.i18n import gettext as _
from directory.policy.passwords import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    PasswordProblem,
    check_password,
    fold,
)

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"

__all__ = [
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "NewPassword",
    "common_passwords",
    "password_problem",
]


@cache
def common_passwords() -> frozenset[str]:
    """The 100,000 most common passwords, folded; read once per process, on first use."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(fold(line) for line in lines if line.strip())


def _message(problem: PasswordProblem) -> str:
    messages = {
        PasswordProblem.TOO_SHORT: _(
            "Passordet må ha minst %(min)d tegn. Et par ord med mellomrom er lett å huske.",
            min=PASSWORD_MIN,
        ),
        PasswordProblem.TOO_LONG: _("Passordet kan ha høyst %(max)d tegn.", max=PASSWORD_MAX),
        PasswordProblem.COMMON: _(
            "Dette passordet er blant de mest brukte og lette å gjette. Velg et annet."
        ),
        PasswordProblem.EMAIL: _("Passordet kan ikke være e-postadressen din."),
        PasswordProblem.NAME: _("Passordet kan ikke være navnet ditt."),
    }
    return messages[problem]


def password_problem(
    password: str, *, email: str | None = None, name: str | None = None
) -> str | None:
    """None when the password is acceptable, else a message in the user's language saying why."""
    problem = check_password(password or "", common=common_passwords(), email=email, name=name)
    return None if problem is None else _message(problem)


class NewPassword:
    """A WTForms validator for a new password; the e-mail and name come from other fields of the
    form (by field name) or are given as values, e.g. the invited address or the signed-in user's.
    """

    def __init__(
        self,
        *,
        email_field: str | None = None,
        name_field: str | None = None,
        email=None,
        name=None,
    ):
        self.email_field = email_field
        self.name_field = name_field
        self.email = email
        self.name = name

    def _value(self, form, field_name, fixed):
        if field_name and field_name in form:
            data = form[field_name].data
            if isinstance(data, str) and data.strip():
                return data
        value = fixed(form) if callable(fixed) else fixed
        return value or None

    def __call__(self, form, field):
        if not field.data:
            return  # "required" is another validator's message
        message = password_problem(
            field.data,
            email=self._value(form, self.email_field, self.email),
            name=self._value(form, self.name_field, self.name),
        )
        if message:
            raise ValidationError(message)
