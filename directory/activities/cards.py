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

from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, request
from markupsafe import Markup

from directory import data_version
from directory.i18n import current_language
from directory.icons import rendered_apart, use_icons
from directory.shelf import Shelf, shelved

if TYPE_CHECKING:
    from directory.activities.models import Activity
    from directory.search.base import ResultPage

KEPT_NAME = "result_cards"
TEMPLATE = "activities/_card.html"


Card = tuple[Markup, tuple[str, ...]]  # the HTML and the icons it draws


def _shelf() -> Shelf[Card] | None:
    """This process's cards under the public data's current version (None: switched off)."""
    return data_version.kept_shelf(KEPT_NAME, "CARD_CACHE_ENTRIES")


def _key(activity_id: int, next_start: datetime | None, distance: float | None) -> tuple:
    return _place() + (activity_id, next_start, distance)


def _place() -> tuple[str, str]:
    """What a card's HTML depends on besides its activity: the language and the script root."""
    return (current_language(), request.script_root)


def page_cards(page: ResultPage) -> list[Markup]:
    """The cards of a page of results, in order: those this process has, and the others
    rendered from their activities, loaded together in one query."""
    place = _place()  # once for the page
    cards = shelved(
        page.ids,
        _shelf(),
        lambda i: (*place, i, page.next_starts.get(i), page.distances.get(i)),
        page.activities,
        lambda i, activity: _make(activity, page.next_starts.get(i), page.distances.get(i)),
    )
    use_icons(name for _html, icons in cards for name in icons)
    return [html for html, _icons in cards]


def result_card(
    activity: Activity, next_start: datetime | None, distance: float | None = None
) -> Markup:
    """The card of one activity, from this process's shelf or rendered now."""
    shelf = _shelf()
    key = _key(activity.id, next_start, distance)
    card = shelf.get(key) if shelf is not None else None
    if card is None:
        card = _make(activity, next_start, distance)
        if shelf is not None:
            shelf.put(key, card)
    use_icons(card[1])
    return card[0]


def _make(activity: Activity, next_start: datetime | None, distance: float | None) -> Card:
    """Render a card, noting the icons it draws (apart from those of the page around it)."""
    return rendered_apart(lambda: _render(activity, next_start, distance))


def _render(activity: Activity, next_start: datetime | None, distance: float | None) -> Markup:
    """The card macro's HTML (a macro of an autoescaping template returns Markup)."""
    macro = current_app.jinja_env.get_template(TEMPLATE).module.card_html
    return macro(activity, next_start, distance)
