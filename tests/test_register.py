"""Registering an account and an organisation in one flow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from directory.accounts.models import User
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Membership, Organisation

PASSWORD = "et-langt-passord-123"


def form(place, **overrides) -> dict:
    """A complete, valid registration form for an organisation in `place`."""
    data = {
        "name": "Kari Nordmann",
        "email": "kari@example.org",
        "password": PASSWORD,
        "password_repeat": PASSWORD,
        "municipality": str(place.id),
        "org_name": "Åssiden IF",
        "kind": "volunteer",
        "org_number": "",
        "website_url": "",
        "contact_email": "",
        "phone": "",
    }
    data.update(overrides)
    return data


def test_the_form_offers_the_four_kinds_and_preselects_the_only_municipality(client, municipality):
    body = client.get("/register").get_data(as_text=True)
    for label in (
        "Frivillig lag/forening",
        "Kommunalt tilbud",
        "Skole/SFO/AKS",
        "Kommersiell aktør",
    ):
        assert label in body
    assert f'<option selected value="{municipality.id}">Drammen</option>' in body


def test_registration_creates_a_pending_organisation_owned_by_a_logged_in_user(
    client, municipality
):
    response = client.post(
        "/register",
        data=form(
            municipality,
            org_number="NO 921 234 554 MVA",
            website_url="www.assiden.no",
            contact_email="post@assiden.no",
            phone="+47 912 34 567",
            email=" Kari@Example.org ",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisations/assiden-if"

    org = db.session.scalar(select(Organisation))
    assert org.name == "Åssiden IF"
    assert org.verification == "pending"
    assert org.org_number == "921234554"
    assert org.website_url == "https://www.assiden.no"
    assert org.municipality_id == municipality.id
    user = db.session.scalar(select(User))
    assert user.email == "kari@example.org"
    assert user.password_hash.startswith("$argon2id$")
    membership = db.session.scalar(select(Membership))
    assert (membership.user_id, membership.organisation_id, membership.role) == (
        user.id,
        org.id,
        "owner",
    )
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.register", "organisation.register", "membership.add"} <= actions

    page = client.get("/organisations/assiden-if")
    body = page.get_data(as_text=True)
    assert "kommune vil verifisere organisasjonen" in body
    assert "merkes som uverifisert" in body
    assert "badge-unverified" in body
    dashboard = client.get("/account")
    assert dashboard.status_code == 200
    assert "Åssiden IF" in dashboard.get_data(as_text=True)


def test_registration_starts_a_real_server_side_session(app, client, municipality):
    client.post("/register", data=form(municipality))
    cookie = client.get_cookie("directory_session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("directory_session", cookie)
    assert thief.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"org_number": "921234555"}, "Organisasjonsnummeret er ikke gyldig"),
        ({"org_number": "abc"}, "Organisasjonsnummeret er ikke gyldig"),
        ({"password_repeat": "et-annet-passord-99"}, "Passordene er ikke like."),
        ({"password": "kort", "password_repeat": "kort"}, "Passordet må ha minst 10 tegn."),
        (
            {"password": "kari@example.org", "password_repeat": "kari@example.org"},
            "Passordet kan ikke være e-postadressen din.",
        ),
        (
            {"password": "1234567890", "password_repeat": "1234567890"},
            "Dette passordet er blant de mest brukte",
        ),
        ({"email": "ikke-en-adresse"}, "Skriv en gyldig e-postadresse."),
        ({"name": ""}, "Skriv inn navnet ditt."),
        ({"email": ""}, "Skriv inn e-postadressen din."),
        ({"password": "", "password_repeat": ""}, "Velg et passord."),
        ({"org_name": "   "}, "Skriv inn navnet på organisasjonen."),
        ({"kind": ""}, "Velg hva slags organisasjon dette er."),
        ({"kind": "sekt"}, "Velg en type fra listen."),
        ({"municipality": "abc"}, "Velg en kommune fra listen."),
        ({"municipality": "99999"}, "Velg en kommune fra listen."),
        ({"website_url": "javascript:alert(1)"}, "Skriv en nettadresse"),
        ({"phone": "ring meg"}, "Skriv telefonnummeret med siffer"),
        ({"org_name": "x" * 10_000}, "Navnet kan ha høyst 150 tegn."),
        ({"password": "p" * 201, "password_repeat": "p" * 201}, "Passordet kan ha høyst 200 tegn."),
    ],
)
def test_each_bad_field_is_refused_with_its_message_and_nothing_is_stored(
    client, municipality, overrides, field_message
):
    data = form(municipality, **overrides)
    response = client.post("/register", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_message in body
    assert 'class="errors"' in body  # shown next to its field
    assert db.session.scalar(select(User)) is None
    assert db.session.scalar(select(Organisation)) is None
    if overrides.get("org_name", "").strip() and len(overrides["org_name"]) < 200:
        assert overrides["org_name"] in body


def test_submitted_values_stay_in_the_form_but_passwords_do_not(client, municipality):
    response = client.post(
        "/register", data=form(municipality, org_number="921234555", phone="912 34 567")
    )
    body = response.get_data(as_text=True)
    assert 'value="Kari Nordmann"' in body
    assert 'value="Åssiden IF"' in body
    assert 'value="912 34 567"' in body
    assert PASSWORD not in body


def test_a_missing_form_is_refused_field_by_field(client, municipality, make_municipality):
    make_municipality(name="Lier")  # two municipalities: nothing is preselected
    response = client.post("/register", data={})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Skriv inn navnet ditt.",
        "Skriv inn e-postadressen din.",
        "Velg et passord.",
        "Velg kommunen organisasjonen hører til.",
        "Skriv inn navnet på organisasjonen.",
        "Velg hva slags organisasjon dette er.",
    ):
        assert message in body


def test_an_email_already_registered_is_refused_next_to_the_email_field(
    client, municipality, make_user
):
    make_user("kari@example.org")
    response = client.post("/register", data=form(municipality, email="KARI@example.org"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-err"' in body
    assert "Det finnes allerede en konto med denne e-postadressen." in body
    assert db.session.scalar(select(Organisation)) is None


def test_an_org_number_is_registered_once_per_municipality(
    client, municipality, make_municipality, make_organisation
):
    make_organisation(org_number="921234554")
    response = client.post("/register", data=form(municipality, org_number="921 234 554"))
    assert response.status_code == 422
    assert "allerede registrert i kommunen" in response.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None

    # Another municipality may have an organisation with the same number.
    lier = make_municipality(name="Lier")
    response = client.post(
        "/register", data=form(municipality, municipality=str(lier.id), org_number="921234554")
    )
    assert response.status_code == 302


def test_same_name_gets_a_free_slug(client, municipality, make_organisation):
    make_organisation(slug="assiden-if", name="Åssiden IF")
    response = client.post("/register", data=form(municipality))
    assert response.headers["Location"] == "/organisations/assiden-if-2"


def test_a_signed_in_user_registers_another_organisation_without_a_new_account(
    client, municipality, make_user, login_as
):
    user = login_as(make_user("kari@example.org"))
    response = client.post(
        "/register",
        data={"municipality": str(municipality.id), "org_name": "Kor", "kind": "volunteer"},
    )
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Kor"))
    assert [(m.user_id, m.role) for m in org.memberships] == [(user.id, "owner")]
    assert len(db.session.scalars(select(User)).all()) == 1


def test_without_municipalities_registration_explains_itself(client):
    response = client.get("/register")
    assert response.status_code == 200
    assert "Ingen kommuner er satt opp" in response.get_data(as_text=True)


def test_a_huge_field_is_refused_without_a_500(client, municipality):
    response = client.post("/register", data=form(municipality, name="x" * 600_000))
    assert response.status_code == 422
    assert "Navnet kan ha høyst 120 tegn." in response.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None


def test_registration_is_rate_limited(client, municipality):
    statuses = [
        client.post("/register", data=form(municipality, email="")).status_code for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_registration_needs_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from directory.schools.models import Municipality

        municipality = Municipality(slug="drammen", name="Drammen")
        db.session.add(municipality)
        db.session.commit()
        data = form(municipality)
    client = app.test_client()
    response = client.post("/register", data=data)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_a_registration_racing_another_for_the_same_e_mail_is_a_409(
    client, municipality, make_user, monkeypatch
):
    # The other registration lands between the form's check and our insert.
    from directory.accounts.forms import RegistrationForm

    make_user("kari@example.org")
    monkeypatch.setattr(RegistrationForm, "validate_email", lambda form, field: None)
    response = client.post("/register", data=form(municipality))
    assert response.status_code == 409
    assert "Noen registrerte det samme akkurat nå. Prøv igjen." in response.get_data(as_text=True)
    assert db.session.scalar(select(Organisation)) is None
    assert client.get("/account").status_code == 302  # nobody was signed in
