"""Organisation pages: the public list and page, and editing with optimistic locking."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Organisation


def edit_form(org: Organisation, **overrides) -> dict:
    """The edit form as the browser would send it, unchanged unless overridden."""
    data = {
        "name": org.name,
        "description": org.description or "",
        "website_url": org.website_url or "",
        "facebook_page_url": org.facebook_page_url or "",
        "email": org.email or "",
        "phone": org.phone or "",
        "org_number": org.org_number or "",
        "version": str(org.version),
    }
    data.update(overrides)
    return data


# --- the public list -------------------------------------------------------------------------


def test_list_shows_only_non_rejected_organisations_with_public_activities(
    client, make_organisation, make_activity
):
    with_public = make_organisation(name="Bueklubben")
    make_activity(organisation=with_public, status="published")
    cancelled_only = make_organisation(name="Avlyst lag", verification="pending")
    make_activity(organisation=cancelled_only, status="cancelled")
    drafts_only = make_organisation(name="Kladdelaget")
    make_activity(organisation=drafts_only, status="draft")
    make_organisation(name="Tomt lag")
    rejected = make_organisation(name="Avvist lag", verification="rejected")
    make_activity(organisation=rejected, status="published")

    body = client.get("/organisations").get_data(as_text=True)
    assert "Bueklubben" in body
    assert "Avlyst lag" in body
    assert body.index("Avlyst lag") < body.index("Bueklubben")  # by name
    for hidden in ("Kladdelaget", "Tomt lag", "Avvist lag"):
        assert hidden not in body


def test_list_filters_by_municipality(client, make_municipality, make_organisation, make_activity):
    lier = make_municipality(slug="lier", name="Lier")
    make_activity(organisation=make_organisation(name="Drammenslaget"))
    make_activity(organisation=make_organisation(name="Lierlaget", municipality=lier))
    body = client.get("/organisations?municipality=lier").get_data(as_text=True)
    assert "Lierlaget" in body
    assert "Drammenslaget" not in body
    assert client.get("/organisations?municipality=finnes-ikke").status_code == 404


# --- one organisation's page -------------------------------------------------------------------


def test_page_shows_details_markdown_and_public_activities_only(
    client, make_organisation, make_activity
):
    org = make_organisation(
        name="Bueklubben",
        verification="pending",
        description="Vi skyter **blink**.\n\n<script>alert(1)</script>",
        email="post@bue.no",
        phone="912 34 567",
    )
    shown = make_activity(organisation=org, title="Bueskyting for nybegynnere")
    make_activity(organisation=org, title="Avlyst turnering", status="cancelled")
    make_activity(organisation=org, title="Hemmelig kladd", status="draft")
    make_activity(organisation=org, title="Arkivert kurs", status="archived")

    response = client.get(f"/organisations/{org.slug}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>blink</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "post@bue.no" in body
    # the same mark as on activity cards: «Ikke verifisert», never «unverifisert»
    assert re.search(r'class="badge badge-unverified"[^>]*>Ikke verifisert<', body)
    assert "Ikke verifisert</span>" in client.get("/organisations").get_data(as_text=True)
    assert "Bueskyting for nybegynnere" in body
    assert f'href="/activities/{shown.id}"' in body
    assert "Avlyst turnering" in body
    assert "Hemmelig kladd" not in body
    assert "Arkivert kurs" not in body
    assert "Rediger organisasjonen" not in body  # the public gets no management links


def test_a_verified_organisation_has_no_unverified_mark(client, make_organisation):
    org = make_organisation(verification="verified")
    assert "badge-unverified" not in client.get(f"/organisations/{org.slug}").get_data(as_text=True)


def test_members_see_management_links(client, make_user, make_organisation, login_as):
    editor = make_user()
    org = make_organisation(members=[editor])
    login_as(editor)
    body = client.get(f"/organisations/{org.slug}").get_data(as_text=True)
    assert f"/organisations/{org.slug}/edit" in body
    assert f"/organisations/{org.slug}/members" in body
    assert f"/organisations/{org.slug}/activities/new" in body


def test_unknown_slug_is_404(client):
    assert client.get("/organisations/finnes-ikke").status_code == 404


def test_a_rejected_organisation_is_hidden_from_the_public_but_not_from_its_people(
    client, make_user, make_organisation, municipality, login_as
):
    owner, stranger, admin = make_user(), make_user(), make_user()
    admin.admin_municipality_id = municipality.id
    db.session.commit()
    org = make_organisation(
        owners=[owner], verification="rejected", rejection_reason="Ikke en forening"
    )
    path = f"/organisations/{org.slug}"
    assert client.get(path).status_code == 404
    login_as(stranger)
    assert client.get(path).status_code == 404
    login_as(owner)
    response = client.get(path)
    assert response.status_code == 200
    assert "Ikke en forening" in response.get_data(as_text=True)
    login_as(admin)
    assert client.get(path).status_code == 200


# --- editing ------------------------------------------------------------------------------------


def test_editor_edits_the_page_and_an_audit_event_lists_the_changes(
    client, make_user, make_organisation, login_as
):
    editor = make_user()
    org = make_organisation(members=[editor], description="Gammel tekst")
    login_as(editor)
    form_page = client.get(f"/organisations/{org.slug}/edit")
    assert form_page.status_code == 200
    assert 'name="version"' in form_page.get_data(as_text=True)

    response = client.post(
        f"/organisations/{org.slug}/edit",
        data=edit_form(org, description="Ny *tekst*", website_url="bue.no"),
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.description == "Ny *tekst*"
    assert org.website_url == "https://bue.no"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.edit"))
    assert event.actor_id == editor.id
    assert event.data["before"] == {"description": "Gammel tekst", "website_url": None}
    assert event.data["after"] == {"description": "Ny *tekst*", "website_url": "https://bue.no"}
    assert "Endringene er lagret." in client.get(f"/organisations/{org.slug}").get_data(
        as_text=True
    )


def test_a_stale_version_is_refused_with_409_and_nothing_changes(
    client, make_user, make_organisation, login_as
):
    editor = make_user()
    org = make_organisation(members=[editor], name="Bueklubben")
    login_as(editor)
    stale = edit_form(org)
    # Someone else saves first.
    org.description = "Annen redaktør var her"
    db.session.commit()

    response = client.post(
        f"/organisations/{org.slug}/edit", data={**stale, "name": "Mitt nye navn"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Noen andre har endret dette mens du hadde siden åpen." in body
    assert 'value="Mitt nye navn"' in body  # what they typed is still there to copy
    db.session.refresh(org)
    assert org.name == "Bueklubben"
    assert org.description == "Annen redaktør var her"
    assert db.session.scalar(select(AuditEvent)) is None


def test_a_missing_version_counts_as_stale(client, make_user, make_organisation, login_as):
    editor = make_user()
    org = make_organisation(members=[editor], name="Bueklubben")
    login_as(editor)
    data = edit_form(org, name="Nytt navn")
    del data["version"]
    response = client.post(f"/organisations/{org.slug}/edit", data=data)
    assert response.status_code == 409
    assert "Noen andre har endret dette mens du hadde siden åpen." in response.get_data(
        as_text=True
    )
    db.session.refresh(org)
    assert org.name == "Bueklubben"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Skriv inn navnet på organisasjonen."),
        ({"org_number": "123456789"}, "Organisasjonsnummeret er ikke gyldig"),
        ({"facebook_page_url": "https://evil.example/"}, "Facebook-side"),
        ({"email": "ikke e-post"}, "Skriv en gyldig e-postadresse."),
        ({"description": "x" * 10_001}, "Beskrivelsen kan ha høyst 10 000 tegn."),
    ],
)
def test_bad_edits_are_refused_next_to_the_field(
    client, make_user, make_organisation, login_as, overrides, message
):
    owner = make_user()
    org = make_organisation(owners=[owner], name="Bueklubben")
    login_as(owner)
    response = client.post(f"/organisations/{org.slug}/edit", data=edit_form(org, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(org)
    assert org.name == "Bueklubben"
    assert org.version == 1


def test_changing_the_org_number_of_a_verified_organisation_resets_verification(
    client, make_user, make_organisation, login_as
):
    owner = make_user()
    org = make_organisation(owners=[owner], verification="verified", org_number="921234554")
    login_as(owner)
    response = client.post(
        f"/organisations/{org.slug}/edit", data=edit_form(org, org_number="974 760 673")
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.org_number == "974760673"
    assert org.verification == "pending"
    body = client.get(f"/organisations/{org.slug}").get_data(as_text=True)
    assert "kommunen må verifisere organisasjonen på nytt" in body
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.edit"))
    assert event.data["after"]["verification"] == "pending"


def test_an_org_number_taken_in_the_municipality_is_refused_on_edit(
    client, make_user, make_organisation, login_as
):
    owner = make_user()
    make_organisation(org_number="974760673")
    org = make_organisation(owners=[owner])
    login_as(owner)
    response = client.post(
        f"/organisations/{org.slug}/edit", data=edit_form(org, org_number="974760673")
    )
    assert response.status_code == 422
    assert "allerede registrert med dette nummeret" in response.get_data(as_text=True)


def test_a_member_of_another_organisation_may_not_edit(
    client, make_user, make_organisation, login_as
):
    outsider = make_user()
    make_organisation(owners=[outsider])
    org = make_organisation(name="Bueklubben")
    login_as(outsider)
    assert client.get(f"/organisations/{org.slug}/edit").status_code == 403
    response = client.post(f"/organisations/{org.slug}/edit", data=edit_form(org, name="Kapret"))
    assert response.status_code == 403
    db.session.refresh(org)
    assert org.name == "Bueklubben"


def test_anonymous_editors_are_sent_to_the_login_page(client, make_organisation):
    org = make_organisation(name="Bueklubben")
    response = client.post(f"/organisations/{org.slug}/edit", data=edit_form(org, name="Kapret"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    db.session.refresh(org)
    assert org.name == "Bueklubben"


def test_editing_an_unknown_organisation_is_404(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/organisations/finnes-ikke/edit").status_code == 404


def test_dashboard_lists_my_organisations_with_links_and_state_notes(
    client, make_user, make_organisation, login_as
):
    user = make_user()
    pending = make_organisation(owners=[user], name="Ventelaget", verification="pending")
    make_organisation(
        members=[user], name="Avvist lag", verification="rejected", rejection_reason="Duplikat"
    )
    make_organisation(name="Ikke mitt lag")
    login_as(user)
    body = client.get("/account").get_data(as_text=True)
    assert "Ventelaget" in body and "Avvist lag" in body
    assert "Ikke mitt lag" not in body
    assert "Venter på verifisering" in body
    assert "Begrunnelse: Duplikat" in body
    assert f'href="/organisations/{pending.slug}/activities/new"' in body
    assert f'href="/organisations/{pending.slug}/edit"' in body
    assert f'href="/organisations/{pending.slug}/members"' in body
