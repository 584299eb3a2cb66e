"""What search engines and browsers ask for: robots.txt, the sitemap, the favicon, page
descriptions and the organisation's structured data."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from directory.extensions import db
from directory.findable import meta_description

BASE = "https://aktiviteter.example.no"
EVIL = "evil.example"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
LANGUAGES = {"nb": "", "nn": "?lang=nn", "en": "?lang=en"}


@pytest.fixture
def public_base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)


def evil_get(client, path):
    return client.get(path, headers={"Host": EVIL})


# --- robots.txt ---------------------------------------------------------------------------------


def robots_rules(text: str) -> list[tuple[str, str]]:
    rules = []
    for line in text.splitlines():
        field, _sep, value = line.partition(":")
        if field.strip().lower() in ("allow", "disallow"):
            rules.append((field.strip().lower(), value.strip()))
    return rules


def allowed(rules: list[tuple[str, str]], path: str) -> bool:
    """Google's reading (RFC 9309 with wildcards): the longest matching rule wins, Allow on a tie."""
    best = ("allow", -1)
    for kind, pattern in rules:
        regex = re.escape(pattern).replace(r"\*", ".*")
        regex = regex[:-2] + "$" if regex.endswith(r"\$") else regex
        if pattern and re.match(regex, path):
            if len(pattern) > best[1] or (len(pattern) == best[1] and kind == "allow"):
                best = (kind, len(pattern))
    return best[0] == "allow"


def test_robots_txt_opens_public_pages_and_closes_staff_areas(client, public_base_url):
    response = evil_get(client, "/robots.txt?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    text = response.get_data(as_text=True)
    assert text.startswith("User-agent: *\n")
    # Absolute, on the site's own address whatever Host or language the request named.
    assert f"\nSitemap: {BASE}/sitemap.xml\n" in text
    assert EVIL not in text
    rules = robots_rules(text)
    for path in (
        "/", "/?lang=en", "/activities?q=fotball", "/activities/12", "/activities/12.ics",
        "/organisations", "/organisations/drammen-turn", "/calendar.ics", "/feed.atom",
        "/personvern", "/om/kanaler", "/static/site.css", "/media/" + "a" * 32 + ".jpg",
    ):  # fmt: skip
        assert allowed(rules, path), path
    for path in (
        "/admin/organisations", "/account", "/login", "/register", "/schools/x/requests",
        "/organisations/drammen-turn/edit", "/organisations/drammen-turn/members",
        "/activities/12/edit", "/activities/12/reach", "/api/v1/activities",
    ):  # fmt: skip
        assert not allowed(rules, path), path


def test_robots_txt_closes_every_page_for_signed_in_people(app, client):
    """Every GET route for editing, members, staff, admins or an account is closed to crawlers."""
    staff = re.compile(
        r"/edit|/members|/staff|^/admin|/new$|^/account|/invitations/|/reach|/requests"
    )
    rules = robots_rules(client.get("/robots.txt").get_data(as_text=True))
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or set()) and staff.search(rule.rule):
            path = re.sub(r"<(?:int:)?[^>]*>", "1", rule.rule)
            assert not allowed(rules, path), rule.rule
            checked += 1
    assert checked > 20


# --- sitemap.xml --------------------------------------------------------------------------------


@pytest.fixture
def catalogue(make_activity, make_organisation, municipality):
    club = make_organisation(name="Drammen Turn", slug="drammen-turn")
    shown = {
        "published": make_activity(organisation=club, title="Turn"),
        "cancelled": make_activity(organisation=club, title="Avlyst turn", status="cancelled"),
    }
    hidden = [
        make_activity(organisation=club, title="Utkast", status="draft"),
        make_activity(organisation=club, title="Arkivert", status="archived"),
        make_activity(
            organisation=make_organisation(slug="avvist-lag", verification="rejected"),
            title="Avvist",
        ),
    ]
    empty = make_organisation(slug="uten-aktiviteter", verification="pending")
    return club, shown, hidden, empty


def sitemap_entries(body: bytes) -> dict[str, ET.Element]:
    root = ET.fromstring(body)
    assert root.tag == f"{SM}urlset"
    entries = {e.findtext(f"{SM}loc"): e for e in root.findall(f"{SM}url")}
    assert len(entries) == len(root.findall(f"{SM}url"))  # no page twice
    return entries


