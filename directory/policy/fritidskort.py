"""Whether an offer meets the municipality's leisure-card (fritidskort) rules.

Pure: numbers in, a verdict out; standard library only. A municipality may require a minimum
number of sessions in the season and a maximum price; a rule it has not set (None) is met by
every offer. The organiser's form and page show the verdict as a hint, never as a block.
"""

from __future__ import annotations

from dataclasses import dataclass

SESSIONS, PRICE = "sessions", "price"


@dataclass(frozen=True)
class Shortfall:
    """One rule the offer does not meet: what is required and what the offer has."""

    rule: str  # SESSIONS or PRICE
    required: int
    actual: int


@dataclass(frozen=True)
class Readiness:
    """The verdict: `shortfalls` empty means the offer meets every rule that is set."""

    shortfalls: tuple[Shortfall, ...]
    has_rules: bool

    @property
    def ok(self) -> bool:
        return not self.shortfalls


def check_readiness(
    *, sessions: int, price_nok: int, min_sessions: int | None, max_price: int | None
) -> Readiness:
    """Check an offer of `sessions` sessions at `price_nok` kroner against the rules."""
    shortfalls = []
    if min_sessions is not None and sessions < min_sessions:
        shortfalls.append(Shortfall(SESSIONS, min_sessions, sessions))
    if max_price is not None and price_nok > max_price:
        shortfalls.append(Shortfall(PRICE, max_price, price_nok))
    return Readiness(tuple(shortfalls), min_sessions is not None or max_price is not None)
