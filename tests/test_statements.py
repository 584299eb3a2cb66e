"""The privacy and accessibility statements: linked from every page, naming each
municipality as controller with its contact address, in the three languages."""

from __future__ import annotations

import pytest

from directory.extensions import db


@pytest.fixture
def contact(municipality):
    municipality.contact_email = "personvern@drammen.kommune.no"
    db.session.commit()
    return municipality


@pytest.mark.parametrize("path", ["/", "/organisations", "/om/kanaler", "/login"])
def test_every_page_links_both_statements_in_its_footer(client, path):
    body = client.get(path).get_data(as_text=True)
    footer = body[body.index('<footer class="site-footer">') :]
    assert 'href="/personvern"' in footer and 'href="/tilgjengelighet"' in footer


def test_the_privacy_statement_names_the_controller_its_contact_and_the_retention(
    client, contact, app
):
    body = client.get("/personvern").get_data(as_text=True)
    assert "Drammen" in body and "921234554" in body
    assert "mailto:personvern@drammen.kommune.no" in body
    assert "ingen informasjonskapsler" in body  # visitors
    assert "ingen opplysninger om elever eller foresatte" in body
    hours = app.config["SESSION_LIFETIME_HOURS"]
    assert f"En innloggingsøkt gjelder i {hours} timer." in body
    assert "Revisjonsloggen" in body


def test_the_accessibility_statement_gives_the_status_contact_and_the_supervisory_authority(
    client, contact
):
    body = client.get("/tilgjengelighet").get_data(as_text=True)
    assert "WCAG 2.1" in body
    assert "axe-core" in body
    assert "mailto:personvern@drammen.kommune.no" in body
    assert "https://www.uutilsynet.no/" in body
    assert "Digitaliseringsdirektoratet" in body


def test_several_municipalities_are_each_listed_or_one_is_chosen(
    client, contact, make_municipality
):
    make_municipality(slug="lier", name="Lier", contact_email="post@lier.kommune.no")
    both = client.get("/personvern").get_data(as_text=True)
    assert "personvern@drammen.kommune.no" in both and "post@lier.kommune.no" in both
    one = client.get("/tilgjengelighet?municipality=lier").get_data(as_text=True)
    assert "post@lier.kommune.no" in one and "personvern@drammen.kommune.no" not in one
    unknown = client.get("/personvern?municipality=finnes-ikke")
    assert unknown.status_code == 404
    assert "finnes-ikke" in unknown.get_data(as_text=True)


def test_a_municipality_without_a_contact_address_is_told_so(client, municipality):
    body = client.get("/personvern").get_data(as_text=True)
    assert "Kommunen har ikke oppgitt en egen e-postadresse" in body


@pytest.mark.parametrize("lang", ["nn", "en"])
def test_the_statements_answer_in_the_other_languages(client, contact, lang):
    for path in ("/personvern", "/tilgjengelighet"):
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 200
        assert f'<html lang="{lang}">' in response.get_data(as_text=True)


def test_visitors_get_no_cookie_on_the_statements(client, contact):
    for path in ("/personvern", "/tilgjengelighet"):
        assert "Set-Cookie" not in client.get(path).headers
