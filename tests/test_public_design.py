"""The public face (issue 12): the home page's welcome before a search, and the result cards'
pictures (the activity's own image, else its category's illustration)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import time_machine

from directory.timeutil import OSLO

LANDING = re.compile(r'<section class="landing".*?</section>', re.S)


def landing(response) -> str | None:
    """The welcome section of the page, or None."""
    match = LANDING.search(response.get_data(as_text=True))
    return match.group(0) if match else None


def tiles(section: str) -> dict[str, str]:
    """Each category tile's name and link."""
    found = re.findall(
        r'<a class="tile" href="([^"]+)">.*?<span class="tile-name">([^<]+)</span>', section, re.S
    )
    return {name: href.replace("&amp;", "&") for href, name in found}


def link_to(section: str, text: str) -> str:
    """The href of the shortcut link whose text is `text` (after its icon)."""
    match = re.search(
        rf'<a class="shortcut" href="([^"]+)">(?:<svg.*?</svg>){re.escape(text)}</a>', section
    )
    assert match, f"no link «{text}»"
    return match.group(1).replace("&amp;", "&")


def card(html: str, title: str) -> str:
    for block in re.findall(r'<li class="card">.*?</li>\s*(?=<li class="card">|</ul>)', html, re.S):
        if f">{title}</a>" in block:
            return block
    raise AssertionError(f"no card for {title}")


def titles(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<li class="card">\s*<h2><a href="/activities/\d+">([^<]+)</a>', html)


# --- the welcome -----------------------------------------------------------------------------


def test_the_category_tiles_lead_to_their_searches(client, make_activity, make_category):
    sport = make_category(slug="idrett", name_nb="Idrett")
    music = make_category(slug="musikk", name_nb="Musikk")
    make_category(slug="dans", name_nb="Dans")  # nothing in it yet: no tile that leads nowhere
    make_category(slug="skjult", name_nb="Skjult", hidden=True)
    make_activity(title="Fotball", category=sport)
    make_activity(title="Håndball", category=sport)
    make_activity(title="Kor", category=music)

    section = landing(client.get("/"))
    assert section is not None
    assert "Hva vil barnet ditt gjøre?" in section
    assert tiles(section) == {
        "Idrett": "/activities?category=idrett",
        "Musikk": "/activities?category=musikk",
    }
    assert "2 aktiviteter" in section and "1 aktivitet" in section
    assert sorted(titles(client.get(tiles(section)["Idrett"]))) == ["Fotball", "Håndball"]
    assert titles(client.get(tiles(section)["Musikk"])) == ["Kor"]


def test_each_tile_shows_its_category_icon_and_the_page_carries_the_icons(
    client, make_activity, make_category
):
    make_activity(title="Fotball", category=make_category(slug="idrett", name_nb="Idrett"))
    make_activity(title="Ny ting", category=make_category(slug="noe-nytt", name_nb="Noe nytt"))
    html = client.get("/").get_data(as_text=True)
    section = landing(client.get("/"))
    sport = re.search(r'<a class="tile" href="/activities\?category=idrett">.*?</a>', section, re.S)
    other = re.search(
        r'<a class="tile" href="/activities\?category=noe-nytt">.*?</a>', section, re.S
    )
    assert '<use href="#i-volleyball"/>' in sport.group(0)
    assert '<use href="#i-shapes"/>' in other.group(0)  # a category without its own icon
    # The icons are drawn from one inline sprite: no request of their own.
    assert '<symbol id="i-volleyball" viewBox="0 0 24 24">' in html
    assert '<symbol id="i-shapes" viewBox="0 0 24 24">' in html
    assert ".svg" not in html.replace("favicon.svg", "")


def test_this_week_free_age_and_school_lead_to_those_searches(
    client, make_activity, make_category, make_school
):
    make_school(slug="aronsloekka", name="Åronsløkka skole")
    make_activity(title="Fotball", category=make_category(slug="idrett"))
    # A Wednesday: this week runs to Sunday.
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=OSLO), tick=False):
        section = landing(client.get("/"))
    assert section is not None

    week = urlsplit(link_to(section, "Denne uken"))
    assert week.path == "/activities"
    assert parse_qs(week.query) == {"from": ["2026-12-02"], "to": ["2026-12-06"]}
    assert link_to(section, "Gratis") == "/activities?free=1"

    forms = re.findall(
        r'<form method="get" action="([^"]+)" class="quick-pick">(.*?)</form>', section, re.S
    )
    fields = {
        re.search(r'<select id="[^"]+" name="(\w+)"', body).group(1): (action, body)
        for action, body in forms
    }
    assert set(fields) == {"age", "school"}
    assert all(action == "/activities" for action, _body in fields.values())
    assert '<option value="9">9 år</option>' in fields["age"][1]
    assert '<option value="aronsloekka">Åronsløkka skole</option>' in fields["school"][1]
    # Each form's field has its label.
    assert '<label for="landing-age">' in section and '<label for="landing-school">' in section


def test_the_welcome_is_only_on_the_home_page_before_a_search(client, make_activity, make_category):
    make_activity(title="Fotball", category=make_category(slug="idrett"))
    assert landing(client.get("/")) is not None
    assert landing(client.get("/?lang=en")) is not None  # a language is no search
    for path in ("/?q=fotball", "/?category=idrett", "/?age=9", "/?page=2", "/activities"):
        response = client.get(path)
        assert landing(response) is None, path
        assert "Hva vil barnet ditt gjøre?" not in response.get_data(as_text=True), path


