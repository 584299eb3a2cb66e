"""The municipality's settings: name, messaging label, organisation number, contact e-mail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from directory.admin.operations import municipality_fingerprint
from directory.audit.models import AuditEvent
from directory.errors import STALE_MESSAGE
from directory.extensions import db
from directory.schools.models import Municipality
from tests.conftest import quick_user, sign_in


@pytest.fixture
def admin(client, municipality):
    user = quick_user("admin", admin_municipality_id=municipality.id)
    db.session.commit()
    sign_in(client, user)
    return user


def _form(municipality, **overrides) -> dict:
    data = {
        "name": "Drammen",
        "messaging_label": "Vigilo",
        "org_number": "921234554",
        "contact_email": "personvern@drammen.kommune.no",
        "version": municipality_fingerprint(municipality),
    }
    data.update(overrides)
    return data


def _reload(municipality) -> Municipality:
    db.session.expire_all()
    return db.session.get(Municipality, municipality.id)


def test_the_admin_saves_the_settings_and_the_change_is_audited(client, admin, municipality):
    assert client.get("/admin/settings").status_code == 200
    response = client.post(
        "/admin/settings", data=_form(municipality, messaging_label="Skolemelding")
    )
    assert response.status_code == 302
    saved = _reload(municipality)
    assert saved.messaging_label == "Skolemelding"
    assert saved.contact_email == "personvern@drammen.kommune.no"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "municipality.update"))
    assert event.data["before"]["messaging_label"] == "Vigilo"
    assert event.data["after"]["contact_email"] == "personvern@drammen.kommune.no"
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Kommunens innstillinger endret" in log and "Kommune: Drammen" in log


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"org_number": "921234555"}, "Organisasjonsnummeret er ikke gyldig"),
        ({"contact_email": "ikke-en-adresse"}, "Skriv en gyldig e-postadresse."),
        ({"name": ""}, "Skriv inn navnet på kommunen."),
        ({"messaging_label": "x" * 61}, "Navnet kan ha høyst 60 tegn."),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    client, admin, municipality, overrides, message
):
    response = client.post("/admin/settings", data=_form(municipality, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    saved = _reload(municipality)
    assert (saved.name, saved.org_number, saved.contact_email) == ("Drammen", "921234554", None)
    assert db.session.scalar(select(AuditEvent.id)) is None


def test_a_stale_form_is_refused_with_409_and_the_page(client, admin, municipality):
    stale = municipality_fingerprint(municipality)
    municipality.messaging_label = "Transponder"
    db.session.commit()
    response = client.post("/admin/settings", data=_form(municipality, version=stale))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert str(STALE_MESSAGE) in page and "Last inn den nyeste versjonen" in page
    assert 'value="personvern@drammen.kommune.no"' in page  # what the admin typed is kept
    assert _reload(municipality).contact_email is None


def test_a_form_without_a_version_is_refused_with_409(client, admin, municipality):
    data = _form(municipality)
    del data["version"]
    response = client.post("/admin/settings", data=data)
    assert response.status_code == 409
    assert str(STALE_MESSAGE) in response.get_data(as_text=True)
    assert _reload(municipality).contact_email is None


def test_the_admin_edits_only_their_own_municipality(client, municipality, make_municipality):
    lier = make_municipality(slug="lier", name="Lier")
    sign_in(client, quick_user("lier", admin_municipality_id=lier.id))
    db.session.commit()
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="Lier"' in page and 'value="Drammen"' not in page
    client.post("/admin/settings", data=_form(lier, name="Lier kommune"))
    assert _reload(lier).name == "Lier kommune"
    assert _reload(municipality).name == "Drammen"


def test_other_users_may_not_see_the_settings(client, make_user, login_as):
    assert client.get("/admin/settings").status_code == 302  # to the login page
    sign_in(client, quick_user("vanlig"))
    db.session.commit()
    assert client.get("/admin/settings").status_code == 403
