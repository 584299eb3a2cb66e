"""The site as a phone shows it (issue 12): screenshots of the main pages at 390×844 and
1350×940, no sideways scrolling at 320 CSS pixels on every page, tap targets of at least 44×44
CSS pixels on the public pages, and axe-core on every page the other browser tests leave out.

The pages are every GET page of the application (its URL map, which includes every GET page of
the access matrix, tests/test_access_matrix.py): each is shown to someone who may see it, chosen
from the demo data. A route that is not a page (a feed, a file, JSON, a redirect) is listed in
NOT_PAGES with the reason; a meta-test fails when a new route is in neither list, so a new page
is checked as soon as it exists.

One browser context per visitor (the public, an organiser, school staff, the municipal admin)
and screen; each logs in once and the phone and desktop contexts share its cookies. The CSP is
bypassed so that axe can be injected; the pages themselves are unchanged.

Screenshots are written to test-artifacts/screenshots/ (git-ignored): `<page>-phone.png` and
`<page>-desktop.png` show the first screen, `<page>-phone-full.png` and `<page>-desktop-full.png`
the whole page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlalchemy import func, select

from directory.accounts.models import User
from directory.accounts.operations import create_password_reset, create_user, start_registration
from directory.activities.models import Activity, Category
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.organisations.operations import invite_member
from directory.schools.models import School, SchoolStaff
from directory.schools.staff import invite_staff
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_accessibility import AXE_RUN, LANGUAGES, WCAG_TAGS, describe, with_language
from tests.browser.test_go_live_accessibility import ADMIN, REFLOW_WIDTH
from tests.browser.test_request_journey import Account, log_in
from tests.browser.test_request_journey import signed_in_paths as signed_in_paths  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

# The two screens: a common phone and a laptop.
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1350, "height": 940}}
SCREENSHOTS = ARTIFACTS / "screenshots"
TAP_TARGET = 44  # CSS pixels, WCAG 2.5.5 (AAA): the issue asks for it on the public pages


@dataclass(frozen=True)
class Shown:
    """A page of the site: the route it is, who looks at it, and the answer expected."""

    endpoint: str
    who: str  # visitor, organiser, staff or admin
    status: int = 200


# Every page, named as the tests' ids name it. The error pages are not routes of their own.
PAGES: dict[str, Shown] = {
    # public
    "home": Shown("activities.home", "visitor"),
    "search": Shown("activities.search", "visitor"),
    "search-filtered": Shown("activities.search", "visitor"),
    "activity": Shown("activities.show_activity", "visitor"),
    "organisations": Shown("organisations.list_organisations", "visitor"),
    "organisation": Shown("organisations.show_organisation", "visitor"),
    "venue": Shown("venues.show_venue", "visitor"),
    "listing-confirm": Shown("activities.confirm_listing_by_link", "visitor"),
    "channels": Shown("approvals.channels_page", "visitor"),
    "privacy": Shown("pages.privacy", "visitor"),
    "accessibility": Shown("pages.accessibility", "visitor"),
    "embed": Shown("feeds.embed", "visitor"),
    "login": Shown("accounts.login", "visitor"),
    "register": Shown("accounts.register", "visitor"),
    "register-confirm": Shown("accounts.confirm_registration", "visitor"),
    "password-reset": Shown("accounts.request_password_reset", "visitor"),
    "password-reset-link": Shown("accounts.reset_password", "visitor"),
    "organisation-invitation": Shown("organisations.accept_invitation", "visitor"),
    "staff-invitation": Shown("schools.accept_staff_invitation", "visitor"),
    "not-found": Shown("errors.not_found", "visitor", status=404),
    # an organiser
    "dashboard": Shown("accounts.dashboard", "organiser"),
    "account-password": Shown("accounts.change_password", "organiser"),
    "account-two-step": Shown("accounts.two_step", "organiser"),
    "account-two-step-enrol": Shown("accounts.enrol_two_step", "organiser"),
    "manage-activities": Shown("activities.list_manage", "organiser"),
    "new-activity": Shown("activities.new_activity", "organiser"),
    "edit-activity": Shown("activities.edit_activity", "organiser"),
    "translations": Shown("activities.list_translations", "organiser"),
    "translation-edit": Shown("activities.edit_translation", "organiser"),
    "reach": Shown("approvals.reach_schools", "organiser"),
    "activity-requests": Shown("approvals.list_activity_requests", "organiser"),
    "organisation-requests": Shown("approvals.list_organisation_requests", "organiser"),
    "edit-organisation": Shown("organisations.edit_organisation", "organiser"),
    "members": Shown("organisations.list_members", "organiser"),
    "forbidden": Shown("errors.forbidden", "organiser", status=403),
    # school staff
    "inbox": Shown("approvals.list_school_requests", "staff"),
    "review": Shown("approvals.review_request", "staff"),
    "exports": Shown("exports.index", "staff"),
    "export-preview": Shown("exports.preview", "staff"),
    "overview": Shown("exports.overview", "staff"),
    # the municipal admin
    "admin-dashboard": Shown("accounts.dashboard", "admin"),
    "admin-organisations": Shown("admin.list_organisations", "admin"),
    "admin-audit": Shown("admin.audit_log", "admin"),
    "admin-statistics": Shown("admin.statistics", "admin"),
    "admin-settings": Shown("admin.edit_settings", "admin"),
    "admin-categories": Shown("admin.list_categories", "admin"),
    "admin-category-edit": Shown("admin.edit_category", "admin"),
    "admin-venues": Shown("admin.list_venues", "admin"),
    "admin-school-calendar": Shown("admin.school_calendar", "admin"),
    "venue-edit": Shown("venues.edit_venue", "admin"),
    "admin-accounts": Shown("admin.list_accounts", "admin"),
    "admin-schools": Shown("schools.list_schools", "admin"),
    "admin-school-new": Shown("schools.new_school", "admin"),
    "admin-school-edit": Shown("schools.edit_school", "admin"),
    "admin-policy": Shown("schools.edit_default_policy", "admin"),
    "school-policy": Shown("schools.edit_policy", "admin"),
    "school-staff": Shown("schools.list_staff", "admin"),
}

# GET routes that are not HTML pages of their own, and why they are left out.
NOT_PAGES: dict[str, str] = {
    "static": "stylesheets, icons and images, not pages",
    "activities.media": "an uploaded image or flyer file",
    "exports.short_link": "a redirect to the activity page (checked as 'activity')",
    "accounts.login_two_step": "only reachable after the password step: test_go_live_"
    "accessibility.test_two_step_pages_have_no_wcag_violations checks it at 320 px and with axe",
    "feeds.activity_ics": "an iCalendar file",
    "feeds.calendar_feed": "an iCalendar feed",
    "feeds.atom_feed": "an Atom feed",
    "exports.overview_pdf": "a PDF",
    "schools.export_default_json": "a JSON file",
    "schools.export_default_toml": "a TOML file",
    "schools.export_school_json": "a JSON file",
    "schools.export_school_toml": "a TOML file",
    "health.healthz": "JSON for the monitoring",
    "findable.favicon": "an icon",
    "findable.robots_txt": "plain text for search engines",
    "findable.sitemap": "XML for search engines",
    "api.list_activities": "JSON API",
    "api.show_activity": "JSON API",
    "api.list_categories": "JSON API",
    "api.list_organisations": "JSON API",
    "api.list_schools": "JSON API",
    "api.list_venues": "JSON API",
    "api.school_calendar": "JSON API",
    "api.routing": "JSON API",
    "api.openapi_json": "JSON API",
}

# Pages whose axe check (every language, phone and desktop) lives in another browser test:
# test_accessibility, test_request_journey and test_go_live_accessibility.
AXE_ELSEWHERE = {
    "home",
    "search",
    "search-filtered",
    "activity",
    "organisations",
    "organisation",
    "embed",
    "reach",
    "activity-requests",
    "organisation-requests",
    "inbox",
    "review",
    "exports",
    "export-preview",
    "overview",
    "privacy",
    "accessibility",
    "password-reset",
    "password-reset-link",
    "staff-invitation",
    "account-password",
    "account-two-step",
    "account-two-step-enrol",
    "admin-settings",
    "admin-schools",
    "admin-school-new",
    "admin-school-edit",
    "admin-categories",
    "admin-category-edit",
    "admin-accounts",
    "school-staff",
}
# The rest here: every language on a phone, bokmål on a desktop, as test_go_live_accessibility
# does (the templates do not change with the language, and long words break a phone first).
AXE_SCREENS = [pytest.param(lang, "phone", id=f"{lang}-phone") for lang in LANGUAGES] + [
    pytest.param("nb", "desktop", id="nb-desktop")
]

SCREENSHOT_PAGES = ["home", "search", "activity", "organisation", "reach", "inbox", "review"]
# The public pages whose tap targets are measured.
TAP_PAGES = [
    "home",
    "search",
    "search-filtered",
    "activity",
    "organisations",
    "organisation",
    "venue",
    "privacy",
    "accessibility",
    "login",
    "register",
]


# --- the pages, chosen from the demo data ------------------------------------------------------


@dataclass(frozen=True)
class Face:
    """The accounts that look at the pages, and each page's path."""

    accounts: dict[str, Account | None]
    paths: dict[str, str]


