"""E-mail notifications about distribution requests: off by default, sent only after a commit,
to the school's staff (new, withdrawn requests) and to the organiser's members (the answer), and
never able to break the act they report."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    SchoolChoice,
    approve_request,
    create_requests,
    reject_request,
    withdraw_request,
)
from directory.extensions import db
from directory.notifications import Message
from directory.schools.routing import iso_week
from directory.timeutil import oslo_now
from tests.conftest import mail_text

SENDER = "tests.test_notifications:RecordingSender"


class RecordingSender:
    """Keeps every message it is given, instead of sending it."""

    sent: list[Message] = []

    def send(self, message: Message) -> None:
        RecordingSender.sent.append(message)


class FailingSender:
    """A mail server that is down."""

    def send(self, message: Message) -> None:
        raise ConnectionRefusedError("smtp.example.org:25 refused the connection")


@pytest.fixture
def sent(app, monkeypatch):
    """Notifications on, delivered to RecordingSender; the list of what it was given."""
    monkeypatch.setitem(app.config, "NOTIFICATIONS_ENABLED", True)
    monkeypatch.setitem(app.config, "NOTIFICATION_SENDER", SENDER)
    RecordingSender.sent = []
    return RecordingSender.sent


@pytest.fixture
def world(make_user, make_organisation, make_activity, make_school, make_staff):
    """An organisation (owner, editor) with a published activity, a school with two staff
    accounts, and another school whose staff must hear nothing of it."""
    owner = make_user("eier@sjakk.example.org", name="Olga Eier")
    editor = make_user("redaktor@sjakk.example.org", name="Rolf Redaktør")
    organisation = make_organisation(name="Sjakklubben", owners=[owner], members=[editor])
    activity = make_activity(
        organisation=organisation,
        title="Sjakk for alle",
        facebook_post_url="https://www.facebook.com/events/1",
    )
    school = make_school(name="Alfaskolen")
    staff = make_staff(school)
    school_admin = make_staff(school, role="admin")
    other_school = make_school(name="Betaskolen")
    make_staff(other_school)
    week = iso_week(oslo_now().date() + timedelta(weeks=1))
    return {
        "owner": owner,
        "editor": editor,
        "activity": activity,
        "school": school,
        "staff": staff,
        "school_admin": school_admin,
        "week": week,
    }


def ask(world) -> DistributionRequest:
    """The organiser asks Alfaskolen; nothing committed yet."""
    [req] = create_requests(
        world["activity"], [SchoolChoice(world["school"])], world["week"], actor=world["owner"]
    )
    return req


def test_nothing_is_sent_unless_notifications_are_switched_on(app, monkeypatch, world):
    monkeypatch.setitem(app.config, "NOTIFICATION_SENDER", SENDER)  # a sender, but switched off
    RecordingSender.sent = []
    req = ask(world)
    db.session.commit()
    approve_request(req, actor=world["staff"])
    db.session.commit()
    assert app.config["NOTIFICATIONS_ENABLED"] is False  # the default
    assert RecordingSender.sent == []


def test_a_new_request_goes_to_the_school_s_staff_only(sent, world):
    req = ask(world)
    assert sent == []  # nothing before the commit
    db.session.commit()

    assert len(sent) == 1
    message = sent[0]
    assert set(message.to) == {world["staff"].email, world["school_admin"].email}
    assert "Ny forespørsel" in message.subject
    assert "Sjakk for alle" in message.subject
    assert "Alfaskolen" in message.subject
    assert req.week in message.subject


def test_an_approval_goes_to_the_organisation_s_members(sent, world):
    req = ask(world)
    db.session.commit()
    sent.clear()

    approve_request(req, actor=world["staff"])
    db.session.commit()

    assert len(sent) == 1
    assert set(sent[0].to) == {"eier@sjakk.example.org", "redaktor@sjakk.example.org"}
    assert "Forespørsel godkjent" in sent[0].subject


def test_a_rejection_carries_its_reason_to_the_organisation(sent, world):
    req = ask(world)
    db.session.commit()
    sent.clear()

    reject_request(req, "Vi har to tilbud ute denne uken allerede.", actor=world["staff"])
    db.session.commit()

    assert len(sent) == 1
    assert set(sent[0].to) == {"eier@sjakk.example.org", "redaktor@sjakk.example.org"}
    assert "Forespørsel avvist" in sent[0].subject
    assert "Vi har to tilbud ute denne uken allerede." in sent[0].body


def test_a_withdrawal_goes_to_the_school(sent, world):
    req = ask(world)
    db.session.commit()
    sent.clear()

    withdraw_request(req, actor=world["owner"])
    db.session.commit()

    assert [set(m.to) for m in sent] == [{world["staff"].email, world["school_admin"].email}]
    assert "trukket tilbake" in sent[0].subject


def test_an_inactive_account_is_not_written_to(sent, world):
    world["school_admin"].active = False
    db.session.commit()
    ask(world)
    db.session.commit()
    assert sent[0].to == (world["staff"].email,)


def test_a_rolled_back_act_notifies_nobody(sent, world):
    ask(world)
    db.session.rollback()
    assert sent == []
    # nor does the next commit, of something else
    world["activity"].summary = "Nytt sammendrag"
    db.session.commit()
    assert sent == []
    assert db.session.scalar(select(DistributionRequest)) is None


def test_a_rolled_back_savepoint_takes_back_only_its_own_notifications(sent, world):
    req = ask(world)
    savepoint = db.session.begin_nested()
    withdraw_request(req, actor=world["owner"])
    savepoint.rollback()
    db.session.commit()

    assert len(sent) == 1
    assert "Ny forespørsel" in sent[0].subject
    assert db.session.scalar(select(DistributionRequest.status)) == "pending"


def test_a_sender_that_fails_does_not_undo_or_break_the_act(app, monkeypatch, caplog, world):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_ENABLED", True)
    monkeypatch.setitem(app.config, "NOTIFICATION_SENDER", "tests.test_notifications:FailingSender")
    req = ask(world)
    db.session.commit()  # does not raise
    approve_request(req, actor=world["staff"])
    with caplog.at_level(logging.ERROR, logger="directory.notifications"):
        db.session.commit()

    db.session.expire_all()
    assert db.session.scalar(select(DistributionRequest.status)) == "approved"
    assert "could not send the notification request.approved" in caplog.text
    assert "refused the connection" in caplog.text


def test_a_sender_that_cannot_be_loaded_does_not_break_the_act(app, monkeypatch, caplog, world):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_ENABLED", True)
    monkeypatch.setitem(app.config, "NOTIFICATION_SENDER", "tests.test_notifications:NoSuchSender")
    ask(world)
    with caplog.at_level(logging.ERROR, logger="directory.notifications"):
        db.session.commit()
    assert db.session.scalar(select(DistributionRequest.status)) == "pending"
    assert "could not send the notifications" in caplog.text


def test_without_a_mail_server_the_default_sender_writes_to_the_log(
    app, monkeypatch, caplog, world
):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_ENABLED", True)
    assert app.config["NOTIFICATION_SENDER"] == "directory.notifications:MailSender"
    assert not app.config["MAIL_SERVER"]
    req = ask(world)
    with caplog.at_level(logging.INFO, logger="directory.mail"):
        db.session.commit()
    [entry] = [r for r in caplog.records if r.name == "directory.mail"]
    text = entry.getMessage()
    assert world["staff"].email in text
    assert "Ny forespørsel: Sjakk for alle (Alfaskolen, " + req.week + ")" in text
    assert "Logg inn i aktivitetskatalogen" in text


def test_a_line_break_in_a_title_never_reaches_the_subject(sent, world):
    world["activity"].title = "Sjakk\r\nBcc: alle@example.org"
    db.session.commit()
    ask(world)
    db.session.commit()
    assert "\n" not in sent[0].subject and "\r" not in sent[0].subject


def test_an_offer_cancelled_after_approval_is_mailed_to_the_school_with_the_reason(
    app, monkeypatch, smtp_server, world
):
    """Through the real mail component and an SMTP server: the school's staff hear that the
    offer they approved is cancelled, why, and that they should take it down."""
    from directory.activities.operations import change_activity_status

    monkeypatch.setitem(app.config, "NOTIFICATIONS_ENABLED", True)
    req = ask(world)
    db.session.commit()
    approve_request(req, actor=world["staff"])
    db.session.commit()
    smtp_server.messages.clear()

    change_activity_status(
        world["activity"],
        {"action": "cancel", "note": "Treneren er syk, vi starter opp igjen i januar."},
        actor=world["owner"],
    )
    db.session.commit()

    [message] = smtp_server.messages
    assert set(message["X-Envelope-To"].split(", ")) == {
        world["staff"].email,
        world["school_admin"].email,
    }
    assert message["Subject"].startswith("Avlyst etter godkjenning: Sjakk for alle (Alfaskolen")
    text = mail_text(message)
    assert "Arrangørens begrunnelse: Treneren er syk, vi starter opp igjen i januar." in text
    assert "Ta ned flygebladet" in text
    assert db.session.get(DistributionRequest, req.id).status == "cancelled"
