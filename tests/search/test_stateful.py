"""Random sequences of changes, committed or rolled back, never leave the index behind.

A Hypothesis state machine creates, edits, publishes, unpublishes, cancels, archives and deletes
activities, changes their schedules, rejects and verifies organisations, and commits or rolls
back (or leaves the change pending for the next step); after every step check_index() must find
the index and the committed database in agreement.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from directory.activities.models import Activity, Category, Schedule
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.schools.models import Municipality
from directory.search.service import check_index
from directory.timeutil import utcnow
from tests.conftest import clear_index, empty_database
from tests.search.conftest import local_days_ahead

WORDS = ["Fotballtrening", "Svømmekurs", "Barnekoret", "Sjakk", "Klatring", "Dans"]
STATES = ["draft", "published", "cancelled", "archived"]
VERIFICATIONS = ["pending", "verified", "rejected"]
WHEN = {
    "weekly": lambda: {"dtstart": local_days_ahead(3, 17), "rrule": "FREQ=WEEKLY"},
    "once": lambda: {"dtstart": local_days_ahead(10, 18), "rrule": ""},
    "past": lambda: {"dtstart": local_days_ahead(-10, 18), "rrule": ""},
}
# What happens after a change: mostly committed, sometimes rolled back or left pending.
THEN = st.sampled_from(["commit", "commit", "commit", "rollback", "pending"])


def _finish(then: str) -> None:
    if then == "commit":
        db.session.commit()
    elif then == "rollback":
        db.session.rollback()


class IndexFollowsDatabase(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        empty_database()
        clear_index()
        municipality = Municipality(slug="drammen", name="Drammen")
        db.session.add_all(
            [
                Organisation(municipality=municipality, slug=f"org-{n}", name=f"Lag {n}",
                             kind="volunteer", verification="verified")
                for n in range(2)
            ]
            + [Category(slug="sport", name_nb="Sport", name_nn="Sport", name_en="Sport")]
        )  # fmt: skip
        db.session.commit()

    def _activities(self) -> list[Activity]:
        return list(db.session.scalars(select(Activity).order_by(Activity.id)))

    def _organisations(self) -> list[Organisation]:
        return list(db.session.scalars(select(Organisation).order_by(Organisation.id)))

    def _has_activities(self) -> bool:
        return bool(db.session.scalar(select(func.count(Activity.id))))

    def _add(self, org: int, status: str, word: str, when: str, categorised: bool) -> None:
        activity = Activity(
            organisation=self._organisations()[org], title=word, age_min=6, age_max=12,
            status=status, published_at=utcnow() if status != "draft" else None,
            category=db.session.scalar(select(Category)) if categorised else None,
        )  # fmt: skip
        activity.schedules.append(Schedule(duration_minutes=60, **WHEN[when]()))
        db.session.add(activity)

    @initialize()
    def some_published_activities(self):
        self._add(0, "published", "Fotballtrening", "weekly", True)
        self._add(1, "published", "Svømmekurs", "once", False)
        db.session.commit()

    @rule(org=st.integers(0, 1), status=st.sampled_from(STATES), word=st.sampled_from(WORDS),
          when=st.sampled_from(sorted(WHEN)), categorised=st.booleans(), then=THEN)  # fmt: skip
    def create(self, org, status, word, when, categorised, then):
        self._add(org, status, word, when, categorised)
        _finish(then)

    @precondition(_has_activities)
    @rule(pick=st.integers(0, 50), word=st.sampled_from(WORDS), then=THEN)
    def edit_title(self, pick, word, then):
        activities = self._activities()
        activities[pick % len(activities)].title = f"{word} {pick}"
        _finish(then)

    @precondition(_has_activities)
    @rule(pick=st.integers(0, 50), when=st.sampled_from(sorted(WHEN)), then=THEN)
    def change_schedule(self, pick, when, then):
        activities = self._activities()
        schedule = activities[pick % len(activities)].schedules[0]
        for name, value in WHEN[when]().items():
            setattr(schedule, name, value)
        _finish(then)

    @precondition(_has_activities)
    @rule(pick=st.integers(0, 50), status=st.sampled_from(STATES), then=THEN)
    def change_status(self, pick, status, then):  # publish, unpublish, cancel, archive
        activities = self._activities()
        activities[pick % len(activities)].status = status
        _finish(then)

    @precondition(_has_activities)
    @rule(pick=st.integers(0, 50), then=THEN)
    def delete(self, pick, then):
        activities = self._activities()
        db.session.delete(activities[pick % len(activities)])
        _finish(then)

    @rule(org=st.integers(0, 1), verification=st.sampled_from(VERIFICATIONS), then=THEN)
    def verify_or_reject(self, org, verification, then):
        self._organisations()[org].verification = verification
        _finish(then)

    @rule(org=st.integers(0, 1), word=st.sampled_from(WORDS), then=THEN)
    def rename_organisation(self, org, word, then):
        self._organisations()[org].name = f"{word}klubben"
        _finish(then)

    @invariant()
    def index_agrees_with_the_committed_database(self):
        diff = check_index()
        assert diff.clean, diff

    def teardown(self):
        db.session.rollback()


def test_random_changes_keep_check_index_clean(app):
    run_state_machine_as_test(
        IndexFollowsDatabase,
        settings=settings(max_examples=20, stateful_step_count=15, deadline=None, database=None),
    )
