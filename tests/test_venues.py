"""Venues as objects (issue 13): organisers pick or add one, the municipality corrects them,
`/venues/<slug>` lists what happens there, `/api/v1/venues` gives them, the CSV import and the
migration place activities at them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from directory.activities.models import Activity
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.venues.models import Venue
from tests.conftest import quick_user, sign_in
from tests.test_activities_manage import form_data
from tests.test_import import HEADER, csv_bytes, row


def venues() -> list[Venue]:
    return list(db.session.scalars(select(Venue).order_by(Venue.id)))


def only_activity() -> Activity:
    return db.session.scalars(select(Activity)).one()


@pytest.fixture
def admin(app, municipality):
    user = quick_user("kommune", admin_municipality_id=municipality.id)
    db.session.commit()
    return user


# --- the organiser's form ---------------------------------------------------------------------


def test_a_new_place_typed_in_becomes_a_venue_of_the_municipality(client, org, signed_in):
    response = client.post(
        f"/organisations/{org.slug}/activities/new",
        data=form_data(venue_accessibility="Heis til andre etasje."),
    )
    assert response.status_code == 302
    (venue,) = venues()
    assert (venue.name, venue.address) == ("Marienlyst", "Marienlystgata 1, 3015 Drammen")
    assert (venue.latitude, venue.longitude) == (Decimal("59.744"), Decimal("10.2045"))
    assert venue.accessibility == "Heis til andre etasje."
    assert venue.added_by_id == org.id and venue.municipality_id == org.municipality_id
    activity = only_activity()
    assert activity.venue_id == venue.id and activity.venue == "Marienlyst"


def test_the_same_place_typed_again_in_other_case_and_spacing_is_the_same_venue(
    client, org, signed_in
):
    client.post(f"/organisations/{org.slug}/activities/new", data=form_data())
    client.post(
        f"/organisations/{org.slug}/activities/new",
        data=form_data(title="Nok en", venue="  MARIENLYST ", address="marienlystgata 1,  3015 drammen",
                       latitude="", longitude=""),
    )  # fmt: skip
    assert len(venues()) == 1
    places = {a.venue_id for a in db.session.scalars(select(Activity))}
    assert places == {venues()[0].id}


def test_a_place_without_a_name_but_with_coordinates_is_refused(client, org, signed_in):
    response = client.post(
        f"/organisations/{org.slug}/activities/new",
        data=form_data(venue="", address=""),
    )
    assert response.status_code == 400
    assert "Skriv navnet på stedet" in response.get_data(as_text=True)
    assert venues() == [] and db.session.scalar(select(func.count(Activity.id))) == 0


def test_another_clubs_draft_place_is_not_offered_but_its_public_place_is(
    client, org, signed_in, make_organisation, make_activity
):
    other = make_organisation(name="Fjell IL")
    make_activity(organisation=other, venue="Fjellhallen", address="Fjellveien 3")
    make_activity(organisation=other, venue="Hemmelig hall", address="", status="draft")
    db.session.commit()
    html = client.get(f"/organisations/{org.slug}/activities/new").get_data(as_text=True)
    choice = re.search(r'<select[^>]*name="venue_choice".*?</select>', html, re.S).group(0)
    assert "Fjellhallen, Fjellveien 3" in choice
    assert "Hemmelig hall" not in choice


# --- the public page --------------------------------------------------------------------------


def test_the_venue_page_lists_the_public_activities_there_and_its_accessibility(
    client, make_activity
):
    first = make_activity(title="Turn for små", venue="Drammenshallen", address="Hallveien 1")
    make_activity(title="Utkast i hallen", venue="Drammenshallen", address="Hallveien 1",
                  status="draft")  # fmt: skip
    first.place.accessibility = "Trinnfri inngang og HC-toalett."
    db.session.commit()
    html = client.get(f"/venues/{first.place.slug}").get_data(as_text=True)
    assert "<h1>Drammenshallen</h1>" in html
    assert "Turn for små" in html and "Utkast i hallen" not in html
    assert "Trinnfri inngang og HC-toalett." in html
    page = client.get(f"/activities/{first.id}").get_data(as_text=True)
    assert f'href="/venues/{first.place.slug}">Drammenshallen</a>' in page
    assert "Trinnfri inngang og HC-toalett." in page


def test_a_place_only_a_draft_names_is_unknown_to_the_public(client, make_activity):
    draft = make_activity(venue="Hemmelig hall", address="", status="draft")
    db.session.commit()
    assert client.get(f"/venues/{draft.place.slug}").status_code == 404
    assert client.get("/venues/finnes-ikke").status_code == 404


# --- corrections ------------------------------------------------------------------------------


def test_the_municipality_corrects_a_venue_and_every_activity_there_follows(
    client, admin, make_activity
):
    one = make_activity(title="Fotball", venue="Idrettshall", address="Gata 1")
    two = make_activity(title="Håndball", venue="Idrettshall", address="Gata 1")
    db.session.commit()
    venue = one.place
    sign_in(client, admin)
    response = client.post(
        f"/venues/{venue.slug}/edit",
        data={"name": "Idrettshallen", "address": "Gata 1", "latitude": "59,75",
              "longitude": "10,2", "accessibility": "Heis", "version": str(venue.version)},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    for activity in (one, two):
        activity = db.session.get(Activity, activity.id)
        assert (activity.venue, activity.latitude) == ("Idrettshallen", Decimal("59.75"))
    found = client.get("/api/v1/activities").get_json()
    assert {(item["title"], item["venue"]) for item in found["items"]} == {
        ("Fotball", "Idrettshallen"),
        ("Håndball", "Idrettshallen"),
    }
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "venue.update")).one()
    assert event.data["after"]["name"] == "Idrettshallen"


def test_renaming_a_venue_to_another_venues_name_and_address_is_refused(
    client, admin, make_activity
):
    one = make_activity(venue="Hall A", address="Gata 1")
    make_activity(venue="Hall B", address="Gata 2")
    db.session.commit()
    venue = one.place
    sign_in(client, admin)
    response = client.post(
        f"/venues/{venue.slug}/edit",
        data={"name": "hall b", "address": "Gata 2", "latitude": "", "longitude": "",
              "accessibility": "", "version": str(venue.version)},
    )  # fmt: skip
    assert response.status_code == 409
    assert "finnes allerede som sted i kommunen" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Venue, venue.id).name == "Hall A"


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        ("91", "10", "Breddegraden må være mellom -90 og 90."),
        ("59,7", "", "Fyll inn begge koordinatene"),
        ("nord", "10", "Skriv breddegraden som et desimaltall"),
    ],
)
def test_bad_coordinates_are_refused_with_a_message(
    client, admin, make_activity, latitude, longitude, message
):
    venue = make_activity(venue="Hall", address="Gata 1").place
    db.session.commit()
    sign_in(client, admin)
    response = client.post(
        f"/venues/{venue.slug}/edit",
        data={"name": "Hall", "address": "Gata 1", "latitude": latitude, "longitude": longitude,
              "accessibility": "", "version": str(venue.version)},
    )  # fmt: skip
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Venue, venue.id).latitude is None


def test_the_admin_adds_a_venue_of_the_municipality_and_a_second_one_of_the_same_is_refused(
    client, admin, municipality
):
    sign_in(client, admin)
    data = {"name": "Kulturhuset", "address": "Torget 1", "latitude": "59,74",
            "longitude": "10,20", "accessibility": ""}  # fmt: skip
    assert client.post("/admin/venues/new", data=data).status_code == 302
    (venue,) = venues()
    assert venue.added_by_id is None and venue.municipality_id == municipality.id
    # The municipality's own venue is public at once, even with no activity yet.
    assert client.get(f"/venues/{venue.slug}").status_code == 200
    again = client.post("/admin/venues/new", data={**data, "name": "KULTURHUSET"})
    assert again.status_code == 409 and len(venues()) == 1
    listing = client.get("/admin/venues").get_data(as_text=True)
    assert "Kulturhuset" in listing and "Kommunen" in listing


# --- the API ----------------------------------------------------------------------------------


def test_the_api_lists_public_venues_with_their_counts(client, make_activity, make_municipality):
    make_activity(title="A", venue="Hallen", address="Gata 1", latitude=Decimal("59.7"),
                  longitude=Decimal("10.2"))  # fmt: skip
    make_activity(title="B", venue="Hallen", address="Gata 1")
    make_activity(title="C", venue="Hemmelig hall", address="", status="draft")
    db.session.commit()
    body = client.get("/api/v1/venues?municipality=drammen").get_json()
    assert [(v["name"], v["activities"], v["latitude"]) for v in body["items"]] == [
        ("Hallen", 2, 59.7)
    ]
    assert body["items"][0]["url"].endswith(f"/venues/{body['items'][0]['slug']}")
    detail = client.get(f"/api/v1/activities/{only_titled('A').id}").get_json()
    assert detail["venue_slug"] == body["items"][0]["slug"]


def only_titled(title: str) -> Activity:
    return db.session.scalars(select(Activity).where(Activity.title == title)).one()


def test_the_api_answers_an_unknown_municipality_with_404(client):
    response = client.get("/api/v1/venues?municipality=atlantis")
    assert response.status_code == 404
    assert "Atlantis" in response.get_json()["error"] or "atlantis" in response.get_json()["error"]


# --- the CSV import ---------------------------------------------------------------------------


@pytest.fixture
def run_import(import_activities_file):
    return import_activities_file


def test_the_import_places_rows_at_venues_and_reuses_one_venue_per_name_and_address(run_import):
    rows = [
        row(title="Trening 1", venue="Åssiden kunstgress", address="Gata 8", category=""),
        row(title="Trening 2", venue="åssiden KUNSTGRESS", address="Gata 8", category=""),
    ]
    result = run_import(csv_bytes(rows))
    assert result.exit_code == 0, result.output
    (venue,) = venues()
    assert venue.name == "Åssiden kunstgress"
    assert {a.venue_id for a in db.session.scalars(select(Activity))} == {venue.id}


def test_the_import_gives_a_venue_its_coordinates_and_fills_in_missing_ones_later(run_import):
    header = [*HEADER]
    plain = row(title="Trening", venue="Banen", address="Gata 8", category="")
    assert run_import(csv_bytes([plain])).exit_code == 0
    assert venues()[0].latitude is None
    # The same file again with the venue's coordinates: the activity stays, the venue learns.
    result = run_import(csv_bytes([{**plain, "latitude": "59,7561", "longitude": "10.1332"}],
                                  header=header))  # fmt: skip
    assert result.exit_code == 0, result.output
    (venue,) = venues()
    assert (venue.latitude, venue.longitude) == (Decimal("59.7561"), Decimal("10.1332"))
    assert db.session.scalar(select(func.count(Activity.id))) == 1


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        ("95", "10", "latitude «95» må være et desimaltall fra -90 til 90"),
        ("59.7", "", "latitude og longitude må fylles ut begge eller ingen av dem"),
        ("nord", "10", "latitude «nord» må være et desimaltall"),
    ],
)
def test_bad_coordinates_in_the_import_are_refused_and_nothing_is_written(
    run_import, latitude, longitude, message
):
    bad = row(venue="Banen", address="Gata 8", category="", latitude=latitude,
              longitude=longitude)  # fmt: skip
    result = run_import(csv_bytes([bad]))
    assert result.exit_code == 1
    assert message in result.output
    assert venues() == [] and db.session.scalar(select(func.count(Activity.id))) == 0


def test_a_file_with_latitude_but_no_longitude_column_is_refused(run_import):
    header = [c for c in HEADER if c != "longitude"]
    result = run_import(csv_bytes([row(category="", latitude="59.7")], header=header))
    assert result.exit_code == 1
    assert "Kolonnene latitude og longitude må stå i filen sammen." in result.output
