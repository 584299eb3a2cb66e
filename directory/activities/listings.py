"""Listings that stay current: the one SQL condition for "confirmed, not expired", and the
signed one-click «Fortsatt aktuell» link e-mailed by `review-listings`.

The rule itself (default date, expiry, reminder days) is pure: directory.policy.listing_dates.

The link carries the activity, the member it was sent to and the `confirmed_until` it was sent
about, signed with the app's secret under a salt of its own, valid LINK_MAX_AGE. Renewing moves
`confirmed_until` (always to a later date: a reminder is due only near the old one), so a link
works once: used a second time, or after the listing was renewed otherwise, its date no longer
matches and it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.activities.models import Activity
from directory.extensions import db
from directory.permissions import can_edit_organisation
from directory.policy.activity_states import PUBLIC_STATES
from directory.timeutil import OSLO, utcnow

LINK_SALT = "directory.listing-confirmation"
LINK_MAX_AGE = timedelta(days=30)
MAX_LINK_LENGTH = 400  # longer than any link this module signs


def oslo_today(now: datetime | None = None) -> date:
    """Today's date in Oslo (at `now`, by default the current time)."""
    return (now or utcnow()).astimezone(OSLO).date()


def current_listing_condition(today: date) -> ColumnElement[bool]:
    """SQL: the activity's listing has not expired on `today` (no date counts as current)."""
    return or_(Activity.confirmed_until.is_(None), Activity.confirmed_until >= today)


def listed_conditions(today: date | None = None) -> list[ColumnElement[bool]]:
    """SQL (joined with Organisation): a public activity (directory.search.documents.
    public_conditions) whose listing has not expired on `today` (Oslo; by default now)."""
    from directory.search.documents import public_conditions

    return [*public_conditions(), current_listing_condition(today or oslo_today())]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def confirmation_token(activity: Activity, user_id: int) -> str:
    """The signed token of the «Fortsatt aktuell» link for this activity, sent to this member."""
    confirmed = activity.confirmed_until.isoformat() if activity.confirmed_until else ""
    return _serializer().dumps({"a": activity.id, "u": user_id, "c": confirmed})


@dataclass(frozen=True)
class LinkClaim:
    """What a well-signed, unexpired link says: the activity, the member, the date it was for."""

    activity_id: int
    user_id: int
    confirmed_until: str


class LinkRefused(Exception):
    """A link that does not work; `reason` is 'invalid' (forged, garbled) or 'expired'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_confirmation_token(token: str) -> LinkClaim:
    """The claim of a link's token; LinkRefused when it is forged, garbled or too old."""
    if not token or len(token) > MAX_LINK_LENGTH:
        raise LinkRefused("invalid")
    try:
        data = _serializer().loads(token, max_age=int(LINK_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise LinkRefused("expired") from None
    except BadSignature:
        raise LinkRefused("invalid") from None
    try:
        return LinkClaim(int(data["a"]), int(data["u"]), str(data["c"]))
    except (KeyError, TypeError, ValueError):
        raise LinkRefused("invalid") from None


@dataclass(frozen=True)
class ConfirmationLink:
    """A link that works: the activity to renew and the member it was sent to."""

    activity: Activity
    user: User


def resolve_confirmation_link(token: str) -> ConfirmationLink:
    """The activity and member of a «Fortsatt aktuell» link that may be used now.

    LinkRefused with reason 'invalid' (forged, garbled, no such activity), 'expired' (older than
    LINK_MAX_AGE), 'used' (the listing's date has moved since: renewed by this link or
    otherwise), 'member' (the member has left the organisation) or 'not_public' (a draft or
    archived activity, which publishing confirms).
    """
    claim = read_confirmation_token(token)
    activity = db.session.scalar(
        select(Activity)
        .where(Activity.id == claim.activity_id)
        .options(selectinload(Activity.organisation))
    )
    if activity is None:
        raise LinkRefused("invalid")
    current = activity.confirmed_until.isoformat() if activity.confirmed_until else ""
    if current != claim.confirmed_until:
        raise LinkRefused("used")
    user = db.session.get(User, claim.user_id)
    if user is None or not user.active or not can_edit_organisation(user, activity.organisation):
        raise LinkRefused("member")
    if activity.status not in PUBLIC_STATES:
        raise LinkRefused("not_public")
    return ConfirmationLink(activity, user)