def test_sitemap_lists_public_pages_in_each_language_and_nothing_else(
    client, public_base_url, catalogue
):
    club, shown, hidden, empty = catalogue
    response = evil_get(client, "/sitemap.xml?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "Set-Cookie" not in response.headers
    entries = sitemap_entries(response.data)

    pages = ["/", "/organisations", f"/organisations/{club.slug}"]
    pages += [f"/activities/{a.id}" for a in shown.values()]
    pages += [f"/venues/{shown['published'].place.slug}"]  # where they happen (issue 13)
    expected = {BASE + page + query for page in pages for query in LANGUAGES.values()}
    assert set(entries) == expected
    body = response.get_data(as_text=True)
    assert EVIL not in body
    for activity in hidden:
        assert f"/activities/{activity.id}" not in body
    assert "avvist-lag" not in body and empty.slug not in body


def test_sitemap_names_every_language_version_with_hreflang(client, public_base_url, catalogue):
    club, shown, _hidden, _empty = catalogue
    entries = sitemap_entries(client.get("/sitemap.xml").data)
    page = f"{BASE}/activities/{shown['published'].id}"
    versions = {code: page + query for code, query in LANGUAGES.items()}
    for code, url in versions.items():
        links = entries[url].findall(f"{XHTML}link")
        assert all(link.get("rel") == "alternate" for link in links)
        alternates = {link.get("hreflang"): link.get("href") for link in links}
        assert alternates == {**versions, "x-default": versions["nb"]}, code


def test_sitemap_lastmod_is_when_the_page_last_changed(client, public_base_url, catalogue):
    club, shown, _hidden, _empty = catalogue
    activity = shown["published"]
    changed = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
    activity.updated_at = changed
    club.updated_at = datetime(2025, 1, 1, tzinfo=UTC)
    shown["cancelled"].updated_at = datetime(2025, 6, 1, tzinfo=UTC)
    db.session.commit()
    entries = sitemap_entries(client.get("/sitemap.xml").data)
    assert entries[f"{BASE}/activities/{activity.id}?lang=nn"].findtext(f"{SM}lastmod") == (
        "2026-03-14T15:09:26+00:00"
    )
    # The organisation's page lists its activities, so it changed when the newest of them did.
    org_lastmod = entries[f"{BASE}/organisations/{club.slug}"].findtext(f"{SM}lastmod")
    assert org_lastmod == "2026-03-14T15:09:26+00:00"


# --- favicon ----------------------------------------------------------------------------------


def test_favicon_ico_and_svg_are_served_and_linked(client):
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.mimetype == "image/vnd.microsoft.icon"
    assert ico.data[:4] == b"\x00\x00\x01\x00"  # an icon directory
    ico.close()
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"#0b5394" in svg.data  # the site's accent colour
    svg.close()
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert 'href="data:,"' not in html


# --- meta descriptions --------------------------------------------------------------------------


class MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.descriptions: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "meta" and values.get("name") == "description":
            self.descriptions.append(values.get("content") or "")


def description_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    parser = MetaParser()
    parser.feed(response.get_data(as_text=True))
    assert len(parser.descriptions) == 1, path
    (text,) = parser.descriptions
    assert text.strip() and len(text) <= 160 and "\n" not in text, (path, text)
    return text


def test_pages_have_one_description_of_their_own(client, make_activity, make_organisation):
    club = make_organisation(
        name="Drammen Turn", description="Vi driver **turn** for barn fra 4 år i Marienlyst."
    )
    activity = make_activity(organisation=club, title="Turn for de minste", summary="Lek & turn")
    bare = make_activity(organisation=club, title="Sjakkurs", summary="", age_min=9, age_max=13)
    descriptions = {
        path: description_of(client, path)
        for path in (
            "/",
            "/activities?q=turn",
            "/organisations",
            f"/organisations/{club.slug}",
            f"/activities/{activity.id}",
            f"/activities/{bare.id}",
            "/personvern",
        )
    }
    assert len(set(descriptions.values())) == len(descriptions), descriptions
    assert descriptions[f"/activities/{activity.id}"].startswith(
        "Lek & turn. Turn for de minste med Drammen Turn"
    )
    assert "Sjakkurs med Drammen Turn, for 9–13 år." in descriptions[f"/activities/{bare.id}"]
    assert descriptions[f"/organisations/{club.slug}"] == (
        f"Drammen Turn – Frivillig lag/forening i {club.municipality.name}. "
        "Vi driver turn for barn fra 4 år i Marienlyst."
    )
    assert "«turn»" in descriptions["/activities?q=turn"]


def test_a_long_summary_is_cut_at_a_word():
    text = meta_description("ord " * 100)
    assert len(text) <= 160 and text.endswith("ord…")
    assert meta_description("  To\n linjer ", None, "", "Og mer.") == "To linjer. Og mer."
    assert meta_description("Spørsmål?", "Svar") == "Spørsmål? Svar"


# --- Organization JSON-LD ---------------------------------------------------------------------


def json_ld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def test_organisation_page_has_organization_json_ld(client, public_base_url, make_organisation):
    club = make_organisation(
        name="Drammen Turn",
        slug="drammen-turn",
        description="Turn for **alle**.",
        website_url="https://turn.example.no",
        facebook_page_url="https://www.facebook.com/drammenturn",
        email="post@turn.example.no",
        phone="+47 32 00 00 00",
        org_number="987654321",
    )
    (data,) = json_ld(evil_get(client, f"/organisations/{club.slug}").get_data(as_text=True))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Organization"
    assert data["name"] == "Drammen Turn"
    assert data["url"] == f"{BASE}/organisations/drammen-turn"
    assert data["description"] == "Turn for alle."
    assert data["sameAs"] == ["https://turn.example.no", "https://www.facebook.com/drammenturn"]
    assert data["email"] == "post@turn.example.no"
    assert data["telephone"] == "+47 32 00 00 00"
    assert data["identifier"]["value"] == "987654321"
    assert data["address"] == {
        "@type": "PostalAddress",
        "addressRegion": club.municipality.name,
        "addressCountry": "NO",
    }


def test_organisation_json_ld_cannot_end_its_script_early(client, make_organisation):
    name = "</script><script>alert(1)</script> & <!--"
    club = make_organisation(name=name, website_url="javascript:alert(1)")
    html = client.get(f"/organisations/{club.slug}").get_data(as_text=True)
    (data,) = json_ld(html)
    assert data["name"] == name
    assert "sameAs" not in data  # only web addresses
    assert "<script>alert(1)" not in html


def test_rejected_organisation_page_has_no_json_ld(client, make_organisation, make_user, login_as):
    owner = make_user()
    club = make_organisation(owners=[owner], verification="rejected")
    login_as(owner)
    html = client.get(f"/organisations/{club.slug}").get_data(as_text=True)
    assert "Kommunen har avvist organisasjonen" in html
    assert json_ld(html) == []
