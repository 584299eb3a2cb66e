"""Descriptions are Markdown, rendered safely: no script, event handler, javascript: link or
raw HTML from an organiser ever reaches a visitor's page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from directory.rendering import render_markdown

HOSTILE = [
    "<script>alert('x')</script>",
    '<img src="x" onerror="alert(1)">',
    "[klikk](javascript:alert(1))",
    "[klikk](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">lenke</a>',
    "<iframe src=https://evil.example></iframe>",
    '<div style="position:fixed">overlegg</div>',
    "![bilde](javascript:alert(1))",
    '<svg onload="alert(1)"></svg>',
    "[klikk](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


class Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_harmless(html: str) -> None:
    elements = Elements(html).found
    tags = {tag for tag, _ in elements}
    assert not tags & {"script", "iframe", "svg", "img", "div", "object", "embed", "style"}
    for tag, attrs in elements:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "style" not in attrs
        if "href" in attrs:
            assert attrs["href"].split(":")[0].lower() in ("http", "https", "mailto"), attrs


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_is_neutralised(text):
    assert_harmless(str(render_markdown(text)))


def test_ordinary_markdown_still_works():
    html = str(
        render_markdown(
            "## Trening\n\n- **Tirsdag**\n- *Torsdag*\n\n[Påmelding](https://example.org)"
        )
    )
    assert "<h2>Trening</h2>" in html
    assert "<li><strong>Tirsdag</strong></li>" in html and "<em>Torsdag</em>" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">Påmelding</a>' in html


def test_empty_description_renders_nothing():
    assert str(render_markdown("")) == ""
    assert str(render_markdown(None)) == ""


def test_the_activity_page_never_shows_raw_html_from_the_description(client, make_activity):
    activity = make_activity(
        description="\n\n".join(HOSTILE) + "\n\n<b>fet via HTML</b> og **fet via Markdown**"
    )
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    description = re.search(r'<div class="description">(.*?)</div>', html, re.S).group(1)
    assert_harmless(description)
    assert "<b>" not in description  # raw HTML is shown as text, not as markup
    assert "&lt;b&gt;fet via HTML&lt;/b&gt;" in description
    assert "<strong>fet via Markdown</strong>" in description


def test_links_stored_without_the_form_only_become_links_when_they_are_web_links(
    client, make_activity
):
    activity = make_activity(
        registration_url="javascript:alert(1)", facebook_post_url="https://www.facebook.com/p/1"
    )
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "javascript:" not in html
    assert 'href="https://www.facebook.com/p/1"' in html
