"""Stored codes in words, in the user's language: for every template, e-mail and view alike."""

from __future__ import annotations

from directory.organisations.forms import KIND_LABELS, ROLE_LABELS, VERIFICATION_LABELS
from directory.schools.staff_forms import STAFF_ROLE_LABELS


def kind_label(kind: str) -> str:
    """The name of an organisation kind."""
    return str(KIND_LABELS.get(kind, kind))


def role_label(role: str) -> str:
    """The name of a member role."""
    return str(ROLE_LABELS.get(role, role))


def verification_label(state: str) -> str:
    """The name of a verification state."""
    return str(VERIFICATION_LABELS.get(state, state))


def staff_role_label(role: str) -> str:
    """A school staff role in words: 'Skoleadministrator', 'Ansatt'."""
    return str(STAFF_ROLE_LABELS.get(role, role))


# The template filters of the same names (registered app-wide in directory.web).
FILTERS = {
    "kind_label": kind_label,
    "role_label": role_label,
    "verification_label": verification_label,
    "staff_role_label": staff_role_label,
}
