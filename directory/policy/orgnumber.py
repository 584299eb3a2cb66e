"""Norwegian organisation numbers (organisasjonsnummer): nine digits, mod-11 check digit."""

from __future__ import annotations

_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def normalise_org_number(value: str | None) -> str:
    """Digits only: '921 234 554' and 'NO921234554MVA' become '921234554'."""
    if not value:
        return ""
    text = value.strip().upper().removeprefix("NO").removesuffix("MVA")
    return "".join(ch for ch in text if not ch.isspace() and ch not in ".-")


def check_digit(first_eight: str) -> int | None:
    """The mod-11 check digit for eight digits, or None where no valid number exists."""
    remainder = sum(int(d) * w for d, w in zip(first_eight, _WEIGHTS, strict=True)) % 11
    digit = (11 - remainder) % 11
    return None if digit == 10 else digit


def is_valid_org_number(value: str | None) -> bool:
    """Whether the value is nine digits whose last is the right mod-11 check digit."""
    number = normalise_org_number(value)
    if len(number) != 9 or not number.isascii() or not number.isdigit():
        return False
    if number[0] not in "89":  # Brønnøysund numbers start with 8 or 9
        return False
    return check_digit(number[:8]) == int(number[8])
