"""Security headers, no cookies for anonymous visitors, no caching after login, escaping."""

from __future__ import annotations

import json
import re

import pytest

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def public_paths(make_organisation, make_activity):
    """Every kind of public response: pages, API, errors, static files."""
    organisation = make_organisation(slug="bragernes-il", name="Bragernes IL")
    activity = make_activity(organisation=organisation)
    return [
        "/",
        f"/activities/{activity.id}",
        "/organisations",
        "/organisations/bragernes-il",
        "/login",
        "/register",
        "/api/v1/activities",
        f"/api/v1/activities/{activity.id}",
        "/api/v1/organisations",
        "/api/v1/schools",
        "/healthz",
        "/finnes-ikke",
        "/api/v1/finnes-ikke",
        "/static/site.css",
    ]


def _directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def test_every_response_carries_the_security_headers(client, public_paths):
    for path in public_paths:
        with client.get(path) as response:
            pass  # closed at once: a static file response holds an open file
        assert response.status_code == (404 if "finnes-ikke" in path else 200), path
        csp = _directives(response.headers["Content-Security-Policy"])
        script_sources = csp.get("script-src", csp.get("default-src"))
        assert "'unsafe-inline'" not in script_sources, path
        assert "'unsafe-eval'" not in script_sources, path
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["default-src"] == ["'none'"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path


def test_hsts_only_over_https(client, public_paths):
    for path in ("/", "/api/v1/activities", "/static/site.css"):
        with client.get(path) as plain, client.get(path, base_url="https://localhost") as secure:
            pass
        assert "Strict-Transport-Security" not in plain.headers, path
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000"), path


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/activities/{activity}",
        "/organisations/{organisation}",
        "/organisations",
        "/api/v1/activities",
        "/api/v1/activities/{activity}",
        "/healthz",
        "/login",
        "/finnes-ikke",
    ],
)
def test_anonymous_visitors_get_no_cookie(app, make_activity, path):
    activity = make_activity()
    client = app.test_client()
    url = path.format(activity=activity.id, organisation=activity.organisation.slug)
    response = client.get(url, query_string={"lang": "nn"})
    assert response.status_code == (404 if "finnes-ikke" in path else 200), url
    assert "Set-Cookie" not in response.headers, url
    assert response.headers.getlist("Set-Cookie") == []


def test_pages_after_login_are_not_cached(client, make_user, make_organisation, login_as):
    user = make_user()
    organisation = make_organisation(owners=[user])
    anonymous = client.get(f"/organisations/{organisation.slug}")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    login_as(user)
    for path in ("/account", "/", f"/organisations/{organisation.slug}", "/api/v1/activities"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


@pytest.fixture
def hostile(make_organisation, make_activity):
    """An organisation and an activity whose names try to run a script."""
    organisation = make_organisation(slug="slemt-lag", name=f"Slemt lag {SCRIPT}")
    activity = make_activity(
        organisation=organisation,
        title=f"Tittel {SCRIPT}",
        summary=f"Sammendrag {SCRIPT}",
        venue=f"Sted {SCRIPT}",
        description=f"Beskrivelse {SCRIPT} <img src=x onerror=alert(2)>",
    )
    return organisation, activity


def _json_ld_blocks(html: str) -> list[str]:
    return re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.DOTALL)


def test_user_text_is_escaped_on_every_html_page(client, hostile):
    organisation, activity = hostile
    shown = {  # the hostile texts each page shows
        "/": ("Slemt lag", "Tittel", "Sted"),
        f"/activities/{activity.id}": ("Slemt lag", "Tittel", "Sammendrag", "Sted", "Beskrivelse"),
        "/organisations": ("Slemt lag",),
        f"/organisations/{organisation.slug}": ("Slemt lag", "Tittel", "Sammendrag"),
    }
    for path, texts in shown.items():
        html = client.get(path).get_data(as_text=True)
        for text in texts:
            assert f"{text} &lt;script&gt;alert(1)&lt;/script&gt;" in html, (path, text)
        assert SCRIPT not in html, path
        assert "<img src=x" not in html, path


def test_json_ld_cannot_break_out_of_its_script_element(client, hostile):
    organisation, activity = hostile
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    [block] = _json_ld_blocks(html)
    assert "<" not in block and ">" not in block
    data = json.loads(block)
    assert data["name"] == f"Tittel {SCRIPT}"
    assert data["organizer"]["name"] == f"Slemt lag {SCRIPT}"


def test_the_api_returns_user_text_as_data_not_markup(client, hostile):
    organisation, activity = hostile
    response = client.get(f"/api/v1/activities/{activity.id}")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_json()
    assert body["title"] == f"Tittel {SCRIPT}"
    assert "<script" not in body["description_html"]
    assert "<img" not in body["description_html"]
