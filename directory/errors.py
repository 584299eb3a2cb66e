"""What the rules refuse: one exception type that the request pipeline turns into its 4xx."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STALE_MESSAGE = _l(
    "Noen andre har endret dette mens du hadde siden åpen. Ingenting er lagret. "
    "Last inn siden på nytt og prøv igjen."
)


class DomainError(Exception):
    """An act the rules refuse. `message` is for the user, in their language; `status` the
    answer's code (409 by default: the state of the data does not allow it now)."""

    status = 409

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class Stale(DomainError):
    """The object changed (or the form carried no version) since the page was opened."""

    def __init__(self) -> None:
        super().__init__(str(STALE_MESSAGE), 409)
