"""Failed logins, counted per account and per client address in the rate limiter's store.

Flask-Limiter's `deduct_when` tests a limit before the request and counts after it, so workers
that test at the same moment all get through. Here an attempt is counted before the password is
checked (one atomic increment in the store, which Redis shares between workers and hosts), and a
successful one gives its count back: the limit holds exactly however many workers race. The
counts use fixed windows whatever RATELIMIT_STRATEGY says, since only a counter can give back.

The account's key is the e-mail tried, whether or not it has an account (a limit only for real
accounts would tell which exist), hashed so the store holds no e-mail addresses.

When the shared store cannot be reached, the counts go to this process's memory until it can:
the limits then hold per worker, and logging in still works.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from directory.accounts.operations import normalise_email
from directory.errors import DomainError
from directory.extensions import limiter
from directory.i18n import ngettext

log = logging.getLogger("directory.throttle")

Counted = tuple[RateLimitItem, tuple[str, ...]]
# Where the counts go while the shared store is unreachable.
_fallback = MemoryStorage()


class TooManyAttempts(DomainError):
    """A limit is used up (429); `retry_after` is the seconds until it is not."""

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            ngettext(
                "For mange forsøk på å logge inn. Prøv igjen om %(num)d minutt, eller lag et "
                "nytt passord med «Glemt passordet?».",
                "For mange forsøk på å logge inn. Prøv igjen om %(num)d minutter, eller lag et "
                "nytt passord med «Glemt passordet?».",
                minutes,
            ),
            429,
        )
        self.retry_after = retry_after


@dataclass
class LoginAttempt:
    """The counts one login attempt took, in `storage`; `succeeded()` gives them back."""

    storage: Storage
    counted: list[Counted] = field(default_factory=list)

    def succeeded(self) -> None:
        """A right password is no guess: give the attempt back."""
        try:
            _give_back(self.storage, self.counted)
        except Exception:  # the store went away meanwhile: the count stays, nothing worse
            log.exception("could not give a login attempt back to the rate-limit store")
        self.counted = []


def begin_login_attempt(email: str) -> LoginAttempt:
    """Count a login attempt for the account and the client address, before the password is
    checked; raise TooManyAttempts (counting nothing) when either limit is used up."""
    config = current_app.config
    checks = (
        (config["LOGIN_RATE_LIMIT"], _account_identity(email)),
        (config["LOGIN_ADDRESS_RATE_LIMIT"], _identity("login-address", get_remote_address())),
    )
    try:
        return _count(limiter.storage, checks)
    except TooManyAttempts:
        raise
    except Exception:  # Redis down or unreachable: whatever its client raises
        log.exception("rate-limit store unreachable: counting failed logins in this process")
        return _count(_fallback, checks)


def _count(storage: Storage, checks) -> LoginAttempt:
    strategy = FixedWindowRateLimiter(storage)
    attempt = LoginAttempt(storage)
    for limits, identity in checks:
        for item in parse_many(limits):
            attempt.counted.append((item, identity))
            if not strategy.hit(item, *identity):
                reset = strategy.get_window_stats(item, *identity).reset_time
                _give_back(storage, attempt.counted)
                raise TooManyAttempts(max(1, math.ceil(reset - time.time())))
    return attempt


def forget_failed_logins(email: str) -> None:
    """Clear the account's failed logins: its owner has just proved to hold the mailbox."""
    for storage in (limiter.storage, _fallback):
        strategy = FixedWindowRateLimiter(storage)
        try:
            for item in parse_many(current_app.config["LOGIN_RATE_LIMIT"]):
                strategy.clear(item, *_account_identity(email))
        except Exception:
            log.exception("could not clear an account's failed logins in the rate-limit store")


def login_address_limit() -> str:
    """The per-address limit of a login step (for a Flask-Limiter decorator)."""
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def signed_in_key() -> str:
    """A Flask-Limiter key for a signed-in user's own page: the account, not the address that a
    whole school may share."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address() or ""


def _account_identity(email: str) -> tuple[str, ...]:
    digest = hashlib.sha256(normalise_email(email)[:254].encode()).hexdigest()[:32]
    return _identity("login-account", digest)


def _identity(kind: str, value: str | None) -> tuple[str, ...]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    return (prefix, kind, value or "") if prefix else (kind, value or "")


def _give_back(storage: Storage, counted: list[Counted]) -> None:
    for item, identity in counted:
        key = item.key_for(*identity)
        # Only into the window it was taken from: an expired count stays expired.
        if storage.get(key) > 0:
            storage.incr(key, item.get_expiry(), amount=-1)
