"""The municipal admin's account administration: the school staff's accounts, deactivation and
reactivation, and resetting a second step. Sessions end at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from directory.accounts.models import RecoveryCode, UserSession
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.models import SchoolStaff
from tests.conftest import PASSWORD, enrol_two_step, login, sign_in


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2026, 3, 10, 12, 0, 5, tzinfo=UTC), tick=False) as t:
        yield t


@pytest.fixture
def admin(make_user, municipality):
    user = make_user("kommune@example.org", name="Kari Kommune")
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


@pytest.fixture
def school(make_school):
    return make_school(name="Fjell skole")


@pytest.fixture
def teacher(make_user, school):
    user = make_user("laerer@example.org", name="Lise Lærer")
    db.session.add(SchoolStaff(user=user, school=school, role="staff"))
    db.session.commit()
    return user


@pytest.fixture
def principal(make_user, school):
    user = make_user("rektor@example.org", name="Rita Rektor")
    db.session.add(SchoolStaff(user=user, school=school, role="admin"))
    db.session.commit()
    return user


def sessions_of(user) -> int:
    return db.session.scalar(
        select(func.count(UserSession.id)).where(UserSession.user_id == user.id)
    )


def test_the_list_shows_the_municipality_s_staff_only(
    app, client, admin, teacher, principal, make_municipality, make_school, make_user
):
    lier = make_municipality(slug="lier", name="Lier")
    foreign = make_user("lier@example.org", name="Lars Lier")
    db.session.add(SchoolStaff(user=foreign, school=make_school(municipality=lier), role="staff"))
    db.session.commit()
    enrol_two_step(principal)
    sign_in(client, admin)
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "Lise Lærer" in page and "laerer@example.org" in page
    assert "Fjell skole: skoleadministrator" in page
    assert "Lars Lier" not in page
    card = page[page.index(f'id="account-{principal.id}"') :]
    assert "<dd>på</dd>" in card[: card.index("</li>")]
    assert 'href="/admin/accounts"' in page  # the admin pages' menu links here


def test_deactivating_ends_the_sessions_at_once_and_stops_logins(app, admin, teacher):
    teacher_client, admin_client = app.test_client(), app.test_client()
    login(teacher_client, teacher)
    assert teacher_client.get("/account").status_code == 200
    sign_in(admin_client, admin)
    response = admin_client.post(f"/admin/accounts/{teacher.id}/deactivate")
    assert response.status_code == 302
    assert teacher_client.get("/account").headers["Location"].startswith("/login")
    assert sessions_of(teacher) == 0
    assert login(app.test_client(), teacher).status_code == 401
    assert "deaktivert" in admin_client.get("/admin/accounts").get_data(as_text=True)

    admin_client.post(f"/admin/accounts/{teacher.id}/reactivate")
    assert login(app.test_client(), teacher).status_code == 302
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_id == teacher.id)
        .order_by(AuditEvent.id)  # PostgreSQL keeps no order unasked
    ).all()
    assert actions == ["user.deactivate", "user.reactivate"]
    assert "Konto deaktivert" in admin_client.get("/admin/audit").get_data(as_text=True)


def test_resetting_the_second_step_logs_out_and_asks_for_enrolment_again(
    app, admin, principal, frozen
):
    principal_client, admin_client = app.test_client(), app.test_client()
    login(principal_client, principal)
    db.session.add(RecoveryCode(user_id=principal.id, code_hash="x" * 64))
    db.session.commit()
    sign_in(admin_client, admin)
    response = admin_client.post(f"/admin/accounts/{principal.id}/reset-two-step")
    assert response.status_code == 302
    assert principal_client.get("/account").headers["Location"].startswith("/login")
    db.session.refresh(principal)
    assert principal.totp_secret is None and principal.totp_enabled_at is None
    assert db.session.scalar(select(func.count(RecoveryCode.id))) == 0
    answer = principal_client.post("/login", data={"email": principal.email, "password": PASSWORD})
    assert answer.headers["Location"].startswith("/account/two-step/enrol")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.reset_two_step"))
    assert event.actor_id == admin.id and event.object_id == principal.id


def test_another_municipality_s_admin_gets_404(app, client, teacher, make_municipality, make_user):
    lier = make_municipality(slug="lier", name="Lier")
    other = make_user("lier-admin@example.org")
    other.admin_municipality_id = lier.id
    db.session.commit()
    sign_in(client, other)
    for action in ("deactivate", "reactivate", "reset-two-step"):
        assert client.post(f"/admin/accounts/{teacher.id}/{action}").status_code == 404
    assert client.post("/admin/accounts/999999/deactivate").status_code == 404
    db.session.refresh(teacher)
    assert teacher.active


def test_an_admin_cannot_deactivate_themselves(client, admin, school):
    db.session.add(SchoolStaff(user=admin, school=school, role="admin"))
    db.session.commit()
    sign_in(client, admin)
    response = client.post(f"/admin/accounts/{admin.id}/deactivate")
    assert response.status_code == 403
    assert "din egen konto" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active


def test_an_account_without_a_school_role_is_not_the_admin_s(client, admin, make_user):
    member = make_user("medlem@example.org")
    sign_in(client, admin)
    assert client.post(f"/admin/accounts/{member.id}/deactivate").status_code == 404


def test_the_operator_resets_a_municipal_admin_s_second_step(app, admin):
    enrol_two_step(admin)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reset-two-step", "KOMMUNE@example.org"])
    assert result.exit_code == 0, result.output
    db.session.refresh(admin)
    assert admin.totp_enabled_at is None
    unknown = runner.invoke(args=["reset-two-step", "ingen@example.org"])
    assert unknown.exit_code == 1
    assert "ingen konto" in unknown.output
