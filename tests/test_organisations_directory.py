"""The clubs and associations directory (/organisations and /api/v1/organisations) and the
organisation logo: search, filters with counts, paging, bad parameters, and the logo upload."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from PIL import Image

from directory.api.openapi import openapi_document
from directory.extensions import db
from directory.storage import upload_storage
from tests.test_organisations import edit_form
from tests.test_uploads import StoredUpload, jpeg_with_gps

NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # a Monday
CURRENT = {"dtstart": datetime(2026, 3, 3, 17, 0), "rrule": "FREQ=WEEKLY"}
ENDED = {"dtstart": datetime(2026, 2, 3, 17, 0), "rrule": ""}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def clubs(make_municipality, make_organisation, make_activity, make_category):
    """Three listed clubs in two municipalities, one rejected and one with drafts only."""
    sport = make_category(slug="idrett", name_nb="Idrett")
    music = make_category(slug="musikk", name_nb="Musikk")
    lier = make_municipality(slug="lier", name="Lier")
    fotball = make_organisation(name="Bragernes fotball", description="Fotball for alle")
    make_activity(organisation=fotball, category=sport, schedule=CURRENT)
    make_activity(organisation=fotball, category=sport, schedule=CURRENT)
    make_activity(organisation=fotball, category=sport, schedule=ENDED)
    korps = make_organisation(
        name="Lier skolekorps", kind="school", municipality=lier, description="Vi spiller janitsjar"
    )
    make_activity(organisation=korps, category=music, schedule=CURRENT)
    make_activity(organisation=korps, category=sport, status="cancelled", schedule=CURRENT)
    kulturskole = make_organisation(name="Kulturskolen", kind="municipal")
    make_activity(organisation=kulturskole, category=music, schedule=CURRENT)
    rejected = make_organisation(name="Avvist musikklag", verification="rejected")
    make_activity(organisation=rejected, category=music, schedule=CURRENT)
    drafts = make_organisation(name="Kladdekoret")
    make_activity(organisation=drafts, category=music, status="draft", schedule=CURRENT)
    return {"fotball": fotball, "korps": korps, "kulturskole": kulturskole}


def names(client, query: str = "") -> list[str]:
    body = client.get(f"/organisations{query}").get_data(as_text=True)
    return re.findall(r'<h2><a href="/organisations/[^"]+">([^<]+)</a></h2>', body)


def api(client, query: str = "") -> dict:
    response = client.get(f"/api/v1/organisations{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- the page ----------------------------------------------------------------------------------


def test_the_page_lists_clubs_with_public_activities_by_name_never_a_rejected_one(client, clubs):
    assert names(client) == ["Bragernes fotball", "Kulturskolen", "Lier skolekorps"]


def test_search_matches_name_or_description_ignoring_case(client, clubs):
    assert names(client, "?q=FOTBALL") == ["Bragernes fotball"]
    assert names(client, "?q=janitsjar") == ["Lier skolekorps"]  # in the description
    assert names(client, "?q=musikklag") == []  # the rejected one stays out of searches too
    assert names(client, "?q=50%25") == []  # LIKE's wildcards are taken literally


def test_each_filter_narrows_the_list(client, clubs):
    assert names(client, "?category=musikk") == ["Kulturskolen", "Lier skolekorps"]
    # From public activities: the korps's cancelled sports activity counts, drafts do not.
    assert names(client, "?category=idrett") == ["Bragernes fotball", "Lier skolekorps"]
    assert names(client, "?kind=municipal") == ["Kulturskolen"]
    assert names(client, "?municipality=lier") == ["Lier skolekorps"]
    assert names(client, "?category=musikk&municipality=drammen") == ["Kulturskolen"]


def test_filters_show_counts_without_their_own_choice(client, clubs):
    body = client.get("/organisations?category=musikk").get_data(as_text=True)
    assert re.search(r'<option value="idrett">Idrett \(2\)</option>', body)
    assert re.search(r'<option value="musikk" selected>Musikk \(2\)</option>', body)
    assert re.search(r'<option value="municipal">[^<]+\(1\)</option>', body)
    assert re.search(r'<option value="volunteer">[^<]+\(0\)</option>', body)
    assert re.search(r'<option value="lier">Lier \(1\)</option>', body)
    assert "2 organisasjoner" in body


def test_cards_show_categories_current_offers_and_an_initial_without_logo(client, clubs):
    body = client.get("/organisations?q=fotball").get_data(as_text=True)
    card = body[body.index('<li class="card">') :]
    assert "<dd>Idrett</dd>" in card
    assert "2 aktuelle tilbud" in card  # the ended one is not current
    assert 'class="card-picture org-initial" aria-hidden="true">B<' in card


def test_the_list_is_paged_by_twenty(client, make_organisation, make_activity):
    for n in range(23):
        make_activity(organisation=make_organisation(name=f"Lag {n:02d}"), schedule=CURRENT)
    first = names(client)
    assert len(first) == 20
    body = client.get("/organisations?page=2").get_data(as_text=True)
    assert names(client, "?page=2") == ["Lag 20", "Lag 21", "Lag 22"]
    assert 'rel="prev" href="/organisations?page=1"' in body
    assert 'rel="next"' not in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?page=0", "Sidetallet må være et helt tall"),
        ("?page=abc", "Sidetallet må være et helt tall"),
        ("?category=finnes-ikke", "Kategorien finnes ikke."),
        ("?kind=forening", "Ugyldig type."),
    ],
)
def test_bad_parameters_are_400_with_a_norwegian_message(client, clubs, query, message):
    response = client.get(f"/organisations{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


# --- the API -----------------------------------------------------------------------------------


def test_the_api_gives_the_same_list_with_details(client, clubs):
    body = api(client)
    assert [o["slug"] for o in body["items"]] == [
        clubs["fotball"].slug,
        clubs["kulturskole"].slug,
        clubs["korps"].slug,
    ]
    assert body["items"][0] == {
        "slug": clubs["fotball"].slug,
        "name": "Bragernes fotball",
        "kind": "volunteer",
        "verified": True,
        "url": f"http://localhost/organisations/{clubs['fotball'].slug}",
        "municipality": "drammen",
        "categories": ["idrett"],
        "current_offers": 2,
        "logo_url": None,
    }
    assert (body["total"], body["page"], body["pages"]) == (3, 1, 1)
    assert body["facets"] == {
        "category": {"idrett": 2, "musikk": 2},
        "kind": {"volunteer": 1, "school": 1, "municipal": 1},
        "municipality": {"drammen": 2, "lier": 1},
    }


def test_the_api_searches_and_filters(client, clubs):
    assert [o["name"] for o in api(client, "?q=Janitsjar")["items"]] == ["Lier skolekorps"]
    assert [o["name"] for o in api(client, "?kind=school")["items"]] == ["Lier skolekorps"]
    body = api(client, "?category=musikk&municipality=drammen")
    assert [o["name"] for o in body["items"]] == ["Kulturskolen"]
    assert body["facets"]["category"] == {"idrett": 1, "musikk": 1}


def test_the_api_pages(client, make_organisation, make_activity):
    for n in range(21):
        make_activity(organisation=make_organisation(name=f"Lag {n:02d}"), schedule=CURRENT)
    body = api(client, "?page=2")
    assert [o["name"] for o in body["items"]] == ["Lag 20"]
    assert (body["total"], body["page"], body["pages"]) == (21, 2, 2)


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("?page=-1", 400, "page"),
        ("?category=nope", 400, "category"),
        ("?kind=nope", 400, "kind"),
        ("?municipality=nope", 404, "municipality"),
    ],
)
def test_the_api_refuses_bad_parameters(client, clubs, query, status, parameter):
    response = client.get(f"/api/v1/organisations{query}")
    assert response.status_code == status
    assert response.get_json()["parameter"] == parameter
    assert response.get_json()["error"]


def test_the_openapi_document_describes_the_directory(app):
    parameters = openapi_document()["paths"]["/api/v1/organisations"]["get"]["parameters"]
    assert {"q", "category", "kind", "municipality", "page"} <= {p["name"] for p in parameters}


# --- the logo ----------------------------------------------------------------------------------


def png(size=(64, 64), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def editor_org(make_user, make_organisation, make_activity, login_as):
    editor = make_user()
    org = make_organisation(members=[editor], name="Logolaget")
    make_activity(organisation=org, schedule=CURRENT)
    login_as(editor)
    return org


def upload(client, org, data: bytes, filename: str, **fields):
    return client.post(
        f"/organisations/{org.slug}/edit",
        data={**edit_form(org), **fields, "logo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def folder(app) -> Path:
    """The uploads, in whichever storage the app keeps them (StoredUpload is path-like)."""
    return _Uploads()


class _Uploads:
    def __truediv__(self, name: str) -> StoredUpload:
        return StoredUpload(name)

    def exists(self) -> bool:
        return True

    def iterdir(self) -> list[str]:
        return list(upload_storage().names())


def test_an_uploaded_logo_is_re_encoded_and_shown_on_the_card(app, client, editor_org):
    response = upload(client, editor_org, jpeg_with_gps(orientation=None), "logo.jpg")
    assert response.status_code == 302
    db.session.refresh(editor_org)
    name = editor_org.logo_filename
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", name)
    with Image.open((folder(app) / name).open()) as stored:
        assert not stored.getexif()  # decoded and written again: no camera, no GPS position
    body = client.get("/organisations").get_data(as_text=True)
    assert f'src="/media/{name}"' in body
    visitor = app.test_client()
    with visitor.get(f"/media/{name}") as logo:
        assert logo.status_code == 200  # a visible organisation's logo is public
        assert "no-store" not in logo.headers.get("Cache-Control", "")
    logo_url = api(visitor)["items"][0]["logo_url"]
    assert logo_url == f"http://localhost/media/{name}"


def test_replacing_or_removing_the_logo_deletes_the_old_file(app, client, editor_org):
    upload(client, editor_org, png(), "a.png")
    db.session.refresh(editor_org)
    first = editor_org.logo_filename
    upload(client, editor_org, png(colour=(0, 0, 0)), "b.png")
    db.session.refresh(editor_org)
    second = editor_org.logo_filename
    assert second != first
    assert not (folder(app) / first).exists()
    assert (folder(app) / second).exists()

    response = client.post(
        f"/organisations/{editor_org.slug}/edit", data=edit_form(editor_org, remove_logo="y")
    )
    assert response.status_code == 302
    db.session.refresh(editor_org)
    assert editor_org.logo_filename is None
    assert not (folder(app) / second).exists()


def test_a_file_that_is_no_image_is_refused_and_nothing_changes(app, client, editor_org):
    before = set(folder(app).iterdir()) if folder(app).exists() else set()
    response = upload(client, editor_org, b"just text", "logo.png", name="Nytt navn")
    assert response.status_code == 422
    assert "Filen er ikke et bilde vi kan bruke." in response.get_data(as_text=True)
    db.session.refresh(editor_org)
    assert editor_org.logo_filename is None
    assert editor_org.name == "Logolaget"
    after = set(folder(app).iterdir()) if folder(app).exists() else set()
    assert after == before


def test_a_rejected_organisations_logo_is_not_public(app, client, editor_org):
    upload(client, editor_org, png(), "a.png")
    db.session.refresh(editor_org)
    name = editor_org.logo_filename
    editor_org.verification = "rejected"
    db.session.commit()
    assert app.test_client().get(f"/media/{name}").status_code == 404
