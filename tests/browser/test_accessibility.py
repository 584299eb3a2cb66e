"""axe-core finds no WCAG 2.1 A/AA violation on the public pages, in each language, on a phone
and on a desktop screen.

axe-core is the npm package (package.json, installed by `make install`); it is injected into
each page. The site's Content-Security-Policy forbids inline scripts, so these pages are opened
in a browser context that bypasses the CSP: the pages themselves are unchanged.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.activities.models import Activity
from directory.activities.schedule import next_start
from directory.extensions import db
from directory.organisations.models import Organisation

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Details of passing checks are not needed: asking only for violations' nodes is faster.
AXE_RUN = (
    "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
)
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LANGUAGES = ["nb", "nn", "en"]
PAGES = [
    "home",
    "search",
    "search-filtered",
    "search-error",
    "search-none",
    "activity",
    "activity-cancelled",
    "organisations",
    "organisation",
    "embed",
]


@pytest.fixture(scope="module")
def page_paths(demo_site) -> dict[str, str]:
    """The URL of each kind of public page, chosen from the demo data."""
    with demo_site.app.app_context():
        activities = db.session.scalars(
            select(Activity)
            .options(selectinload(Activity.schedules), selectinload(Activity.organisation))
            .order_by(Activity.id)
        ).all()
        upcoming = [a for a in activities if a.is_public and next_start(a.schedules)]

        def richness(activity: Activity) -> int:
            fields = ("description", "accessibility", "registration_url", "flyer_filename")
            return sum(bool(getattr(activity, name)) for name in fields)

        # The fullest page: description, accessibility notes, registration link and flyer.
        activity = max((a for a in upcoming if a.status == "published"), key=richness)
        cancelled = next(a for a in upcoming if a.status == "cancelled")
        # An organisation the municipality has not verified yet: its page shows the mark.
        organisation = max(
            (o for o in db.session.scalars(select(Organisation)) if o.verification == "pending"),
            key=lambda o: sum(a.organisation_id == o.id for a in upcoming),
        )
        paths = {
            "home": "/",
            "search": "/activities?q=fotball",
            # Filters chosen: the panel folded into its summary bar, the results first.
            "search-filtered": "/activities?q=fotball&age=9&weekday=2&time=after_school&free=1",
            # Nothing found: which filter to loosen, with how many each brings back.
            "search-none": "/activities?q=fotball&age=9&weekday=2&time=evening",
            # A filter that cannot be understood: its message next to the field.
            "search-error": "/activities?q=fotball&age=abc&from=2026-13-40",
            "activity": f"/activities/{activity.id}",
            "activity-cancelled": f"/activities/{cancelled.id}",
            "organisations": "/organisations",
            "organisation": f"/organisations/{organisation.slug}",
            "embed": "/embed?age=9",
        }
        db.session.remove()
    return paths


@pytest.fixture(scope="module")
def axe_contexts(axe_source, browser, demo_site):
    """One browser context per screen width, bypassing the CSP so axe can be injected."""
    contexts = {
        name: browser.new_context(
            base_url=demo_site.url,
            viewport=viewport,
            is_mobile=name == "phone",
            has_touch=name == "phone",
            bypass_csp=True,
        )
        for name, viewport in VIEWPORTS.items()
    }
    for context in contexts.values():
        context.add_init_script(axe_source)  # in every page, before the page's own content
    try:
        yield contexts
    finally:
        for context in contexts.values():
            context.close()


def with_language(path: str, lang: str) -> str:
    """The path in the interface language (bokmål needs no parameter)."""
    if lang == "nb":
        return path
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


def describe(violations: list[dict]) -> str:
    """Each violation with its rule, impact, help text and the elements that fail it."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_wcag_violations(axe_contexts, page_paths, name, lang, viewport):
    path = with_language(page_paths[name], lang)
    page = axe_contexts[viewport].new_page()
    try:
        response = page.goto(path)
        assert response is not None
        expected_status = 400 if name == "search-error" else 200
        assert response.status == expected_status, f"{path} answered {response.status}"
        assert page.locator("html").get_attribute("lang") == lang
        if name == "search-filtered":
            # Folded after a search (issue 12): opened, so that axe checks the chips and fields.
            filters = page.locator("details.filters")
            assert filters.get_attribute("open") is None
            filters.locator("summary").click()
            assert filters.get_attribute("open") is not None

        result = page.evaluate(AXE_RUN, WCAG_TAGS)
        assert result["passes"], "axe checked nothing: was it injected into the page?"
        violations = result["violations"]
        if violations:
            print(f"\naxe on {path} ({viewport}):\n{describe(violations)}")
        assert violations == [], f"WCAG 2.1 A/AA violations on {path} ({viewport}):\n" + describe(
            violations
        )
    finally:
        page.close()


def test_axe_reports_a_violation_it_should(axe_contexts):
    """The check can fail: a page with an unlabelled field and low contrast is reported."""
    page = axe_contexts["desktop"].new_page()
    try:
        page.set_content(
            '<!doctype html><html lang="nb"><head><title>Test</title></head><body><main>'
            '<h1>Test</h1><input type="text"><p style="color:#bbb;background:#fff">Lys tekst</p>'
            "</main></body></html>"
        )
        result = page.evaluate(AXE_RUN, WCAG_TAGS)
        assert {v["id"] for v in result["violations"]} >= {"label", "color-contrast"}
    finally:
        page.close()
