"""The language switch: ?lang=nb|nn|en on the current page, carried by links, never a cookie."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import PASSWORD


def html_lang(response) -> str:
    match = re.match(r'<!doctype html>\s*<html lang="([^"]+)">', response.get_data(as_text=True))
    assert match, "no <html lang>"
    return match.group(1)


def switch(response) -> list[dict[str, str]]:
    """The language switch's links with their attributes, in order."""
    html = response.get_data(as_text=True)
    nav = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "no language switch"
    links = []
    for attrs, text in re.findall(r"<a ([^>]*)>([^<]*)</a>", nav.group(1)):
        entry = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        entry["href"] = entry["href"].replace("&amp;", "&")
        entry["text"] = text
        links.append(entry)
    return links


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def with_lang(path: str, lang: str | None) -> str:
    if lang is None:
        return path
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


@pytest.fixture
def pages(make_activity):
    activity = make_activity(title="Fotballtrening")
    return [
        "/",
        "/activities?q=fotball",
        f"/activities/{activity.id}",
        "/organisations",
        f"/organisations/{activity.organisation.slug}",
        "/login",
        "/register",
        "/finnes-ikke",
        "/activities?age=abc",
    ]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (None, "nb"),
        ("nb", "nb"),
        ("nn", "nn"),
        ("en", "en"),
        ("de", "nb"),
        ("", "nb"),
        ("EN", "nb"),
    ],
)
def test_html_lang_follows_the_chosen_language(app, pages, lang, expected):
    client = app.test_client()
    for path in pages:
        # An empty ?lang= on the search page is redirected away (issue 12): bokmål.
        response = client.get(with_lang(path, lang), follow_redirects=True)
        assert html_lang(response) == expected, path
        active = [link["lang"] for link in switch(response) if link.get("aria-current") == "true"]
        assert active == [expected], path


def test_the_switch_links_to_the_same_page_in_each_language_keeping_the_rest(client, pages):
    response = client.get("/activities?q=kor&category=idrett&category=musikk&age=9&lang=nn")
    links = switch(response)
    assert [link["text"] for link in links] == ["Bokmål", "Nynorsk", "English"]
    assert [(link["hreflang"], link["lang"]) for link in links] == [
        ("nb", "nb"),
        ("nn", "nn"),
        ("en", "en"),
    ]
    rest = {"q": ["kor"], "category": ["idrett", "musikk"], "age": ["9"]}
    for link, lang in zip(links, ["nb", "nn", "en"], strict=True):
        assert urlsplit(link["href"]).path == "/activities"
        expected = rest if lang == "nb" else {**rest, "lang": [lang]}
        assert query(link["href"]) == expected
    # Following a link gives that language.
    assert html_lang(client.get(links[2]["href"])) == "en"
    assert html_lang(client.get(links[0]["href"])) == "nb"


def test_the_switch_on_a_page_without_parameters(client, pages):
    links = switch(client.get("/organisations"))
    assert [link["href"] for link in links] == [
        "/organisations",
        "/organisations?lang=nn",
        "/organisations?lang=en",
    ]


def test_an_unknown_language_is_ignored_and_not_carried(client, pages):
    response = client.get("/?lang=de")
    html = response.get_data(as_text=True)
    assert "lang=de" not in html.replace('href="/?lang=de"', "")
    assert [link["href"] for link in switch(response)] == ["/", "/?lang=nn", "/?lang=en"]


def test_choosing_a_language_sets_no_cookie(app, pages):
    client = app.test_client()
    for path in pages:
        for lang in ("nb", "nn", "en"):
            response = client.get(with_lang(path, lang))
            assert response.headers.getlist("Set-Cookie") == [], (path, lang)
    # Nothing remembered between requests either: without ?lang= it is bokmål again.
    assert html_lang(client.get("/")) == "nb"


