"""Search result cards, each rendered once per process until the public data changes.

A card (templates/activities/_card.html) shows only public facts of one activity (its title,
picture, marks, organisation, ages, place, price and languages), its next start and its distance
from a chosen school, in the request's language. The same card is therefore the same HTML for
every visitor, on every page that lists it: the home listing, every search that finds it, the
venue pages. It is rendered once and kept under (language, script root, activity, next start,
distance) for as long as the public data's version stays the same (directory.data_version.kept:
any public commit drops them all). The icons a card draws are kept with it, so that the page's
sprite still holds them when the card comes from here.

This is not a cache of answers: the page around the cards (the count, the filters, the facets,
the paging) is made anew for each request, and signed-in users get the same cards.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, g, request
from markupsafe import Markup

from directory import data_version
from directory.i18n import current_language
from directory.icons import use_icons

if TYPE_CHECKING:
    from directory.activities.models import Activity

KEPT_NAME = "result_cards"
TEMPLATE = "activities/_card.html"


class CardShelf:
    """At most `max_entries` rendered cards, the least recently used out first."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._cards: OrderedDict[tuple, tuple[Markup, tuple[str, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[Markup, tuple[str, ...]] | None:
        with self._lock:
            found = self._cards.get(key)
            if found is not None:
                self._cards.move_to_end(key)
            return found

    def put(self, key: tuple, card: tuple[Markup, tuple[str, ...]]) -> None:
        with self._lock:
            self._cards[key] = card
            self._cards.move_to_end(key)
            while len(self._cards) > self.max_entries:
                self._cards.popitem(last=False)

    def __len__(self) -> int:
        return len(self._cards)


def _shelf() -> CardShelf:
    return data_version.kept(
        KEPT_NAME, lambda: CardShelf(int(current_app.config.get("CARD_CACHE_ENTRIES", 4096)))
    )


def result_card(
    activity: Activity, next_start: datetime | None, distance: float | None = None
) -> Markup:
    """The card of one search result, from this process's shelf or rendered now."""
    if not current_app.config.get("CARD_CACHE", True):
        return _render(activity, next_start, distance)
    shelf = _shelf()
    key = (current_language(), request.script_root, activity.id, next_start, distance)
    found = shelf.get(key)
    if found is None:
        outer = g.pop("icons_used", None)
        try:
            html = _render(activity, next_start, distance)
            icons = tuple(g.get("icons_used") or ())
        finally:
            if outer is None:
                g.pop("icons_used", None)
            else:
                g.icons_used = outer
        found = (html, icons)
        shelf.put(key, found)
    use_icons(found[1])
    return found[0]


def _render(activity: Activity, next_start: datetime | None, distance: float | None) -> Markup:
    """The card macro's HTML (a macro of an autoescaping template returns Markup)."""
    macro = current_app.jinja_env.get_template(TEMPLATE).module.card_html
    return macro(activity, next_start, distance)
