"""The municipal admin verifies and rejects organisations of their own municipality only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from directory.audit.models import AuditEvent
from directory.extensions import db


@pytest.fixture
def admin(make_user, municipality):
    """The municipal admin of the default municipality (Drammen)."""
    user = make_user("admin@drammen.kommune.no", name="Ada Admin")
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


@pytest.fixture
def lier(make_municipality):
    return make_municipality(slug="lier", name="Lier")


def test_the_list_shows_only_the_own_municipality_pending_first(
    client, admin, lier, make_organisation, login_as
):
    make_organisation(name="A verifisert", verification="verified")
    make_organisation(name="B venter", verification="pending")
    make_organisation(name="C avvist", verification="rejected")
    make_organisation(name="Lierlaget", municipality=lier, verification="pending")
    login_as(admin)
    body = client.get("/admin/organisations").get_data(as_text=True)
    assert "Lierlaget" not in body
    assert body.index("B venter") < body.index("A verifisert") < body.index("C avvist")

    pending = client.get("/admin/organisations?status=pending").get_data(as_text=True)
    assert "B venter" in pending
    assert "A verifisert" not in pending and "C avvist" not in pending
    assert client.get("/admin/organisations?status=tull").status_code == 400


def test_admin_verifies_an_organisation_and_an_audit_event_is_written(
    client, admin, make_organisation, login_as
):
    org = make_organisation(verification="pending")
    login_as(admin)
    response = client.post(f"/admin/organisations/{org.id}/verify")
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.verification == "verified"
    assert org.verified_by_id == admin.id
    assert org.verified_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.verify"))
    assert (event.actor_id, event.object_id, event.municipality_id) == (
        admin.id,
        org.id,
        org.municipality_id,
    )
    assert event.data["before"]["verification"] == "pending"
    assert event.data["after"]["verification"] == "verified"
    assert "badge-unverified" not in client.get(f"/organisations/{org.slug}").get_data(as_text=True)


def test_admin_rejects_with_a_reason_the_members_see(
    app, client, admin, make_user, make_organisation, login_as
):
    owner = make_user()
    org = make_organisation(owners=[owner], verification="verified")
    login_as(admin)
    response = client.post(
        f"/admin/organisations/{org.id}/reject", data={"reason": "Ikke en forening for barn"}
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert (org.verification, org.rejection_reason) == ("rejected", "Ikke en forening for barn")
    assert org.verified_at is None and org.verified_by_id is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.reject"))
    assert event.data["before"]["verification"] == "verified"
    assert event.data["after"]["rejection_reason"] == "Ikke en forening for barn"

    member = app.test_client()
    login_as_member = member.post(
        "/login", data={"email": owner.email, "password": "riktig-hest-batteri-42"}
    )
    assert login_as_member.status_code == 302
    assert "Ikke en forening for barn" in member.get("/account").get_data(as_text=True)
    assert app.test_client().get(f"/organisations/{org.slug}").status_code == 404


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Skriv en begrunnelse."), ("   ", "Skriv en begrunnelse."), ("x" * 501, "høyst 500")],
)
def test_a_rejection_needs_a_reason_of_at_most_500_characters(
    client, admin, make_organisation, login_as, reason, message
):
    org = make_organisation(verification="pending")
    login_as(admin)
    response = client.post(f"/admin/organisations/{org.id}/reject", data={"reason": reason})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(org)
    assert org.verification == "pending"
    assert db.session.scalar(select(AuditEvent)) is None


def test_another_municipality_s_organisation_is_404_to_the_admin(
    client, admin, lier, make_organisation, login_as
):
    foreign = make_organisation(municipality=lier, verification="pending")
    login_as(admin)
    assert client.post(f"/admin/organisations/{foreign.id}/verify").status_code == 404
    response = client.post(f"/admin/organisations/{foreign.id}/reject", data={"reason": "Nei"})
    assert response.status_code == 404
    assert client.post("/admin/organisations/999999/verify").status_code == 404
    db.session.refresh(foreign)
    assert foreign.verification == "pending"
    assert db.session.scalar(select(AuditEvent)) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/organisations"),
        ("get", "/admin/audit"),
        ("post", "/admin/organisations/{id}/verify"),
        ("post", "/admin/organisations/{id}/reject"),
    ],
)
def test_non_admins_get_403_and_anonymous_visitors_the_login_page(
    app, client, make_user, make_organisation, login_as, method, path
):
    owner = make_user()
    org = make_organisation(owners=[owner], verification="pending")
    url = path.format(id=org.id)
    anonymous = getattr(app.test_client(), method)(url, data={"reason": "x"})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    login_as(owner)  # an owner of the very organisation is still not its verifier
    assert getattr(client, method)(url, data={"reason": "x"}).status_code == 403
    db.session.refresh(org)
    assert org.verification == "pending"


def test_the_audit_log_shows_the_own_municipality_s_events_only(
    client, admin, lier, make_user, make_organisation, login_as
):
    own = make_organisation(verification="pending")
    foreign = make_organisation(municipality=lier, verification="pending")
    lier_admin = make_user(name="Lier Admin")
    lier_admin.admin_municipality_id = lier.id
    db.session.commit()

    login_as(lier_admin)
    client.post(f"/admin/organisations/{foreign.id}/verify")
    login_as(admin)
    client.post(f"/admin/organisations/{own.id}/verify")

    response = client.get("/admin/audit")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "organisation.verify" in body
    assert "Ada Admin" in body
    assert f"Organisation #{own.id}" in body
    assert "Lier Admin" not in body
    assert f"Organisation #{foreign.id}" not in body
