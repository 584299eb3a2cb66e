"""Issue 13 in a browser, on the demo data: a parent on a phone finds a free trial session near
their child's school and puts it in the calendar; an organiser places a new offer at a venue
they used before and is warned of another club's offer at the same time nearby."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.activities.models import Activity
from directory.activities.schedule import next_occurrences
from directory.demo import DEMO_ACCOUNTS
from directory.extensions import db
from directory.organisations.models import Membership
from directory.policy.clashes import NEAR_KM
from directory.policy.geo import great_circle_km
from directory.schools.models import School
from directory.timeutil import utcnow
from directory.venues.operations import known_venues
from tests.browser.test_parent_journey import download_calendar, phone_page, watch_for_problems

pytestmark = pytest.mark.browser

WITHIN_KM = 5
PER_PAGE = 20
KM_CHIP = re.compile(r"(\d+),(\d) km")


def _trial_offers_near(school: School) -> list[tuple[float, Activity]]:
    """Public, upcoming trial-session offers within WITHIN_KM of the school, nearest first."""
    found = []
    activities = db.session.scalars(
        select(Activity)
        .where(Activity.trial_session.is_(True), Activity.latitude.is_not(None))
        .options(selectinload(Activity.schedules), selectinload(Activity.organisation))
    )
    for activity in activities:
        if not activity.is_public or activity.status != "published":
            continue
        if not next_occurrences(activity.schedules, after=utcnow(), limit=1):
            continue
        km = great_circle_km(
            school.latitude, school.longitude, float(activity.latitude), float(activity.longitude)
        )
        if km <= WITHIN_KM:
            found.append((km, activity))
    return sorted(found, key=lambda pair: pair[0])


def test_a_parent_finds_a_free_trial_session_near_the_school_and_adds_it_to_the_calendar(
    browser, demo_site
):
    with demo_site.app.app_context():
        schools = db.session.scalars(
            select(School).where(School.latitude.is_not(None)).order_by(School.name)
        ).all()
        # The school with the most trial sessions nearby: the filter has choices to order.
        school, expected = max(((s, _trial_offers_near(s)) for s in schools),
                               key=lambda pair: len(pair[1]))  # fmt: skip
        school_name, school_slug = school.name, school.slug
        expected_km = {a.id: km for km, a in expected}
        db.session.remove()
    assert len(expected_km) >= 2, "the demo has too few trial sessions near any school"

    page = phone_page(browser, demo_site, "nb")
    problems = watch_for_problems(page, demo_site)
    try:
        page.goto("/")
        filters = page.locator("details.filters")
        filters.locator("summary").click()
        filters.get_by_label(re.compile(r"^Gratis prøvetime")).check()
        filters.get_by_label("Nær skole", exact=True).select_option(label=school_name)
        filters.get_by_label("Innen", exact=True).select_option(str(WITHIN_KM))
        filters.get_by_role("button", name="Vis treff", exact=True).click()

        query = parse_qs(urlsplit(page.url).query)
        assert query["trial"] == ["1"] and query["near"] == [school_slug]
        assert query["within_km"] == [str(WITHIN_KM)]
        cards = page.locator("ul.cards > li.card")
        expect(cards.first).to_be_visible()
        shown, distances = [], []
        for card in cards.all():
            href = card.get_by_role("heading", level=2).get_by_role("link").get_attribute("href")
            shown.append(int(re.search(r"/activities/(\d+)", href).group(1)))
            chip = KM_CHIP.search(card.inner_text())
            assert chip, f"card {shown[-1]} shows no distance"
            distances.append(float(f"{chip[1]}.{chip[2]}"))
        # The first page: only trial sessions within the distance, the nearest of them first.
        assert set(shown) <= expected_km.keys()
        assert len(shown) == min(len(expected_km), PER_PAGE)
        assert distances == sorted(distances) and distances[-1] <= WITHIN_KM
        further = [km for i, km in expected_km.items() if i not in shown]
        assert all(max(expected_km[i] for i in shown) <= km for km in further)

        first = cards.first.get_by_role("heading", level=2).get_by_role("link")
        title = first.inner_text()
        first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.get_by_text("Gratis prøvetime").first).to_be_visible()
        download_calendar(page, demo_site, "nb", title)
        assert page.context.cookies() == []
        assert problems == []
    finally:
        page.context.close()


def _clash_scenario(app):
    """An organiser (demo login), one of the venues their club used before, and another club's
    published offer within NEAR_KM of it, the most recently published of its kind (so the
    clash finder, which compares the newest candidates, surely sees it), with its next start."""
    with app.app_context():
        organisers = [a for a in DEMO_ACCOUNTS if a.role in ("owner", "editor")]
        published = db.session.scalars(
            select(Activity)
            .where(Activity.status == "published", Activity.latitude.is_not(None))
            .options(selectinload(Activity.schedules), selectinload(Activity.organisation))
            .order_by(Activity.published_at.desc(), Activity.id.desc())
        ).all()
        now = utcnow()
        for account in organisers:
            user = db.session.scalar(select(User).where(User.email == account.email))
            membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
            if membership is None:
                continue
            org = membership.organisation
            own = [k.venue for k in known_venues(org) if k.own and k.venue.has_point]
            for target in published:
                if target.organisation_id == org.id or not target.organisation.verified:
                    continue
                if target.organisation.municipality_id != org.municipality_id:
                    continue
                upcoming = next_occurrences(
                    target.schedules, after=now + timedelta(days=1), limit=1
                )
                if not upcoming:
                    continue
                for venue in own:
                    km = great_circle_km(float(venue.latitude), float(venue.longitude),
                                         float(target.latitude), float(target.longitude))  # fmt: skip
                    if km <= NEAR_KM:
                        scenario = (account, org.slug, venue.label, target.title,
                                    target.age_min, target.age_max, upcoming[0])  # fmt: skip
                        db.session.remove()
                        return scenario
        db.session.remove()
    raise AssertionError("the demo has no organiser with a venue near another club's offer")


def test_an_organiser_picks_an_earlier_venue_and_is_warned_of_a_clash(browser, demo_site):
    account, org_slug, venue_label, target_title, age_min, age_max, when = _clash_scenario(
        demo_site.app
    )
    context = browser.new_context(base_url=demo_site.url, locale="nb-NO")
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("E-post", exact=True).fill(account.email)
        page.get_by_label("Passord", exact=True).fill(account.password)
        page.get_by_role("main").get_by_role("button", name="Logg inn", exact=True).click()
        expect(page).to_have_url(re.compile(r"/account$"))

        page.goto(f"/organisations/{org_slug}/activities/new")
        main = page.get_by_role("main")
        main.get_by_label("Tittel", exact=True).fill("Prøvetrening for nye")
        main.get_by_label("Alder fra", exact=True).fill(str(age_min))
        main.get_by_label("Alder til", exact=True).fill(str(age_max))
        place = main.get_by_label("Sted", exact=True)
        # The club's earlier venues come first, under their own heading.
        own_group = place.locator("optgroup[label='Steder dere har brukt']")
        expect(own_group.locator("option", has_text=venue_label)).to_have_count(1)
        place.select_option(label=venue_label)
        start, end = when.start, when.end
        main.get_by_label("Første dato", exact=True).fill(start.date().isoformat())
        main.get_by_label("Starter kl.", exact=True).fill(start.strftime("%H:%M"))
        main.get_by_label("Slutter kl.", exact=True).fill(end.strftime("%H:%M"))
        main.get_by_label("Gjentas", exact=True).select_option("once")
        main.get_by_role("button", name="Lagre utkast", exact=True).click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Prøvetrening for nye")
        flash = page.locator(".flashes .flash-warning")
        expect(flash).to_be_visible()
        clashes = page.locator("section.clashes")
        expect(clashes).to_contain_text(target_title)
        expect(page.get_by_role("main")).to_contain_text(venue_label.split(",")[0])
    finally:
        context.close()
