"""Icons: Lucide's SVG files in static/icons/, drawn inline from one sprite per page.

A template writes `icon("clock")`: a small <svg> that uses the symbol `#i-clock`. The page's
sprite, written once at the end of <body> by `icon_sprite()`, holds the symbols of the icons
the page used, read from the shipped files (static/icons/<name>.svg). The icons cost no request
of their own and each appears once in the page however often it is shown.

Category slugs are mapped to their icon here, in one place; an unknown category gets a generic
icon.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from flask import Flask, current_app, g
from markupsafe import Markup, escape

# The standard categories (directory/activities/categories.py) and their icons.
CATEGORY_ICONS = {
    "idrett": "volleyball",
    "musikk": "music",
    "kunst-og-kultur": "palette",
    "dans": "footprints",
    "friluftsliv": "tent",
    "teknologi-og-spill": "gamepad-2",
    "sprak-og-lekser": "book-open",
    "natur-og-dyr": "paw-print",
    "drama-og-teater": "drama",
    "mat-og-helse": "chef-hat",
}
GENERIC_ICON = "shapes"

_STROKE = (
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
    'stroke-linejoin="round"'
)
_NAME = re.compile(r"^[a-z0-9-]+$")
_OUTER = re.compile(r"<svg\b[^>]*>(?P<inner>.*)</svg>", re.S)


def category_icon(slug: str | None) -> str:
    """The icon of a category, by its slug; the generic one for any other category."""
    return CATEGORY_ICONS.get(slug or "", GENERIC_ICON)


def category_style(slug: str | None) -> str:
    """The colour class of a category's illustration (site.css: .pic-<slug>); 'other' for
    categories without colours of their own."""
    return slug if slug in CATEGORY_ICONS else "other"


@cache
def _symbol_body(folder: str, name: str) -> str:
    """The drawing inside a shipped icon file (its paths and shapes), compacted."""
    text = (Path(folder) / f"{name}.svg").read_text(encoding="utf-8")
    match = _OUTER.search(text)
    if match is None:
        raise ValueError(f"static/icons/{name}.svg is not an SVG icon")
    return (
        re.sub(r"\s+", " ", match.group("inner")).replace(" />", "/>").replace("> <", "><").strip()
    )


def _folder() -> str:
    return str(Path(_static_folder()) / "icons")


def _static_folder() -> str:
    return current_app.static_folder or "static"


@cache
def _icon_markup(static_folder: str, name: str, css_class: str) -> Markup:
    if not _NAME.fullmatch(name):
        raise ValueError(f"bad icon name {name!r}")
    _symbol_body(
        str(Path(static_folder) / "icons"), name
    )  # a missing file fails here, where the template names it
    return Markup(
        '<svg class="{cls}" aria-hidden="true" width="24" height="24"><use href="#i-{name}"/></svg>'
    ).format(cls=css_class, name=name)


def icon(name: str, css_class: str = "icon") -> Markup:
    """A decorative icon (hidden from screen readers: the text next to it says what it means)."""
    markup = _icon_markup(_static_folder(), name, css_class)
    g.setdefault("icons_used", {})[name] = True
    return markup


def use_icons(names) -> None:
    """Put these icons in the page's sprite (for HTML made earlier, such as a kept card)."""
    used = g.setdefault("icons_used", {})
    for name in names:
        used[name] = True


def rendered_apart(render: Callable[[], Markup]) -> tuple[Markup, tuple[str, ...]]:
    """HTML made apart from the page around it, with the icons it drew: HTML kept to be shown
    again (a result card, the home page's welcome) brings them back with use_icons()."""
    outer = g.pop("icons_used", None)
    try:
        html = render()
        icons = tuple(g.get("icons_used") or ())
    finally:
        if outer is None:
            g.pop("icons_used", None)
        else:
            g.icons_used = outer
    return html, icons


def icon_sprite() -> Markup:
    """The symbols of the icons this page used (none: nothing), for the end of <body>."""
    used = g.get("icons_used") or {}
    if not used:
        return Markup("")
    folder = _folder()
    # Lucide's drawing attributes, inside each symbol: a <use> inherits from where it is used,
    # not from the sprite.
    symbols = "".join(
        f'<symbol id="i-{escape(name)}" viewBox="0 0 24 24"><g {_STROKE}>'
        f"{_symbol_body(folder, name)}</g></symbol>"
        for name in used
    )
    return Markup(  # noqa: S704 - the shipped SVG files, and names checked against _NAME
        f'<svg class="sprite" aria-hidden="true" focusable="false" width="0" height="0">{symbols}</svg>'
    )


def init_app(app: Flask) -> None:
    """Offer the icons to the templates."""
    app.jinja_env.globals.update(
        icon=icon,
        icon_sprite=icon_sprite,
        category_icon=category_icon,
        category_style=category_style,
    )