@pytest.fixture(scope="module")
def face(demo_site, signed_in_paths) -> Face:  # noqa: F811 - the imported fixture
    """The request journey's organiser (the one with the most requests) and school staff, the
    municipal admin, and links made for these tests: a registration, a password reset and two
    invitations to addresses nobody else uses."""
    journey = signed_in_paths.paths
    with demo_site.app.app_context():
        admin = db.session.scalar(select(User).where(User.email == ADMIN.email))
        # The admin's school with the most staff: the fullest staff page.
        staff_count = (
            select(func.count(SchoolStaff.id))
            .where(SchoolStaff.school_id == School.id)
            .scalar_subquery()
        )
        school = db.session.scalars(
            select(School)
            .where(School.municipality_id == admin.admin_municipality_id, School.active)
            .order_by(staff_count.desc(), School.id)
        ).first()
        organisation_slug = urlsplit(journey["organisation-requests"]).path.split("/")[2]
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.slug == organisation_slug)
        )
        activity_id = int(urlsplit(journey["reach"]).path.split("/")[2])
        category = db.session.scalars(select(Category).order_by(Category.id)).first()
        # The fullest published activity of a verified organisation: what a parent opens.
        activity = max(
            db.session.scalars(
                select(Activity)
                .join(Organisation)
                .where(Activity.status == "published", Organisation.verification == "verified")
                .order_by(Activity.id)
            ),
            key=lambda a: sum(
                bool(getattr(a, name))
                for name in ("description", "accessibility", "registration_url", "flyer_filename")
            ),
        )
        reset_user = create_user("phone-face-reset@a11y.example", "Passord Glemt", "x" * 20)
        _user, reset_token = create_password_reset(reset_user.email)
        _invitation, staff_token = invite_staff(
            school, {"email": "phone-face-staff@a11y.example", "role": "staff"}, actor=admin
        )
        _invitation, member_token = invite_member(
            organisation, {"email": "phone-face-member@a11y.example", "role": "editor"}, actor=admin
        )
        _user, registration_token = start_registration(
            {
                "email": "phone-face-new@a11y.example",
                "name": "Ny Ildsjel",
                "password": "et langt nok passord",
                "municipality_id": admin.admin_municipality_id,
                "organisation": {"name": "Nytt lag for telefontesten", "kind": "volunteer"},
            }
        )
        # The «Fortsatt aktuell» link e-mailed to the organiser about their activity (issue 14).
        from directory.activities.listings import confirmation_token

        organiser = db.session.scalar(
            select(User).where(User.email == signed_in_paths.organiser.email)
        )
        listing_token = confirmation_token(db.session.get(Activity, activity_id), organiser.id)
        paths = {
            "home": "/",
            "search": "/activities?q=fotball",
            "search-filtered": "/activities?q=fotball&age=9&weekday=2&time=after_school",
            "activity": f"/activities/{activity.id}",
            "organisations": "/organisations",
            "organisation": f"/organisations/{activity.organisation.slug}",
            "venue": f"/venues/{activity.place.slug}",
            "listing-confirm": f"/listings/confirm/{listing_token}",
            "channels": "/om/kanaler",
            "privacy": "/personvern",
            "accessibility": "/tilgjengelighet",
            "embed": "/embed?age=9",
            "login": "/login",
            "register": "/register",
            "register-confirm": f"/register/confirm/{registration_token}",
            "password-reset": "/account/password/reset",
            "password-reset-link": f"/account/password/reset/{reset_token}",
            "organisation-invitation": f"/invitations/{member_token}",
            "staff-invitation": f"/schools/invitations/{staff_token}",
            "not-found": f"/activities/{2**31 - 1}",
            "dashboard": "/account",
            "account-password": "/account/password",
            "account-two-step": "/account/two-step",
            "account-two-step-enrol": "/account/two-step/enrol",
            "manage-activities": f"/organisations/{organisation_slug}/activities",
            "new-activity": f"/organisations/{organisation_slug}/activities/new",
            "edit-activity": f"/activities/{activity_id}/edit",
            "translations": f"/activities/{activity_id}/translations",
            "translation-edit": f"/activities/{activity_id}/translations/uk",
            "reach": journey["reach"],
            "activity-requests": journey["activity-requests"],
            "organisation-requests": journey["organisation-requests"],
            "edit-organisation": f"/organisations/{organisation_slug}/edit",
            "members": f"/organisations/{organisation_slug}/members",
            "forbidden": "/admin/audit",
            "inbox": journey["inbox"],
            "review": journey["review"],
            "exports": journey["exports"],
            "export-preview": journey["export-backpack_post"],
            "overview": journey["overview"],
            "admin-dashboard": "/account",
            "admin-organisations": "/admin/organisations",
            "admin-audit": "/admin/audit",
            "admin-statistics": "/admin/statistics",
            "admin-settings": "/admin/settings",
            "admin-categories": "/admin/categories",
            "admin-category-edit": f"/admin/categories/{category.id}/edit",
            "admin-venues": "/admin/venues",
            "admin-school-calendar": "/admin/school-calendar",
            "venue-edit": f"/venues/{activity.place.slug}/edit",
            "admin-accounts": "/admin/accounts",
            "admin-schools": "/admin/schools",
            "admin-school-new": "/admin/schools/new",
            "admin-school-edit": f"/admin/schools/{school.slug}/edit",
            "admin-policy": "/admin/policy",
            "school-policy": f"/schools/{school.slug}/policy",
            "school-staff": f"/schools/{school.slug}/staff",
        }
        db.session.commit()
        db.session.remove()
    accounts = {
        "visitor": None,
        "organiser": signed_in_paths.organiser,
        "staff": signed_in_paths.staff,
        "admin": ADMIN,
    }
    return Face(accounts=accounts, paths=paths)


