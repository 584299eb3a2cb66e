"""Two-step login (TOTP): required enrolment for admins, optional for others, the second step at
login, replay and recovery codes, throttling and the pending marker's expiry.

The clock is frozen wherever a code depends on now: a code is valid for its 30-second step and
the one before and after.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from directory.accounts.models import RecoveryCode, User, UserSession
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.models import SchoolStaff
from tests.conftest import PASSWORD, enrol_two_step, login

NOON = datetime(2026, 3, 10, 12, 0, 5, tzinfo=UTC)  # 5 seconds into a 30-second step


@pytest.fixture
def frozen():
    """The clock stands still at NOON (move it with frozen.move_to / shift)."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def post_password(client, user, **query):
    return client.post(
        "/login", query_string=query, data={"email": user.email, "password": PASSWORD}
    )


def sessions_of(user) -> int:
    return db.session.scalar(
        select(func.count(UserSession.id)).where(UserSession.user_id == user.id)
    )


@pytest.fixture
def admin(make_user, municipality):
    user = make_user("kommune@example.org", name="Kari Kommune")
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


@pytest.fixture
def school_admin(make_school, make_staff):
    return make_staff(make_school(), role="admin")


@pytest.fixture
def member(make_user, make_organisation):
    user = make_user("medlem@example.org")
    make_organisation(owners=[user])
    return user


def enrol_through_pages(client, user) -> tuple[str, list[str]]:
    """Enrol as the pages lead a user: start, read the secret shown, confirm with a code."""
    assert client.post("/account/two-step/enrol/start").status_code == 302
    page = client.get("/account/two-step/enrol").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline
    secret = re.search(r'class="totp-secret"[^>]*>([^<]+)<', page).group(1).replace(" ", "")
    response = client.post("/account/two-step/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(
        r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", response.get_data(as_text=True)
    )
    return secret, codes


# --- required for admins, optional for others ---------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "school_admin"])
def test_an_admin_without_a_second_step_is_sent_to_enrolment_and_nowhere_else(client, request, who):
    user = request.getfixturevalue(who)
    response = post_password(client, user)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/two-step/enrol")
    for path in ("/account", "/admin/organisations", "/organisations"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/account/two-step/enrol"), path
    page = client.get("/account/two-step/enrol")
    assert page.status_code == 200
    assert "Start oppsettet" in page.get_data(as_text=True)


def test_an_admin_enrols_and_then_reaches_the_pages(client, admin, frozen):
    post_password(client, admin)
    secret, codes = enrol_through_pages(client, admin)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/account").status_code == 200
    db.session.refresh(admin)
    assert admin.totp_enabled_at is not None
    stored = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == admin.id)
    ).all()
    assert len(stored) == 10
    assert not set(codes) & set(stored)  # only hashes are stored


def test_enrolment_keeps_the_next_page(client, admin, frozen):
    response = post_password(client, admin, next="/admin/statistics")
    assert response.headers["Location"].endswith("?next=/admin/statistics")
    client.post("/account/two-step/enrol/start?next=/admin/statistics")
    secret = db.session.scalar(select(User.totp_secret).where(User.id == admin.id))
    done = client.post(
        "/account/two-step/enrol?next=/admin/statistics", data={"code": pyotp.TOTP(secret).now()}
    )
    assert 'href="/admin/statistics"' in done.get_data(as_text=True)


def test_a_wrong_code_does_not_turn_the_second_step_on(client, admin, frozen):
    post_password(client, admin)
    client.post("/account/two-step/enrol/start")
    secret = db.session.scalar(select(User.totp_secret).where(User.id == admin.id))
    wrong = code_at(secret, NOON + timedelta(minutes=5))
    response = client.post("/account/two-step/enrol", data={"code": wrong})
    assert response.status_code == 422
    assert "Koden stemmer ikke" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.totp_enabled_at is None
    assert client.get("/account").status_code == 302  # still only enrolment


