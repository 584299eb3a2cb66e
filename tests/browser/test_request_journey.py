"""Issue 5's whole journey on the demo data, in a real browser without JavaScript: an organiser
asks a school to send a flyer home in the pupils' backpacks, the school's staff approve it and
download the week's backpack-post PDF; and axe-core on the signed-in pages of that journey.

The demo site is shared by every browser test of the session, so the journey picks a week in
which the school still has a free backpack-post place and leaves the seeded requests alone.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from directory.accounts.models import User
from directory.activities.models import Activity
from directory.activities.schedule import next_start
from directory.approvals.display import upcoming_weeks, week_label, week_monday
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import fitting_grades, request_problem
from directory.demo import DEMO_ACCOUNTS
from directory.exports.formats.pdf import pdf_safe
from directory.extensions import db
from directory.policy.request_states import QUOTA_STATES
from directory.schools.models import School
from directory.schools.routing import decide_for, policy_for, week_usage
from directory.timeutil import OSLO
from directory.weeks import week_choice_label
from tests.browser.conftest import finish_login, watch_for_problems
from tests.browser.test_accessibility import (
    AXE_RUN,
    LANGUAGES,
    VIEWPORTS,
    WCAG_TAGS,
    describe,
    with_language,
)

pytestmark = pytest.mark.browser

ORGANISER_ROLES = ("owner", "editor")
STAFF_ROLES = ("school_admin", "school_staff")
BACKPACK = "backpack_post"


@dataclass(frozen=True)
class Account:
    """A demo login."""

    email: str
    password: str


@dataclass(frozen=True)
class Journey:
    """Who asks whom, for which activity and week: chosen from the demo data."""

    organiser: Account
    organisation: str
    activity_id: int
    title: str
    staff: Account
    school_slug: str
    school_name: str
    week: str
    grades: tuple[int, ...]


def _accounts(roles: tuple[str, ...]) -> list[tuple[Account, User]]:
    found = []
    for account in DEMO_ACCOUNTS:
        if account.role in roles:
            user = db.session.scalar(select(User).where(User.email == account.email))
            found.append((Account(account.email, account.password), user))
    return found


def _backpack_requests(school: School, week: str) -> int:
    """Every backpack-post request of the school's week, in any state."""
    return db.session.scalar(
        select(func.count(DistributionRequest.id)).where(
            DistributionRequest.school_id == school.id,
            DistributionRequest.week == week,
            DistributionRequest.channel == BACKPACK,
        )
    )


def _sendable(activity: Activity, school: School, week: str) -> bool:
    """Whether the organiser can ask the school to send the activity's flyer home that week."""
    if not (activity.status == "published" and activity.has_flyer):
        return False
    if pdf_safe(activity.title) != activity.title:
        return False  # the PDF's core fonts would write the title otherwise
    week_start = datetime.combine(week_monday(week), time(0, 0), tzinfo=OSLO)
    if next_start(activity.schedules, after=week_start) is None:
        return False  # over before the week: no flyer worth sending
    decision = decide_for(activity, school, week)
    return (
        decision.channel == BACKPACK and request_problem(activity, school, week, decision) is None
    )


