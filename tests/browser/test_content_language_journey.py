"""Issue 14, item 2 in a browser, on the demo data: a parent on a phone searches in Ukrainian,
opens the offer, reads it in Ukrainian («Les på ukrainsk») and adds it to the calendar, which
then carries the Ukrainian title."""

from __future__ import annotations

import re

import icalendar
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from directory.activities.models import Activity, ActivityTranslation
from directory.extensions import db
from tests.browser.test_parent_journey import download_calendar, phone_page, watch_for_problems

pytestmark = pytest.mark.browser


def test_a_parent_reads_an_offer_in_ukrainian_and_adds_it_to_the_calendar(browser, demo_site):
    with demo_site.app.app_context():
        translated = {
            activity_id: title
            for activity_id, title in db.session.execute(
                select(ActivityTranslation.activity_id, ActivityTranslation.title)
                .join(Activity)
                .where(ActivityTranslation.language == "uk", Activity.status == "published")
            )
        }
        db.session.remove()
    assert translated, "the demo has no offer in Ukrainian"

    page = phone_page(browser, demo_site, "nb")
    problems = watch_for_problems(page, demo_site)
    try:
        page.goto("/")
        # A Ukrainian word finds the offers written in Ukrainian too.
        page.get_by_role("searchbox").fill("футбол")
        page.get_by_role("search").get_by_role("button", name="Søk", exact=True).click()
        cards = page.locator("ul.cards > li.card")
        expect(cards.first).to_be_visible()
        link = cards.first.get_by_role("heading", level=2).get_by_role("link")
        activity_id = int(re.search(r"/activities/(\d+)", link.get_attribute("href")).group(1))
        assert activity_id in translated
        link.click()

        page.get_by_role("link", name="Les på ukrainsk").click()
        expect(page).to_have_url(re.compile(rf"/activities/{activity_id}\?content=uk$"))
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(translated[activity_id])
        expect(heading).to_have_attribute("lang", "uk")
        expect(page.locator("html")).to_have_attribute("lang", "nb")  # the interface stays
        expect(page.get_by_role("link", name="Les på norsk")).to_be_visible()

        raw = download_calendar(page, demo_site, "nb", translated[activity_id])
        event = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]
        assert event["SUMMARY"].params["LANGUAGE"] == "uk"
        assert page.context.cookies() == []
        assert problems == []
    finally:
        page.context.close()
