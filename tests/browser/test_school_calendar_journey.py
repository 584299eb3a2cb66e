"""Issue 14, item 3 in a browser, on the demo data: an organiser opens the reach page of one of
their activities and sees the next weeks they can ask the schools for, with the demo's school
holiday weeks left out and the weeks around them kept.

The demo is loaded for today, so the expected weeks are computed here from the demo's own
school calendar: on any day the page must show exactly the open weeks from this week on.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from directory.accounts.models import User
from directory.approvals.reach import reach_weeks
from directory.demo import DEMO_ACCOUNTS
from directory.extensions import db
from directory.schools.calendar import closed_weeks
from directory.weeks import add_weeks, this_week
from tests.browser.test_request_journey import Account, log_in, new_page

pytestmark = pytest.mark.browser


def _organiser_and_activity(site) -> tuple[Account, int, str, list[str], list[str]]:
    """A demo organiser, a published activity of theirs, its title, the weeks the reach page
    must list, and the municipality's holiday weeks from this week to the last of them."""
    with site.app.app_context():
        for account in DEMO_ACCOUNTS:
            if account.role not in ("owner", "editor"):
                continue
            user = db.session.scalar(select(User).where(User.email == account.email))
            for membership in user.memberships:
                organisation = membership.organisation
                published = [a for a in organisation.activities if a.status == "published"]
                if not published:
                    continue
                activity = min(published, key=lambda a: a.id)
                closed = closed_weeks(organisation.municipality_id)
                weeks = reach_weeks(closed=closed)
                holidays = sorted(w for w in closed if this_week() <= w <= weeks[-1])
                found = (
                    Account(account.email, account.password),
                    activity.id,
                    activity.title,
                    weeks,
                    holidays,
                )
                db.session.remove()
                return found
        db.session.remove()
    pytest.fail("the demo has no organiser account with a published activity")


def test_an_organiser_sees_the_next_reachable_weeks_without_the_holiday_weeks(browser, demo_site):
    organiser, activity_id, title, weeks, holidays = _organiser_and_activity(demo_site)
    assert len(weeks) == 9 and not set(weeks) & set(holidays)

    page = new_page(browser, demo_site)
    try:
        log_in(page, organiser)
        page.goto(f"/activities/{activity_id}/reach")
        expect(page.get_by_role("heading", level=1)).to_have_text("Nå ut via skolene")
        expect(page.get_by_role("link", name=title).first).to_be_visible()

        section = page.get_by_role("region", name="Neste uker du kan be om")
        expect(section).to_be_visible()
        shown = section.locator("li.reach-week").evaluate_all(
            "items => items.map(item => item.dataset.week)"
        )
        assert shown == weeks
        # Every week shows the last day to ask for it and each school's free flyer places.
        for item in section.locator("li.reach-week").all():
            expect(item.locator(".deadline")).to_have_text(re.compile(r"^Frist: \S+ \d+\. \S+$"))
        picker = page.get_by_label("Uke", exact=True)
        offered = picker.locator("option").evaluate_all("options => options.map(o => o.value)")
        assert offered == weeks

        for week in holidays:
            assert week not in shown and week not in offered
            # The weeks on either side of a holiday are there, when they are open and shown.
            for neighbour in (add_weeks(week, -1), add_weeks(week, 1)):
                if neighbour in weeks:
                    expect(
                        section.locator(f'li.reach-week[data-week="{neighbour}"]')
                    ).to_have_count(1)
        if holidays:
            expect(section).to_contain_text("Skoleferier er tatt ut:")
    finally:
        page.context.close()