def choose_journey(site) -> Journey:
    """A published activity with a flyer of a verified demo organisation, and a school with a
    demo staff account whose rule sends it home as backpack post in an upcoming week with a free
    place. Weeks without any backpack-post request at the school come first (the seeded ones are
    this week and the next), so the journey's PDF holds its flyer alone when it can."""
    with site.app.app_context():
        options = []
        for index, week in enumerate(upcoming_weeks()):
            for staff, user in _accounts(STAFF_ROLES):
                for role in user.school_roles:
                    school = role.school
                    quota = policy_for(school).backpack_weekly_quota
                    if week_usage(school, week).backpack_used < quota:
                        taken = _backpack_requests(school, week)
                        options.append((taken, index, week, staff, school))
        options.sort(key=lambda option: option[:2])
        memberships = [
            (organiser, membership)
            for organiser, user in _accounts(ORGANISER_ROLES)
            for membership in user.memberships
            if membership.organisation.verification == "verified"
        ]
        for _taken, _index, week, staff, school in options:
            for organiser, membership in memberships:
                organisation = membership.organisation
                for activity in sorted(organisation.activities, key=lambda a: a.id):
                    if _sendable(activity, school, week):
                        journey = Journey(
                            organiser=organiser,
                            organisation=organisation.name,
                            activity_id=activity.id,
                            title=activity.title,
                            staff=staff,
                            school_slug=school.slug,
                            school_name=school.name,
                            week=week,
                            grades=tuple(fitting_grades(activity, school)),
                        )
                        db.session.remove()
                        return journey
        db.session.remove()
    pytest.fail("the demo data has no activity a demo school would take as backpack post")


def week_label_in(site, week: str) -> str:
    """The week as the site writes it in bokmål."""
    with site.app.test_request_context("/"):
        return week_label(week)


def find_request(site, journey: Journey) -> DistributionRequest:
    """The journey's request as stored (detached, with its school and activity ids)."""
    with site.app.app_context():
        req = db.session.scalar(
            select(DistributionRequest)
            .join(DistributionRequest.school)
            .where(
                DistributionRequest.activity_id == journey.activity_id,
                School.slug == journey.school_slug,
                DistributionRequest.week == journey.week,
            )
            .order_by(DistributionRequest.id.desc())
        )
        assert req is not None, "sending stored no request"
        db.session.expunge(req)
        db.session.remove()
    return req


def exportable_flyers(site, journey: Journey) -> int:
    """How many approved or exported backpack-post requests of published activities the
    school has in the week: the flyers its PDF should carry."""
    with site.app.app_context():
        rows = db.session.scalars(
            select(DistributionRequest)
            .join(DistributionRequest.school)
            .where(
                School.slug == journey.school_slug,
                DistributionRequest.week == journey.week,
                DistributionRequest.channel == BACKPACK,
                DistributionRequest.status.in_(QUOTA_STATES),
            )
            .options(selectinload(DistributionRequest.activity).selectinload(Activity.organisation))
        ).all()
        count = sum(1 for r in rows if r.activity.status == "published" and r.activity.is_public)
        db.session.remove()
    return count


def new_page(browser, site, **options) -> Page:
    """A fresh page in its own context (own cookies), JavaScript off: the site needs none."""
    context = browser.new_context(
        base_url=site.url,
        locale="nb-NO",
        java_script_enabled=False,
        accept_downloads=True,
        **options,
    )
    return context.new_page()


def log_in(page: Page, account: Account) -> None:
    """Open the login form from the home page, sign in and land on 'Min side'."""
    page.goto("/")
    page.get_by_role("link", name="Logg inn", exact=True).click()
    page.get_by_label("E-post", exact=True).fill(account.email)
    page.get_by_label("Passord", exact=True).fill(account.password)
    page.get_by_role("main").get_by_role("button", name="Logg inn", exact=True).click()
    finish_login(page, account.email)  # the school admins' second step
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Min side")


def request_card(page: Page, request_id: int):
    """The request on the organiser's list."""
    return page.locator(f"li.request#request-{request_id}")


