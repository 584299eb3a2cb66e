"""Time moves on after indexing: the order and the "not ended" filter follow the clock.

next_start is computed when a document is written. The index also keeps the first upcoming
(start, end) pairs, so "soonest" uses the real next start at query time, and an activity whose
last date has passed drops out, both without a reindex.
"""

from __future__ import annotations

from tests.search.conftest import aware, local_days_ahead


def test_soonest_order_and_ended_activities_follow_the_clock(backend_kind, make_activity, search):
    weekly = make_activity(
        title="Ukentlig",
        schedule={
            "dtstart": local_days_ahead(2, 17),
            "rrule": "FREQ=WEEKLY",
            "duration_minutes": 60,
        },
    )
    make_activity(
        title="Engang",
        schedule={"dtstart": local_days_ahead(4, 17), "rrule": "", "duration_minutes": 60},
    )

    def titles(now):
        return [a.title for a in search(now=now).items]

    assert titles(None) == ["Ukentlig", "Engang"]

    after_first = aware(local_days_ahead(2, 18, 30))
    page = search(now=after_first)
    assert [a.title for a in page.items] == ["Engang", "Ukentlig"]
    assert page.next_starts[weekly.id] == aware(local_days_ahead(9, 17))

    during_first = aware(local_days_ahead(2, 17, 30))  # started, not ended: still "next"
    assert titles(during_first) == ["Ukentlig", "Engang"]

    after_once = aware(local_days_ahead(4, 19))
    assert titles(after_once) == ["Ukentlig"]
    assert search(now=after_once).total == 1

    # Back to the present: nothing was cached for the wrong moment.
    assert titles(None) == ["Ukentlig", "Engang"]
