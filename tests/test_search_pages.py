"""The parents' search page at / and /activities: filters through the real search, facet counts,
chips, suggestion, pagination, errors next to their filter, cards, feeds, and a light page."""

from __future__ import annotations

import gzip
import re
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.dates import format_date
from sqlalchemy import select

from directory.activities.models import Activity
from directory.extensions import db
from tests.conftest import login
from tests.search.conftest import next_iso_weekday_at
from tests.test_activities_manage import form_data

WEEKLY = "FREQ=WEEKLY"


# --- reading the page ------------------------------------------------------------------------


@dataclass
class Page:
    """What a visitor (or a screen reader) finds in the HTML of a page."""

    controls: list[dict] = field(default_factory=list)  # inputs, selects (not hidden)
    hidden: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # for= id -> text
    selected: dict[str, list[str]] = field(default_factory=dict)  # select name -> values
    checked: dict[str, list[str]] = field(default_factory=dict)  # checkbox name -> values
    legends: list[str] = field(default_factory=list)
    fieldsets: int = 0
    headings: list[tuple[int, str]] = field(default_factory=list)
    status: list[str] = field(default_factory=list)  # text of role=status regions
    links: list[tuple[dict, str]] = field(default_factory=list)  # (attributes, text)
    details_open: bool | None = None
    summary: str = ""
    forms: list[dict] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._text_into: list[tuple[str, list[str], dict]] = []
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        page = self.page
        if tag == "input":
            if a.get("type") == "hidden":
                page.hidden[a["name"]] = a.get("value", "")
            else:
                page.controls.append({"tag": tag, **a})
                if a.get("type") == "checkbox" and "checked" in a:
                    page.checked.setdefault(a["name"], []).append(a["value"])
        elif tag == "select":
            page.controls.append({"tag": tag, **a})
            self._select = a
            page.selected.setdefault(a["name"], [])
        elif tag == "option" and self._select is not None and "selected" in a:
            page.selected[self._select["name"]].append(a.get("value", ""))
        elif tag == "fieldset":
            page.fieldsets += 1
        elif tag == "details":
            page.details_open = "open" in a
        elif tag == "form":
            page.forms.append(a)
        if (
            tag in ("label", "legend", "summary", "a", "h1", "h2", "h3")
            or a.get("role") == "status"
        ):
            self._text_into.append((tag, [], a))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if self._text_into and self._text_into[-1][0] == tag:
            _tag, parts, a = self._text_into.pop()
            text = " ".join("".join(parts).split())
            for outer in self._text_into:
                outer[1].append("".join(parts))
            page = self.page
            if a.get("role") == "status":
                page.status.append(text)
            if tag == "label":
                page.labels[a.get("for", "")] = text
            elif tag == "legend":
                page.legends.append(text)
            elif tag == "summary":
                page.summary = text
            elif tag == "a":
                page.links.append((a, text))
            elif tag in ("h1", "h2", "h3"):
                page.headings.append((int(tag[1]), text))

    def handle_data(self, data):
        if self._text_into:
            self._text_into[-1][1].append(data)


def read(response) -> Page:
    reader = _Reader()
    reader.feed(response.get_data(as_text=True))
    return reader.page


def titles(response) -> list[str]:
    """The result cards' titles, in order."""
    html = response.get_data(as_text=True)
    return re.findall(r'<li class="card">\s*<h2><a href="/activities/\d+[^"]*">([^<]+)</a>', html)


def card(response, title: str) -> str:
    """The text of one result card, tags removed."""
    html = response.get_data(as_text=True)
    for block in re.findall(r'<li class="card">(.*?)</li>', html, re.S):
        if f">{title}</a>" in block:
            return " ".join(re.sub(r"<[^>]+>", " ", block).split())
    raise AssertionError(f"no card for {title}")


