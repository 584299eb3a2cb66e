"""Result cards are rendered once per process and kept until the public data changes: a repeated
page shows the same cards without rendering them again, and any change a visitor would see on a
card (an edit, the organisation's name, the language, the next time, the icons) shows at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from directory.activities import cards
from directory.extensions import db
from directory.shelf import Shelf

# A Tuesday at noon (Oslo 13:00); the factory's weekly activity starts the Tuesday after.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def renders(monkeypatch):
    """How many cards were rendered from the template, by activity id."""
    counted: list[int] = []
    render = cards._render

    def counting(activity, next_start, distance):
        counted.append(activity.id)
        return render(activity, next_start, distance)

    monkeypatch.setattr(cards, "_render", counting)
    return counted


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def card_of(page: str, title: str) -> str:
    """The one card on the page whose title is `title`."""
    found = [c for c in re.findall(r'<li class="card">.*?</li>', page, re.S) if f">{title}<" in c]
    assert len(found) == 1, f"{len(found)} cards titled {title!r}"
    return found[0]


def test_a_repeated_page_shows_the_same_cards_without_rendering_them_again(
    clock, client, make_activity, renders
):
    for n in range(3):
        make_activity(title=f"Klatring {n}")
    first = client.get("/").get_data(as_text=True)
    assert sorted(renders) == sorted(set(renders)) and len(renders) == 3
    again = client.get("/").get_data(as_text=True)
    assert again == first
    assert len(renders) == 3


def test_a_search_that_finds_a_listed_card_uses_it_too(clock, client, make_activity, renders):
    make_activity(title="Klatring for nybegynnere")
    client.get("/")
    page = client.get("/activities?q=klatring").get_data(as_text=True)
    assert "Klatring for nybegynnere" in card_of(page, "Klatring for nybegynnere")
    assert len(renders) == 1


def test_an_edit_shows_on_the_next_request(clock, client, make_activity):
    activity = make_activity(title="Klatring", price_nok=0)
    client.get("/")
    activity.price_nok = 450
    db.session.commit()
    card = card_of(client.get("/").get_data(as_text=True), "Klatring")
    assert "450" in card


def test_the_organisations_new_name_shows_on_the_next_request(
    clock, client, make_activity, make_organisation
):
    club = make_organisation(name="Drammen klatreklubb")
    make_activity(title="Klatring", organisation=club)
    client.get("/")
    club.name = "Buskerud klatreklubb"
    db.session.commit()
    card = card_of(client.get("/").get_data(as_text=True), "Klatring")
    assert "Buskerud klatreklubb" in card and "Drammen klatreklubb" not in card


def test_each_language_has_its_own_card(clock, client, make_activity):
    make_activity(title="Klatring", age_min=8, age_max=12)
    bokmal = card_of(client.get("/").get_data(as_text=True), "Klatring")
    english = card_of(client.get("/?lang=en").get_data(as_text=True), "Klatring")
    assert "8–12 år" in bokmal
    assert "8–12 years" in english


def test_the_next_time_moves_on_when_an_occurrence_has_passed(
    clock, client, make_activity, renders
):
    make_activity(title="Klatring")  # weekly from next Tuesday, 17 March, at 17:00
    before = card_of(client.get("/").get_data(as_text=True), "Klatring")
    assert "17. mars" in before
    clock.move_to(NOW + timedelta(days=7, hours=8))  # that Tuesday at 21:00: it has ended
    after = card_of(client.get("/").get_data(as_text=True), "Klatring")
    assert "24. mars" in after and "17. mars" not in after
    assert len(renders) == 2


def test_a_kept_card_still_brings_its_icons(clock, client, make_activity):
    make_activity(title="Klatring")
    client.get("/")
    page = client.get("/").get_data(as_text=True)
    for name in ("cake", "clock", "map-pin", "tag"):
        assert f'href="#i-{name}"' in card_of(page, "Klatring")
        assert f'<symbol id="i-{name}"' in page


def test_a_signed_in_visitor_sees_the_same_cards(clock, client, make_activity, make_user):
    from tests.conftest import login

    make_activity(title="Klatring")
    anonymous = card_of(client.get("/").get_data(as_text=True), "Klatring")
    login(client, make_user())
    assert card_of(client.get("/").get_data(as_text=True), "Klatring") == anonymous


def test_the_shelf_is_bounded_and_forgets_the_least_recently_used():
    shelf = Shelf(max_entries=3)
    for n in range(3):
        shelf.put((n,), (f"<li>{n}</li>", ()))
    assert shelf.get((0,)) is not None  # used: now the most recent
    shelf.put((3,), ("<li>3</li>", ()))
    assert len(shelf) == 3
    assert shelf.get((1,)) is None
    assert shelf.get((0,)) is not None and shelf.get((3,)) is not None