def test_the_welcome_is_made_once_and_follows_every_change_the_day_and_the_language(
    client, make_activity, make_category
):
    """This process keeps the welcome while the public data stays the same: a visit after a
    change, in a new week or in another language gets its own, with its icons in the page."""
    sport = make_category(slug="idrett", name_nb="Idrett")
    make_activity(title="Fotball", category=sport)
    wednesday = datetime(2026, 12, 2, 12, tzinfo=OSLO)
    with time_machine.travel(wednesday, tick=False):
        first = client.get("/").get_data(as_text=True)
        again = client.get("/").get_data(as_text=True)
    assert again == first
    assert '<symbol id="i-volleyball" viewBox="0 0 24 24">' in again  # the kept tile's icon

    with time_machine.travel(wednesday, tick=False):
        make_activity(title="Kor", category=make_category(slug="musikk", name_nb="Musikk"))
        make_activity(title="Håndball", category=sport)
        section = landing(client.get("/"))
    assert set(tiles(section)) == {"Idrett", "Musikk"}
    assert "2 aktiviteter" in section

    with time_machine.travel(datetime(2026, 12, 7, 12, tzinfo=OSLO), tick=False):  # Monday
        section = landing(client.get("/"))
        english = landing(client.get("/?lang=en"))
    week = parse_qs(urlsplit(link_to(section, "Denne uken")).query)
    assert week == {"from": ["2026-12-07"], "to": ["2026-12-13"]}
    assert "Hva vil barnet ditt gjøre?" not in english
    assert '<input type="hidden" name="lang" value="en">' in english


# --- the cards' pictures ---------------------------------------------------------------------


def test_a_card_shows_the_activitys_image_lazily_else_its_categorys_illustration(
    client, make_activity, make_category
):
    music = make_category(slug="musikk", name_nb="Musikk")
    image = "0123456789abcdef0123456789abcdef.jpg"
    korps_activity = make_activity(
        title="Korps", category=music, image_filename=image, image_alt="Korpset spiller"
    )
    make_activity(title="Kor", category=music)
    make_activity(title="Noe nytt", category=make_category(slug="noe-nytt"))
    make_activity(title="Uten kategori")

    html = client.get("/").get_data(as_text=True)

    korps = card(html, "Korps")
    img = re.search(r'<img class="card-picture"[^>]*>', korps)
    assert img, "the activity's own image"
    tag = img.group(0)
    for attribute in (
        'src="/media/0123456789abcdef0123456789abcdef.card.webp"',  # the small WebP rendition
        'alt=""',  # the title beside it says what it is
        'loading="lazy"',
        'decoding="async"',
        'width="480"',
        'height="240"',
    ):
        assert attribute in tag, attribute
    assert "illustration" not in korps

    kor = card(html, "Kor")
    assert "<img" not in kor
    assert 'class="card-picture illustration pic-musikk"' in kor
    assert '<use href="#i-music"/>' in kor
    assert 'class="card-picture illustration pic-other"' in card(html, "Noe nytt")
    assert '<use href="#i-shapes"/>' in card(html, "Uten kategori")

    page = client.get(f"/activities/{korps_activity.id}").get_data(as_text=True)
    assert f'src="/media/{image}" alt="Korpset spiller"' in page  # the activity page: full size


def test_a_card_shows_the_key_facts_as_chips_and_keeps_the_cancelled_mark(client, make_activity):
    make_activity(title="Sjakk", status="cancelled", price_nok=0, age_min=7, age_max=9)
    make_activity(title="Korps", price_nok=250)
    html = client.get("/").get_data(as_text=True)

    sjakk = card(html, "Sjakk")
    assert '<span class="badge badge-cancelled">Avlyst</span>' in sjakk
    chips = re.findall(
        r'<div class="fact[^"]*"><dt class="visually-hidden">([^<]+)</dt><dd>(.*?)</dd></div>',
        sjakk,
    )
    text = {name: re.sub(r"<[^>]+>", "", value) for name, value in chips}
    assert text["Alder"] == "7–9 år" and text["Pris"] == "Gratis"
    assert text["Neste gang"].startswith("tirsdag") and "kl. 17:00" in text["Neste gang"]
    assert '<div class="fact fact-free">' in sjakk
    assert '<div class="fact fact-free">' not in card(html, "Korps")


# --- the activity page -------------------------------------------------------------------------


def test_registration_is_a_primary_button_right_after_the_facts(client, make_activity):
    activity = make_activity(title="Sjakk", registration_url="https://klubb.example/pamelding")
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    button = (
        '<a class="button" href="https://klubb.example/pamelding"'
        ' rel="nofollow noopener noreferrer">Påmelding</a>'
    )
    assert html.count(">Påmelding</a>") == 1
    facts_end = html.index("</dl>", html.index('<dl class="facts">'))
    assert facts_end < html.index(button) < html.index('id="when-heading"')

    # Imported data has not been through the form's URL check: only web links become links.
    other = make_activity(title="Korps", registration_url="javascript:alert(1)")
    assert "Påmelding" not in client.get(f"/activities/{other.id}").get_data(as_text=True)
