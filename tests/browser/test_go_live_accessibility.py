"""axe-core on the pages issue 9 added for going live: the privacy and accessibility statements,
the password pages, the two-step login from enrolment to the login's second step, the municipal
admin's pages and a school staff invitation.

The machinery is test_accessibility's (WCAG 2.1 A/AA, the CSP bypassed so that axe can be
injected, the pages themselves unchanged), and the reflow check of the signed-in pages: nothing
is wider than the phone, and nothing is wider than 320 CSS pixels either (WCAG 1.4.10).

To keep the browser run short these pages are checked in every language on a phone and in
bokmål on a desktop, not in every language at every width: the templates do not change with
the language, only the text does, and long words break a narrow screen first.

Everything these tests change in the shared demo site is their own: new accounts, an
invitation to an address nobody has, the municipal admin's second step (enrolled as
conftest.finish_login does, so other tests can still log in as the admin).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from directory.accounts.models import User
from directory.accounts.operations import create_password_reset, create_user
from directory.accounts.tokens import new_token
from directory.activities.models import Category
from directory.demo import DEMO_ACCOUNTS
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from directory.schools.models import Municipality, School, SchoolStaff
from directory.schools.staff import invite_staff
from tests.browser.test_accessibility import (
    AXE_RUN,
    LANGUAGES,
    VIEWPORTS,
    WCAG_TAGS,
    describe,
    with_language,
)
from tests.browser.test_request_journey import Account, log_in

pytestmark = pytest.mark.browser

ADMIN = next(Account(a.email, a.password) for a in DEMO_ACCOUNTS if a.role == "municipal_admin")
PASSWORD = "lang-nok-for-tilgjengelighetstesten"
# WCAG 1.4.10 Reflow: content readable without scrolling sideways at 320 CSS pixels.
REFLOW_WIDTH = 320
SCROLLING_TABLES = """() => [...document.querySelectorAll('.table-scroll')]
    .filter(e => e.scrollWidth > e.clientWidth)
    .map(e => `a table ${e.scrollWidth}px wide in a ${e.clientWidth}px box`)"""

# Every language on a phone, bokmål on a desktop.
SCREENS = [pytest.param(lang, "phone", id=f"{lang}-phone") for lang in LANGUAGES] + [
    pytest.param("nb", "desktop", id="nb-desktop")
]

PUBLIC_PAGES = [
    "privacy",
    "accessibility",
    "password-reset",
    "password-reset-sent",
    "password-reset-link",
    "password-reset-unknown",
    "staff-invitation",
]

SIGNED_IN_PAGES = {
    # page: who is signed in to see it
    "account-password": "organiser",
    "account-two-step": "organiser",
    "admin-settings": "admin",
    "admin-schools": "admin",
    "admin-school-new": "admin",
    "admin-school-new-error": "admin",
    "admin-school-edit": "admin",
    "admin-categories": "admin",
    "admin-category-edit": "admin",
    "admin-accounts": "admin",
    "school-staff": "admin",
    "admin-audit": "admin",
    "admin-statistics": "admin",
}
# Their tables become one card per row on a phone: no table scrolls sideways in its own box.
STACKED_PAGES = {"admin-audit", "admin-statistics"}

_numbers = itertools.count(1)


@dataclass(frozen=True)
class GoLive:
    """What the pages are about, chosen from the demo data or made for these tests."""

    organiser: Account  # a new editor of a verified demo organisation, no second step
    school_slug: str  # the admin's school with the most staff
    category_id: int
    invitation_token: str  # to the school's staff, for an address without an account
    reset_token: str  # a reset link of an account of its own


def new_organiser(site, label: str) -> Account:
    """A new account, editor of a verified Drammen organisation: an organiser of its own, so
    what a test does to it (turning on the second step) touches no one else's login."""
    email = f"a11y-{label}-{next(_numbers)}@organiser.example"
    with site.app.app_context():
        organisation = db.session.scalars(
            select(Organisation)
            .join(Municipality)
            .where(Municipality.slug == "drammen", Organisation.verification == "verified")
            .order_by(Organisation.id)
        ).first()
        user = create_user(email, "Tilgjengelig Testesen", PASSWORD)
        db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role="editor"))
        db.session.commit()
        db.session.remove()
    return Account(email, PASSWORD)


