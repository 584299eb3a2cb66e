"""The password rule (OWASP ASVS 6.2): length, common passwords, the account's own e-mail or name.

No composition rules: any characters are allowed, spaces and emoji included. The check answers
with a problem code; the caller turns it into a message in the user's language.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Container

PASSWORD_MIN = 10
PASSWORD_MAX = 200


class PasswordProblem(enum.Enum):
    """Why a password is refused."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    EMAIL = "email"
    NAME = "name"


def fold(text: str) -> str:
    """The form passwords are compared in: Unicode NFKC, case-folded, without surrounding space."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def password_length(password: str) -> int:
    """The length the rule counts: characters (code points) after NFKC normalisation."""
    return len(unicodedata.normalize("NFKC", password))


def check_password(
    password: str,
    *,
    common: Container[str],
    email: str | None = None,
    name: str | None = None,
) -> PasswordProblem | None:
    """The first problem with the password, or None when it is acceptable.

    `common` holds the common passwords in folded form. The e-mail counts as a whole address and
    by its local part; the name as a whole (an account named "Kari" may still use a long
    passphrase that contains "kari").
    """
    length = password_length(password)
    if length < PASSWORD_MIN:
        return PasswordProblem.TOO_SHORT
    if length > PASSWORD_MAX:
        return PasswordProblem.TOO_LONG
    folded = fold(password)
    if email:
        address = fold(email)
        local = address.rpartition("@")[0] if "@" in address else address
        if folded in {address, local}:
            return PasswordProblem.EMAIL
    if name and folded == fold(name):
        return PasswordProblem.NAME
    if folded in common:
        return PasswordProblem.COMMON
    return None