def test_a_member_logs_in_without_a_second_step_and_may_turn_it_on(client, member, frozen):
    response = post_password(client, member)
    assert response.headers["Location"] == "/account"
    assert "Slå på totrinnsinnlogging" in client.get("/account/two-step").get_data(as_text=True)
    enrol_through_pages(client, member)
    client.post("/logout")
    assert post_password(client, member).headers["Location"] == "/login/two-step"


def test_a_member_turns_the_second_step_off_with_the_password_only(client, member, frozen):
    enrol_two_step(member)
    login(client, member)
    wrong = client.post("/account/two-step/disable", data={"password": "feil-passord"})
    assert wrong.status_code == 422
    assert "Passordet eller koden er feil." in wrong.get_data(as_text=True)
    empty = client.post("/account/two-step/disable", data={})
    assert empty.status_code == 422
    db.session.refresh(member)
    assert member.totp_enabled_at is not None
    done = client.post("/account/two-step/disable", data={"password": PASSWORD})
    assert done.status_code == 302
    db.session.refresh(member)
    assert member.totp_enabled_at is None and member.totp_secret is None
    client.post("/logout")
    assert post_password(client, member).headers["Location"] == "/account"


def test_an_admin_cannot_turn_a_required_second_step_off(client, school_admin, frozen):
    login(client, school_admin)
    assert "Slå av totrinnsinnlogging" not in client.get("/account/two-step").get_data(as_text=True)
    response = client.post("/account/two-step/disable", data={"password": PASSWORD})
    assert response.status_code == 403
    db.session.refresh(school_admin)
    assert school_admin.totp_enabled_at is not None


# --- the second step at login -------------------------------------------------------------------


def test_the_password_alone_starts_no_session(client, member, frozen):
    enrol_two_step(member)
    response = post_password(client, member)
    assert response.headers["Location"] == "/login/two-step"
    assert sessions_of(member) == 0
    assert client.get("/account").headers["Location"].startswith("/login")


def test_the_right_code_logs_in_and_goes_to_the_next_page(client, member, frozen):
    secret = enrol_two_step(member)
    post_password(client, member, next="/organisations?x=1")
    response = client.post("/login/two-step", data={"code": code_at(secret, NOON)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisations?x=1"
    assert client.get("/account").status_code == 200
    assert sessions_of(member) == 1


def test_an_unsafe_next_is_dropped_at_the_second_step(client, member, frozen):
    secret = enrol_two_step(member)
    post_password(client, member, next="//evil.example/")
    response = client.post("/login/two-step", data={"code": code_at(secret, NOON)})
    assert response.headers["Location"] == "/account"


def test_a_wrong_code_is_refused(client, member, frozen):
    secret = enrol_two_step(member)
    post_password(client, member)
    response = client.post(
        "/login/two-step", data={"code": code_at(secret, NOON + timedelta(minutes=2))}
    )
    assert response.status_code == 401
    assert "Koden er feil eller allerede brukt." in response.get_data(as_text=True)
    assert sessions_of(member) == 0


def test_a_code_from_the_step_before_is_accepted_but_not_from_two_steps_before(
    client, member, frozen
):
    secret = enrol_two_step(member)
    post_password(client, member)
    old = client.post(
        "/login/two-step", data={"code": code_at(secret, NOON - timedelta(seconds=60))}
    )
    assert old.status_code == 401
    previous = code_at(secret, NOON - timedelta(seconds=30))
    assert client.post("/login/two-step", data={"code": previous}).status_code == 302


def test_a_used_code_cannot_be_replayed(app, member, frozen):
    secret = enrol_two_step(member)
    code = code_at(secret, NOON)
    first, second = app.test_client(), app.test_client()
    post_password(first, member)
    assert first.post("/login/two-step", data={"code": code}).status_code == 302
    post_password(second, member)
    response = second.post("/login/two-step", data={"code": code})
    assert response.status_code == 401
    assert sessions_of(member) == 1


def test_a_recovery_code_works_once(app, admin, frozen):
    client = app.test_client()
    post_password(client, admin)
    _secret, codes = enrol_through_pages(client, admin)
    client.post("/logout")
    post_password(client, admin)
    response = client.post("/login/two-step", data={"code": codes[3].upper()})
    assert response.status_code == 302
    assert "9 igjen" in client.get("/account").get_data(as_text=True)
    client.post("/logout")
    post_password(client, admin)
    assert client.post("/login/two-step", data={"code": codes[3]}).status_code == 401
    used = db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == admin.id, RecoveryCode.used_at.is_not(None)
        )
    )
    assert used == 1


