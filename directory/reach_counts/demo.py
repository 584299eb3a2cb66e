"""The demo's visit counts: a few days of visits through the links of its exported requests,
some of them under 5, so that every page showing counts has something to show."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.policy.reach_counts import OVERVIEW_CHANNEL
from directory.policy.request_states import EXPORTED
from directory.reach_counts.models import ReachCount
from directory.timeutil import to_oslo

DAYS_BACK = 4  # counts for at most the last few days, today included
DAILY_VISITS = (1, 2, 3, 4, 6, 9, 14, 22)  # a day's visits through one link


def add_demo_counts(seed: int, today: date) -> int:
    """Add daily counts for the exported requests, from their export (DAYS_BACK days at most)
    to today, and a few through the week's overview; the number of counter rows added."""
    rng = random.Random(f"reach-counts-{seed}")  # its own generator: the rest of the demo stays
    exported = db.session.execute(
        select(
            DistributionRequest.activity_id,
            DistributionRequest.school_id,
            DistributionRequest.channel,
            DistributionRequest.week,
            DistributionRequest.exported_at,
        )
        .where(DistributionRequest.status == EXPORTED)
        .order_by(DistributionRequest.id)
    ).all()
    counts: dict[tuple, int] = {}
    for activity_id, school_id, channel, week, exported_at in exported:
        first = to_oslo(exported_at).date() if exported_at else today
        day = max(first, today - timedelta(days=DAYS_BACK - 1))
        channels = [channel] + ([OVERVIEW_CHANNEL] if rng.random() < 0.4 else [])
        while day <= today:
            for counted in channels:
                key = (activity_id, school_id, counted, week, day)
                counts[key] = counts.get(key, 0) + rng.choice(DAILY_VISITS)
            day += timedelta(days=1)
    for (activity_id, school_id, channel, week, day), visits in counts.items():
        db.session.add(
            ReachCount(
                activity_id=activity_id,
                school_id=school_id,
                channel=channel,
                week=week,
                day=day,
                visits=visits,
            )
        )
    db.session.flush()
    return len(counts)
