"""Registering an account and an organisation in one flow.

The form answers alike whether or not the e-mail has an account (issue #11, finding 5): a new
address gets a link that completes the registration, the owner of an existing account an e-mail
that says so. Nothing exists until the link is followed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from directory.accounts.models import PendingRegistration, User
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from tests.conftest import login, mail_link, mail_text

PASSWORD = "et-langt-passord-123"
START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


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


def register(client, data):
    """Post the form; the mail goes once the response is closed, as a server does."""
    response = client.post("/register", data=data)
    body = response.get_data(as_text=True)
    response.close()
    return response, body


def confirmation_link(inbox, email: str = "kari@example.org") -> str:
    [message] = inbox.to(email)
    return mail_link(message, "/register/confirm/")


def register_and_confirm(client, inbox, data):
    """Register, follow the e-mailed link and press its button; the button's response."""
    response, _body = register(client, data)
    assert response.status_code == 200
    link = confirmation_link(inbox, data["email"].strip().lower())
    assert client.get(link).status_code == 200
    return client.post(link)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


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


def test_registration_is_completed_from_the_e_mailed_link_as_a_signed_in_owner(
    client, municipality, smtp_server
):
    data = form(
        municipality,
        org_number="NO 921 234 554 MVA",
        website_url="www.assiden.no",
        contact_email="post@assiden.no",
        phone="+47 912 34 567",
        email=" Kari@Example.org ",
    )
    response, body = register(client, data)
    assert response.status_code == 200
    assert "Vi har sendt en e-post til kari@example.org" in body
    # Nothing exists until the link is followed: no account to log in to, no organisation.
    assert count(User) == 0 and count(Organisation) == 0
    assert login(client, "kari@example.org", PASSWORD).status_code == 401

    [message] = smtp_server.messages
    assert message["To"] == "kari@example.org"
    assert "Bekreft registreringen" in message["Subject"]
    assert "24 timer" in mail_text(message)
    # Nothing typed into the form reaches a stranger's inbox through us.
    assert "Åssiden" not in mail_text(message) and "Kari Nordmann" not in mail_text(message)
    link = mail_link(message, "/register/confirm/")
    page = client.get(link)
    assert page.status_code == 200
    assert "Åssiden IF" in page.get_data(as_text=True)
    response = client.post(link)
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
    assert "merkes «Ikke verifisert»" in body
    assert "badge-unverified" in body
    dashboard = client.get("/account")
    assert dashboard.status_code == 200
    assert "Åssiden IF" in dashboard.get_data(as_text=True)


def test_registration_starts_a_real_server_side_session(app, client, municipality, smtp_server):
    register_and_confirm(client, smtp_server, form(municipality))
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


def test_a_new_and_an_existing_e_mail_get_the_same_answer(client, municipality, make_user):
    make_user("kari@example.org")
    existing, existing_body = register(client, form(municipality, email="KARI@example.org"))
    new, new_body = register(client, form(municipality, email="nina@example.org"))
    assert existing.status_code == new.status_code == 200
    assert existing.headers.get("Location") is None and new.headers.get("Location") is None
    assert "Det finnes allerede en konto" not in existing_body
    assert existing_body.replace("kari@example.org", "X") == new_body.replace(
        "nina@example.org", "X"
    )
    # Nothing was made for the existing address: no organisation, no second account, no link.
    assert count(Organisation) == 0 and count(User) == 1
    assert db.session.scalars(select(PendingRegistration.email)).all() == ["nina@example.org"]


def test_the_owner_of_an_existing_account_is_told_by_e_mail_in_their_language(
    client, municipality, make_user, smtp_server
):
    kari = make_user("kari@example.org", name="Kari Nordmann")
    kari.locale = "nn"
    db.session.commit()
    register(client, form(municipality, email="kari@example.org"))
    [message] = smtp_server.messages
    assert message["To"] == "kari@example.org"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="nn">' in html
    text = mail_text(message)
    assert "Kari Nordmann" in text  # the account's own name, not the form's
    login_link = mail_link(message, "/login")
    assert login_link == "/login?next=/register&lang=nn"
    assert mail_link(message, "/account/password/reset")
    assert "/register/confirm/" not in text
    assert count(Organisation) == 0 and count(PendingRegistration) == 0


