"""The public pages: upcoming activities on the front page, and one activity's page."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import event

from directory.activities.schedule import build_rrule, format_local_list
from directory.extensions import db
from tests.conftest import next_weekday_at


def titles_in_order(html: str) -> list[str]:
    return re.findall(r'<li class="card">\s*<h2><a href="/activities/\d+">([^<]+)</a>', html)


def card_of(html: str, title: str) -> str:
    for card in re.findall(r'<li class="card">.*?</li>\s*(?=<li class="card">|</ul>)', html, re.S):
        if f">{title}</a>" in card:
            return card
    raise AssertionError(f"no card for {title}")


def json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD in the page"
    return json.loads(match.group(1))


# --- the front page --------------------------------------------------------------------------


def test_home_lists_only_public_upcoming_activities_soonest_first(
    client, make_activity, make_organisation
):
    monday = next_weekday_at(0, 17)
    make_activity(title="Torsdag", schedule={"dtstart": monday + timedelta(days=3)})
    make_activity(title="Mandag", schedule={"dtstart": monday})
    make_activity(
        title="Avlyst onsdag", status="cancelled", schedule={"dtstart": monday + timedelta(days=2)}
    )
    make_activity(title="Utkastet", status="draft")
    make_activity(title="Arkivert", status="archived")
    make_activity(title="Fra avvist lag", organisation=make_organisation(verification="rejected"))
    make_activity(
        title="Ferdig for lengst",
        schedule={
            "dtstart": datetime(2021, 1, 5, 17, 0),
            "rrule": build_rrule("weekly", datetime(2021, 3, 1).date()),
        },
    )
    response = client.get("/")
    assert response.status_code == 200
    # A cancelled activity is listed after the others, however soon it was (issue 12).
    assert titles_in_order(response.get_data(as_text=True)) == [
        "Mandag",
        "Torsdag",
        "Avlyst onsdag",
    ]


def test_cards_show_organisation_ages_next_start_place_price_and_marks(
    client, make_activity, make_organisation
):
    pending = make_organisation(name="Nytt Lag", verification="pending")
    make_activity(
        title="Korps",
        organisation=pending,
        age_min=10,
        age_max=16,
        price_nok=250,
        venue="Kulturhuset",
        schedule={"dtstart": next_weekday_at(1, 17, 30)},
    )
    make_activity(title="Sjakk", status="cancelled", price_nok=0)
    html = client.get("/").get_data(as_text=True)

    korps = card_of(html, "Korps")
    assert "Nytt Lag" in korps
    assert "10–16 år" in korps
    assert "tirsdag" in korps and "kl. 17:30" in korps
    assert "Kulturhuset" in korps
    assert "250\u00a0kr" in korps
    assert 'class="badge badge-unverified">Ikke verifisert' in korps
    assert "Avlyst" not in korps

    sjakk = card_of(html, "Sjakk")
    assert "Gratis" in sjakk
    assert 'class="badge badge-cancelled">Avlyst' in sjakk
    assert "Ikke verifisert" not in sjakk


def test_home_pages_by_twenty(client, make_activity):
    start = next_weekday_at(1, 8)
    for n in range(21):
        make_activity(
            title=f"Aktivitet {n:02d}", schedule={"dtstart": start + timedelta(minutes=n)}
        )
    first = titles_in_order(client.get("/").get_data(as_text=True))
    second_page = client.get("/?page=2").get_data(as_text=True)
    assert len(first) == 20 and first[0] == "Aktivitet 00"
    assert titles_in_order(second_page) == ["Aktivitet 20"]
    assert 'rel="prev"' in second_page
    beyond = client.get("/?page=9")
    assert beyond.status_code == 200
    assert titles_in_order(beyond.get_data(as_text=True)) == []
    assert "ingen aktiviteter på denne siden" in beyond.get_data(as_text=True)


def test_the_page_links_keep_the_search_and_the_language(client, make_activity):
    """Previous, next and every number lead to that page of the same search in the same
    language; the first page's link has no page number."""
    start = next_weekday_at(1, 8)
    for n in range(5 * 5):
        make_activity(title=f"Fotball {n:02d}", schedule={"dtstart": start + timedelta(minutes=n)})
    html = client.get("/activities?q=fotball&per_page=5&page=3&lang=nn").get_data(as_text=True)
    nav = re.search(r'<nav class="pagination".*?</nav>', html, re.S).group(0).replace("&amp;", "&")
    links = dict(re.findall(r'<a (?:rel="(\w+)" )?href="([^"]+)"', nav))
    base = "/activities?q=fotball&per_page=5"
    assert links["prev"] == f"{base}&page=2&lang=nn"
    assert links["next"] == f"{base}&page=4&lang=nn"
    numbered = re.findall(
        r'<a href="([^"]+)"[^>]*><span class="visually-hidden">[^<]*</span>(\d+)', nav
    )
    assert numbered == [
        (f"{base}&lang=nn", "1"),
        *((f"{base}&page={n}&lang=nn", str(n)) for n in range(2, 6)),
    ]


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "9" * 5000])
def test_a_bad_page_number_is_a_clear_400(client, page):
    # An empty ?page= means the first page, as everywhere else.
    response = client.get(f"/?page={page}")
    assert response.status_code == 400
    assert "Sidetallet må være et helt tall" in response.get_data(as_text=True)