@pytest.fixture(scope="module")
def go_live(demo_site) -> GoLive:
    organiser = new_organiser(demo_site, "settings")
    reset_account = new_organiser(demo_site, "reset")
    with demo_site.app.app_context():
        admin = db.session.scalar(select(User).where(User.email == ADMIN.email))
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
        category = db.session.scalars(select(Category).order_by(Category.id)).first()
        _invitation, invitation_token = invite_staff(
            school, {"email": "ny-ansatt@a11y.example", "role": "staff"}, actor=admin
        )
        reset_user, reset_token = create_password_reset(reset_account.email)
        assert reset_user is not None
        chosen = GoLive(
            organiser=organiser,
            school_slug=school.slug,
            category_id=category.id,
            invitation_token=invitation_token,
            reset_token=reset_token,
        )
        db.session.commit()
        db.session.remove()
    return chosen


def new_context(browser, site, viewport: str, axe_source: str | None = None) -> BrowserContext:
    """A context of the screen's size with its own cookies that bypasses the CSP, so that axe
    can be injected into every page (before the page's own content) when given."""
    context = browser.new_context(
        base_url=site.url,
        viewport=VIEWPORTS[viewport],
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
        bypass_csp=True,
    )
    if axe_source is not None:
        context.add_init_script(axe_source)
    return context


@pytest.fixture(scope="module")
def screens(axe_source, browser, demo_site, go_live) -> Iterator[dict[tuple[str, str], Page]]:
    """Per visitor and screen, one page that the tests take turns with (a new page for each
    test would cost more than the check itself). The organiser and the municipal admin are
    signed in; the admin enrols in the second step at the first login and passes it at the
    next (conftest.finish_login)."""
    accounts = {"visitor": None, "organiser": go_live.organiser, "admin": ADMIN}
    contexts: list[BrowserContext] = []
    pages: dict[tuple[str, str], Page] = {}
    try:
        for who, account in accounts.items():
            for viewport in VIEWPORTS:
                context = new_context(browser, demo_site, viewport)
                contexts.append(context)
                page = context.new_page()
                if account is not None:
                    log_in(page, account)
                context.add_init_script(axe_source)
                pages[who, viewport] = page
        yield pages
    finally:
        for context in contexts:
            context.close()


def problems(page: Page, lang: str, viewport: str, *, stacked: bool = False) -> str:
    """What is wrong with the page as it is shown now: the wrong language, anything wider than
    the screen (on a phone, also at 320 pixels; with `stacked`, also a table scrolling in its
    own box), and axe's WCAG 2.1 A/AA violations."""
    page.wait_for_load_state("load")  # after a form's answer, its stylesheet may still be coming
    found = []
    where = urlsplit(page.url)
    label = where.path + (f"?{where.query}" if where.query else "")
    page_lang = page.locator("html").get_attribute("lang")
    if page_lang != lang:
        found.append(f"<html lang={page_lang!r}>, not {lang!r}")
    if viewport == "phone":
        size = VIEWPORTS["phone"]
        try:
            for width in (size["width"], REFLOW_WIDTH):
                page.set_viewport_size({"width": width, "height": size["height"]})
                wide = page.evaluate("() => document.documentElement.scrollWidth")
                if wide > width:
                    found.append(f"{wide}px wide on a {width}px screen")
                if stacked:
                    boxes = page.evaluate(SCROLLING_TABLES)
                    found += [f"{box} on a {width}px screen" for box in boxes]
        finally:
            page.set_viewport_size(size)  # the page serves the next test too
    result = page.evaluate(AXE_RUN, WCAG_TAGS)
    assert result["passes"], "axe checked nothing: was it injected into the page?"
    if result["violations"]:
        found.append("WCAG 2.1 A/AA violations:\n" + describe(result["violations"]))
    return f"{label} ({viewport}): " + "\n".join(found) if found else ""


def public_path(go_live: GoLive, name: str) -> str:
    return {
        "privacy": "/personvern",
        "accessibility": "/tilgjengelighet",
        "password-reset": "/account/password/reset",
        "password-reset-sent": "/account/password/reset",
        "password-reset-link": f"/account/password/reset/{go_live.reset_token}",
        # A link nobody made: the clear page, not an error.
        "password-reset-unknown": f"/account/password/reset/{new_token()}",
        "staff-invitation": f"/schools/invitations/{go_live.invitation_token}",
    }[name]


@pytest.mark.parametrize(("lang", "viewport"), SCREENS)
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_no_wcag_violations(screens, go_live, name, lang, viewport):
    path = with_language(public_path(go_live, name), lang)
    page = screens["visitor", viewport]
    response = page.goto(path)
    assert response is not None
    expected = 404 if name == "password-reset-unknown" else 200
    assert response.status == expected, f"{path} answered {response.status}"
    if name == "password-reset-sent":
        # An address of its own each time: the form takes three an hour per address.
        page.locator("#email").fill(f"ingen-{lang}-{viewport}@a11y.example")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("main form [type=submit]").click()
        assert answer.value.status == 200
        expect(page.locator("main [role=status]")).to_be_visible()
    elif name == "staff-invitation":
        # Nobody has an account for the address: the form to make one.
        expect(page.locator("#invited-email")).to_have_value("ny-ansatt@a11y.example")
    found = problems(page, lang, viewport)
    assert not found, found


