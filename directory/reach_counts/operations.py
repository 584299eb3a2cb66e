"""Counting a visit through an export's short link: one upsert, nothing about the visitor.

The link's school, channel and week are checked here; what the visitor sends besides (address,
user agent, cookies, referrer) is never read. Over the per-address limit a visit is not
counted; the address is held only by the rate limiter's store, which forgets it when its window
ends, as for every limited page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from directory.activities.models import Activity
from directory.extensions import db, limiter
from directory.policy.reach_counts import is_reach_channel, week_is_countable
from directory.reach_counts.models import ReachCount
from directory.schools.models import School
from directory.weeks import parse_week, week_monday

log = logging.getLogger("directory.reach_counts")

# The columns that name one counter row (its unique constraint).
COUNTER_KEY = ("activity_id", "school_id", "channel", "week", "day")


@dataclass(frozen=True)
class Visit:
    """One visit to count: which activity, through which school's export of which channel and
    week, on which day (Oslo's date)."""

    activity_id: int
    school_id: int
    channel: str
    week: str
    day: date


def link_visit(activity: Activity, s: str, c: str, w: str, today: date) -> Visit | None:
    """The visit a short link's parameters describe, or None when they name no school of the
    activity's municipality, no channel the exports write, or no week near today."""
    week = parse_week(w)
    if not is_reach_channel(c) or week is None or not s or len(s) > 80:
        return None
    if not week_is_countable(week_monday(week), today):
        return None
    school_id = db.session.scalar(
        select(School.id).where(
            School.slug == s, School.municipality_id == activity.organisation.municipality_id
        )
    )
    if school_id is None:
        return None
    return Visit(activity.id, school_id, c, week, today)


def upsert_statement(dialect_name: str, visit: Visit) -> Insert:
    """INSERT … ON CONFLICT DO UPDATE visits = visits + 1: one statement, safe when two
    visits race (the database serialises them on the unique key, on SQLite and PostgreSQL)."""
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(ReachCount).values(
        activity_id=visit.activity_id,
        school_id=visit.school_id,
        channel=visit.channel,
        week=visit.week,
        day=visit.day,
        visits=1,
    )
    return statement.on_conflict_do_update(
        index_elements=list(COUNTER_KEY), set_={"visits": ReachCount.visits + 1}
    )


def count_visit(visit: Visit) -> None:
    """Add one to the visit's counter row (made with 1 when there is none). Flushes nothing
    else and does not commit: the caller commits at once, in a transaction of its own."""
    db.session.execute(upsert_statement(db.engine.dialect.name, visit))


def within_count_limit() -> bool:
    """Whether this client address may add another visit (REACH_COUNT_RATE_LIMIT): a loop
    stops counting, while its link keeps working."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    identity = ("reach-count", get_remote_address() or "")
    if prefix:
        identity = (prefix, *identity)
    strategy = FixedWindowRateLimiter(limiter.storage)
    # Every window is hit, so that a visit refused by the hourly one still counts in the daily.
    results = [
        strategy.hit(item, *identity)
        for item in parse_many(current_app.config["REACH_COUNT_RATE_LIMIT"])
    ]
    return all(results)