def test_home_filters_by_municipality(client, make_activity, make_organisation, make_municipality):
    lier = make_municipality(slug="lier", name="Lier")
    make_activity(title="I Drammen")
    make_activity(title="I Lier", organisation=make_organisation(municipality=lier))
    assert titles_in_order(client.get("/?municipality=lier").get_data(as_text=True)) == ["I Lier"]
    assert titles_in_order(client.get("/?municipality=drammen").get_data(as_text=True)) == [
        "I Drammen"
    ]
    response = client.get("/?municipality=atlantis")
    assert response.status_code == 404
    assert "Kommunen «atlantis» finnes ikke." in response.get_data(as_text=True)


def test_the_home_page_does_not_query_once_per_activity(app, client, make_activity):
    def count_queries() -> int:
        statements = []

        def remember(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        return len(statements)

    make_activity()
    with_one = count_queries()
    for _ in range(6):
        make_activity()
    assert count_queries() == with_one


# --- one activity ------------------------------------------------------------------------------


def test_detail_page_shows_everything(client, make_activity, make_category):
    first = next_weekday_at(1, 17)
    activity = make_activity(
        title="Fotball",
        category=make_category(name_nb="Idrett"),
        age_min=8,
        age_max=12,
        price_nok=1200,
        price_note="per halvår",
        venue="Marienlyst",
        address="Marienlystgata 1",
        accessibility="Trinnfri adkomst",
        languages="norsk, engelsk",
        registration_url="https://example.org/pamelding",
        capacity=24,
        facebook_post_url="https://www.facebook.com/lag/posts/1",
        image_filename="c" * 32 + ".jpg",
        image_alt="Barn som spiller fotball",
        flyer_filename="d" * 32 + ".pdf",
        description="## Om treningen\n\nTa med **drikkeflaske**.",
        schedule={
            "dtstart": first,
            "rrule": build_rrule("weekly", (first + timedelta(weeks=10)).date()),
            "exdates": format_local_list([first + timedelta(weeks=1)]),
        },
    )
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    organisation = activity.organisation
    assert f'href="/organisations/{organisation.slug}">{organisation.name}</a>' in html
    assert "Idrett" in html and "8–12 år" in html
    assert "1\u00a0200\u00a0kr" in html and "per halvår" in html
    assert "Marienlyst" in html and "Marienlystgata 1" in html
    assert "Trinnfri adkomst" in html and "norsk, engelsk" in html
    assert 'href="https://example.org/pamelding"' in html
    assert "24" in html
    assert f'src="/media/{"c" * 32}.jpg" alt="Barn som spiller fotball"' in html
    assert f'href="/media/{"d" * 32}.pdf"' in html
    assert 'href="https://www.facebook.com/lag/posts/1"' in html
    assert "<h2>Om treningen</h2>" in html and "<strong>drikkeflaske</strong>" in html
    assert "Hver tirsdag kl. 17:00–18:30, fra " in html
    skipped = first + timedelta(weeks=1)
    assert f"Ikke {skipped.day}. " in html
    occurrences = re.findall(r'<time datetime="([^"]+)">', html.split("De neste gangene")[1])
    assert len(occurrences) == 5
    starts = [datetime.fromisoformat(o).replace(tzinfo=None) for o in occurrences]
    assert starts[0] == first and starts[1] == first + timedelta(
        weeks=2
    )  # the skipped week is left out


def test_biweekly_single_and_extra_dates_in_words(client, make_activity):
    first = next_weekday_at(2, 18, 15)
    activity = make_activity(
        schedule={
            "dtstart": first,
            "duration_minutes": 45,
            "rrule": build_rrule("biweekly", (first + timedelta(weeks=8)).date()),
            "rdates": format_local_list([first + timedelta(weeks=9)]),
        }
    )
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Annenhver onsdag kl. 18:15–19:00, fra " in html
    assert ". Også " in html
    once = make_activity(
        schedule={"dtstart": next_weekday_at(5, 10), "rrule": "", "duration_minutes": 120}
    )
    html = client.get(f"/activities/{once.id}").get_data(as_text=True)
    assert re.search(r"<p>Lørdag \d+\. \w+( \d{4})? kl\. 10:00–12:00\.</p>", html)


def test_cancelled_activity_shows_the_mark_and_the_note(client, make_activity):
    activity = make_activity(status="cancelled", cancellation_note="Hallen er stengt.")
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Avlyst" in html and "Hallen er stengt." in html
    assert json_ld(html)["eventStatus"] == "https://schema.org/EventCancelled"


def test_json_ld_is_a_schema_org_event(client, make_activity):
    activity = make_activity(title="Korpsøvelse", venue="Kulturhuset", price_nok=0)
    data = json_ld(client.get(f"/activities/{activity.id}").get_data(as_text=True))
    assert data["@context"] == "https://schema.org" and data["@type"] == "Event"
    assert data["name"] == "Korpsøvelse"
    assert data["location"]["name"] == "Kulturhuset"
    assert data["offers"]["price"] == "0" and data["offers"]["priceCurrency"] == "NOK"
    assert datetime.fromisoformat(data["startDate"]).tzinfo is not None
    assert data["organizer"]["name"] == activity.organisation.name


def test_a_title_cannot_close_the_json_ld_script(client, make_activity):
    title = '</script><script>alert("x")</script> & <!-- Fotball'
    activity = make_activity(title=title, summary="</SCRIPT> i ingressen")
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in script and ">" not in script
    data = json.loads(script)
    assert data["name"] == title and data["description"] == "</SCRIPT> i ingressen"
    assert '<script>alert("x")</script>' not in html


def test_unknown_activity_is_404(client):
    assert client.get("/activities/999999").status_code == 404
    assert client.get("/activities/abc").status_code == 404


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_non_public_activities_are_404_for_the_public(client, make_activity, status):
    activity = make_activity(status=status)
    assert client.get(f"/activities/{activity.id}").status_code == 404


def test_a_rejected_organisations_activity_is_404(client, make_activity, make_organisation):
    activity = make_activity(organisation=make_organisation(verification="rejected"))
    assert client.get(f"/activities/{activity.id}").status_code == 404


def test_a_past_activity_page_still_works_without_upcoming_dates(client, make_activity):
    activity = make_activity(schedule={"dtstart": datetime(2020, 5, 5, 17, 0), "rrule": ""})
    response = client.get(f"/activities/{activity.id}")
    assert response.status_code == 200
    assert "Ingen kommende datoer." in response.get_data(as_text=True)
    assert "startDate" not in json_ld(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (24, "Lørdag 8. mai 2027 kl. 10:00 til søndag kl. 10:00."),
        (24 * 9, "Lørdag 8. mai 2027 kl. 10:00 til 17. mai kl. 10:00."),
    ],
    ids=["overnight", "over-a-week"],
)
def test_an_event_past_midnight_says_the_day_it_ends(app, hours, expected):
    """A camp ending the next day is not '10:00–10:00' on the day it starts."""
    from directory.activities.display import describe_schedule
    from directory.activities.models import Schedule

    with app.test_request_context("/"), time_machine.travel(datetime(2026, 12, 4, 12), tick=False):
        schedule = Schedule(dtstart=datetime(2027, 5, 8, 10), duration_minutes=hours * 60, rrule="")
        assert describe_schedule(schedule) == expected
