"""E-mail through the one mail component: organisation invitations reach the invitee (and a down
mail server keeps the invitation and shows the link), request notifications reach each
recipient in their own language, and no HTML part carries an image."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from directory.approvals.operations import SchoolChoice, approve_request, create_requests
from directory.extensions import db
from directory.organisations.models import Invitation
from directory.schools.routing import iso_week
from directory.timeutil import oslo_now
from tests.conftest import mail_link, mail_text


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_an_invitation_is_mailed_to_the_invitee_with_a_working_link(
    client, make_user, make_organisation, login_as, smtp_server
):
    owner = make_user(name="Olga Eier")
    org = make_organisation(name="Sjakklubben", owners=[owner])
    login_as(owner)
    response = client.post(
        f"/organisations/{org.slug}/members/invite",
        data={"email": "ny@example.org", "role": "editor"},
    )
    assert response.status_code == 302
    page = client.get(f"/organisations/{org.slug}/members").get_data(as_text=True)
    assert "sendt på e-post til ny@example.org" in page

    [message] = smtp_server.to("ny@example.org")
    assert "Sjakklubben" in message["Subject"]
    text = mail_text(message)
    assert "Olga Eier" in text and "redaktør" in text
    assert "<img" not in html_of(message)
    link = mail_link(message, "/invitations/")
    client.post("/logout")
    accept = client.get(link)
    assert accept.status_code == 200
    assert "Lag en konto for å godta invitasjonen" in accept.get_data(as_text=True)


def test_when_the_mail_server_is_down_the_invitation_stays_and_the_page_shows_the_link(
    client, make_user, make_organisation, login_as, smtp_down
):
    owner = make_user()
    org = make_organisation(owners=[owner])
    login_as(owner)
    response = client.post(
        f"/organisations/{org.slug}/members/invite",
        data={"email": "ny@example.org", "role": "editor"},
    )
    assert response.status_code == 302
    page = client.get(f"/organisations/{org.slug}/members").get_data(as_text=True)
    assert "kunne ikke sendes" in page
    match = re.search(r'value="https?://[^/"]+(/invitations/[A-Za-z0-9_-]+)"', page)
    assert match, "the link to copy is on the page"
    assert db.session.scalar(select(Invitation.email)) == "ny@example.org"
    assert client.get(match.group(1)).status_code == 200


@pytest.fixture
def world(app, monkeypatch, make_user, make_organisation, make_activity, make_school, make_staff):
    monkeypatch.setitem(app.config, "NOTIFICATIONS_ENABLED", True)
    owner = make_user("eier@sjakk.example.org")
    editor = make_user("redaktor@sjakk.example.org")
    owner.locale = "en"
    db.session.commit()
    organisation = make_organisation(owners=[owner], members=[editor])
    activity = make_activity(
        organisation=organisation,
        title="Sjakk for alle",
        facebook_post_url="https://www.facebook.com/events/1",
    )
    school = make_school(name="Alfaskolen")
    staff = make_staff(school)
    week = iso_week(oslo_now().date() + timedelta(weeks=1))
    return {
        "owner": owner,
        "editor": editor,
        "activity": activity,
        "school": school,
        "staff": staff,
        "week": week,
    }


def test_a_notification_goes_out_once_per_language_in_each_recipient_s_language(smtp_server, world):
    [req] = create_requests(
        world["activity"], [SchoolChoice(world["school"])], world["week"], actor=world["owner"]
    )
    db.session.commit()
    [to_school] = smtp_server.messages
    assert to_school["To"] == world["staff"].email
    assert "Ny forespørsel: Sjakk for alle (Alfaskolen" in to_school["Subject"]

    approve_request(req, actor=world["staff"])
    db.session.commit()
    answers = smtp_server.messages[1:]
    assert sorted(m["To"] for m in answers) == [
        "eier@sjakk.example.org",
        "redaktor@sjakk.example.org",
    ]  # two languages, two messages, each to its own group
    by_to = {m["To"]: m for m in answers}
    assert 'lang="en"' in html_of(by_to["eier@sjakk.example.org"])
    assert 'lang="nb"' in html_of(by_to["redaktor@sjakk.example.org"])
    assert "Forespørsel godkjent" in by_to["redaktor@sjakk.example.org"]["Subject"]
    for message in smtp_server.messages:
        assert "<img" not in html_of(message)
