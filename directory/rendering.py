"""Safe rendering of user-written Markdown and small display helpers."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote",
    "code", "pre", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@cache
def _markdown() -> MarkdownIt:
    """The parser, made on first use: the result pages never render Markdown, so a worker that
    serves only them never imports markdown-it (nor nh3)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, with raw HTML disabled and the result cleaned by nh3."""
    if not text:
        return Markup("")
    return Markup(_cleaned_html(text))  # noqa: S704 - cleaned by nh3


@lru_cache(maxsize=256)
def _cleaned_html(text: str) -> str:
    """The Markdown's HTML cleaned by nh3: a pure function of the text, kept for the texts
    shown lately (an activity page shows the same description to every visitor)."""
    import nh3

    return nh3.clean(
        _markdown().render(text),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def format_price(price_nok: int | None) -> str:
    """A price in the interface language: 'Gratis' or '1 200 kr' (English: 'Free', 'NOK 1,200')."""
    from babel.numbers import format_decimal
    from flask_babel import get_locale

    from directory.i18n import gettext as _

    if not price_nok:
        return _("Gratis")
    amount = format_decimal(price_nok, locale=get_locale() or "nb")
    # TRANSLATORS: a price in Norwegian kroner; the space before "kr" is a no-break space.
    return _("%(amount)s\u00a0kr", amount=amount)
