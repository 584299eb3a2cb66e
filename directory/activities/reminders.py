"""`flask review-listings`: remind organisations that their listings run out.

Each member (owner or editor) of the organisation gets an e-mail REMINDER_DAYS before the
listing's `confirmed_until` (directory.policy.listing_dates), with a one-click «Fortsatt
aktuell» link (directory.activities.listings). Every mail that went is stored (ListingReminder)
and committed at once, so that a second run, the same day or after a crash, sends nothing twice;
a mail that failed is not stored and is tried again by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.activities.listings import LINK_MAX_AGE, confirmation_token, oslo_today
from directory.activities.models import Activity, ListingReminder
from directory.extensions import db
from directory.mail import send_email
from directory.organisations.models import Membership, Organisation
from directory.policy.activity_states import PUBLISHED
from directory.policy.listing_dates import REMINDER_DAYS, reminder_due

MEMBER_ROLES = ("owner", "editor")


@dataclass
class ReviewResult:
    """What a run did: e-mails sent and failed, and the activities reminded about."""

    sent: int = 0
    failed: int = 0
    activities: int = 0


def _due_activities(today) -> list[Activity]:
    """Published activities of organisations that are not rejected whose date is near."""
    return list(
        db.session.scalars(
            select(Activity)
            .join(Organisation, Activity.organisation_id == Organisation.id)
            .where(
                Activity.status == PUBLISHED,
                Organisation.verification != "rejected",
                Activity.confirmed_until >= today,
                Activity.confirmed_until <= today + timedelta(days=max(REMINDER_DAYS)),
            )
            .options(
                selectinload(Activity.organisation)
                .selectinload(Organisation.memberships)
                .selectinload(Membership.user)
            )
            .order_by(Activity.confirmed_until, Activity.id)
        )
    )


def _already_sent(activity: Activity, days: int) -> set[int]:
    return set(
        db.session.scalars(
            select(ListingReminder.user_id).where(
                ListingReminder.activity_id == activity.id,
                ListingReminder.confirmed_until == activity.confirmed_until,
                ListingReminder.days_before == days,
            )
        )
    )


def review_listings(*, base_url: str, now: datetime | None = None) -> ReviewResult:
    """Send the reminders due today (Oslo); links are built on `base_url` (the public site,
    with its path prefix if it has one)."""
    today = oslo_today(now)
    result = ReviewResult()
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with current_app.test_request_context("/", base_url=base_url.rstrip("/") + "/"):
        for activity in _due_activities(today):
            days = reminder_due(activity.confirmed_until, today)
            if days is None:
                continue
            done = _already_sent(activity, days)
            members = [
                m.user
                for m in activity.organisation.memberships
                if m.role in MEMBER_ROLES and m.user.active and m.user.id not in done
            ]
            if members:
                result.activities += 1
            for user in sorted(members, key=lambda u: u.id):
                token = confirmation_token(activity, user.id)
                went = send_email(
                    user.email,
                    "listing_reminder",
                    locale=user.locale,
                    name=user.name,
                    activity=activity,
                    organisation=activity.organisation,
                    confirmed_until=activity.confirmed_until,
                    days_left=(activity.confirmed_until - today).days,
                    link_days=LINK_MAX_AGE.days,
                    confirm_url=origin + url_for("activities.confirm_listing_by_link", token=token),
                    manage_url=origin
                    + url_for("activities.list_manage", slug=activity.organisation.slug),
                    activity_url=origin
                    + url_for("activities.show_activity", activity_id=activity.id),
                )
                if not went:
                    result.failed += 1
                    continue
                db.session.add(
                    ListingReminder(
                        activity_id=activity.id,
                        user_id=user.id,
                        confirmed_until=activity.confirmed_until,
                        days_before=days,
                    )
                )
                db.session.commit()  # stored as soon as it went: a crash later resends nothing
                result.sent += 1
    return result
