"""Two approvals racing for the last backpack-post place of a week: one wins, one is refused.

Each approval runs in its own thread with its own app context, database session and
connection, as two staff members' requests would on a server. approve_request takes a write
lock on the school's row before it re-checks the quota, so the second approval counts the
first one's place. Runs on SQLite (a file database: conftest) and on PostgreSQL (DATABASE_URL).

The "decided" probe holds each approval just after its re-check, before it writes anything,
until the other has re-checked too (or a second has passed): that is the interleaving in which
a missing lock lets both win, and the control test shows the probe does produce it.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from directory.accounts.models import User
from directory.approvals import operations
from directory.approvals.display import upcoming_weeks
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    RequestError,
    SchoolChoice,
    approve_request,
    create_requests,
)
from directory.audit.models import AuditEvent
from directory.extensions import db

# How long an approval that has re-checked waits for the other one to re-check too. With the
# lock the other cannot get there, so this wait runs out; it must stay well below SQLite's busy
# timeout (5 s), which the blocked approval is waiting under meanwhile.
PROBE_WAIT_SECONDS = 1.0


@pytest.fixture
def race(app, quiet_search, make_school, make_user, make_staff, make_organisation, make_activity):
    """A school with the default quota of two flyers a week, one place already taken, and two
    pending backpack-post requests for the same week."""
    school = make_school(facebook_page_url=None, accepts_backpack_post=True)
    organiser = make_user()
    organisation = make_organisation(owners=[organiser])
    week = upcoming_weeks()[1]
    requests = []
    for n in range(3):
        activity = make_activity(organisation=organisation, flyer_filename=f"flyer-{n}.pdf")
        requests += create_requests(activity, [SchoolChoice(school)], week, actor=organiser)
    db.session.commit()
    staff = [make_staff(school), make_staff(school)]
    taken, *pending = requests
    approve_request(taken, actor=staff[0])
    db.session.commit()
    assert all(req.channel == "backpack_post" for req in requests)
    return SimpleNamespace(
        school=school,
        staff_ids=[user.id for user in staff],
        taken_id=taken.id,
        pending_ids=[req.id for req in pending],
    )


def _approve_in_own_session(app, request_id, user_id, start, outcomes, index) -> None:
    """One reviewer's approval: own app context, own session; records "approved" or the error."""
    with app.app_context():
        try:
            req = db.session.get(DistributionRequest, request_id)
            actor = db.session.get(User, user_id)
            start.wait(timeout=30)
            approve_request(req, actor=actor)
            db.session.commit()
            outcomes[index] = "approved"
        except Exception as exc:  # RequestError expected; anything else fails the test
            db.session.rollback()
            outcomes[index] = exc
        finally:
            db.session.remove()


def _run_race(app, pairs) -> list:
    """Start one thread per (request id, user id) at the same moment; their outcomes."""
    start = threading.Barrier(len(pairs))
    outcomes: list = [None] * len(pairs)
    threads = [
        threading.Thread(
            target=_approve_in_own_session,
            args=(app, request_id, user_id, start, outcomes, index),
        )
        for index, (request_id, user_id) in enumerate(pairs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an approval never finished"
    return outcomes


@pytest.fixture
def decided_probe(monkeypatch):
    """Hold each approval after its re-check until the other has re-checked too (or the wait
    runs out, as it does when the lock keeps the other approval out)."""
    decided = threading.Barrier(2)
    original = operations.recheck

    def recheck_then_wait(req):
        decision = original(req)
        try:
            decided.wait(timeout=PROBE_WAIT_SECONDS)
        except threading.BrokenBarrierError:
            pass  # the other approval could not get here while this one held the lock
        return decision

    monkeypatch.setattr(operations, "recheck", recheck_then_wait)


def _stored_states(ids) -> list[str]:
    db.session.expire_all()
    return [db.session.get(DistributionRequest, i).status for i in ids]


def _approvals_of(request_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "request.approve", AuditEvent.object_id == request_id
        )
    )


def _assert_one_won(race, outcomes) -> None:
    winners = [i for i, outcome in enumerate(outcomes) if outcome == "approved"]
    losers = [outcome for outcome in outcomes if outcome != "approved"]
    assert len(winners) == 1, outcomes
    [refusal] = losers
    assert isinstance(refusal, RequestError), repr(refusal)
    assert any("Ukekvoten for ranselpost (2) er brukt opp" in r for r in refusal.reasons)
    states = _stored_states(race.pending_ids)
    assert sorted(states) == ["approved", "pending"]
    assert states[winners[0]] == "approved"
    assert _stored_states([race.taken_id]) == ["approved"]
    assert sum(_approvals_of(i) for i in race.pending_ids) == 1


def test_two_approvals_for_the_last_place_at_the_same_moment(app, race):
    outcomes = _run_race(app, list(zip(race.pending_ids, race.staff_ids, strict=True)))
    _assert_one_won(race, outcomes)


def test_the_last_place_goes_to_one_even_when_both_have_checked_the_quota(app, race, decided_probe):
    outcomes = _run_race(app, list(zip(race.pending_ids, race.staff_ids, strict=True)))
    _assert_one_won(race, outcomes)


def test_two_reviewers_approving_the_same_request_approve_it_once(app, race, decided_probe):
    [first, second] = race.staff_ids
    target = race.pending_ids[0]
    outcomes = _run_race(app, [(target, first), (target, second)])
    assert sorted(map(str, outcomes)).count("approved") == 1, outcomes
    [refusal] = [outcome for outcome in outcomes if outcome != "approved"]
    assert isinstance(refusal, RequestError), repr(refusal)
    assert "Bare ventende forespørsler kan godkjennes" in refusal.message
    assert _stored_states([target]) == ["approved"]
    assert _approvals_of(target) == 1


def test_without_the_school_lock_both_would_win(app, race, decided_probe, monkeypatch):
    """The control: with the lock taken out, the probe's interleaving lets both approvals count
    one place used and both win, over the quota. This is the race the lock prevents, and it
    shows the tests above would catch a lock that does not hold."""
    monkeypatch.setattr(operations, "_lock_school", lambda school: None)
    outcomes = _run_race(app, list(zip(race.pending_ids, race.staff_ids, strict=True)))
    assert outcomes == ["approved", "approved"]
    assert _stored_states(race.pending_ids) == ["approved", "approved"]