@pytest.fixture(scope="module")
def screens(axe_source, browser, demo_site, face) -> Iterator[dict[tuple[str, str], Page]]:
    """Per visitor and screen, one page the tests take turns with. Each account logs in once
    (the admins' second step included); its desktop context starts with the phone's cookies."""
    contexts: list[BrowserContext] = []
    pages: dict[tuple[str, str], Page] = {}

    def new_context(screen: str, state=None) -> BrowserContext:
        context = browser.new_context(
            base_url=demo_site.url,
            viewport=SCREENS[screen],
            is_mobile=screen == "phone",
            has_touch=screen == "phone",
            bypass_csp=True,
            storage_state=state,
        )
        contexts.append(context)
        return context

    try:
        for who, account in face.accounts.items():
            phone = new_context("phone")
            page = phone.new_page()
            if account is not None:
                log_in(page, account)
            desktop = new_context("desktop", phone.storage_state())
            pages[who, "phone"] = page
            pages[who, "desktop"] = desktop.new_page()
            for context in (phone, desktop):
                context.add_init_script(axe_source)
        yield pages
    finally:
        for context in contexts:
            context.close()


def open_page(screens, face: Face, name: str, screen: str, lang: str = "nb") -> Page:
    """The page as its visitor sees it on the screen, checked to be the page asked for."""
    shown = PAGES[name]
    page = screens[shown.who, screen]
    path = with_language(face.paths[name], lang)
    response = page.goto(path)
    assert response is not None
    assert response.status == shown.status, f"{path} answered {response.status}"
    assert urlsplit(page.url).path == urlsplit(path).path, f"{path} went to {page.url}"
    page.wait_for_load_state("load")
    return page


