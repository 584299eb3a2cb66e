"""The embeddable widget (/embed): a compact list that other sites may put in an iframe."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from directory.feeds import views
from tests.conftest import next_weekday_at


def items(page: str) -> list[str]:
    return re.findall(r'<li class="embed-item">\s*<h2><a href="[^"]+"[^>]*>([^<]+)</a>', page)


def test_embed_lists_filtered_activities_compactly(client, make_activity, make_organisation):
    club = make_organisation(name="Drammen Sjakklubb")
    tuesday = next_weekday_at(1, 17, 30)
    sjakk = make_activity(
        title="Sjakk for barn", organisation=club, age_min=7, age_max=12, price_nok=0,
        schedule={"dtstart": tuesday},
    )  # fmt: skip
    make_activity(
        title="Turn", age_min=9, age_max=10, price_nok=450,
        schedule={"dtstart": tuesday + timedelta(days=1)},
    )  # fmt: skip
    make_activity(title="Korps for ungdom", age_min=13, age_max=18)
    make_activity(title="Utkast", status="draft", age_min=9, age_max=9)

    response = client.get("/embed?age=9")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert items(page) == ["Sjakk for barn", "Turn"]
    link = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">Sjakk for barn</a>', page)
    assert link and link.group(1) == f"http://localhost/activities/{sjakk.id}"
    assert "Drammen Sjakklubb" in page
    assert "7–12 år" in page
    assert "Gratis" in page and "450\u00a0kr" in page
    assert f'datetime="{tuesday.isoformat()}' in page  # the next start, as a <time>
    assert "tirsdag" in page
    see_all = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">Se alle', page)
    assert see_all and html.unescape(see_all.group(1)) == "http://localhost/?age=9"


def test_embed_is_a_page_of_its_own_with_its_own_stylesheet(client, make_activity):
    make_activity()
    page = client.get("/embed").get_data(as_text=True)
    assert 'class="site-header"' not in page and "Logg inn" not in page
    assert '<link rel="stylesheet" href="/static/embed.css">' in page
    assert "site.css" not in page
    assert '<html lang="nb">' in page
    stylesheet = client.get("/static/embed.css")
    assert stylesheet.status_code == 200 and b".embed-item" in stylesheet.data
    stylesheet.close()


def test_embed_may_be_framed_while_other_pages_may_not(client, make_activity):
    activity = make_activity()
    embed = client.get("/embed")
    csp = embed.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "X-Frame-Options" not in embed.headers
    # Framing is allowed, nothing else is loosened.
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    for path in ("/", f"/activities/{activity.id}", "/calendar.ics", "/feed.atom"):
        response = client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_embed_error_page_is_frameable_too(client):
    response = client.get("/embed?age=ni")
    assert response.status_code == 400
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_embed_has_no_script_no_inline_style_and_sets_no_cookie(client, make_activity):
    make_activity(title='<script>alert("x")</script>', summary="<style>x</style>")
    response = client.get("/embed")
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert "<style" not in page and " style=" not in page
    assert "&lt;script&gt;" in page  # the title is shown, escaped
    assert "Set-Cookie" not in response.headers


def test_embed_shows_at_most_twenty_and_links_to_all(client, make_activity, monkeypatch):
    monkeypatch.setattr(views, "EMBED_LIMIT", 3)
    monday = next_weekday_at(0, 17)
    for n in range(5):
        make_activity(title=f"Aktivitet {n}", schedule={"dtstart": monday + timedelta(hours=n)})
    page = client.get("/embed?per_page=50").get_data(as_text=True)
    assert items(page) == ["Aktivitet 0", "Aktivitet 1", "Aktivitet 2"]
    assert "Se alle (5)" in page
    assert items(client.get("/embed?per_page=2").get_data(as_text=True)) == [
        "Aktivitet 0",
        "Aktivitet 1",
    ]


def test_embed_shows_twenty_even_when_more_are_asked_for(client, make_activity):
    monday = next_weekday_at(0, 17)
    for n in range(21):
        make_activity(
            title=f"Aktivitet {n:02}", schedule={"dtstart": monday + timedelta(minutes=n)}
        )
    page = client.get("/embed?per_page=50").get_data(as_text=True)
    assert items(page) == [f"Aktivitet {n:02}" for n in range(20)]
    assert "Se alle (21)" in page


def test_embed_marks_cancelled_and_unverified(client, make_activity, make_organisation):
    make_activity(title="Avlyst sjakk", status="cancelled")
    make_activity(title="Nytt lag", organisation=make_organisation(verification="pending"))
    page = client.get("/embed").get_data(as_text=True)
    assert "badge-cancelled" in page and "Avlyst" in page
    assert "badge-unverified" in page


def test_embed_empty_result_says_so(client):
    page = client.get("/embed?age=2").get_data(as_text=True)
    assert "Ingen aktiviteter passer akkurat nå." in page
    assert items(page) == []


def test_embed_in_another_language(client, make_activity):
    make_activity()
    page = client.get("/embed?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "lang=en" in page  # links keep the language


def test_embed_etag_and_304(client, make_activity):
    make_activity()
    first = client.get("/embed?free=1")
    etag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get("/embed?free=1", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert "frame-ancestors *" in again.headers["Content-Security-Policy"]
    assert client.get("/embed?lang=en", headers={"If-None-Match": etag}).status_code == 200