def test_a_deactivated_account_gets_no_e_mail_and_the_same_answer(
    client, municipality, make_user, smtp_server
):
    kari = make_user("kari@example.org")
    kari.active = False
    db.session.commit()
    response, _body = register(client, form(municipality))
    assert response.status_code == 200
    assert smtp_server.messages == []


def test_the_link_works_once_and_for_24_hours(client, municipality, smtp_server):
    with time_machine.travel(START, tick=False):
        register(client, form(municipality))
        register(client, form(municipality, email="nina@example.org", org_name="Nina IL"))
        link = confirmation_link(smtp_server)
        late = confirmation_link(smtp_server, "nina@example.org")
    with time_machine.travel(START + timedelta(hours=23, minutes=59), tick=False):
        assert client.post(link).status_code == 302
        again = client.get(link)
        assert again.status_code == 410
        assert "allerede fullført" in again.get_data(as_text=True)
        assert client.post(link).status_code == 410
    with time_machine.travel(START + timedelta(hours=24), tick=False):
        expired = client.post(late)
        assert expired.status_code == 410
        assert "utløpt" in expired.get_data(as_text=True)
    assert count(User) == 1 and count(Organisation) == 1
    assert client.get("/register/confirm/finnes-ikke").status_code == 404


def test_the_same_address_is_sent_three_links_an_hour_at_most(client, municipality):
    statuses = [
        client.post(
            "/register",
            data=form(municipality, email="kari@example.org"),
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        ).status_code
        for n in range(1, 5)
    ]
    assert statuses == [200, 200, 200, 429]


def test_an_org_number_is_registered_once_per_municipality(
    client, municipality, make_municipality, make_organisation
):
    make_organisation(org_number="921234554")
    response = client.post("/register", data=form(municipality, org_number="921 234 554"))
    assert response.status_code == 422
    assert "allerede registrert i kommunen" in response.get_data(as_text=True)
    assert count(PendingRegistration) == 0

    # Another municipality may have an organisation with the same number.
    lier = make_municipality(name="Lier")
    response = client.post(
        "/register", data=form(municipality, municipality=str(lier.id), org_number="921234554")
    )
    assert response.status_code == 200
    assert count(PendingRegistration) == 1


def test_an_org_number_taken_before_the_link_is_followed_is_refused_then(
    client, municipality, make_organisation, smtp_server
):
    register(client, form(municipality, org_number="921234554"))
    make_organisation(org_number="921234554")
    response = client.post(confirmation_link(smtp_server))
    assert response.status_code == 409
    assert "allerede registrert i kommunen" in response.get_data(as_text=True)
    assert count(User) == 0


def test_same_name_gets_a_free_slug(client, municipality, make_organisation, smtp_server):
    make_organisation(slug="assiden-if", name="Åssiden IF")
    response = register_and_confirm(client, smtp_server, form(municipality))
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


def test_a_link_for_an_address_that_got_an_account_meanwhile_makes_nothing(
    client, municipality, make_user, smtp_server
):
    # Two registrations (or an invitation) for one address: the first link followed wins.
    register(client, form(municipality))
    make_user("kari@example.org")
    response = client.post(confirmation_link(smtp_server))
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Det finnes allerede en konto med denne e-postadressen. Logg inn i stedet." in body
    assert count(Organisation) == 0 and count(User) == 1
    assert client.get("/account").status_code == 302  # nobody was signed in


def test_a_registration_racing_another_at_the_insert_is_a_409(
    client, municipality, make_user, smtp_server, monkeypatch
):
    # The other account lands between the link's check and our insert.
    from directory.accounts import operations

    register(client, form(municipality))
    make_user("kari@example.org")
    monkeypatch.setattr(operations, "email_taken", lambda email: False)
    response = client.post(confirmation_link(smtp_server))
    assert response.status_code == 409
    assert "Noen registrerte det samme akkurat nå. Prøv igjen." in response.get_data(as_text=True)
    assert count(Organisation) == 0
    assert client.get("/account").status_code == 302