def test_links_and_forms_carry_the_language(client, make_activity):
    activity = make_activity()
    html = client.get("/?lang=en").get_data(as_text=True)
    assert f'href="/activities/{activity.id}?lang=en"' in html
    assert 'href="/organisations?lang=en"' in html
    # A GET form drops its action's query string: the language is a field of its own.
    assert '<input type="hidden" name="lang" value="en">' in html
    login_page = client.get("/login?lang=nn").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/login\?lang=nn"', login_page)


def test_bokmal_adds_no_parameter_to_links(client, make_activity):
    activity = make_activity()
    html = client.get("/?lang=nb").get_data(as_text=True)
    assert f'href="/activities/{activity.id}"' in html
    assert "lang=nb" not in html
    assert 'name="lang"' not in html


def test_redirects_keep_the_language(client, make_user):
    response = client.get("/account?lang=en")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == "/login"
    assert query(location)["lang"] == ["en"]

    user = make_user()
    response = client.post("/login?lang=en", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert query(response.headers["Location"]).get("lang") == ["en"]
    page = client.get(response.headers["Location"])
    assert html_lang(page) == "en"


def test_pages_asked_for_in_turn_keep_each_language_apart(client, make_activity):
    """The templates' fixed texts are compiled into them once per language: pages asked for in
    every order are each wholly in their own language (the heading, the skip link, the form)."""
    make_activity(title="Fotballtrening")
    expected = {
        None: ("Aktiviteter for barn og unge", "Hopp til innholdet", ">Søk</label>"),
        "en": ("Activities for children and young people", "Skip to content", ">Search</label>"),
        "nn": ("Aktivitetar for born og unge", "Hopp til innhaldet", ">Søk</label>"),
    }
    for lang in [None, "en", "nn", None, "nn", "en", None]:
        html = client.get(with_lang("/activities?q=fotball", lang)).get_data(as_text=True)
        heading, skip, label = expected[lang]
        assert f"<h1>{heading}</h1>" in html, lang
        assert f">{skip}</a>" in html, lang
        assert label in html, lang
        others = {text for code, texts in expected.items() if code != lang for text in texts[:2]}
        assert not [text for text in others if text in html], lang


def test_a_template_follows_force_locale_inside_a_request(app):
    """Mail and exports render in their own language within a request in another one."""
    from flask import render_template
    from flask_babel import force_locale

    with app.test_request_context("/"):
        before = render_template("base.html")
        with force_locale("en"):
            english = render_template("base.html")
        after = render_template("base.html")
    assert ">Hopp til innholdet</a>" in before
    assert ">Skip to content</a>" in english
    assert ">Hopp til innholdet</a>" in after


def test_links_follow_the_path_prefix_and_the_language_of_each_request(client, make_activity):
    """The templates' URLs are built once per process for what they depend on: under a path
    prefix (SCRIPT_NAME) every link has it, the same page without it has none, and each
    language carries its own parameter."""
    make_activity(title="Fotballtrening")

    def nav_links(html: str) -> list[str]:
        nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)
        return re.findall(r'href="([^"]+)"', nav)

    plain = client.get("/").get_data(as_text=True)
    prefixed = client.get("/", environ_overrides={"SCRIPT_NAME": "/katalog"})
    prefixed = prefixed.get_data(as_text=True)
    english = client.get("/?lang=en", environ_overrides={"SCRIPT_NAME": "/katalog"})
    english = english.get_data(as_text=True)
    again = client.get("/").get_data(as_text=True)
    assert nav_links(plain) == ["/", "/organisations", "/login", "/register"]
    assert nav_links(prefixed) == [f"/katalog{link}" for link in nav_links(plain)]
    assert nav_links(english) == [
        "/katalog/?lang=en",
        "/katalog/organisations?lang=en",
        "/katalog/login?lang=en",
        "/katalog/register?lang=en",
    ]
    assert nav_links(again) == nav_links(plain)
    assert 'href="/katalog/static/site.css"' in prefixed
    assert 'href="/static/site.css"' in again