def signed_in_path(go_live: GoLive, name: str) -> str:
    slug = go_live.school_slug
    return {
        "account-password": "/account/password",
        "account-two-step": "/account/two-step",
        "admin-settings": "/admin/settings",
        "admin-schools": "/admin/schools",
        "admin-school-new": "/admin/schools/new",
        "admin-school-new-error": "/admin/schools/new",
        "admin-school-edit": f"/admin/schools/{slug}/edit",
        "admin-categories": "/admin/categories",
        "admin-category-edit": f"/admin/categories/{go_live.category_id}/edit",
        "admin-accounts": "/admin/accounts",
        "school-staff": f"/schools/{slug}/staff",
        "admin-audit": "/admin/audit",
        "admin-statistics": "/admin/statistics",
    }[name]


@pytest.mark.parametrize(("lang", "viewport"), SCREENS)
@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_go_live_signed_in_page_has_no_wcag_violations(screens, go_live, name, lang, viewport):
    path = with_language(signed_in_path(go_live, name), lang)
    page = screens[SIGNED_IN_PAGES[name], viewport]
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response.status}"
    assert urlsplit(page.url).path == urlsplit(path).path, f"{path} went to {page.url}"
    if name == "admin-school-new-error":
        # Adding a school without filling anything in: the form comes back marked.
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("main form[action*='/admin/schools/new'] [type=submit]").click()
        assert answer.value.status == 422
        expect(page.locator("main .form-errors")).to_be_visible()
        expect(page.locator("main [aria-invalid=true]").first).to_be_visible()
    elif name == "school-staff":
        expect(page.locator("ul.invitations")).to_contain_text("ny-ansatt@a11y.example")
    found = problems(page, lang, viewport, stacked=name in STACKED_PAGES)
    assert not found, found


@pytest.mark.parametrize(("lang", "viewport"), SCREENS)
def test_two_step_pages_have_no_wcag_violations(browser, demo_site, axe_source, lang, viewport):
    """An organiser turns on the second step and logs in again: the enrolment before and after
    'Start oppsettet', the recovery codes shown once, the settings with the step on, and the
    login's second step. Each step needs the one before it, so one test walks through them and
    reports every page's problems together."""
    account = new_organiser(demo_site, f"two-step-{lang}-{viewport}")
    found: list[str] = []
    context = new_context(browser, demo_site, viewport, axe_source)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("E-post", exact=True).fill(account.email)
        page.get_by_label("Passord", exact=True).fill(account.password)
        page.get_by_role("main").get_by_role("button", name="Logg inn", exact=True).click()
        expect(page).to_have_url(re.compile(r"/account$"))

        page.goto(with_language("/account/two-step/enrol", lang))
        start = page.locator("main form[action*='/account/two-step/enrol/start'] [type=submit]")
        expect(start).to_have_count(1)
        found.append(problems(page, lang, viewport))

        start.click()  # 'Start oppsettet': the QR code, the secret and the field for a code
        expect(page).to_have_url(re.compile(r"/account/two-step/enrol(\?|$)"))
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        expect(page.locator("main figure.qr svg")).to_have_count(1)
        found.append(problems(page, lang, viewport))

        page.locator("#code").fill(pyotp.TOTP(secret).now())
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("main ol.steps form [type=submit]").click()
        assert answer.value.status == 200
        expect(page.locator("ul.recovery-codes li")).to_have_count(10)
        found.append(problems(page, lang, viewport))

        page.goto(with_language("/account/two-step", lang))
        expect(page.locator("main form[action*='/account/two-step/disable']")).to_have_count(1)
        found.append(problems(page, lang, viewport))
        context.close()

        # The password again, in a browser of its own: the login's second step.
        context = new_context(browser, demo_site, viewport, axe_source)
        page = context.new_page()
        page.goto(with_language("/login", lang))
        page.locator("#email").fill(account.email)
        page.locator("#password").fill(account.password)
        page.locator("main form [type=submit]").click()
        expect(page).to_have_url(re.compile(r"/login/two-step(\?|$)"))
        expect(page.locator("#code")).to_be_visible()
        found.append(problems(page, lang, viewport))
    finally:
        context.close()
    found = [problem for problem in found if problem]
    assert not found, "\n\n".join(found)
