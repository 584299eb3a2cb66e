"""The short-lived marker between a login's password step and its second step.

It lives in the signed session cookie and names only the user and when it runs out: no session
row exists until the second step is passed, so the password alone opens nothing.
"""

from __future__ import annotations

from flask import current_app, session

from directory.accounts.models import User
from directory.accounts.two_factor import two_step_enabled
from directory.extensions import db
from directory.security import is_safe_next
from directory.timeutil import utcnow

PENDING_KEY = "two_step_pending"


def _now() -> int:
    return int(utcnow().timestamp())


def begin_second_step(user: User, next_url: str | None) -> None:
    """Forget everything in the cookie but a marker that the user's password was right."""
    session.clear()
    session[PENDING_KEY] = {
        "user": user.id,
        "until": _now() + int(current_app.config["TWO_STEP_PENDING_SECONDS"]),
        "next": next_url if is_safe_next(next_url) else None,
    }


def _marker() -> dict | None:
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, dict):
        return None
    if not isinstance(marker.get("user"), int) or not isinstance(marker.get("until"), int):
        return None
    return marker


def pending_user_id() -> int | None:
    """The user id of an unexpired marker (for the per-account throttle), or None."""
    marker = _marker()
    if marker is None or marker["until"] <= _now():
        return None
    return marker["user"]


def pending_user() -> User | None:
    """The active user with the second step on whose password step is recent, or None."""
    marker = _marker()
    if marker is None or marker["until"] <= _now():
        return None
    user = db.session.get(User, marker["user"])
    if user is None or not user.active or not two_step_enabled(user):
        return None
    return user


def pending_next() -> str | None:
    """Where the login was going (checked again: the cookie is signed, but be strict)."""
    marker = _marker() or {}
    target = marker.get("next")
    return target if isinstance(target, str) and is_safe_next(target) else None


def has_pending_marker() -> bool:
    """Whether the cookie holds a marker at all (expired or not)."""
    return PENDING_KEY in session


def clear_pending() -> None:
    """Remove the marker."""
    session.pop(PENDING_KEY, None)
