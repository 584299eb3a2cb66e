"""Members: invitations by one-time link, roles, removal, and the last-owner rule."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from directory.accounts.models import User
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Invitation, Membership
from directory.timeutil import utcnow
from tests.conftest import PASSWORD, csrf_token_from

NEW_PASSWORD = "et-helt-nytt-passord"


def invite(client, org, email="ny@example.org", role="editor"):
    """Invite through the members page and return the one-time link's path."""
    response = client.post(
        f"/organisations/{org.slug}/members/invite", data={"email": email, "role": role}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = client.get(f"/organisations/{org.slug}/members").get_data(as_text=True)
    match = re.search(r'value="https?://[^/"]+(/invitations/[A-Za-z0-9_-]+)"', page)
    assert match, "the members page shows the link"
    return match.group(1)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_members_page_lists_members_for_owners_and_editors_only(
    client, make_user, make_organisation, login_as
):
    owner, editor, outsider = make_user(name="Olga Eier"), make_user(name="Erik Red"), make_user()
    org = make_organisation(owners=[owner], members=[editor])
    path = f"/organisations/{org.slug}/members"
    login_as(editor)
    body = client.get(path).get_data(as_text=True)
    assert "Olga Eier" in body and "Erik Red" in body
    assert "Inviter et nytt medlem" not in body  # editors do not invite
    login_as(outsider)
    assert client.get(path).status_code == 403


def test_an_owner_invites_and_the_link_is_shown_once_and_only_hashed_in_storage(
    client, make_user, make_organisation, login_as
):
    owner = make_user()
    org = make_organisation(owners=[owner])
    login_as(owner)
    link = invite(client, org, email="Ny@Example.org")
    token = link.rsplit("/", 1)[1]
    invitation = db.session.scalar(select(Invitation))
    assert invitation.email == "ny@example.org"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert timedelta(days=13, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=14)
    again = client.get(f"/organisations/{org.slug}/members").get_data(as_text=True)
    assert token not in again
    assert "ny@example.org" in again  # still listed as an open invitation
    assert "Vi sender en lenke på e-post til personen" in again
    assert "invitation.create" in actions()


def test_an_editor_may_not_invite(client, make_user, make_organisation, login_as):
    editor = make_user()
    org = make_organisation(members=[editor])
    login_as(editor)
    response = client.post(
        f"/organisations/{org.slug}/members/invite",
        data={"email": "x@example.org", "role": "owner"},
    )
    assert response.status_code == 403
    assert db.session.scalar(select(Invitation)) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "role": "editor"}, "Skriv inn e-postadressen til den du vil invitere."),
        ({"email": "ikke-epost", "role": "editor"}, "Skriv en gyldig e-postadresse."),
        ({"email": "a@example.org", "role": "admin"}, "Velg eier eller redaktør."),
    ],
)
def test_bad_invitations_are_refused_next_to_the_field(
    client, make_user, make_organisation, login_as, data, message
):
    owner = make_user()
    org = make_organisation(owners=[owner])
    login_as(owner)
    response = client.post(f"/organisations/{org.slug}/members/invite", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation)) is None


def test_inviting_an_existing_member_is_refused(client, make_user, make_organisation, login_as):
    owner, editor = make_user(), make_user("red@example.org")
    org = make_organisation(owners=[owner], members=[editor])
    login_as(owner)
    response = client.post(
        f"/organisations/{org.slug}/members/invite",
        data={"email": "RED@example.org", "role": "owner"},
    )
    assert response.status_code == 422
    assert "allerede medlem" in response.get_data(as_text=True)


def test_a_new_person_accepts_by_creating_an_account(
    app, client, make_user, make_organisation, login_as
):
    owner = make_user()
    org = make_organisation(owners=[owner], name="Bueklubben")
    login_as(owner)
    link = invite(client, org, email="ny@example.org", role="editor")

    guest = app.test_client()
    page = guest.get(link).get_data(as_text=True)
    assert 'value="ny@example.org"' in page and "readonly" in page
    response = guest.post(
        link,
        data={
            "name": "Nina Ny",
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
            "email": "annen@example.org",  # ignored: the account is for the invited address
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "ny@example.org"))
    assert user.name == "Nina Ny"
    assert db.session.scalar(select(User).where(User.email == "annen@example.org")) is None
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert (membership.organisation_id, membership.role) == (org.id, "editor")
    assert guest.get("/account").status_code == 200  # logged in
    assert {"user.register", "invitation.accept"} <= set(actions())

    # The link is used up.
    other = app.test_client()
    used = other.get(link)
    assert used.status_code == 404
    assert "allerede brukt" in used.get_data(as_text=True)


