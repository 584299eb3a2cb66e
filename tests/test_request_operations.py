"""The request workflow's operations: what is stored, what is refused, and what is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from directory.approvals.display import upcoming_weeks
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    RequestError,
    SchoolChoice,
    approve_request,
    approve_requests,
    create_requests,
    reject_request,
    reopen_requests,
    withdraw_request,
)
from directory.audit.models import AuditEvent
from directory.extensions import db


@pytest.fixture
def world(quiet_search, make_school, make_organisation, make_activity, make_user, make_staff):
    organiser = make_user()
    organisation = make_organisation(owners=[organiser])
    # No Facebook page: a flyer goes by backpack post (quota 2 a week by default).
    school = make_school(slug="danvik", name="Danvik skole", facebook_page_url=None)
    flyers = [
        make_activity(organisation=organisation, flyer_filename=f"f{n}.pdf", age_min=8, age_max=10)
        for n in range(4)
    ]
    plain = make_activity(organisation=organisation)
    staff = make_staff(school)
    return {
        "organiser": organiser,
        "school": school,
        "flyers": flyers,
        "plain": plain,
        "staff": staff,
        "week": upcoming_weeks()[1],
    }


def _send(world, activity, **kwargs):
    reqs = create_requests(
        activity, [SchoolChoice(world["school"], **kwargs)], world["week"], actor=world["organiser"]
    )
    db.session.commit()
    return reqs[0]


def _actions() -> list[str]:
    """The audited acts on requests, in order (the set-up's venues are audited too)."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.startswith("request.")).order_by(AuditEvent.id)
    )
    return [e.action for e in events]


def test_a_request_stores_the_decision_and_the_fitting_grades(world):
    req = _send(world, world["flyers"][0])
    assert (req.status, req.channel, req.rule) == ("pending", "backpack_post", "backpack")
    assert any("ranselpost" in reason for reason in req.reasons)
    # Ages 8-10 meet grades 2 (7-8), 3, 4 and 5 (10-11).
    assert req.grades == [2, 3, 4, 5]
    assert req.requested_by_id == world["organiser"].id
    assert _actions() == ["request.create"]


def test_directory_only_cannot_be_requested_and_nothing_is_stored(world):
    with pytest.raises(RequestError) as refused:
        _send(world, world["plain"])
    assert "bare i katalogen" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(DistributionRequest)) is None


def test_the_same_week_cannot_be_asked_twice_until_the_first_is_withdrawn(world):
    first = _send(world, world["flyers"][0])
    with pytest.raises(RequestError, match="allerede sendt"):
        _send(world, world["flyers"][0])
    db.session.rollback()
    withdraw_request(first, actor=world["organiser"])
    db.session.commit()
    assert _send(world, world["flyers"][0]).status == "pending"


def test_grades_outside_the_age_range_are_refused(world):
    with pytest.raises(RequestError, match="7. trinn"):
        _send(world, world["flyers"][0], grades=(3, 7))


def test_approval_rechecks_the_quota_and_bulk_approval_stops_at_it(world):
    reqs = [_send(world, activity) for activity in world["flyers"][:3]]
    outcome = approve_requests(reqs, actor=world["staff"])
    db.session.commit()
    assert [r.id for r in outcome.approved] == [reqs[0].id, reqs[1].id]
    [(refused, error)] = outcome.refused
    assert refused.id == reqs[2].id and refused.status == "pending"
    assert any("brukt opp" in reason for reason in error.reasons)
    assert reqs[0].reviewed_by_id == world["staff"].id and reqs[0].reviewed_at is not None


def test_rejection_needs_a_reason_and_ends_the_request(world):
    req = _send(world, world["flyers"][0])
    with pytest.raises(RequestError, match="begrunnelse"):
        reject_request(req, "   ", actor=world["staff"])
    assert req.status == "pending"
    reject_request(req, "Ikke denne uken, vi har foreldremøte.", actor=world["staff"])
    db.session.commit()
    assert (req.status, req.review_reason) == ("rejected", "Ikke denne uken, vi har foreldremøte.")
    with pytest.raises(RequestError, match="avvist"):
        approve_request(req, actor=world["staff"])


def test_an_edit_after_approval_sends_the_request_back_with_the_change(world):
    req = _send(world, world["flyers"][0])
    approve_request(req, actor=world["staff"])
    db.session.commit()
    reopen_requests(world["flyers"][0], ["title", "price_nok"], actor=world["organiser"])
    db.session.commit()
    assert req.status == "pending"
    assert req.changes == ["price_nok", "title"]
    assert req.reviewed_at is None and req.changed_at is not None
    assert _actions()[-1] == "request.reopen"


def test_a_cancelled_offer_cannot_be_sent_to_schools_nor_approved(world):
    """A cancelled activity stays on its page, marked, but no school passes it on to parents."""
    from directory.activities.operations import change_activity_status

    sent, later = world["flyers"][0], world["flyers"][1]
    req = _send(world, sent)
    for activity in (sent, later):
        change_activity_status(activity, {"action": "cancel"}, actor=world["organiser"])
    db.session.commit()

    with pytest.raises(RequestError, match="avlyst, så skolene kan ikke formidle den"):
        _send(world, later)
    db.session.rollback()
    with pytest.raises(RequestError, match="avlyst, så den kan ikke godkjennes"):
        approve_request(req, actor=world["staff"])
    db.session.rollback()
    assert db.session.get(DistributionRequest, req.id).status == "pending"
    assert db.session.scalar(select(func.count()).select_from(DistributionRequest)) == 1
