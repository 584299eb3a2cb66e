"""After a search the results come first (issue 12): clean URLs without empty parameters, the
filter panel folded into a summary bar, honest zero results that say which filter to loosen,
cancelled offers after the others everywhere, and a way back to the results."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from directory.search.query import SearchQuery
from directory.search.service import count_matches
from tests.search.conftest import next_iso_weekday_at
from tests.test_search_pages import card, link, params, read, titles

WEEKLY = "FREQ=WEEKLY"


@pytest.fixture(params=["whoosh", "database"])
def backend(request, app, monkeypatch):
    """Each test once on the index and once on the database backend."""
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", request.param)
    return request.param


@pytest.fixture
def football(make_activity, make_category):
    """Football for a 9-year-old on Tuesdays after school, but not in the evening."""
    idrett = make_category(slug="idrett", name_nb="Idrett")
    tuesday, thursday = next_iso_weekday_at(2, 17), next_iso_weekday_at(4, 19)
    make_activity(title="Fotballtrening", category=idrett, age_min=8, age_max=12,
                  schedule={"dtstart": tuesday, "rrule": WEEKLY})  # fmt: skip
    make_activity(title="Fotballskole", category=idrett, age_min=9, age_max=11,
                  schedule={"dtstart": tuesday - timedelta(hours=1), "rrule": WEEKLY})  # fmt: skip
    make_activity(title="Kveldsfotball", category=idrett, age_min=8, age_max=12,
                  schedule={"dtstart": thursday, "rrule": WEEKLY})  # fmt: skip
    make_activity(title="Fotball for de minste", category=idrett, age_min=5, age_max=7,
                  schedule={"dtstart": tuesday, "rrule": WEEKLY})  # fmt: skip
    make_activity(title="Sjakk", age_min=8, age_max=12,
                  schedule={"dtstart": tuesday, "rrule": WEEKLY})  # fmt: skip


# --- clean URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "clean"),
    [
        # What the form sends: every field, filled or not.
        ("/activities?q=&age=9&grade=&school=&from=&to=&sort=", "/activities?age=9"),
        ("/?q=fotball&age=&weekday=2&weekday=&sort=", "/?q=fotball&weekday=2"),
        ("/?lang=en&q=&age=9", "/?lang=en&age=9"),
        ("/activities?lang=&q=+&time=,", "/activities"),
        # Defaults say nothing either.
        ("/activities?page=1&per_page=20&sort=soonest&free=0", "/activities"),
        ("/activities?q=fotball&sort=relevance&page=1", "/activities?q=fotball"),
        ("/?lang=nn&q=&age=", "/?lang=nn"),
    ],
)
def test_empty_and_default_parameters_redirect_to_the_clean_search(client, asked, clean):
    response = client.get(asked)
    assert response.status_code == 302
    assert response.headers["Location"] == clean
    # The clean URL is answered, not redirected again.
    assert client.get(clean).status_code == 200


@pytest.mark.parametrize(
    "url", ["/", "/activities", "/?q=fotball&weekday=2", "/activities?sort=newest&page=2"]
)
def test_a_clean_search_is_answered_without_a_redirect(client, url):
    assert client.get(url).status_code == 200


def test_a_bad_value_still_gets_its_400_page(client):
    assert client.get("/activities?age=abc").status_code == 400
    response = client.get("/activities?age=abc&q=&grade=", follow_redirects=True)
    assert response.status_code == 400
    assert len(response.history) == 1
    assert response.request.full_path.rstrip("?") == "/activities?age=abc"


def test_links_the_page_builds_carry_no_empty_parameters(client, football):
    response = client.get("/activities?q=fotball&age=9&weekday=2&per_page=1")
    assert response.status_code == 200
    hrefs = [a["href"] for a, _t in read(response).links]
    search_links = [h for h in hrefs if "?" in h]
    assert len(search_links) > 8  # chips, pages, feeds
    for href in search_links:
        pairs = parse_qsl(urlsplit(href).query, keep_blank_values=True)
        assert all(value for _key, value in pairs), href


# --- results first: the summary bar ----------------------------------------------------------


class _TabOrder(HTMLParser):
    """The controls Tab reaches in <main> before the first result card (the contents of a
    closed <details> skipped, its summary kept)."""

    def __init__(self):
        super().__init__()
        self.in_main = False
        self.closed: list[bool] = []  # per open <details> element: whether it is closed
        self.found: list[str] = []
        self.reached_results = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "main":
            self.in_main = True
        if not self.in_main or self.reached_results:
            return
        if tag == "li" and a.get("class") == "card":
            self.reached_results = True
            return
        hidden = any(self.closed)
        if tag == "details":
            self.closed.append("open" not in a)
        elif tag == "summary":
            hidden = any(self.closed[:-1])
        focusable = (
            (tag == "a" and "href" in a)
            or (tag == "input" and a.get("type") != "hidden")
            or tag in ("select", "button", "summary", "textarea")
        )
        if focusable and not hidden:
            self.found.append(f"{tag} {a.get('id', '')}".strip())

    def handle_endtag(self, tag):
        if tag == "details" and self.closed:
            self.closed.pop()


def _focusable_before_first_result(html: str) -> list[str]:
    reader = _TabOrder()
    reader.feed(html)
    assert reader.reached_results, "no result card"
    return reader.found


def test_after_a_search_the_filters_fold_into_a_summary_bar_above_the_results(client, football):
    response = client.get("/activities?age=9&weekday=2&time=after_school")
    page = read(response)
    assert page.details_open is False
    assert page.summary == "Filtre: 9 år · tirsdag · etter skoletid — Endre"
    html = response.get_data(as_text=True)
    # The bar comes before the results, and the results right after their count.
    assert html.index("filter-summary") < html.index('class="result-count"')
    assert re.search(r'<p class="result-count" role="status">[^<]*</p>\s*<ul class="cards">', html)
    # A keyboard user passes the search box, its button and the bar, then reaches a result.
    assert _focusable_before_first_result(html) == ["input q", "button", "summary"]
    # The chips that remove one filter each are inside the panel, for when it is opened.
    chips = [t for a, t in page.links if a.get("class") == "chip"]
    assert chips == ["Fjern 9 år ×", "Fjern Tirsdag ×", "Fjern Etter skoletid ×"]


def test_before_any_search_the_panel_is_folded_with_its_plain_name(client, football):
    page = read(client.get("/"))
    assert page.details_open is False and page.summary == "Filtre"


def test_an_error_keeps_the_panel_open_and_leads_to_the_faulty_field(client, football):
    response = client.get("/activities?weekday=2&age=abc")
    assert response.status_code == 400
    page = read(response)
    assert page.details_open is True
    assert link(page, "Alderen må være et helt tall fra 0 til 25.") == "#age"
    assert 'id="age"' in response.get_data(as_text=True)


# --- honest zero results ---------------------------------------------------------------------


def test_zero_results_say_which_filter_to_loosen_and_how_many_each_brings(client, football):
    response = client.get("/activities?q=fotball&age=9&weekday=2&time=evening")
    assert titles(response) == []
    page = read(response)
    loosen = [(t, a["href"]) for a, t in page.links if t.startswith("Uten ")]
    # Only the filters whose removal brings something back, most first.
    assert [t for t, _h in loosen] == [
        "Uten «kveld»: 2 aktiviteter",
        "Uten «tirsdag»: 1 aktivitet",
    ]
    without_evening, without_tuesday = (h for _t, h in loosen)
    assert params(without_evening) == {"q": ["fotball"], "age": ["9"], "weekday": ["2"]}
    assert sorted(titles(client.get(without_evening))) == ["Fotballskole", "Fotballtrening"]
    assert titles(client.get(without_tuesday)) == ["Kveldsfotball"]
    assert link(page, "Fjern alle filtre og vis alle aktiviteter") == "/activities"


def test_when_no_single_filter_helps_the_page_says_so(client, football):
    response = client.get("/activities?q=fotball&age=3&weekday=6")
    html = response.get_data(as_text=True)
    assert "Det hjelper ikke å ta bort bare ett av valgene." in html
    assert not [t for _a, t in read(response).links if t.startswith("Uten ")]


def test_counts_say_what_another_choice_adds(client, football):
    page = read(client.get("/activities?q=fotball&age=9&weekday=2"))
    # Ticked: how many of the results have it. Unticked: how many more it would bring.
    assert page.labels["weekday-2"] == "Tirsdag (2)"
    assert page.labels["weekday-4"] == "Torsdag (+1)"
    assert page.labels["weekday-1"] == "Mandag (+0)"
    # Groups without a choice count within the results, as before.
    assert page.labels["time-after_school"] == "Etter skoletid (2)"
    assert "Et tall med + er hvor mange flere treff" in page_text(client, "weekday=2")


def page_text(client, query: str) -> str:
    return client.get(f"/activities?{query}").get_data(as_text=True)


def test_count_matches_counts_each_loosened_search(app, football, backend):
    assert count_matches(
        [
            SearchQuery(text="fotball", age=9),
            SearchQuery(age=9, weekdays=(2,)),
            SearchQuery(text="fotball", weekdays=(6,)),
        ]
    ) == [3, 3, 0]


# --- cancelled offers last -------------------------------------------------------------------


@pytest.fixture
def swimming(make_activity):
    """A cancelled course that matches "svømmekurs" best, starts soonest and is newest."""
    soon = next_iso_weekday_at(1, 17)
    make_activity(
        title="Svømmeopplæring",
        summary="Et svømmekurs for nybegynnere",
        description="Lær å svømme.",
        schedule={"dtstart": soon + timedelta(days=14), "rrule": WEEKLY},
    )
    make_activity(
        title="Svømmekurs",
        summary="Svømmekurs i svømmehallen: svømmekurs for alle",
        tags="svømmekurs",
        status="cancelled",
        schedule={"dtstart": soon, "rrule": WEEKLY},
    )


ORDER = ["Svømmeopplæring", "Svømmekurs"]


@pytest.mark.parametrize(
    "query",
    ["q=svømmekurs", "q=svømmekurs&sort=soonest", "q=svømmekurs&sort=newest", "", "sort=newest"],
)
def test_a_cancelled_offer_comes_after_the_others_in_the_search(client, swimming, backend, query):
    response = client.get(f"/activities?{query}" if query else "/")
    assert titles(response) == ORDER
    assert "Avlyst" in card(response, "Svømmekurs")
    assert "Avlyst" not in card(response, "Svømmeopplæring")


def test_a_cancelled_offer_is_never_first_on_any_page(client, swimming, backend):
    first = client.get("/activities?q=svømmekurs&per_page=1")
    second = client.get("/activities?q=svømmekurs&per_page=1&page=2")
    assert titles(first) == ["Svømmeopplæring"] and titles(second) == ["Svømmekurs"]


def test_the_widget_lists_a_cancelled_offer_last(client, swimming, backend):
    html = client.get("/embed?q=svømmekurs").get_data(as_text=True)
    listed = re.findall(r'<li class="embed-item">\s*<h2><a href="[^"]+"[^>]*>([^<]+)</a>', html)
    assert listed == ORDER


def test_the_api_lists_a_cancelled_offer_last(client, swimming, backend):
    for query in ("q=svømmekurs", ""):
        items = client.get(f"/api/v1/activities?{query}").get_json()["items"]
        assert [(i["title"], i["status"]) for i in items] == [
            ("Svømmeopplæring", "published"),
            ("Svømmekurs", "cancelled"),
        ], query


# --- back to the results ---------------------------------------------------------------------


def _back_link(response, text_ending: str = "Tilbake til treffene") -> str | None:
    for attrs, text in read(response).links:
        if text.endswith(text_ending):
            return attrs["href"]
    return None


def test_an_activity_opened_from_the_search_links_back_to_it(client, swimming):
    search = "/activities?q=svømmekurs&age=9"
    response = client.get(search)
    href = next(a["href"] for a, t in read(response).links if t == "Svømmeopplæring")
    page = client.get(href, headers={"Referer": f"http://localhost{search}"})
    assert page.headers["Vary"] and "Referer" in page.headers["Vary"]
    back = _back_link(page)
    assert urlsplit(back).path == "/activities"
    assert parse_qs(urlsplit(back).query) == {"q": ["svømmekurs"], "age": ["9"]}
    home = client.get(href, headers={"Referer": "http://localhost/"})
    assert _back_link(home) == "/"
    english = client.get(f"{href}?lang=en", headers={"Referer": "http://localhost/?lang=en"})
    assert english.status_code == 200 and _back_link(english, "Back to the results") == "/?lang=en"


@pytest.mark.parametrize(
    "referer",
    [
        None,
        "http://evil.example/activities?q=svømmekurs",
        "https://localhost.evil.example/",
        "http://localhost/organisations",
        "http://localhost/activities/1",
        "javascript:alert(1)//localhost/",
        "http://localhost:99999/",
        "//evil.example/",
    ],
)
def test_no_back_link_unless_the_visitor_came_from_this_sites_search(client, swimming, referer):
    response = client.get("/activities?q=svømmekurs")
    href = next(a["href"] for a, t in read(response).links if t == "Svømmeopplæring")
    page = client.get(href, headers={"Referer": referer} if referer else {})
    assert page.status_code == 200
    assert _back_link(page) is None


def test_the_back_link_is_the_search_rebuilt_never_a_copy_of_the_header(client, swimming):
    response = client.get("/activities?q=svømmekurs")
    href = next(a["href"] for a, t in read(response).links if t == "Svømmeopplæring")
    page = client.get(
        href, headers={"Referer": "http://localhost/?q=kurs&next=//evil.example&age=&page=2"}
    )
    assert _back_link(page) == "/?q=kurs&page=2"
    broken = client.get(href, headers={"Referer": "http://localhost/activities?age=abc"})
    assert _back_link(broken) == "/activities"