# --- screenshots: the first screen on a phone starts with what was asked for -------------------

# The top of an element's box, relative to the first screen.
TOP = "element => element.getBoundingClientRect().top"
# The first link to an activity among the results (the filters' links stay on /activities).
FIRST_RESULT = """() => {
    const link = [...document.querySelectorAll('main a[href]')].find(
        a => /^\\/activities\\/\\d+$/.test(new URL(a.href).pathname) && a.checkVisibility());
    return link ? link.getBoundingClientRect().top : null;
}"""


@pytest.mark.parametrize("name", SCREENSHOT_PAGES)
def test_page_starts_in_the_first_screen_and_is_photographed(screens, face, name):
    """On both screens the page's heading is in view without scrolling; after a search, the
    first result starts within the phone's first screen (the results come first, issue 12)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for screen, size in SCREENS.items():
        page = open_page(screens, face, name, screen)
        page.screenshot(path=SCREENSHOTS / f"{name}-{screen}.png")
        page.screenshot(path=SCREENSHOTS / f"{name}-{screen}-full.png", full_page=True)
        heading = page.locator("main h1").first
        assert heading.is_visible(), f"{face.paths[name]} has no visible heading ({screen})"
        top = heading.evaluate(TOP)
        assert 0 <= top < size["height"], f"the heading starts at {top}px on the {screen}"
        if name == "search" and screen == "phone":
            first = page.evaluate(FIRST_RESULT)
            assert first is not None, "the search shows no result"
            assert first < size["height"], (
                f"the first result starts at {first:.0f}px, below the phone's first screen "
                f"({size['height']}px)"
            )


# --- reflow: nothing wider than 320 CSS pixels -------------------------------------------------

# What sticks out of the screen: the elements wider than it whose parent is not (the culprits,
# not every ancestor), outside any box that scrolls or clips on its own.
OVERFLOW = """() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const culprits = [];
    if (root.scrollWidth <= width) return {width, scrollWidth: root.scrollWidth, culprits};
    const outside = el => {
        const box = el.getBoundingClientRect();
        return (box.width > 0 || box.height > 0) && box.right > width + 0.5;
    };
    const clipped = el => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible') return true;
        }
        return false;
    };
    for (const el of document.body.querySelectorAll('*')) {
        if (!outside(el) || clipped(el)) continue;
        const parent = el.parentElement;
        if (parent && parent !== document.body && outside(parent)) continue;
        const box = el.getBoundingClientRect();
        const classes = [...el.classList].map(c => '.' + c).join('');
        const id = el.id ? '#' + el.id : '';
        const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
        culprits.push(`<${el.tagName.toLowerCase()}${id}${classes}> ${Math.round(box.width)}px`
            + ` wide, from ${Math.round(box.left)} to ${Math.round(box.right)}px «${text}»`);
    }
    return {width, scrollWidth: root.scrollWidth, culprits: culprits.slice(0, 12)};
}"""


@pytest.mark.parametrize("name", list(PAGES))
def test_page_does_not_scroll_sideways_at_320_pixels(screens, face, name):
    """WCAG 1.4.10 Reflow: at 320 CSS pixels the page is as wide as the screen; the failure
    names each element that sticks out, its width and where it ends."""
    page = open_page(screens, face, name, "phone")
    try:
        page.set_viewport_size({"width": REFLOW_WIDTH, "height": SCREENS["phone"]["height"]})
        found = page.evaluate(OVERFLOW)
    finally:
        page.set_viewport_size(SCREENS["phone"])  # the page serves the next test too
    assert found["scrollWidth"] <= found["width"], (
        f"{face.paths[name]} is {found['scrollWidth']}px wide on a {found['width']}px screen:\n"
        + "\n".join(found["culprits"])
    )


# --- tap targets: 44 × 44 CSS pixels on the public pages --------------------------------------

# Every visible link, button, summary, select, checkbox and radio button, with the box a finger
# can hit: a checkbox's or radio button's box joined with its labels' boxes.
SMALL_TARGETS = """size => {
    const small = [];
    const shown = el => el.checkVisibility({checkOpacity: false, checkVisibilityCSS: true});
    const selector = 'a[href], button, summary, select, input[type=checkbox], input[type=radio],'
        + ' input[type=submit], input[type=button], input[type=reset]';
    for (const el of document.querySelectorAll(selector)) {
        if (el.closest('[hidden], [inert]')) continue;
        let boxes = [el];
        if (el.type === 'checkbox' || el.type === 'radio') boxes = [el, ...el.labels];
        boxes = boxes.filter(shown).map(b => b.getBoundingClientRect())
            .filter(b => b.width > 1 && b.height > 1);
        // Not shown: a closed panel's contents, a skip link off the screen until focused.
        if (!boxes.length || boxes.every(b => b.right <= 0 || b.bottom <= 0)) continue;
        // A link stretched over its card by an absolutely placed ::after (or ::before): the
        // card is what a finger hits.
        for (const pseudo of ['::after', '::before']) {
            const style = getComputedStyle(el, pseudo);
            if (style.content !== 'none' && style.position === 'absolute') {
                let holder = el.parentElement;
                while (holder && getComputedStyle(holder).position === 'static') {
                    holder = holder.parentElement;
                }
                if (holder) boxes.push(holder.getBoundingClientRect());
            }
        }
        if (el.tagName === 'A') {
            // A link in running text: a paragraph with words of its own besides its links.
            const paragraph = el.closest('p');
            if (paragraph) {
                let own = paragraph.textContent;
                for (const a of paragraph.querySelectorAll('a')) own = own.replace(a.textContent, '');
                if (/\\p{L}{2,}/u.test(own)) continue;
            }
        }
        const left = Math.min(...boxes.map(b => b.left)), right = Math.max(...boxes.map(b => b.right));
        const top = Math.min(...boxes.map(b => b.top)), bottom = Math.max(...boxes.map(b => b.bottom));
        const width = right - left, height = bottom - top;
        if (width + 0.5 >= size && height + 0.5 >= size) continue;
        const text = (el.textContent || el.value || el.getAttribute('aria-label') || el.name || '')
            .trim().replace(/\\s+/g, ' ').slice(0, 40);
        const classes = [...el.classList].map(c => '.' + c).join('');
        const kind = el.type === 'checkbox' || el.type === 'radio' ? `[type=${el.type}]` : '';
        small.push(`<${el.tagName.toLowerCase()}${kind}${classes}> «${text}»: `
            + `${Math.round(width)}×${Math.round(height)}px`);
    }
    return small;
}"""


@pytest.mark.parametrize("name", TAP_PAGES)
def test_public_page_has_tap_targets_of_44_pixels(screens, face, name):
    """Every link, button, summary, select, checkbox and radio button a visitor can see on a
    phone is at least 44×44 CSS pixels (WCAG 2.5.5). A checkbox or radio button counts with
    its labels: a small box on a 44-pixel label row is easy to hit.

    Exempt, as WCAG 2.5.5 exempts inline targets: a link inside running text (a <p> with words
    of its own besides its links), since a sentence's line height cannot grow to 44 pixels
    without breaking the text's reading. Elements not shown (a closed filter panel's contents,
    the skip link off the screen until it is focused) cannot be tapped and are not measured.
    A link stretched over its card by an absolutely placed ::after counts with the card's box,
    which is what a finger hits.
    """
    page = open_page(screens, face, name, "phone")
    small = page.evaluate(SMALL_TARGETS, TAP_TARGET)
    assert small == [], (
        f"tap targets under {TAP_TARGET}×{TAP_TARGET}px on {face.paths[name]} (phone):\n"
        + "\n".join(small)
    )


# --- axe-core on the pages the other browser tests leave out ---------------------------------


@pytest.mark.parametrize(("lang", "screen"), AXE_SCREENS)
@pytest.mark.parametrize("name", [name for name in PAGES if name not in AXE_ELSEWHERE])
def test_page_has_no_wcag_violations(screens, face, name, lang, screen):
    page = open_page(screens, face, name, screen, lang)
    assert page.locator("html").get_attribute("lang") == lang
    result = page.evaluate(AXE_RUN, WCAG_TAGS)
    assert result["passes"], "axe checked nothing: was it injected into the page?"
    violations = result["violations"]
    assert violations == [], f"WCAG 2.1 A/AA violations on {page.url} ({screen}):\n" + describe(
        violations
    )


# --- every page is checked --------------------------------------------------------------------


def test_every_page_of_the_app_and_of_the_access_matrix_is_checked(demo_site):
    """A GET route of the application (and so every GET page of the access matrix) is either
    a page above or listed, with its reason, as not a page."""
    from tests.test_access_matrix import CASES

    checked = {shown.endpoint for shown in PAGES.values()}
    routes = {rule.endpoint for rule in demo_site.app.url_map.iter_rules() if "GET" in rule.methods}
    matrix = {case.endpoint for case in CASES if case.method == "GET"}
    missing = sorted((routes | matrix) - checked - set(NOT_PAGES))
    assert missing == [], "GET routes neither checked nor listed in NOT_PAGES: " + ", ".join(
        missing
    )
    assert not checked & set(NOT_PAGES)
    assert AXE_ELSEWHERE <= set(PAGES)


def test_the_measurements_find_what_they_should(screens):
    """The checks can fail: a small link and a small tick box without a label are reported; a
    link in a sentence, a tick box on a 44-pixel label row and a stretched card link are not;
    an element wider than the screen is named."""
    page = screens["visitor", "phone"].context.new_page()
    try:
        page.set_viewport_size({"width": REFLOW_WIDTH, "height": 600})
        page.set_content(
            '<!doctype html><html lang="nb"><head><meta name="viewport" '
            'content="width=device-width"><style>'
            "label { display: flex; align-items: center; min-height: 44px; }"
            ".card { position: relative; height: 80px; }"
            ".card a::after { content: ''; position: absolute; inset: 0; }"
            "</style></head><body><main>"
            '<p><a href="/a">Liten</a></p>'
            '<p>Les mer i <a href="/b">erklæringen</a> om personvern.</p>'
            '<input type="checkbox" id="alone">'
            '<label><input type="checkbox"> Gratis</label>'
            '<div class="card"><h2><a href="/c">Et kort</a></h2></div>'
            '<div class="wide" style="width: 500px">Bred</div>'
            "</main></body></html>"
        )
        small = page.evaluate(SMALL_TARGETS, TAP_TARGET)
        assert [entry.split(":")[0] for entry in small] == [
            "<a> «Liten»",
            "<input[type=checkbox]> «on»",
        ]
        found = page.evaluate(OVERFLOW)
        assert found["scrollWidth"] > REFLOW_WIDTH
        assert [entry.split(" ")[0] for entry in found["culprits"]] == ["<div.wide>"]
    finally:
        page.close()