def test_new_recovery_codes_replace_the_old(client, admin, frozen):
    post_password(client, admin)
    secret, old_codes = enrol_through_pages(client, admin)
    wrong = client.post("/account/two-step/recovery-codes", data={"password": "nei-nei-nei"})
    assert wrong.status_code == 422
    frozen.shift(30)
    response = client.post(
        "/account/two-step/recovery-codes", data={"code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 200
    new_codes = re.findall(
        r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.get_data(as_text=True)
    )
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    client.post("/logout")
    post_password(client, admin)
    assert client.post("/login/two-step", data={"code": old_codes[0]}).status_code == 401
    assert client.post("/login/two-step", data={"code": new_codes[0]}).status_code == 302


def test_wrong_codes_are_throttled_per_address(client, member, frozen):
    secret = enrol_two_step(member)
    post_password(client, member)
    wrong = code_at(secret, NOON + timedelta(hours=1))
    statuses = [client.post("/login/two-step", data={"code": wrong}).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # Even the right code waits now.
    response = client.post("/login/two-step", data={"code": code_at(secret, NOON)})
    assert response.status_code == 429
    assert "For mange forsøk" in response.get_data(as_text=True)


def test_wrong_codes_are_throttled_per_account_from_any_address(app, member, frozen):
    secret = enrol_two_step(member)
    wrong = code_at(secret, NOON + timedelta(hours=1))
    statuses = []
    for n in range(6):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        post_password(client, member)
        statuses.append(client.post("/login/two-step", data={"code": wrong}).status_code)
    assert statuses == [401] * 5 + [429]


def test_the_pending_marker_expires_after_five_minutes(client, member, frozen):
    secret = enrol_two_step(member)
    post_password(client, member)
    frozen.shift(301)
    later = datetime.now(UTC)
    response = client.post("/login/two-step", data={"code": code_at(secret, later)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert sessions_of(member) == 0
    assert "Innloggingen tok for lang tid" in client.get("/login").get_data(as_text=True)


def test_a_deactivated_account_cannot_pass_the_second_step(client, member, frozen):
    secret = enrol_two_step(member)
    post_password(client, member)
    member.active = False
    db.session.commit()
    response = client.post("/login/two-step", data={"code": code_at(secret, NOON)})
    assert response.headers["Location"].startswith("/login")
    assert sessions_of(member) == 0


def test_the_audit_log_has_the_acts_but_no_secret_or_code(client, admin, frozen):
    post_password(client, admin)
    secret, codes = enrol_through_pages(client, admin)
    client.post("/logout")
    post_password(client, admin)
    client.post("/login/two-step", data={"code": codes[0]})
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == admin.id)).all()
    assert {e.action for e in events} >= {"user.enable_two_step", "user.use_recovery_code"}
    stored = repr([e.data for e in events])
    assert secret not in stored
    assert not any(code in stored for code in codes)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Totrinnsinnlogging slått på" in page
    assert "Innlogget med gjenopprettingskode" in page


def test_a_school_admin_made_while_signed_in_must_enrol_before_going_on(
    client, member, make_school, frozen
):
    """A role given to someone already signed in (an accepted invitation, say) counts at once."""
    login(client, member)
    assert client.get("/account").status_code == 200
    db.session.add(SchoolStaff(user_id=member.id, school=make_school(), role="admin"))
    db.session.commit()
    assert client.get("/account").headers["Location"].startswith("/account/two-step/enrol")


def test_wrong_passwords_to_turn_the_second_step_off_are_throttled(client, member, frozen):
    enrol_two_step(member)
    login(client, member)
    statuses = [
        client.post("/account/two-step/disable", data={"password": "feil-passord"}).status_code
        for _ in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    db.session.refresh(member)
    assert member.totp_enabled_at is not None
