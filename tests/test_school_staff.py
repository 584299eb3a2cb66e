"""A school's staff: invitations by e-mail, accepting them, roles, removal, and who may do it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from directory.accounts.models import User
from directory.accounts.operations import start_session
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.models import SchoolInvitation, SchoolStaff
from directory.schools.staff import invite_staff
from tests.conftest import PASSWORD, enrol_two_step, mail_link, mail_text, sign_in

NEW_PASSWORD = "grønn-sykkel-under-treet"


@pytest.fixture
def school(make_school):
    return make_school(slug="fjell-skole", name="Fjell skole")


@pytest.fixture
def municipal_admin(make_user, municipality):
    user = make_user(name="Kari Kommune")
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


@pytest.fixture
def school_admin(make_user, school):
    user = make_user(name="Rita Rektor")
    db.session.add(SchoolStaff(user=user, school=school, role="admin"))
    db.session.commit()
    return user


def staff_path(school, suffix: str = "") -> str:
    return f"/schools/{school.slug}/staff{suffix}"


def invite(school, actor, email: str = "ny.laerer@example.org", role: str = "staff") -> str:
    """An invitation made directly (as the page would), committed; returns its link path."""
    _invitation, token = invite_staff(school, {"email": email, "role": role}, actor=actor)
    db.session.commit()
    return f"/schools/invitations/{token}"


def staff_row(school, user) -> SchoolStaff | None:
    return db.session.scalar(
        select(SchoolStaff).where(
            SchoolStaff.school_id == school.id, SchoolStaff.user_id == user.id
        )
    )


def events(action: str) -> list[AuditEvent]:
    """The audit events of one kind, oldest first (PostgreSQL keeps no order without asking)."""
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


# --- inviting ----------------------------------------------------------------------------------


def test_an_invitation_arrives_by_email_with_a_link_that_makes_a_new_account(
    app, client, school, school_admin, smtp_server
):
    sign_in(client, school_admin)
    response = client.post(
        staff_path(school, "/invite"), data={"email": "Ny.Laerer@Example.org ", "role": "staff"}
    )
    assert response.status_code == 302
    page = client.get(staff_path(school)).get_data(as_text=True)
    assert "Invitasjonen er sendt til ny.laerer@example.org" in page
    assert "ny.laerer@example.org" in page  # listed among the open invitations

    [message] = smtp_server.to("ny.laerer@example.org")
    assert "Fjell skole" in message["Subject"]
    assert "Rita Rektor" in mail_text(message)
    link = mail_link(message, "/schools/invitations/")
    assert message.get_body(preferencelist=("html",)).get_content().count(link) >= 1

    newcomer = app.test_client()
    assert "Fjell skole" in newcomer.get(link).get_data(as_text=True)
    response = newcomer.post(
        link,
        data={"name": "Nils Ny", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/schools/{school.slug}/requests")
    user = db.session.scalar(select(User).where(User.email == "ny.laerer@example.org"))
    assert staff_row(school, user).role == "staff"
    # signed in at once: the school's inbox opens
    assert newcomer.get(f"/schools/{school.slug}/requests").status_code == 200
    [accepted] = events("school_invitation.accept")
    assert accepted.data["before"] is None and accepted.data["after"] == {"role": "staff"}


def test_when_the_mail_server_is_down_the_invitation_stays_and_the_page_shows_the_link(
    app, client, school, school_admin, smtp_down
):
    sign_in(client, school_admin)
    response = client.post(
        staff_path(school, "/invite"), data={"email": "ny@example.org", "role": "admin"}
    )
    assert response.status_code == 302
    page = client.get(staff_path(school)).get_data(as_text=True)
    assert "E-posten til ny@example.org kunne ikke sendes" in page
    link = page.split('id="invitation-link" type="text" readonly value="')[1].split('"')[0]
    assert "/schools/invitations/" in link
    assert db.session.scalar(select(SchoolInvitation.role)) == "admin"
    # the link is shown once, and it works
    assert "kunne ikke sendes" not in client.get(staff_path(school)).get_data(as_text=True)
    path = link[link.index("/schools/invitations/") :]
    assert app.test_client().get(path).status_code == 200


def test_without_a_public_address_a_forged_host_gets_no_invitation_mailed(
    app, client, school, school_admin, smtp_server
):
    evil = "http://evil.example"
    enrol_two_step(school_admin)
    token = start_session(school_admin)
    db.session.commit()
    with client.session_transaction(base_url=evil) as session:
        session["_user_id"] = token
    response = client.post(
        staff_path(school, "/invite"),
        data={"email": "ny@example.org", "role": "staff"},
        base_url=evil,
    )
    assert response.status_code == 302
    assert smtp_server.messages == []  # a link on evil.example would hand it the token
    page = client.get(staff_path(school), base_url=evil).get_data(as_text=True)
    assert "E-posten til ny@example.org kunne ikke sendes" in page


def test_the_email_is_in_the_invitees_language_or_else_the_inviters(
    app, client, school, school_admin, make_user, smtp_server
):
    known = make_user("kjent@example.org")
    known.locale = "en"
    db.session.commit()
    sign_in(client, school_admin)
    client.post(
        staff_path(school, "/invite") + "?lang=nn", data={"email": known.email, "role": "staff"}
    )
    client.post(staff_path(school, "/invite") + "?lang=nn", data={"email": "ukjent@example.org"})
    [to_known] = smtp_server.to(known.email)
    [to_new] = smtp_server.to("ukjent@example.org")
    assert '<html lang="en">' in to_known.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="nn">' in to_new.get_body(preferencelist=("html",)).get_content()
    assert mail_link(to_new, "/schools/invitations/").endswith("?lang=nn")


def test_inviting_the_same_address_again_replaces_the_open_invitation(
    app, client, school, school_admin
):
    first = invite(school, school_admin, role="staff")
    second = invite(school, school_admin, role="admin")
    assert client.get(first).status_code == 404
    assert "skoleadministrator" in client.get(second).get_data(as_text=True)
    assert db.session.scalar(select(SchoolInvitation.role)) == "admin"
    assert len(db.session.scalars(select(SchoolInvitation)).all()) == 1
    [_first, again] = events("school_invitation.create")
    assert again.data["before"]["role"] == "staff" and again.data["after"]["role"] == "admin"


def test_someone_already_on_the_staff_is_not_invited_again(
    app, client, school, school_admin, make_staff
):
    teacher = make_staff(school)
    sign_in(client, school_admin)
    response = client.post(staff_path(school, "/invite"), data={"email": teacher.email})
    assert response.status_code == 422
    assert "allerede ansatt ved skolen" in response.get_data(as_text=True)
    assert db.session.scalar(select(SchoolInvitation.id)) is None


def test_a_revoked_invitation_link_stops_working(app, client, school, school_admin):
    link = invite(school, school_admin)
    invitation_id = db.session.scalar(select(SchoolInvitation.id))
    sign_in(client, school_admin)
    response = client.post(f"/schools/{school.slug}/invitations/{invitation_id}/revoke")
    assert response.status_code == 302
    answer = app.test_client().get(link)
    assert answer.status_code == 404
    assert "trukket tilbake" in answer.get_data(as_text=True)
    [revoked] = events("school_invitation.revoke")
    assert revoked.data["before"]["email"] == "ny.laerer@example.org"


# --- accepting ---------------------------------------------------------------------------------


def test_a_signed_in_user_with_the_invited_address_accepts_with_a_button(
    app, client, school, school_admin, make_user
):
    user = make_user("kjent@example.org")
    link = invite(school, school_admin, email="Kjent@example.org", role="admin")
    sign_in(client, user)
    page = client.get(link).get_data(as_text=True)
    assert "Godta og bli ansatt ved Fjell skole" in page
    response = client.post(link)
    assert staff_row(school, user).role == "admin"
    # a school admin must have the two-step login: enrolment comes first, then the school
    assert response.headers["Location"].startswith("/account/two-step/enrol?next=")
    assert client.get(staff_path(school)).headers["Location"].startswith("/account/two-step/enrol")


def test_a_new_school_admin_sets_up_the_two_step_login_first(app, client, school, school_admin):
    link = invite(school, school_admin, role="admin")
    response = client.post(
        link,
        data={"name": "Nora Ny", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
    )
    assert response.headers["Location"].startswith("/account/two-step/enrol?next=")
    assert client.get(f"/schools/{school.slug}/requests").status_code == 302  # not before


def test_an_existing_user_logs_in_first_and_comes_back_to_accept(
    app, client, school, school_admin, make_user
):
    user = make_user("kjent@example.org")
    link = invite(school, school_admin, email=user.email)
    page = client.get(link).get_data(as_text=True)
    assert "Logg inn" in page and "/login?next=" in page
    response = client.post(f"/login?next={link}", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == link
    client.post(link)
    assert staff_row(school, user).role == "staff"


def test_a_signed_in_user_with_another_address_is_refused(
    app, client, school, school_admin, make_user
):
    other = make_user("annen@example.org")
    link = invite(school, school_admin)
    sign_in(client, other)
    response = client.get(link)
    assert response.status_code == 403
    assert "Invitasjonen ble sendt til ny.laerer@example.org" in response.get_data(as_text=True)
    assert client.post(link).status_code == 403
    assert staff_row(school, other) is None
    assert db.session.scalar(select(SchoolInvitation.accepted_at)) is None


def test_a_used_link_gets_a_clear_page(app, client, school, school_admin, make_user):
    user = make_user("kjent@example.org")
    link = invite(school, school_admin, email=user.email)
    sign_in(client, user)
    client.post(link)
    response = client.get(link)
    assert response.status_code == 410
    assert "allerede brukt" in response.get_data(as_text=True)


def test_a_link_works_for_fourteen_days_and_then_gets_a_clear_page(
    app, client, school, school_admin
):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        link = invite(school, school_admin)
    with time_machine.travel(start + timedelta(days=13, hours=23), tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel(start + timedelta(days=14, seconds=1), tick=False):
        response = client.get(link)
        assert response.status_code == 410
        assert "utløpt" in response.get_data(as_text=True)
        assert client.post(link, data={"name": "X"}).status_code == 410


def test_an_unknown_or_absurd_token_is_a_404_page(app, client):
    for token in ("ukjent", "x" * 500):
        response = client.get(f"/schools/invitations/{token}")
        assert response.status_code == 404
        assert "Invitasjonen finnes ikke" in response.get_data(as_text=True)


def test_a_new_account_must_have_an_acceptable_password(app, client, school, school_admin):
    link = invite(school, school_admin)
    common = "1234567890"
    response = client.post(
        link, data={"name": "Nils Ny", "password": common, "password_repeat": common}
    )
    assert response.status_code == 422
    assert "blant de mest brukte" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "ny.laerer@example.org")) is None
    assert db.session.scalar(select(SchoolInvitation.accepted_at)) is None


# --- roles and removal -------------------------------------------------------------------------


def test_an_admin_changes_a_role_and_the_audit_log_says_so(
    app, client, school, school_admin, make_staff, municipal_admin
):
    teacher = make_staff(school)
    row_id = staff_row(school, teacher).id
    sign_in(client, school_admin)
    response = client.post(staff_path(school, f"/{row_id}/role"), data={"role": "admin"})
    assert response.status_code == 302
    assert staff_row(school, teacher).role == "admin"
    [event] = events("school_staff.change_role")
    assert event.data["before"] == {"role": "staff"} and event.data["after"] == {"role": "admin"}

    sign_in(client, municipal_admin)
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Rolle ved skolen endret" in log
    assert "Ansatt ved Fjell skole" in log


def test_an_admin_removes_a_staff_member(app, client, school, school_admin, make_staff):
    teacher = make_staff(school)
    row_id = staff_row(school, teacher).id
    sign_in(client, school_admin)
    assert client.post(staff_path(school, f"/{row_id}/remove")).status_code == 302
    assert staff_row(school, teacher) is None
    assert db.session.get(User, teacher.id) is not None  # the account stays
    [event] = events("school_staff.remove")
    assert event.data["before"] == {"role": "staff"} and event.data["after"] is None
    # the removed teacher no longer reaches the school
    other = app.test_client()
    sign_in(other, teacher)
    assert other.get(f"/schools/{school.slug}/requests").status_code == 403


def test_a_school_admin_cannot_take_away_the_last_admin(app, client, school, school_admin):
    row_id = staff_row(school, school_admin).id
    sign_in(client, school_admin)
    for path, data in (("role", {"role": "staff"}), ("remove", {"confirm_no_admin": "y"})):
        response = client.post(staff_path(school, f"/{row_id}/{path}"), data=data)
        assert response.status_code == 409
        assert "minst én skoleadministrator" in response.get_data(as_text=True)
    assert staff_row(school, school_admin).role == "admin"
    assert events("school_staff.change_role") == events("school_staff.remove") == []


def test_with_two_admins_one_may_step_down(app, client, school, school_admin, make_staff):
    make_staff(school, role="admin")
    sign_in(client, school_admin)
    row_id = staff_row(school, school_admin).id
    assert (
        client.post(staff_path(school, f"/{row_id}/role"), data={"role": "staff"}).status_code
        == 302
    )
    assert staff_row(school, school_admin).role == "staff"


def test_the_municipal_admin_may_remove_the_last_admin_only_on_purpose(
    app, client, school, school_admin, municipal_admin
):
    row_id = staff_row(school, school_admin).id
    sign_in(client, municipal_admin)
    response = client.post(staff_path(school, f"/{row_id}/remove"))
    assert response.status_code == 409
    assert "Kryss av" in response.get_data(as_text=True)
    assert staff_row(school, school_admin) is not None
    response = client.post(staff_path(school, f"/{row_id}/remove"), data={"confirm_no_admin": "y"})
    assert response.status_code == 302
    assert staff_row(school, school_admin) is None
    [event] = events("school_staff.remove")
    assert event.data["left_without_admin"] is True
    assert "ingen skoleadministrator" in client.get(staff_path(school)).get_data(as_text=True)


# --- who may --------------------------------------------------------------------------------


def test_plain_staff_are_refused(app, client, school, make_staff):
    teacher = make_staff(school)
    sign_in(client, teacher)
    assert client.get(staff_path(school)).status_code == 403
    response = client.post(staff_path(school, "/invite"), data={"email": "x@example.org"})
    assert response.status_code == 403
    assert db.session.scalar(select(SchoolInvitation.id)) is None


def test_another_municipalitys_admin_finds_no_such_school(
    app, client, school, make_municipality, make_user
):
    lier = make_municipality(slug="lier", name="Lier")
    stranger = make_user()
    stranger.admin_municipality_id = lier.id
    db.session.commit()
    sign_in(client, stranger)
    assert client.get(staff_path(school)).status_code == 404
    assert (
        client.post(staff_path(school, "/invite"), data={"email": "x@example.org"}).status_code
        == 404
    )


def test_another_schools_staff_row_is_unknown_here(
    app, client, school, school_admin, make_school, make_staff
):
    elsewhere = make_staff(make_school(), role="staff")
    row_id = db.session.scalar(select(SchoolStaff.id).where(SchoolStaff.user_id == elsewhere.id))
    sign_in(client, school_admin)
    for action in ("role", "remove"):
        response = client.post(staff_path(school, f"/{row_id}/{action}"), data={"role": "admin"})
        assert response.status_code == 404
    assert db.session.scalar(select(SchoolStaff.role).where(SchoolStaff.id == row_id)) == "staff"


def test_the_staff_page_is_linked_for_those_who_manage_it(
    app, client, school, school_admin, make_staff
):
    sign_in(client, school_admin)
    for path in ("/account", f"/schools/{school.slug}/requests", f"/schools/{school.slug}/policy"):
        assert staff_path(school) in client.get(path).get_data(as_text=True), path
    teacher = app.test_client()
    sign_in(teacher, make_staff(school))
    for path in ("/account", f"/schools/{school.slug}/requests", f"/schools/{school.slug}/policy"):
        assert staff_path(school) not in teacher.get(path).get_data(as_text=True), path


def test_the_municipal_admin_finds_the_staff_page_from_the_school_list(
    app, client, school, municipal_admin
):
    sign_in(client, municipal_admin)
    assert staff_path(school) in client.get("/admin/schools").get_data(as_text=True)
    assert client.get(staff_path(school)).status_code == 200
