"""Issue 14 in a browser, item 1: an organiser renews a listing from the e-mail link.

`flask review-listings` runs against the served app's database and sends its reminders to a
real SMTP server in this process; the organiser opens the link from the message in Chromium
(no login), sees what it will do, presses «Fortsatt aktuell», and the listing is confirmed
until the end of the season. The link then no longer works.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from flask import Flask
from flask_babel import format_date
from playwright.sync_api import expect

from directory.accounts.operations import create_user
from directory.activities.listings import oslo_today
from directory.activities.models import Activity, Schedule
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from directory.policy.listing_dates import default_confirmed_until
from directory.schools.models import Municipality
from tests.browser.conftest import _browser_app, _serving, watch_for_problems
from tests.conftest import _free_port, _Inbox, mail_link

pytestmark = pytest.mark.browser

ORGANISER = "leder@fjellklatring.example"
TITLE = "Buldring for 10–14 år"


@dataclass
class RenewalSite:
    """The app served on 127.0.0.1, the SMTP server its mail goes to, the activity's id."""

    url: str
    app: Flask
    inbox: _Inbox
    activity_id: int


@pytest.fixture(scope="module")
def renewal_site(tmp_path_factory) -> Iterator[RenewalSite]:
    from aiosmtpd.controller import Controller

    app = _browser_app(tmp_path_factory.mktemp("listing-renewal"), "listing-renewal")
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    with app.app_context():
        db.create_all()
        municipality = Municipality(slug="fjordby", name="Fjordby", messaging_label="Vigilo")
        club = Organisation(
            municipality=municipality,
            slug="fjellklatring",
            name="Fjordby klatreklubb",
            kind="volunteer",
            verification="verified",
        )
        user = create_user(ORGANISER, "Kari Klatrer", "Klatreklubben sitt passord 2026")
        db.session.add_all(
            [municipality, club, Membership(user=user, organisation=club, role="owner")]
        )
        # Confirmed until three days from now: the 3-day reminder is due today.
        activity = Activity(
            organisation=club,
            title=TITLE,
            summary="Buldring i klatrehallen hver onsdag",
            age_min=10,
            age_max=14,
            venue="Klatrehallen",
            address="Fjellveien 2",
            status="published",
            confirmed_until=oslo_today() + timedelta(days=3),
        )
        start = datetime.combine(oslo_today() + timedelta(days=2), time(17, 30))
        activity.schedules.append(Schedule(dtstart=start, duration_minutes=90, rrule="FREQ=WEEKLY"))
        db.session.add(activity)
        db.session.commit()
        activity_id = activity.id
        db.session.remove()
    try:
        with _serving(app) as url:
            yield RenewalSite(url=url, app=app, inbox=inbox, activity_id=activity_id)
    finally:
        controller.stop()


def _review(site: RenewalSite) -> str:
    with site.app.app_context():  # as `flask --app directory review-listings` has one
        result = site.app.test_cli_runner().invoke(args=["review-listings", "--base-url", site.url])
        db.session.remove()
    assert result.exit_code == 0, result.output
    return result.output


def _confirmed_until(site: RenewalSite):
    with site.app.app_context():
        value = db.session.get(Activity, site.activity_id).confirmed_until
        db.session.remove()
    return value


def test_an_organiser_renews_a_listing_from_the_e_mail_link(browser, renewal_site):
    site = renewal_site
    assert "1 påminnelse sendt om 1 aktivitet" in _review(site)
    message = site.inbox.to(ORGANISER)[0]
    assert TITLE in message["Subject"]
    link = site.url + mail_link(message, "/listings/confirm/")
    before = _confirmed_until(site)

    context = browser.new_context(base_url=site.url, locale="nb-NO")
    try:
        page = context.new_page()
        problems = watch_for_problems(page)
        page.goto(link)
        main = page.get_by_role("main")
        expect(main.get_by_role("heading", level=1)).to_contain_text(TITLE)
        # Opening the link (as a mail scanner would) changes nothing.
        assert _confirmed_until(site) == before
        main.get_by_role("button", name="Fortsatt aktuell", exact=True).click()
        expect(main.get_by_role("heading", level=1)).to_have_text("Takk!")
        renewed = default_confirmed_until(oslo_today())
        with site.app.test_request_context("/"):
            expect(main).to_contain_text(format_date(renewed, "long"))
        assert _confirmed_until(site) == renewed
        assert problems == []

        # The link worked once: opened again, it says so and changes nothing.
        response = page.goto(link)
        assert response is not None and response.status == 410
        expect(page.get_by_role("heading", level=1)).to_have_text("Lenken virker ikke")
        assert _confirmed_until(site) == renewed
    finally:
        context.close()

    # The next run has nothing to remind about.
    assert "0 påminnelser sendt" in _review(site)