def test_organiser_requests_staff_approve_and_download_the_backpack_pdf(
    browser, demo_site, artifacts_dir
):
    journey = choose_journey(demo_site)
    week_text = week_label_in(demo_site, journey.week)
    with demo_site.app.test_request_context("/"):
        reach_week_text = week_choice_label(journey.week)

    # --- the organiser asks the school ---------------------------------------------------------
    organiser = new_page(browser, demo_site)
    organiser_problems = watch_for_problems(organiser)
    staff = new_page(browser, demo_site)
    staff_problems = watch_for_problems(staff)
    try:
        log_in(organiser, journey.organiser)
        card = organiser.locator("li.card").filter(
            has=organiser.get_by_role("heading", name=journey.organisation, exact=True)
        )
        card.get_by_role("link", name="Alle aktivitetene", exact=True).click()
        activity_card = organiser.locator("ul.manage-list > li.card").filter(
            has=organiser.locator(f'h2 a[href$="/activities/{journey.activity_id}"]')
        )
        expect(activity_card).to_have_count(1)
        activity_card.get_by_role("link", name=re.compile(r"^Nå ut via skolene")).click()
        expect(organiser).to_have_url(re.compile(rf"/activities/{journey.activity_id}/reach$"))
        expect(organiser.get_by_role("heading", level=1)).to_have_text("Nå ut via skolene")

        organiser.get_by_label("Uke", exact=True).select_option(journey.week)
        organiser.get_by_role("button", name="Vis", exact=True).click()
        expect(organiser).to_have_url(re.compile(rf"/reach\?week={journey.week}$"))
        expect(organiser.locator("#reach-heading")).to_contain_text(reach_week_text)
        # One card per school: no table to scroll sideways on a phone.
        expect(organiser.locator("table")).to_have_count(0)
        row = organiser.locator(f'li.reach-school[data-school="{journey.school_slug}"]')
        expect(row).to_have_attribute("data-channel", BACKPACK)
        expect(row).to_contain_text("Ranselpost (papirflyer)")
        # The reasons: the school's own at the school, those all schools share once above.
        reasons = organiser.locator("details.reach-common li").or_(row.locator("ol.reasons li"))
        expect(reasons.first).to_be_attached()
        # The grades the activity fits are ticked already; the school is not.
        grade_boxes = row.locator('fieldset.grades input[type="checkbox"]')
        expect(grade_boxes).to_have_count(len(journey.grades))
        for grade in journey.grades:
            expect(row.get_by_label(f"{grade}.", exact=True)).to_be_checked()
        school_box = organiser.get_by_label(journey.school_name, exact=True)
        expect(school_box).not_to_be_checked()
        school_box.check()
        organiser.get_by_role("button", name="Send forespørsel til skolene", exact=True).click()

        expect(organiser).to_have_url(re.compile(rf"/activities/{journey.activity_id}/requests$"))
        expect(organiser.locator(".flashes")).to_contain_text("Forespørselen er sendt til 1 skole")
        sent = find_request(demo_site, journey)
        assert sent.status == "pending"
        assert sorted(sent.grades) == sorted(journey.grades)
        assert sent.channel == BACKPACK and sent.reasons
        mine = request_card(organiser, sent.id)
        expect(mine).to_have_attribute("data-status", "pending")
        expect(mine.locator(".badge")).to_have_text("venter")
        expect(mine.get_by_role("heading", level=3)).to_have_text(journey.school_name)
        expect(mine).to_contain_text("Ranselpost (papirflyer)")
        expect(mine.get_by_role("button", name=re.compile(r"^Trekk tilbake"))).to_be_visible()

        # --- the school's staff approve it -----------------------------------------------------
        log_in(staff, journey.staff)
        school_card = staff.locator("ul.my-schools > li.card").filter(
            has=staff.get_by_role("heading", name=journey.school_name, exact=True)
        )
        school_card.get_by_role("link", name="Forespørsler", exact=True).click()
        expect(staff).to_have_url(re.compile(rf"/schools/{journey.school_slug}/requests$"))
        inbox_row = staff.locator(f"table.inbox tr#request-{sent.id}")
        expect(inbox_row).to_have_attribute("data-status", "pending")
        expect(inbox_row).to_contain_text(journey.title)
        expect(inbox_row).to_contain_text(week_text)
        inbox_row.get_by_role("link", name=re.compile(r"^Vurder")).click()

        expect(staff).to_have_url(
            re.compile(rf"/schools/{journey.school_slug}/requests/{sent.id}$")
        )
        expect(staff.get_by_role("heading", level=1)).to_have_text(journey.title)
        # The offer first, then the rule: unchanged since it was sent, so its reasons once.
        headings = staff.locator("main h2").all_inner_texts()
        assert (
            headings.index("Tilbudet") < headings.index("Regelen") < headings.index("Din vurdering")
        ), headings
        decision = staff.locator(".decisions")
        expect(decision.get_by_role("heading", level=3)).to_have_text(
            "Nå: Ranselpost (papirflyer), som da forespørselen ble sendt"
        )
        expect(decision.locator("ol.reasons > li")).to_have_text(list(sent.reasons))
        expect(staff.get_by_text(sent.reasons[0], exact=True)).to_have_count(1)
        staff.get_by_role("button", name="Godkjenn", exact=True).click()

        expect(staff).to_have_url(re.compile(rf"/schools/{journey.school_slug}/requests$"))
        expect(staff.locator(".flashes")).to_contain_text(f"«{journey.title}» er godkjent")
        staff.get_by_role("navigation", name="Filtrer etter status").get_by_role(
            "link", name=re.compile(r"^Godkjent")
        ).click()
        approved_row = staff.locator(f"table.inbox tr#request-{sent.id}")
        expect(approved_row).to_have_attribute("data-status", "approved")
        expect(approved_row.locator(".badge")).to_have_text("godkjent")
        approved_row.get_by_role("link", name=re.compile(r"^Detaljer")).click()
        expect(staff.locator("p.lead .badge")).to_have_text("godkjent")

        # --- and download the week's backpack post ---------------------------------------------
        flyers = exportable_flyers(demo_site, journey)
        assert flyers >= 1
        exports = staff.locator("section").filter(
            has=staff.get_by_role("heading", name="Eksport", exact=True)
        )
        exports.get_by_role("link", name="Ranselpost (papirflyer)", exact=True).click()
        expect(staff).to_have_url(
            re.compile(rf"/schools/{journey.school_slug}/exports/{journey.week}/{BACKPACK}$")
        )
        expect(staff.get_by_role("heading", level=1)).to_have_text("Ranselpost (papirflyer)")
        expect(staff.locator("p.lead")).to_have_text(f"{journey.school_name} – {week_text}")
        expect(staff.locator("ol.export-items > li")).to_have_count(flyers)
        expect(staff.locator("ol.export-items")).to_contain_text(journey.title)
        with staff.expect_download() as download_info:
            staff.get_by_role(
                "button", name="Last ned PDF og merk som eksportert", exact=True
            ).click()
        download = download_info.value
        assert download.failure() is None
        assert download.suggested_filename.endswith(".pdf")
        raw = Path(download.path()).read_bytes()
        assert raw.startswith(b"%PDF-")
        (artifacts_dir / "backpack-journey.pdf").write_bytes(raw)

        reader = PdfReader(io.BytesIO(raw))
        assert len(reader.pages) == 1 + flyers, "a cover sheet and one page per flyer"
        cover = " ".join(reader.pages[0].extract_text().split())
        assert f"Ranselpost – {journey.school_name}" in cover
        assert journey.title in cover
        flyer_texts = [" ".join(page.extract_text().split()) for page in reader.pages[1:]]
        assert sum(journey.title in text for text in flyer_texts) == 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4, points

        # The request is exported now: for the school...
        staff.goto(f"/schools/{journey.school_slug}/requests/{sent.id}")
        expect(staff.locator("p.lead .badge")).to_have_text("eksportert")
        expect(
            staff.locator("section[aria-labelledby=request-heading] dl.request-facts")
        ).to_contain_text("Eksportert")
        staff.get_by_role("link", name=re.compile(r"^Tilbake til forespørslene")).click()
        staff.get_by_role("navigation", name="Filtrer etter status").get_by_role(
            "link", name=re.compile(r"^Eksportert")
        ).click()
        exported_row = staff.locator(f"table.inbox tr#request-{sent.id}")
        expect(exported_row.locator(".badge")).to_have_text("eksportert")
        # ... and for the organiser, who can no longer take it back.
        organiser.reload()
        expect(mine).to_have_attribute("data-status", "exported")
        expect(mine.locator(".badge")).to_have_text("eksportert")
        expect(mine.get_by_role("button", name=re.compile(r"^Trekk tilbake"))).to_have_count(0)

        assert find_request(demo_site, journey).status == "exported"
        assert organiser_problems == []
        assert staff_problems == []
    finally:
        organiser.context.close()
        staff.context.close()


