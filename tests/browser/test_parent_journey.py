"""A parent on a phone, without an account, finds an activity for a 9-year-old and puts it in
the family calendar: on the demo data, in each interface language, with and without JavaScript.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
import recurring_ical_events
from flask_babel import ngettext
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.activities.models import Activity
from directory.activities.schedule import next_start
from directory.extensions import db

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LANGUAGES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"}
BROWSER_LOCALES = {"nb": "nb-NO", "nn": "nn-NO", "en": "en-GB"}
CHILD_AGE = 9
MAX_REQUESTS = 5
MAX_BYTES = 60_000
AGE_RANGE = re.compile(r"(\d+)\s*[–-]\s*(\d+)")


@dataclass(frozen=True)
class Card:
    """One search result as the parent sees it."""

    activity_id: int
    title: str
    age_min: int
    age_max: int
    cancelled: bool


def phone_page(browser, site, lang: str, *, javascript: bool = True) -> Page:
    """A fresh phone-sized page with its own cookies and cache."""
    context = browser.new_context(
        base_url=site.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale=BROWSER_LOCALES[lang],
        java_script_enabled=javascript,
        accept_downloads=True,
    )
    return context.new_page()


def watch_for_problems(page: Page, site) -> list[str]:
    """Requests that failed or went to another host, and anything the CSP refused."""
    found: list[str] = []
    origin = urlsplit(site.url).netloc

    def on_request(request) -> None:
        if urlsplit(request.url).netloc != origin:
            found.append(f"request to another host: {request.url}")

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            found.append(message.text)

    def on_response(response) -> None:
        if response.status >= 400:
            found.append(f"{response.status} {response.url}")

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("response", on_response)
    return found


def switch_language(page: Page, lang: str) -> None:
    """Choose the language with the visible switch, as a visitor would."""
    start = "/?lang=nn" if lang == "nb" else "/"  # start elsewhere, so the switch does something
    page.goto(start)
    switch = page.locator("nav.languages").get_by_role("link", name=LANGUAGES[lang], exact=True)
    expect(switch).to_be_visible()
    switch.click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(switch).to_have_attribute("aria-current", "true")


def assert_links_keep_language(page: Page, site, lang: str) -> None:
    """Every link to another page of the site carries the language (bokmål needs none)."""
    hrefs = page.eval_on_selector_all(
        "a[href]", "links => links.filter(a => !a.closest('nav.languages')).map(a => a.href)"
    )
    origin = urlsplit(site.url).netloc
    internal = [h for h in hrefs if urlsplit(h).scheme in ("http", "https")]
    internal = [h for h in internal if urlsplit(h).netloc == origin]
    assert internal, "the page has no links to the site"
    wrong = [h for h in internal if parse_qs(urlsplit(h).query).get("lang") != _lang_param(lang)]
    assert wrong == [], f"links that lose the language {lang}: {wrong}"


def _lang_param(lang: str) -> list[str] | None:
    return None if lang == "nb" else [lang]


def result_cards(page: Page, site, lang: str) -> list[Card]:
    """The result cards on the page: id, title and the age range they show."""
    age_label = site.gettext(lang, "Alder")
    cards = []
    for card in page.locator("ul.cards > li.card").all():
        link = card.get_by_role("heading", level=2).get_by_role("link")
        href = link.get_attribute("href") or ""
        activity_id = int(re.search(r"/activities/(\d+)", href).group(1))
        ages = card.locator("dl.facts > div").filter(
            has=page.locator("dt", has_text=re.compile(f"^{re.escape(age_label)}$"))
        )
        match = AGE_RANGE.search(ages.locator("dd").inner_text())
        assert match, f"card {activity_id} shows no age range"
        cancelled = card.locator(".badge-cancelled").count() > 0
        cards.append(Card(activity_id, link.inner_text(), int(match[1]), int(match[2]), cancelled))
    return cards


def fitting_football(site) -> set[int]:
    """Public, upcoming activities with football in the title that a 9-year-old may join."""
    with site.app.app_context():
        activities = db.session.scalars(
            select(Activity).options(
                selectinload(Activity.schedules), selectinload(Activity.organisation)
            )
        ).all()
        found = {
            a.id
            for a in activities
            if a.is_public
            and "fotball" in a.title.casefold()
            and a.age_min <= CHILD_AGE <= a.age_max
            and next_start(a.schedules) is not None
        }
        db.session.remove()
    return found


def search_and_filter(page: Page, site, lang: str) -> list[Card]:
    """Type 'fotball', submit, open the filters, choose age 9 and show the results."""
    page.get_by_role("searchbox").fill("fotball")
    page.get_by_role("search").get_by_role(
        "button", name=site.gettext(lang, "Søk"), exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"[?&]q=fotball(&|$)"))
    unfiltered = result_cards(page, site, lang)
    assert unfiltered, "searching for fotball found nothing"
    # Without the filter there are trainings for other ages: the filter has work to do.
    assert any(not c.age_min <= CHILD_AGE <= c.age_max for c in unfiltered)

    filters = page.locator("details.filters")
    expect(filters).not_to_have_attribute("open", "")  # folded on a phone until asked for
    filters.locator("summary").click()
    age = page.get_by_label(site.gettext(lang, "Alder"), exact=True)
    expect(age).to_be_visible()
    age.select_option(str(CHILD_AGE))
    filters.get_by_role("button", name=site.gettext(lang, "Vis treff"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"[?&]age={CHILD_AGE}(&|$)"))
    expect(page.get_by_role("searchbox")).to_have_value("fotball")
    expect(page.get_by_label(site.gettext(lang, "Alder"), exact=True)).to_have_value(str(CHILD_AGE))
    assert_results_first(page, site, lang)
    return result_cards(page, site, lang)


MAX_TABS_IN_MAIN = 4  # the search box, its button, the summary bar, then the first result


def assert_results_first(page: Page, site, lang: str) -> None:
    """After «Vis treff»: a clean URL, the panel folded into its summary bar, the results on the
    first screen, and the first result a few Tabs into the content (issue 12)."""
    pairs = [p.split("=", 1) for p in urlsplit(page.url).query.split("&") if p]
    assert all(len(p) == 2 and p[1] for p in pairs), f"empty parameters in {page.url}"
    filters = page.locator("details.filters")
    expect(filters).not_to_have_attribute("open", "")
    summary = filters.locator("summary")
    with site.app.test_request_context(f"/?lang={lang}"):
        age_phrase = ngettext("%(num)d år", "%(num)d år", CHILD_AGE)
    expect(summary).to_contain_text(age_phrase)
    expect(summary).to_contain_text(site.gettext(lang, "Endre"))
    first = page.locator("ul.cards > li.card").first
    box = first.bounding_box()
    assert box is not None and box["y"] < PHONE["height"], "the first result is below the fold"

    # A keyboard user: the skip link, then a few Tabs to the first result.
    page.locator("body").focus()
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    tabs = 0
    while tabs < 20:
        page.keyboard.press("Tab")
        tabs += 1
        if page.evaluate("() => !!document.activeElement.closest('ul.cards > li.card')"):
            break
    assert tabs <= MAX_TABS_IN_MAIN, f"{tabs} Tabs from the content to the first result"


def site_back_text(site, lang: str) -> re.Pattern:
    return re.compile(re.escape(site.gettext(lang, "Tilbake til treffene")) + "$")


def download_calendar(page: Page, site, lang: str, title: str) -> bytes:
    """Press 'Legg i kalender' and return the downloaded file, checked as iCalendar."""
    button = page.get_by_role("link", name=site.gettext(lang, "Legg i kalender"), exact=True)
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".ics")
    raw = Path(download.path()).read_bytes()

    calendar = icalendar.Calendar.from_ical(raw)
    events = calendar.walk("VEVENT")
    assert events, "the calendar file has no event"
    for event in events:
        assert str(event["SUMMARY"]) == title
        assert event["DTSTART"].params.get("TZID") == "Europe/Oslo"
    assert re.search(rb"^DTSTART;TZID=Europe/Oslo:\d{8}T\d{6}\r?$", raw, re.MULTILINE)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Oslo"]
    return raw


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_parent_finds_an_activity_for_a_nine_year_old_and_adds_it_to_the_calendar(
    browser, demo_site, lang, javascript
):
    page = phone_page(browser, demo_site, lang, javascript=javascript)
    problems = watch_for_problems(page, demo_site)
    try:
        switch_language(page, lang)
        assert_links_keep_language(page, demo_site, lang)

        cards = search_and_filter(page, demo_site, lang)
        assert cards, "no activity for a 9-year-old"
        outside = [c for c in cards if not c.age_min <= CHILD_AGE <= c.age_max]
        assert outside == [], f"results a 9-year-old cannot join: {outside}"
        shown = {c.activity_id for c in cards}
        expected = fitting_football(demo_site)
        assert expected, "the demo data has no football for a 9-year-old"
        assert expected <= shown, f"football trainings for 9-year-olds missing: {expected - shown}"
        assert parse_qs(urlsplit(page.url).query).get("lang") == _lang_param(lang)
        assert_links_keep_language(page, demo_site, lang)

        # Open the first result that has not been cancelled.
        chosen = next(c for c in cards if not c.cancelled)
        card = page.locator("ul.cards > li.card").nth(cards.index(chosen))
        results_url = page.url
        card.get_by_role("heading").get_by_role("link").click()
        expect(page).to_have_url(re.compile(rf"/activities/{chosen.activity_id}(\?|$)"))
        expect(page.get_by_role("heading", level=1)).to_have_text(chosen.title)
        # A way back to the same results (from the Referer: nothing added to the card links).
        back = page.get_by_role("link", name=site_back_text(demo_site, lang))
        expect(back).to_be_visible()
        target = urlsplit(back.get_attribute("href") or "")
        assert target.netloc == "" and target.path == urlsplit(results_url).path
        assert parse_qs(target.query) == parse_qs(urlsplit(results_url).query), results_url
        expect(page.locator("html")).to_have_attribute("lang", lang)
        assert_links_keep_language(page, demo_site, lang)

        raw = download_calendar(page, demo_site, lang, chosen.title)
        # The next time shown on the page is an occurrence in the downloaded calendar.
        shown_next = page.locator("ol.occurrences time").first.get_attribute("datetime")
        next_time = datetime.fromisoformat(shown_next)
        window = recurring_ical_events.of(icalendar.Calendar.from_ical(raw)).between(
            next_time - timedelta(minutes=1), next_time + timedelta(minutes=1)
        )
        starts = [e.decoded("DTSTART").astimezone(UTC) for e in window]
        assert next_time.astimezone(UTC) in starts

        # Browsing sets no cookie: the language travels in the links.
        assert page.context.cookies() == []
        assert problems == []
    finally:
        page.context.close()


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# What deploy/nginx.conf compresses (gzip on, level 5, from 512 bytes; text/html always): the
# test server sends bodies as they are, the production server compressed.
GZIP_TYPES = (
    "text/html", "application/json", "text/calendar", "application/atom+xml", "text/css",
    "text/plain", "text/csv", "image/svg+xml",
)  # fmt: skip
GZIP_LEVEL = 5
GZIP_MIN_LENGTH = 512


def sent_body_size(response, size: int) -> int:
    """The bytes of the response's body over the wire in production: compressed as nginx
    does for the types it compresses, as they are otherwise."""
    if response is None or size < GZIP_MIN_LENGTH:
        return size
    content_type = (response.headers.get("content-type") or "").split(";")[0].strip()
    if content_type not in GZIP_TYPES:
        return size
    return len(gzip.compress(response.body(), GZIP_LEVEL))


def weigh_home_page(browser, site, lang: str) -> tuple[int, int, str]:
    """Load the home page with its results in a fresh phone browser (empty cache).

    Returns the number of requests, the bytes over the wire (headers and bodies, both ways,
    the bodies as deploy/nginx.conf compresses them) and a one-line account of them.
    """
    origin = urlsplit(site.url).netloc
    page = phone_page(browser, site, lang)
    requests = []
    page.on("request", lambda request: requests.append(request))
    try:
        path = "/" if lang == "nb" else f"/?lang={lang}"
        mark = site.requests.mark()
        response = page.goto(path, wait_until="networkidle")
        assert response is not None and response.status == 200
        assert page.locator("ul.cards > li.card").count() > 0, "the home page shows no results"
        # The browser fetches some things on its own (a favicon) without telling Playwright:
        # give it a moment, then compare with what the server answered.
        page.wait_for_timeout(500)
        served = site.requests.since(mark)

        hosts = {urlsplit(r.url).netloc for r in requests}
        assert hosts == {origin}, f"other hosts contacted: {hosts - {origin}}"
        seen = [f"{r.method} {_path_and_query(r.url)}" for r in requests]
        unseen = [line for line in served if line not in seen]
        assert unseen == [], f"requests the browser made that cannot be weighed: {unseen}"

        parts = []
        total = 0
        for request in requests:
            sizes = request.sizes()
            size = (
                sizes["requestHeadersSize"]
                + sizes["requestBodySize"]
                + sizes["responseHeadersSize"]
                + sent_body_size(request.response(), sizes["responseBodySize"])
            )
            total += size
            parts.append(f"{_path_and_query(request.url)} {size:,} B")
        line = (
            f"home page ({lang}, {path}): {len(requests)} requests, {total:,} bytes "
            "(headers and bodies, both ways; bodies gzipped as nginx sends them): "
            + "; ".join(parts)
        )
        return len(requests), total, line
    finally:
        page.context.close()


def test_home_page_with_results_is_light(browser, demo_site, artifacts_dir):
    """At most 5 requests and under 60 KB over the wire, nothing from another host."""
    lines = []
    for lang in LANGUAGES:
        count, total, line = weigh_home_page(browser, demo_site, lang)
        print(line)
        lines.append(line)
        assert count <= MAX_REQUESTS, line
        assert total < MAX_BYTES, line
    (artifacts_dir / "page-weight.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