def test_account_form_errors_on_the_invitation_page(
    app, client, make_user, make_organisation, login_as
):
    owner = make_user()
    org = make_organisation(owners=[owner])
    login_as(owner)
    link = invite(client, org, email="ny@example.org")
    guest = app.test_client()
    response = guest.post(
        link,
        data={"name": "", "password": "ny@example.org", "password_repeat": "noe annet"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Skriv inn navnet ditt." in body
    assert "Passordene er ikke like." in body
    assert db.session.scalar(select(User).where(User.email == "ny@example.org")) is None


def test_an_existing_account_is_told_to_log_in_and_comes_back_to_accept(
    app, client, make_user, make_organisation, login_as
):
    owner = make_user()
    make_user("finnes@example.org", name="Frida Finnes")
    org = make_organisation(owners=[owner])
    login_as(owner)
    link = invite(client, org, email="finnes@example.org", role="owner")

    guest = app.test_client()
    page = guest.get(link).get_data(as_text=True)
    assert "Det finnes allerede en konto for finnes@example.org" in page
    assert f'href="/login?next={link}"' in page
    response = guest.post(
        link, data={"name": "X", "password": "x" * 12, "password_repeat": "x" * 12}
    )
    assert response.status_code == 200  # no account is created this way
    assert len(db.session.scalars(select(User)).all()) == 2

    logged_in = guest.post(
        "/login",
        query_string={"next": link},
        data={"email": "finnes@example.org", "password": PASSWORD},
    )
    assert logged_in.headers["Location"] == link
    assert "Bli med i" in guest.get(link).get_data(as_text=True)
    assert guest.post(link).status_code == 302
    frida = db.session.scalar(select(User).where(User.email == "finnes@example.org"))
    assert [(m.organisation_id, m.role) for m in frida.memberships] == [(org.id, "owner")]


@pytest.mark.parametrize("problem", ["expired", "used", "unknown"])
def test_bad_invitation_links_are_404_with_a_clear_message(
    app, client, make_user, make_organisation, login_as, problem
):
    owner = make_user()
    org = make_organisation(owners=[owner])
    login_as(owner)
    link = invite(client, org)
    invitation = db.session.scalar(select(Invitation))
    if problem == "expired":
        invitation.expires_at = utcnow() - timedelta(minutes=1)
    elif problem == "used":
        invitation.accepted_at = utcnow()
    else:
        link = "/invitations/" + "A" * 43
    db.session.commit()
    guest = app.test_client()
    for response in (
        guest.get(link),
        guest.post(
            link, data={"name": "X", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
        ),
    ):
        assert response.status_code == 404
        assert "Invitasjonen finnes ikke, er utløpt eller er allerede brukt" in response.get_data(
            as_text=True
        )
    assert db.session.scalar(select(Membership).where(Membership.role == "editor")) is None


def test_a_new_invitation_to_the_same_address_replaces_the_old_link(
    client, make_user, make_organisation, login_as
):
    owner = make_user()
    org = make_organisation(owners=[owner])
    login_as(owner)
    first = invite(client, org, email="ny@example.org")
    second = invite(client, org, email="ny@example.org")
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


# --- roles and removal ----------------------------------------------------------------------


def membership_of(user, org) -> Membership:
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == org.id
        )
    )


def test_the_last_owner_can_be_neither_removed_nor_demoted(
    client, make_user, make_organisation, login_as
):
    owner, editor = make_user(), make_user()
    org = make_organisation(owners=[owner], members=[editor])
    mine = membership_of(owner, org)
    login_as(owner)
    response = client.post(f"/organisations/{org.slug}/members/{mine.id}/remove")
    assert response.status_code == 409
    assert "minst én eier" in response.get_data(as_text=True)
    response = client.post(
        f"/organisations/{org.slug}/members/{mine.id}/role", data={"role": "editor"}
    )
    assert response.status_code == 409
    db.session.refresh(mine)
    assert mine.role == "owner"
    assert "membership.remove" not in actions()


def test_an_owner_promotes_then_the_old_owner_may_leave(
    client, make_user, make_organisation, login_as
):
    owner, editor = make_user(), make_user()
    org = make_organisation(owners=[owner], members=[editor])
    theirs, mine = membership_of(editor, org), membership_of(owner, org)
    login_as(owner)
    response = client.post(
        f"/organisations/{org.slug}/members/{theirs.id}/role", data={"role": "owner"}
    )
    assert response.status_code == 302
    db.session.refresh(theirs)
    assert theirs.role == "owner"
    response = client.post(f"/organisations/{org.slug}/members/{mine.id}/remove")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert membership_of(owner, org) is None
    assert {"membership.change_role", "membership.remove"} <= set(actions())


def test_an_owner_removes_an_editor(client, make_user, make_organisation, login_as):
    owner, editor = make_user(), make_user()
    org = make_organisation(owners=[owner], members=[editor])
    theirs = membership_of(editor, org)
    login_as(owner)
    assert client.post(f"/organisations/{org.slug}/members/{theirs.id}/remove").status_code == 302
    assert membership_of(editor, org) is None


def test_an_editor_may_leave_but_not_remove_or_promote_others(
    client, make_user, make_organisation, login_as
):
    owner, editor, other = make_user(), make_user(), make_user()
    org = make_organisation(owners=[owner], members=[editor, other])
    login_as(editor)
    owner_m, other_m = membership_of(owner, org), membership_of(other, org)
    assert client.post(f"/organisations/{org.slug}/members/{owner_m.id}/remove").status_code == 403
    assert client.post(f"/organisations/{org.slug}/members/{other_m.id}/remove").status_code == 403
    response = client.post(
        f"/organisations/{org.slug}/members/{membership_of(editor, org).id}/role",
        data={"role": "owner"},
    )
    assert response.status_code == 403
    mine = membership_of(editor, org)
    assert client.post(f"/organisations/{org.slug}/members/{mine.id}/remove").status_code == 302
    assert membership_of(editor, org) is None
    assert membership_of(other, org) is not None


def test_a_membership_of_another_organisation_is_404(
    client, make_user, make_organisation, login_as
):
    owner, stranger = make_user(), make_user()
    org = make_organisation(owners=[owner])
    other_org = make_organisation(owners=[stranger])
    foreign = membership_of(stranger, other_org)
    login_as(owner)
    assert client.post(f"/organisations/{org.slug}/members/{foreign.id}/remove").status_code == 404
    response = client.post(
        f"/organisations/{org.slug}/members/{foreign.id}/role", data={"role": "editor"}
    )
    assert response.status_code == 404
    assert client.post(f"/organisations/{org.slug}/members/999999/remove").status_code == 404
    assert membership_of(stranger, other_org) is not None


def test_a_bad_role_is_refused(client, make_user, make_organisation, login_as):
    owner, editor = make_user(), make_user()
    org = make_organisation(owners=[owner], members=[editor])
    theirs = membership_of(editor, org)
    login_as(owner)
    response = client.post(
        f"/organisations/{org.slug}/members/{theirs.id}/role", data={"role": "superadmin"}
    )
    assert response.status_code == 422
    db.session.refresh(theirs)
    assert theirs.role == "editor"


def test_anonymous_member_actions_go_to_login(client, make_user, make_organisation):
    owner = make_user()
    org = make_organisation(owners=[owner])
    mine = membership_of(owner, org)
    assert client.get(f"/organisations/{org.slug}/members").status_code == 302
    for path in (
        f"/organisations/{org.slug}/members/invite",
        f"/organisations/{org.slug}/members/{mine.id}/remove",
        f"/organisations/{org.slug}/members/{mine.id}/role",
    ):
        assert (
            client.post(path, data={"email": "x@example.org", "role": "owner"}).status_code == 302
        )
    assert membership_of(owner, org) is not None
    assert db.session.scalar(select(Invitation)) is None


def test_csrf_protects_member_removal(make_app):
    """With CSRF on, a forged removal without the token is refused."""
    app = make_app(WTF_CSRF_ENABLED=True)
    from directory.accounts.operations import create_user
    from directory.organisations.models import Organisation
    from directory.schools.models import Municipality

    with app.app_context():
        place = Municipality(slug="drammen", name="Drammen")
        owner = create_user("eier@example.org", "Eier", PASSWORD)
        editor = create_user("red@example.org", "Red", PASSWORD)
        org = Organisation(municipality=place, slug="lag", name="Lag", kind="volunteer")
        db.session.add_all([place, org])
        db.session.add_all(
            [
                Membership(user=owner, organisation=org, role="owner"),
                Membership(user=editor, organisation=org, role="editor"),
            ]
        )
        db.session.commit()
        editor_membership_id = membership_of(editor, org).id
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = csrf_token_from(login_page)
    response = client.post(
        "/login", data={"email": "eier@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    forged = client.post(f"/organisations/lag/members/{editor_membership_id}/remove")
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.get(Membership, editor_membership_id) is not None


# --- revoking an invitation -----------------------------------------------------------------


def open_invitation_id(org) -> int:
    return db.session.scalar(select(Invitation.id).where(Invitation.organisation_id == org.id))


def test_an_owner_revokes_an_invitation_and_its_link_stops_working(
    app, client, make_user, make_organisation, login_as
):
    owner = make_user(name="Olga Eier")
    org = make_organisation(owners=[owner])
    login_as(owner)
    link = invite(client, org, email="angrer@example.org")
    invitation_id = open_invitation_id(org)
    page = client.get(f"/organisations/{org.slug}/members").get_data(as_text=True)
    revoke = f"/organisations/{org.slug}/invitations/{invitation_id}/revoke"
    assert f'action="{revoke}"' in page
    assert "Trekk tilbake invitasjonen" in page

    response = client.post(revoke)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organisations/{org.slug}/members"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitasjonen til angrer@example.org er trukket tilbake." in page
    assert "Åpne invitasjoner" not in page  # no open invitation left to list

    guest = app.test_client()
    for response in (
        guest.get(link),
        guest.post(
            link, data={"name": "X", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
        ),
    ):
        assert response.status_code == 404
        assert "Invitasjonen finnes ikke, er utløpt eller er allerede brukt" in response.get_data(
            as_text=True
        )
    assert db.session.scalar(select(User).where(User.email == "angrer@example.org")) is None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "invitation.revoke")
    ).one()
    assert (event.actor_id, event.object_type, event.object_id) == (
        owner.id,
        "Invitation",
        invitation_id,
    )
    assert event.data == {
        "organisation_id": org.id,
        "email": "angrer@example.org",
        "role": "editor",
    }
    # Revoking it again: it is gone.
    assert client.post(revoke).status_code == 404


def test_an_editor_may_not_revoke_an_invitation_or_see_the_button(
    client, make_user, make_organisation, login_as
):
    owner, editor = make_user(), make_user()
    org = make_organisation(owners=[owner], members=[editor])
    login_as(owner)
    link = invite(client, org)
    invitation_id = open_invitation_id(org)
    login_as(editor)
    page = client.get(f"/organisations/{org.slug}/members").get_data(as_text=True)
    assert "Trekk tilbake invitasjonen" not in page
    response = client.post(f"/organisations/{org.slug}/invitations/{invitation_id}/revoke")
    assert response.status_code == 403
    assert db.session.get(Invitation, invitation_id) is not None
    assert "invitation.revoke" not in actions()
    assert client.get(link).status_code == 200  # the link still works


def test_another_organisations_invitation_is_404(client, make_user, make_organisation, login_as):
    owner, stranger = make_user(), make_user()
    org = make_organisation(owners=[owner])
    other_org = make_organisation(owners=[stranger])
    login_as(stranger)
    invite(client, other_org)
    foreign = open_invitation_id(other_org)
    login_as(owner)
    response = client.post(f"/organisations/{org.slug}/invitations/{foreign}/revoke")
    assert response.status_code == 404
    assert client.post(f"/organisations/{org.slug}/invitations/999999/revoke").status_code == 404
    assert db.session.get(Invitation, foreign) is not None
    assert "invitation.revoke" not in actions()


def test_an_accepted_invitation_cannot_be_revoked(client, make_user, make_organisation, login_as):
    owner = make_user()
    org = make_organisation(owners=[owner])
    login_as(owner)
    invite(client, org)
    invitation = db.session.scalar(select(Invitation))
    invitation.accepted_at = utcnow()
    db.session.commit()
    response = client.post(f"/organisations/{org.slug}/invitations/{invitation.id}/revoke")
    assert response.status_code == 409
    assert "allerede brukt" in response.get_data(as_text=True)
    assert db.session.get(Invitation, invitation.id) is not None


def test_csrf_protects_revoking_an_invitation(make_app):
    """With CSRF on, a forged revocation without the token is refused; the page's form works."""
    app = make_app(WTF_CSRF_ENABLED=True)
    from directory.accounts.operations import create_user
    from directory.organisations.models import Organisation
    from directory.schools.models import Municipality

    with app.app_context():
        place = Municipality(slug="drammen", name="Drammen")
        owner = create_user("eier@example.org", "Eier", PASSWORD)
        org = Organisation(municipality=place, slug="lag", name="Lag", kind="volunteer")
        invitation = Invitation(
            organisation=org,
            email="ny@example.org",
            role="editor",
            token_hash="0" * 64,
            expires_at=utcnow() + timedelta(days=7),
        )
        db.session.add_all([place, org, invitation])
        db.session.add(Membership(user=owner, organisation=org, role="owner"))
        db.session.commit()
        invitation_id = invitation.id
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "eier@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    path = f"/organisations/lag/invitations/{invitation_id}/revoke"
    assert client.post(path).status_code == 400
    with app.app_context():
        assert db.session.get(Invitation, invitation_id) is not None
    page = client.get("/organisations/lag/members").get_data(as_text=True)
    assert client.post(path, data={"csrf_token": csrf_token_from(page)}).status_code == 302
    with app.app_context():
        assert db.session.get(Invitation, invitation_id) is None