# --- axe-core on the signed-in pages of the journey -------------------------------------------

SIGNED_IN_PAGES = {
    # page: who is signed in to see it
    "reach": "organiser",
    "reach-error": "organiser",
    "activity-requests": "organiser",
    "organisation-requests": "organiser",
    "inbox": "staff",
    "inbox-all": "staff",
    "review": "staff",
    "review-error": "staff",
    "exports": "staff",
    "export-school_messaging": "staff",
    "export-facebook_share": "staff",
    "export-backpack_post": "staff",
    "overview": "staff",
}


@dataclass(frozen=True)
class SignedInPaths:
    """The accounts and the URL of each signed-in page, chosen from the seeded requests."""

    organiser: Account
    staff: Account
    paths: dict[str, str]


# Pages whose tables become one card per row on a phone: nothing scrolls sideways at 320 pixels,
# not the page and not a table in its own box, and the inbox's tick boxes are 44 pixels or more.
STACKED_PAGES = {
    "inbox", "inbox-all", "review", "review-error", "exports", "export-school_messaging",
    "export-facebook_share", "export-backpack_post", "overview",
}  # fmt: skip
REFLOW_WIDTH = 320
SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('.table-scroll')]
    .filter(e => e.scrollWidth > e.clientWidth)
    .map(e => `${e.tagName.toLowerCase()}.${e.className}: ${e.scrollWidth}px in ${e.clientWidth}px`)"""
SMALL_TARGETS = """() => [...document.querySelectorAll('label.pick-label')]
    .map(e => e.getBoundingClientRect())
    .filter(r => r.width < 44 || r.height < 44)
    .map(r => `${r.width}x${r.height}`)"""


def sideways_at_320(page: Page) -> list[str]:
    """What scrolls sideways on a 320 pixel screen, and tick box labels under 44 pixels."""
    size = page.viewport_size
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": size["height"]})
    try:
        return page.evaluate(SIDEWAYS) + page.evaluate(SMALL_TARGETS)
    finally:
        page.set_viewport_size(size)


@pytest.fixture(scope="module")
def signed_in_paths(demo_site) -> SignedInPaths:
    """The organiser with the most seeded requests, the demo school with requests in every
    channel, and pages of theirs that show requests (seeded this week and the next)."""
    with demo_site.app.app_context():
        requests = db.session.scalars(
            select(DistributionRequest).options(
                selectinload(DistributionRequest.activity).selectinload(Activity.organisation),
                selectinload(DistributionRequest.school),
            )
        ).all()
        by_org: dict[int, list[DistributionRequest]] = {}
        for req in requests:
            by_org.setdefault(req.activity.organisation_id, []).append(req)
        organiser, org_requests = None, []
        for account, user in _accounts(ORGANISER_ROLES):
            for membership in user.memberships:
                found = by_org.get(membership.organisation_id, [])
                if len(found) > len(org_requests):
                    organiser, org_requests = account, found
        assert organiser is not None, "no demo organiser has sent a request"
        busiest = max(
            {r.activity_id for r in org_requests},
            key=lambda a: sum(r.activity_id == a for r in org_requests),
        )
        organisation = org_requests[0].activity.organisation

        # The school whose approved requests of one week span the most channels.
        staff, school, week, width = None, None, None, 0
        for account, user in _accounts(STAFF_ROLES):
            for role in user.school_roles:
                weeks: dict[str, set[str]] = {}
                for req in requests:
                    if req.school_id == role.school_id and req.status in QUOTA_STATES:
                        weeks.setdefault(req.week, set()).add(req.channel)
                for found_week, channels in sorted(weeks.items()):
                    if len(channels) > width:
                        staff, school, week, width = account, role.school, found_week, len(channels)
        assert staff is not None, "no demo school has approved requests"
        pending = next(r for r in requests if r.school_id == school.id and r.status == "pending")
        slug = school.slug
        paths = {
            "reach": f"/activities/{busiest}/reach?week={week}",
            "reach-error": f"/activities/{busiest}/reach?week={week}",
            "activity-requests": f"/activities/{busiest}/requests",
            "organisation-requests": f"/organisations/{organisation.slug}/requests",
            "inbox": f"/schools/{slug}/requests",
            "inbox-all": f"/schools/{slug}/requests?status=all",
            "review": f"/schools/{slug}/requests/{pending.id}",
            "review-error": f"/schools/{slug}/requests/{pending.id}",
            "exports": f"/schools/{slug}/exports?week={week}",
            "overview": f"/schools/{slug}/overview/{week}",
        }
        for channel in ("school_messaging", "facebook_share", "backpack_post"):
            paths[f"export-{channel}"] = f"/schools/{slug}/exports/{week}/{channel}"
        db.session.remove()
    return SignedInPaths(organiser=organiser, staff=staff, paths=paths)


@pytest.fixture(scope="module")
def signed_in_contexts(axe_source, browser, demo_site, signed_in_paths):
    """Per account and screen width, a signed-in context that bypasses the CSP so that axe can
    be injected (the pages themselves are unchanged)."""
    accounts = {"organiser": signed_in_paths.organiser, "staff": signed_in_paths.staff}
    contexts: dict[tuple[str, str], BrowserContext] = {}
    try:
        for who, account in accounts.items():
            for name, viewport in VIEWPORTS.items():
                context = browser.new_context(
                    base_url=demo_site.url,
                    viewport=viewport,
                    is_mobile=name == "phone",
                    has_touch=name == "phone",
                    bypass_csp=True,
                )
                contexts[who, name] = context
                page = context.new_page()
                log_in(page, account)
                page.close()
                context.add_init_script(axe_source)
        yield contexts
    finally:
        for context in contexts.values():
            context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_signed_in_page_has_no_wcag_violations(
    signed_in_contexts, signed_in_paths, name, lang, viewport
):
    path = with_language(signed_in_paths.paths[name], lang)
    page = signed_in_contexts[SIGNED_IN_PAGES[name], viewport].new_page()
    try:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response.status}"
        if name == "reach-error":
            # Sending without ticking a school: the form comes back with its message.
            for box in page.locator('input[name="schools"]').all():
                box.uncheck()
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.locator("form.request-form button[type=submit]").click()
            assert answer.value.status == 422
            expect(page.locator("#request-errors")).to_be_visible()
        elif name == "review-error":
            # Rejecting without a reason: the field comes back marked.
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.locator("form[action*='/reject'] button[type=submit]").click()
            assert answer.value.status == 422
            expect(page.locator("[aria-invalid=true]")).to_have_count(1)
        # The answer's DOM can be there before its stylesheet: measure the page as it is shown.
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == lang
        assert urlsplit(page.url).path.startswith(urlsplit(path).path)
        if viewport == "phone":
            # Reflow (WCAG 1.4.10): wide tables scroll in their own box, long links wrap.
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= VIEWPORTS["phone"]["width"], f"{path} is {width}px wide on a phone"
            if name in STACKED_PAGES:
                assert not sideways_at_320(page), f"{path} at 320px: {sideways_at_320(page)}"

        result = page.evaluate(AXE_RUN, WCAG_TAGS)
        assert result["passes"], "axe checked nothing: was it injected into the page?"
        violations = result["violations"]
        assert violations == [], f"WCAG 2.1 A/AA violations on {path} ({viewport}):\n" + describe(
            violations
        )
    finally:
        page.close()
