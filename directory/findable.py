"""What search engines and browsers ask a site for: robots.txt, a sitemap, a favicon, page
descriptions and an organisation's structured data.

Every absolute URL here is built by directory.urls (PUBLIC_BASE_URL), never from the Host
header: a cached sitemap or robots.txt must not point crawlers anywhere else.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, send_from_directory
from markupsafe import Markup
from sqlalchemy import select

from directory.activities.listings import listed_conditions
from directory.activities.models import Activity
from directory.calendar import markdown_to_text
from directory.extensions import db
from directory.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES
from directory.organisations.models import Organisation
from directory.organisations.operations import listed_organisations
from directory.urls import absolute_url
from directory.venues.operations import public_venues

bp = Blueprint("findable", __name__)

# A description longer than this is cut by search engines anyway.
DESCRIPTION_LENGTH = 160
MAX_AGE = 3600  # seconds a client or shared cache may keep robots.txt and the sitemap
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"

# Paths for signed-in people only, and the machine interfaces: nothing for a search index.
# "*" is a wildcard, as the major crawlers read it (RFC 9309 leaves it to them).
DISALLOWED = (
    "/admin/",
    "/account",
    "/login",
    "/register",
    "/invitations/",
    "/requests/",
    "/schools/",
    "/organisations/*/edit",
    "/organisations/*/members",
    "/organisations/*/invitations/",
    "/organisations/*/activities",
    "/organisations/*/requests",
    "/activities/*/edit",
    "/activities/*/reach",
    "/activities/*/requests",
    "/venues/*/edit",
    "/api/",
    "/embed",
)


# --- descriptions and structured data ---------------------------------------------------------


@bp.app_template_global()
def meta_description(*parts: str | None, limit: int = DESCRIPTION_LENGTH) -> str:
    """The parts as one line for <meta name="description">, cut at a word near `limit`.

    A part that does not end a sentence gets a full stop before the next one.
    """
    texts = [re.sub(r"\s+", " ", str(p)).strip() for p in parts if p and str(p).strip()]
    texts = [t if i == len(texts) - 1 or t[-1] in ".!?…:" else t + "." for i, t in enumerate(texts)]
    text = " ".join(texts)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return cut + "…"


def plain_text(markdown: str | None) -> str:
    """User Markdown as one line of plain text."""
    return " ".join(markdown_to_text(markdown).split())


def script_json(data: dict[str, Any]) -> Markup:
    """JSON safe inside a <script> element: no "<", ">" or "&" that could end it early."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - JSON with every "<", ">" and "&" escaped just above


def organisation_json_ld(organisation: Organisation) -> Markup:
    """schema.org Organization data for a public organisation's page."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": organisation.name,
        "url": absolute_url("organisations.show_organisation", slug=organisation.slug),
        "address": {
            "@type": "PostalAddress",
            "addressRegion": organisation.municipality.name,
            "addressCountry": "NO",
        },
    }
    description = plain_text(organisation.description)
    if description:
        data["description"] = meta_description(description, limit=500)
    if organisation.email:
        data["email"] = organisation.email
    if organisation.phone:
        data["telephone"] = organisation.phone
    same_as = [
        url
        for url in (organisation.website_url, organisation.facebook_page_url)
        if url and url.startswith(("http://", "https://"))
    ]
    if same_as:
        data["sameAs"] = same_as
    if organisation.org_number:
        data["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "NO-BRREG",  # the Brønnøysund register's organisation number
            "value": organisation.org_number,
        }
    return script_json(data)


# --- robots.txt, the sitemap, the favicon -----------------------------------------------------


def _cacheable(response: Response, last_modified: datetime | None = None) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    if last_modified is not None:
        response.last_modified = last_modified
    return response


@bp.route("/robots.txt")
def robots_txt():
    """Public pages open to every crawler; staff areas and the API closed; the sitemap."""
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in DISALLOWED]
    lines += ["", f"Sitemap: {absolute_url('findable.sitemap', lang=None)}", ""]
    return _cacheable(Response("\n".join(lines), mimetype="text/plain"))


def _language_urls(endpoint: str, **values: Any) -> dict[str, str]:
    """The page's absolute URL in each interface language (bokmål without ?lang=)."""
    return {
        code: absolute_url(endpoint, **values, lang=None if code == DEFAULT_LANGUAGE else code)
        for code in LANGUAGE_NAMES
    }


def _add_page(urlset: ET.Element, urls: dict[str, str], lastmod: datetime | None) -> None:
    """One <url> per language, each naming every language version and the default."""
    for code in urls:
        entry = ET.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = urls[code]
        if lastmod is not None:
            stamp = lastmod.astimezone(UTC).replace(microsecond=0).isoformat()
            ET.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = stamp
        for other, url in [*urls.items(), ("x-default", urls[DEFAULT_LANGUAGE])]:
            ET.SubElement(entry, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=other, href=url)


def _public_activities() -> list[Activity]:
    return list(
        db.session.scalars(
            select(Activity)
            .join(Organisation, Activity.organisation_id == Organisation.id)
            .where(*listed_conditions())
            .order_by(Activity.id)
        )
    )


@bp.route("/sitemap.xml")
def sitemap():
    """Every public page a resident may look for, in each language, with its last change."""
    activities = _public_activities()
    organisations = listed_organisations()
    latest_by_org: dict[int, datetime] = {}
    latest_by_venue: dict[int, datetime] = {}
    for activity in activities:
        for latest, key in (
            (latest_by_org, activity.organisation_id),
            (latest_by_venue, activity.venue_id),
        ):
            seen = latest.get(key)
            if key is not None and (seen is None or activity.updated_at > seen):
                latest[key] = activity.updated_at
    newest = max(
        [a.updated_at for a in activities] + [o.updated_at for o in organisations], default=None
    )

    ET.register_namespace("", SITEMAP_NS)
    ET.register_namespace("xhtml", XHTML_NS)
    urlset = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    _add_page(urlset, _language_urls("activities.home"), newest)
    _add_page(urlset, _language_urls("organisations.list_organisations"), newest)
    for activity in activities:
        urls = _language_urls("activities.show_activity", activity_id=activity.id)
        _add_page(urlset, urls, activity.updated_at)
    for organisation in organisations:
        urls = _language_urls("organisations.show_organisation", slug=organisation.slug)
        # The page lists the organisation's activities: it changes with them too.
        latest = latest_by_org.get(organisation.id)
        changed = max(organisation.updated_at, latest) if latest else organisation.updated_at
        _add_page(urlset, urls, changed)
    for listed in public_venues():
        if not listed.activities:
            continue  # a venue with nothing happening there is no page to look for
        venue = listed.venue
        urls = _language_urls("venues.show_venue", slug=venue.slug)
        latest = latest_by_venue.get(venue.id)
        _add_page(urlset, urls, max(venue.updated_at, latest) if latest else venue.updated_at)
    body = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    return _cacheable(Response(body, mimetype="application/xml"), newest)


@bp.route("/favicon.ico")
def favicon():
    """The icon browsers ask for at the site's root when a page names none they can use."""
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=86400,
    )