def link(page: Page, text: str) -> str:
    """The href of the link whose text is `text`."""
    for attrs, link_text in page.links:
        if link_text == text:
            return attrs["href"]
    raise AssertionError(f"no link {text!r} in {[t for _a, t in page.links]}")


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def error_next_to(response, name: str) -> str:
    """The error message shown with the filter `name` ('' when none)."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<p class="errors" id="{name}-err">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


# --- data ------------------------------------------------------------------------------------


@dataclass
class Offers:
    """Five public offers and one draft, in two municipalities."""

    school: object
    upper_school: object
    turn: object
    saturday: object


@pytest.fixture
def offers(make_activity, make_category, make_organisation, make_municipality, make_school):
    idrett = make_category(slug="idrett", name_nb="Idrett")
    musikk = make_category(slug="musikk", name_nb="Musikk")
    lier = make_municipality(slug="lier", name="Lier")
    pending = make_organisation(slug="turnlaget", name="Turnlaget", verification="pending")
    saturday = next_iso_weekday_at(6, 11)
    make_activity(
        title="Fotballtrening",
        category=idrett,
        age_min=8,
        age_max=12,
        price_nok=0,
        accessible=True,
        venue="Marienlyst",
        schedule={"dtstart": next_iso_weekday_at(2, 17), "rrule": WEEKLY},
    )
    make_activity(
        title="Barnekor",
        category=musikk,
        age_min=6,
        age_max=9,
        price_nok=300,
        venue="Kulturhuset",
        schedule={"dtstart": next_iso_weekday_at(3, 18, 30), "rrule": WEEKLY},
    )
    make_activity(
        title="Helgeturn",
        category=idrett,
        organisation=pending,
        age_min=13,
        age_max=16,
        price_nok=200,
        schedule={"dtstart": saturday, "rrule": WEEKLY},
    )
    make_activity(
        title="Sjakkurs",
        age_min=10,
        age_max=15,
        price_nok=0,
        status="cancelled",
        schedule={"dtstart": next_iso_weekday_at(4, 17, 30), "rrule": WEEKLY},
    )
    make_activity(
        title="Klatring i Lier",
        category=idrett,
        organisation=make_organisation(municipality=lier, name="Lier klatreklubb"),
        age_min=9,
        age_max=13,
        price_nok=150,
        schedule={"dtstart": next_iso_weekday_at(1, 17), "rrule": WEEKLY},
    )
    make_activity(title="Hemmelig utkast", status="draft")
    return Offers(
        school=make_school(
            slug="bragernes-skole", name="Bragernes skole", grade_min=1, grade_max=4
        ),
        upper_school=make_school(slug="fjell-skole", name="Fjell skole", grade_min=8, grade_max=10),
        turn=pending,
        saturday=saturday,
    )


ALL = ["Barnekor", "Fotballtrening", "Helgeturn", "Klatring i Lier", "Sjakkurs"]


# --- filters through the real search ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("q=fotball", ["Fotballtrening"]),
        ("q=kor", ["Barnekor"]),
        ("age=7", ["Barnekor"]),
        ("age=9", ["Barnekor", "Fotballtrening", "Klatring i Lier"]),
        ("grade=8", ["Helgeturn", "Klatring i Lier", "Sjakkurs"]),
        ("category=idrett", ["Fotballtrening", "Helgeturn", "Klatring i Lier"]),
        (
            "category=idrett&category=musikk",
            ["Barnekor", "Fotballtrening", "Helgeturn", "Klatring i Lier"],
        ),
        ("weekday=2", ["Fotballtrening"]),
        ("weekday=tir&weekday=3", ["Barnekor", "Fotballtrening"]),
        ("time=after_school", ["Fotballtrening", "Klatring i Lier", "Sjakkurs"]),
        ("time=evening", ["Barnekor"]),
        ("time=weekend", ["Helgeturn"]),
        ("free=1", ["Fotballtrening", "Sjakkurs"]),
        ("accessible=1", ["Fotballtrening"]),
        ("school=bragernes-skole", ["Barnekor", "Fotballtrening", "Sjakkurs"]),
        ("school=fjell-skole", ["Helgeturn", "Sjakkurs"]),
        ("municipality=lier", ["Klatring i Lier"]),
        ("organisation=turnlaget", ["Helgeturn"]),
        ("category=idrett&free=1&age=10", ["Fotballtrening"]),
    ],
)
def test_each_filter_narrows_the_results(client, offers, query, expected):
    response = client.get(f"/activities?{query}")
    assert response.status_code == 200
    assert sorted(titles(response)) == expected
    assert read(response).status == [
        f"{len(expected)} aktiviteter" if len(expected) != 1 else "1 aktivitet"
    ]


def test_the_date_range_filter(client, offers):
    day = offers.saturday.date().isoformat()
    response = client.get(f"/activities?from={day}&to={day}")
    assert titles(response) == ["Helgeturn"]
    page = read(response)
    values = {c["name"]: c.get("value") for c in page.controls if c["tag"] == "input"}
    assert values["from"] == day and values["to"] == day


def test_without_text_the_soonest_come_first(client, make_activity):
    make_activity(
        title="Om tre dager", schedule={"dtstart": next_iso_weekday_at(1, 9) + timedelta(days=14)}
    )
    make_activity(title="Snart", schedule={"dtstart": next_iso_weekday_at(1, 9)})
    make_activity(
        title="Om en uke", schedule={"dtstart": next_iso_weekday_at(1, 9) + timedelta(days=7)}
    )
    assert titles(client.get("/")) == ["Snart", "Om en uke", "Om tre dager"]


def test_home_and_activities_give_the_same_results(client, offers):
    for query in ("", "?q=fotball", "?category=idrett&age=9", "?free=1", "?q=zzzz"):
        home = client.get("/" + query)
        search = client.get("/activities" + query)
        assert home.status_code == search.status_code == 200
        assert titles(home) == titles(search), query
        assert read(home).status == read(search).status


def test_the_form_keeps_the_visitors_choices(client, offers):
    response = client.get(
        "/activities?q=trening&age=9&grade=3&category=idrett&weekday=tir&time=evening&free=1"
        "&accessible=1&school=bragernes-skole&municipality=drammen&sort=newest"
    )
    page = read(response)
    q = next(c for c in page.controls if c.get("name") == "q")
    assert q["type"] == "search" and q["value"] == "trening"
    assert page.selected["age"] == ["9"]
    assert page.selected["grade"] == ["3"]
    assert page.selected["school"] == ["bragernes-skole"]
    assert page.selected["municipality"] == ["drammen"]
    assert page.selected["sort"] == ["newest"]
    assert page.checked == {
        "category": ["idrett"],
        "weekday": ["2"],
        "time": ["evening"],
        "free": ["1"],
        "accessible": ["1"],
    }


# --- facet counts, chips, suggestion ---------------------------------------------------------


def test_facet_counts_stand_next_to_the_filters(client, offers):
    page = read(client.get("/"))
    assert page.labels["category-idrett"] == "Idrett (3)"
    assert page.labels["category-musikk"] == "Musikk (1)"
    assert page.labels["weekday-2"] == "Tirsdag (1)"
    assert page.labels["weekday-7"] == "Søndag (0)"
    assert page.labels["time-after_school"] == "Etter skoletid (3)"
    assert page.labels["time-evening"] == "Kveld (1)"
    assert page.labels["time-weekend"] == "Helg (1)"
    assert page.labels["free-1"] == "Gratis (2)"
    assert page.labels["accessible-1"].endswith("(1)")


def test_counts_follow_the_other_filters_and_show_what_another_choice_adds(client, offers):
    page = read(client.get("/activities?category=idrett"))
    # Choosing Musikk too would add one: said as "+1", more results, not "1" of them.
    assert page.labels["category-idrett"] == "Idrett (3)"
    assert page.labels["category-musikk"] == "Musikk (+1)"
    # The other filters count within the current results.
    assert page.labels["free-1"] == "Gratis (1)"
    assert page.labels["weekday-3"] == "Onsdag (0)"
    assert page.labels["time-weekend"] == "Helg (1)"


def test_active_filters_are_chips_that_remove_one_filter_each(client, offers):
    response = client.get("/activities?category=idrett&free=1&q=trening&age=9")
    page = read(response)
    chips = {text: attrs["href"] for attrs, text in page.links if attrs.get("class") == "chip"}
    assert set(chips) == {"Fjern Idrett ×", "Fjern Gratis ×", "Fjern «trening» ×", "Fjern 9 år ×"}
    assert params(chips["Fjern Idrett ×"]) == {"free": ["1"], "q": ["trening"], "age": ["9"]}
    assert params(chips["Fjern Gratis ×"]) == {
        "category": ["idrett"],
        "q": ["trening"],
        "age": ["9"],
    }
    assert params(chips["Fjern «trening» ×"]) == {
        "category": ["idrett"],
        "free": ["1"],
        "age": ["9"],
    }
    assert urlsplit(chips["Fjern 9 år ×"]).path == "/activities"
    # The panel is folded into a summary of the filters (the search text is in its box).
    assert page.summary == "Filtre: 9 år · Idrett · gratis — Endre"
    assert page.details_open is False
    assert titles(client.get(chips["Fjern Gratis ×"])) == ["Fotballtrening"]


def test_filters_are_folded_until_one_is_chosen(client, offers):
    page = read(client.get("/"))
    assert page.details_open is False
    assert page.summary == "Filtre"
    assert not [a for a, _t in page.links if a.get("class") == "chip"]


def test_a_misspelling_gets_a_did_you_mean_link(client, offers):
    response = client.get("/activities?q=fotbalxtrening&free=1")
    page = read(response)
    html = response.get_data(as_text=True)
    assert "Mente du" in html
    suggestion = next(attrs["href"] for attrs, text in page.links if text.startswith("«"))
    assert params(suggestion)["q"] == ["fotballtrening"]
    assert params(suggestion)["free"] == ["1"]
    assert titles(client.get(suggestion)) == ["Fotballtrening"]


def test_no_match_says_so_and_offers_to_clear_the_filters(client, offers):
    response = client.get("/activities?age=3")
    assert titles(response) == []
    assert "Ingen aktiviteter passer." in response.get_data(as_text=True)
    assert link(read(response), "Fjern alle filtre og vis alle aktiviteter") == "/activities"


# --- pagination ------------------------------------------------------------------------------


def test_pagination_keeps_the_filters(client, offers):
    first = client.get("/activities?category=idrett&age=10&per_page=1")
    page = read(first)
    assert len(titles(first)) == 1
    next_url = next(a["href"] for a, _t in page.links if a.get("rel") == "next")
    assert params(next_url) == {
        "category": ["idrett"],
        "age": ["10"],
        "per_page": ["1"],
        "page": ["2"],
    }
    # The page links (the header marks its own current page too).
    current = [a for a, t in page.links if a.get("aria-current") == "page" and "Side" in t]
    assert len(current) == 1 and "page" not in params(current[0]["href"])
    numbers = [t for a, t in page.links if "Side" in t]
    assert numbers == ["Side 1", "Side 2"]
    # The search form keeps the page size, so a new search has the same pages.
    assert page.hidden["per_page"] == "1"

    second = client.get(next_url)
    page2 = read(second)
    prev_url = next(a["href"] for a, _t in page2.links if a.get("rel") == "prev")
    assert params(prev_url) == {"category": ["idrett"], "age": ["10"], "per_page": ["1"]}
    assert sorted(titles(first) + titles(second)) == ["Fotballtrening", "Klatring i Lier"]
    [current] = [
        a["href"] for a, t in page2.links if a.get("aria-current") == "page" and "Side" in t
    ]
    assert params(current) == {**params(prev_url), "page": ["2"]}
    assert "side 2" in second.get_data(as_text=True).split("</title>")[0]


def test_a_page_past_the_last_links_back(client, offers):
    response = client.get("/activities?page=5")
    assert response.status_code == 200
    assert titles(response) == []
    assert "Det er ingen aktiviteter på denne siden." in response.get_data(as_text=True)
    assert link(read(response), "Til første side") == "/activities"


# --- bad input -------------------------------------------------------------------------------


def test_a_bad_filter_is_a_400_with_the_message_next_to_it_and_the_form_kept(client, offers):
    response = client.get("/activities?q=kor&age=abc&weekday=xyz&free=1")
    assert response.status_code == 400
    assert error_next_to(response, "age") == "Alderen må være et helt tall fra 0 til 25."
    assert "Ukedagen «xyz» er ukjent" in error_next_to(response, "weekday")
    assert error_next_to(response, "q") == ""
    page = read(response)
    age = next(c for c in page.controls if c.get("name") == "age")
    assert age["aria-invalid"] == "true" and age["aria-describedby"] == "age-err"
    # The rest of the visitor's choices stay in the form, open so the message shows.
    assert next(c for c in page.controls if c.get("name") == "q")["value"] == "kor"
    assert page.checked == {"free": ["1"]}
    assert page.details_open is True
    assert titles(response) == []
    # One link searches with what was right.
    assert params(link(page, "Søk uten feilene")) == {"q": ["kor"], "free": ["1"]}


def test_a_bad_filters_message_is_in_the_language_of_each_request(client, offers):
    """The same bad search asked in turn in two languages: each time in that language."""
    for lang, message in [
        ("nb", "Ukedagen «xyz» er ukjent"),
        ("en", "The weekday “xyz” is unknown"),
        ("nb", "Ukedagen «xyz» er ukjent"),
    ]:
        suffix = "&lang=en" if lang == "en" else ""
        response = client.get(f"/activities?q=kor&weekday=xyz{suffix}")
        assert response.status_code == 400
        assert message in error_next_to(response, "weekday"), lang


def test_dates_in_the_wrong_order_are_reported_next_to_the_end_date(client, offers):
    response = client.get("/activities?from=2030-05-02&to=2030-05-01")
    assert response.status_code == 400
    assert error_next_to(response, "to") == "Sluttdatoen kan ikke være før startdatoen."
    values = {c["name"]: c.get("value") for c in read(response).controls if c["tag"] == "input"}
    assert values["from"] == "2030-05-02" and values["to"] == "2030-05-01"


def test_a_too_long_text_keeps_the_form(client):
    response = client.get("/activities?q=" + "a" * 201)
    assert response.status_code == 400
    assert error_next_to(response, "q") == "Søketeksten kan ha høyst 200 tegn."
    assert read(response).forms[0]["method"] == "get"


def test_a_bad_page_number_is_a_400_with_a_message(client):
    response = client.get("/activities?page=abc")
    assert response.status_code == 400
    assert "Sidetallet må være et helt tall fra 1 og oppover." in response.get_data(as_text=True)


def test_an_unknown_school_is_a_404_with_the_form(client, offers):
    response = client.get("/activities?school=atlantis&age=9")
    assert response.status_code == 404
    assert error_next_to(response, "school") == "Skolen «atlantis» finnes ikke."
    page = read(response)
    assert page.selected["age"] == ["9"]
    assert params(link(page, "Søk uten feilene")) == {"age": ["9"]}


def test_an_unknown_municipality_is_a_404(client, offers):
    response = client.get("/?municipality=atlantis")
    assert response.status_code == 404
    assert error_next_to(response, "municipality") == "Kommunen «atlantis» finnes ikke."


# --- degraded --------------------------------------------------------------------------------


def test_without_an_index_the_page_still_answers_with_a_notice(app, client, offers):
    assert "Søket er forenklet" not in client.get("/").get_data(as_text=True)
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    response = client.get("/activities?category=idrett")
    assert response.status_code == 200
    assert "Søket er forenklet akkurat nå" in response.get_data(as_text=True)
    assert sorted(titles(response)) == ["Fotballtrening", "Helgeturn", "Klatring i Lier"]


# --- cards -----------------------------------------------------------------------------------


def test_cards_show_organisation_age_next_start_place_price_and_marks(client, offers):
    response = client.get("/")
    korps = card(response, "Barnekor")
    wednesday = next_iso_weekday_at(3, 18, 30)
    assert "6–9 år" in korps
    assert f"onsdag {format_date(wednesday.date(), 'd. MMMM', locale='nb')} kl. 18:30" in korps
    assert "Kulturhuset" in korps
    assert "Pris 300 kr" in korps
    assert "Organisasjon" in korps  # the factory's organisation name
    assert "Avlyst" not in korps and "Ikke verifisert" not in korps

    football = card(response, "Fotballtrening")
    assert "Gratis" in football and "Tilrettelagt" in football and "8–12 år" in football
    assert "Ikke verifisert" in card(response, "Helgeturn")
    assert "Turnlaget" in card(response, "Helgeturn")
    assert "Avlyst" in card(response, "Sjakkurs")
    html = response.get_data(as_text=True)
    assert "<img" not in html
    assert "Hemmelig utkast" not in html


# --- feeds, title, structure -----------------------------------------------------------------


def test_the_search_can_be_followed_as_calendar_feed_and_widget(client, offers):
    response = client.get("/activities?q=fotball&category=idrett&page=1", follow_redirects=True)
    page = read(response)
    html = response.get_data(as_text=True)
    webcal = link(page, "Abonner i kalenderen")
    assert webcal.startswith("webcal://") and urlsplit(webcal).path == "/calendar.ics"
    expected = {"q": ["fotball"], "category": ["idrett"]}
    for text, path in (
        ("Abonner i kalenderen", "/calendar.ics"),
        ("Last ned .ics", "/calendar.ics"),
        ("Atom-feed", "/feed.atom"),
        ("Bygg inn på egen nettside", "/embed"),
    ):
        url = link(page, text)
        assert urlsplit(url).path == path and params(url) == expected, text
    alternate = re.search(
        r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html
    )
    assert alternate and params(alternate.group(1).replace("&amp;", "&")) == expected
    assert client.get(urlsplit(link(page, "Last ned .ics")).path + "?q=fotball").status_code == 200


def test_the_title_says_what_was_searched(client, offers):
    html = client.get("/activities?q=Fotball").get_data(as_text=True)
    assert "<title>Fotball – Aktiviteter – Aktivitetskatalogen</title>" in html
    html = client.get("/").get_data(as_text=True)
    assert "<title>Aktiviteter for barn og unge – Aktivitetskatalogen</title>" in html


def test_every_control_has_a_label_groups_have_legends_headings_are_in_order(client, offers):
    response = client.get("/activities?category=idrett")
    page = read(response)
    for control in page.controls:
        assert page.labels.get(control["id"]), control
    assert page.fieldsets == len(page.legends) >= 5
    assert {"Kategori", "Ukedag", "Tidspunkt"} <= set(page.legends)
    levels = [level for level, _t in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1 and set(levels[1:]) == {2}
    assert page.status == ["3 aktiviteter"]
    html = response.get_data(as_text=True)
    assert re.search(r'<ul class="cards">\s*<li class="card">', html)
    assert page.summary == "Filtre: Idrett — Endre"


def test_the_page_sets_no_cookie(app, offers):
    client = app.test_client()
    expected = {
        "/": 200,
        "/activities?q=kor": 200,
        "/?lang=en": 200,
        "/activities?age=abc": 400,
        "/?school=atlantis": 404,
    }
    for path, status in expected.items():
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers.getlist("Set-Cookie") == [], path


def test_the_home_page_with_twenty_results_stays_light(client, make_activity, make_category):
    categories = [make_category() for _ in range(10)]
    for n in range(25):
        make_activity(
            title=f"En aktivitet med et ganske langt navn nummer {n}",
            category=categories[n % 10],
            venue="Et sted med et langt navn, gymsalen",
        )
    response = client.get("/")
    assert len(titles(response)) == 20
    css = client.get("/static/site.css")
    # Over the wire: compressed as deploy/nginx.conf does (gzip, level 5), the page with its
    # welcome, twenty cards and their icons (inline), and the one stylesheet.
    sent = len(gzip.compress(response.data, 5)) + len(gzip.compress(css.data, 5))
    css.close()
    assert sent < 60_000
    # Nothing else to fetch but the one stylesheet (and the favicon): no image without an
    # upload, no script, no icon file.
    html = response.get_data(as_text=True)
    assert re.findall(r'<link rel="stylesheet"[^>]*href="([^"]+)"', html) == ["/static/site.css"]
    assert "<img" not in html and "<script" not in html and ".svg#" not in html


# --- the organiser marks an activity accessible ----------------------------------------------


def test_an_organiser_marks_an_activity_accessible_and_parents_find_it(
    client, make_user, make_organisation
):
    owner = make_user()
    organisation = make_organisation(owners=[owner])
    login(client, owner)
    client.post(
        f"/organisations/{organisation.slug}/activities/new",
        data=form_data(title="Rullestolbasket", accessible="y"),
    )
    activity = db.session.scalars(select(Activity).where(Activity.title == "Rullestolbasket")).one()
    assert activity.accessible is True
    edit = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*checked[^>]*name="accessible"|<input[^>]*name="accessible"[^>]*checked', edit
    )
    client.post(f"/activities/{activity.id}/publish", data={"version": activity.version})
    assert titles(client.get("/activities?accessible=1")) == ["Rullestolbasket"]

    db.session.refresh(activity)
    data = form_data(title="Rullestolbasket", version=str(activity.version))
    client.post(f"/activities/{activity.id}/edit", data=data)  # the box left unticked
    db.session.refresh(activity)
    assert activity.accessible is False
    assert titles(client.get("/activities?accessible=1")) == []
