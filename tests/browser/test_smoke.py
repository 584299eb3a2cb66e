"""A real browser walks the main journey through the running app."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from directory.timeutil import oslo_now
from tests.browser.conftest import wait_for_mail, watch_for_problems
from tests.conftest import mail_link

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def problems(page):
    """What went wrong while loading (see watch_for_problems)."""
    return watch_for_problems(page)


def test_home_page_loads_with_its_heading(page, problems):
    response = page.goto("/")
    assert response is not None and response.status == 200
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Aktiviteter for barn og unge"
    assert page.context.cookies() == []  # browsing anonymously sets no cookie
    assert problems == []


def test_an_organisation_registers_publishes_and_parents_find_it(
    page, problems, artifacts_dir, live_site
):
    # Register an account and an organisation in one form.
    page.goto("/register")
    page.get_by_label("Navnet ditt", exact=True).fill("Siri Smoke")
    page.get_by_label("E-postadressen din", exact=True).fill("siri@example.org")
    page.get_by_label("Passord", exact=True).fill("lang nok setning 2026")
    page.get_by_label("Gjenta passordet", exact=True).fill("lang nok setning 2026")
    page.get_by_label("Kommune", exact=True).select_option(label="Drammen")
    page.get_by_label("Navn på organisasjonen", exact=True).fill("Røyken Røykfri IL")
    page.get_by_label("Type organisasjon", exact=True).select_option(label="Frivillig lag/forening")
    page.get_by_role("button", name="Registrer", exact=True).click()
    # The address is confirmed from the e-mail before anything is stored.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sjekk e-posten din")
    page.goto(mail_link(wait_for_mail(live_site[1], "siri@example.org"), "/register/confirm/"))
    page.get_by_role("button", name="Fullfør registreringen", exact=True).click()

    page.wait_for_url(re.compile(r"/organisations/[a-z0-9-]+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Røyken Røykfri IL"

    # Create an activity: weekly training from next week.
    page.get_by_role("link", name="Ny aktivitet", exact=True).click()
    first = oslo_now().date() + timedelta(days=7)
    page.get_by_label("Tittel", exact=True).fill("Fotball for nybegynnere")
    page.get_by_label("Kort om aktiviteten", exact=True).fill("Vi lærer det grunnleggende.")
    page.get_by_label("Beskrivelse", exact=True).fill("Ta med **drikkeflaske**.")
    page.get_by_label("Kategori", exact=True).select_option(label="Idrett")
    page.get_by_label("Alder fra", exact=True).fill("8")
    page.get_by_label("Alder til", exact=True).fill("12")
    page.get_by_label("Første dato", exact=True).fill(first.isoformat())
    page.get_by_label("Starter kl.", exact=True).fill("17:00")
    page.get_by_label("Slutter kl.", exact=True).fill("18:30")
    page.get_by_label("Gjentas", exact=True).select_option(label="Hver uke")
    page.get_by_label("Siste dato", exact=True).fill((first + timedelta(days=56)).isoformat())
    page.get_by_label("Navn på nytt sted", exact=True).fill("Fjellhallen")
    page.get_by_label("Adresse til nytt sted", exact=True).fill("Fjellveien 2, 3020 Drammen")
    page.get_by_label("Pris i kroner", exact=True).fill("0")
    page.get_by_role("button", name="Lagre utkast", exact=True).click()

    page.wait_for_url(re.compile(r"/activities/\d+$"))
    activity_path = re.search(r"/activities/\d+$", page.url).group(0)
    assert page.get_by_role("heading", level=1).inner_text() == "Fotball for nybegynnere"
    assert page.get_by_text("Dette er et utkast.").is_visible()

    # Publish it, then log out.
    page.get_by_role("button", name="Publiser", exact=True).click()
    assert page.get_by_text("Aktiviteten er publisert.").is_visible()
    page.get_by_role("button", name="Logg ut", exact=True).click()
    assert page.get_by_text("Du er logget ut.").is_visible()

    # A parent, with no account, finds it on the home page and opens it.
    page.context.clear_cookies()
    page.goto("/")
    link = page.get_by_role("link", name="Fotball for nybegynnere", exact=True)
    assert link.is_visible()
    link.click()
    page.wait_for_url(re.compile(activity_path + "$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Fotball for nybegynnere"
    assert page.get_by_text("Røyken Røykfri IL").first.is_visible()
    assert page.locator("strong", has_text="drikkeflaske").is_visible()
    assert page.get_by_text("Dette er et utkast.").count() == 0
    assert page.context.cookies() == []

    screenshot = artifacts_dir / "activity-page.png"
    screenshot.unlink(missing_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    assert problems == []
