"""A small Atom 1.0 (RFC 4287) writer on xml.etree: every text and attribute is escaped by it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - used to write XML, never to parse input
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 does not allow at all; escaping cannot save them, so they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class AtomEntry:
    """One entry: an activity as a feed reader shows it."""

    id: str
    title: str
    updated: datetime
    link: str
    summary: str
    author: str
    published: datetime | None = None
    categories: tuple[tuple[str, str], ...] = ()  # (term, label)


@dataclass(frozen=True)
class AtomFeed:
    """The feed's own metadata."""

    id: str
    title: str
    updated: datetime
    self_link: str
    alternate_link: str
    author: str
    subtitle: str = ""
    lang: str = "nb"
    generator: str = "Aktivitetskatalogen"


def clean_text(value: str) -> str:
    """The text without characters that XML 1.0 cannot carry."""
    return _NOT_XML.sub("", value)


def rfc3339(value: datetime) -> str:
    """An aware datetime as an Atom date (UTC, whole seconds)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _el(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(
        parent, f"{{{ATOM_NS}}}{name}", {k: clean_text(v) for k, v in attrs.items()}
    )
    if text is not None:
        element.text = clean_text(text)
    return element


def build_feed(feed: AtomFeed, entries: Iterable[AtomEntry]) -> bytes:
    """The feed as UTF-8 XML bytes."""
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: feed.lang})
    _el(root, "id", feed.id)
    _el(root, "title", feed.title, type="text")
    if feed.subtitle:
        _el(root, "subtitle", feed.subtitle, type="text")
    _el(root, "updated", rfc3339(feed.updated))
    _el(root, "link", rel="self", type="application/atom+xml", href=feed.self_link)
    _el(root, "link", rel="alternate", type="text/html", href=feed.alternate_link)
    author = _el(root, "author")
    _el(author, "name", feed.author)
    _el(root, "generator", feed.generator)
    for entry in entries:
        item = _el(root, "entry")
        _el(item, "id", entry.id)
        _el(item, "title", entry.title, type="text")
        _el(item, "updated", rfc3339(entry.updated))
        if entry.published is not None:
            _el(item, "published", rfc3339(entry.published))
        _el(item, "link", rel="alternate", type="text/html", href=entry.link)
        entry_author = _el(item, "author")
        _el(entry_author, "name", entry.author)
        for term, label in entry.categories:
            _el(item, "category", term=term, label=label)
        _el(item, "summary", entry.summary, type="text")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
