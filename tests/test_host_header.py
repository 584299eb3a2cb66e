"""Host header poisoning (issue #11, finding 3): the client's Host never reaches a link.

With PUBLIC_BASE_URL set, every absolute URL the site writes (Atom ids and links, iCalendar
URLs and UIDs, the widget, the API, the activity page's structured data and calendar buttons,
the school's CSV and text files, the backpack PDF's QR codes) is on that address whatever Host
the request named. In the production profile another Host is refused outright with a 400 and
a message; the default profile (`make run`) answers on 127.0.0.1 and localhost as before.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import zxingcpp
from icalendar import Calendar
from pypdf import PdfReader

from directory.accounts.operations import start_session
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.schools.routing import iso_week
from directory.timeutil import utcnow
from tests.conftest import next_weekday_at, require_tool

BASE = "https://aktiviteter.example.no"
EVIL = "evil.example"
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday; the activities meet on Tuesdays
WEEK = "2026-W48"


@pytest.fixture(autouse=True)
def _on_a_wednesday_in_november():
    with time_machine.travel(NOW, tick=True):
        assert iso_week(next_weekday_at(1, 17).date()) == WEEK
        yield


@pytest.fixture
def public_base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)


@pytest.fixture
def activity(app, make_activity):
    return make_activity(
        title="Korps",
        image_filename="a" * 32 + ".jpg",
        image_alt="Barn som spiller",
        flyer_filename="b" * 32 + ".pdf",
    )


def evil_get(client, path: str):
    """GET with a forged Host header, as an attacker (or a cache in front) would send it."""
    return client.get(path, base_url=f"http://{EVIL}")


def assert_no_evil(text: str) -> None:
    assert EVIL not in text
    assert BASE in text


# --- public outputs ---------------------------------------------------------------------------


def test_atom_feed_links_and_ids_ignore_the_host_header(client, public_base_url, activity):
    body = evil_get(client, "/feed.atom").get_data(as_text=True)
    assert_no_evil(body)
    assert f"<id>{BASE}/activities/{activity.id}</id>" in body


def test_ics_uids_and_urls_ignore_the_host_header(client, public_base_url, activity):
    for path in (f"/activities/{activity.id}.ics", "/calendar.ics"):
        body = evil_get(client, path).data
        assert_no_evil(body.decode())
        (event,) = Calendar.from_ical(body).walk("VEVENT")
        assert str(event["UID"]).endswith("@aktiviteter.example.no")
        assert str(event["URL"]) == f"{BASE}/activities/{activity.id}"


def test_widget_links_ignore_the_host_header(client, public_base_url, activity):
    body = evil_get(client, "/embed").get_data(as_text=True)
    assert_no_evil(body)
    assert f'href="{BASE}/activities/{activity.id}"' in body


def test_api_urls_ignore_the_host_header(client, public_base_url, activity):
    listed = evil_get(client, "/api/v1/activities").get_json()
    one = evil_get(client, f"/api/v1/activities/{activity.id}").get_json()
    organisations = evil_get(client, "/api/v1/organisations").get_json()

    for document in (listed, one, organisations):
        assert_no_evil(json.dumps(document))
    assert one["url"] == f"{BASE}/activities/{activity.id}"
    assert one["image_url"] == f"{BASE}/media/{activity.image_filename}"


def test_activity_page_structured_data_and_calendar_links_ignore_the_host_header(
    client, public_base_url, activity
):
    page = evil_get(client, f"/activities/{activity.id}").get_data(as_text=True)
    (ld,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    data = json.loads(ld)
    assert data["url"] == f"{BASE}/activities/{activity.id}"
    assert data["organizer"]["url"].startswith(BASE + "/")
    assert EVIL not in page


def test_cacheable_feeds_are_the_same_whatever_the_host(client, public_base_url, activity):
    for path in ("/feed.atom", "/embed"):
        ours = client.get(path, base_url=BASE)
        theirs = evil_get(client, path)
        assert "public" in theirs.headers["Cache-Control"]
        assert theirs.headers["ETag"] == ours.headers["ETag"]
        assert theirs.get_data() == ours.get_data()


# --- school staff's files ---------------------------------------------------------------------


@pytest.fixture
def school_with_requests(app, public_base_url, activity, make_school, make_staff):
    """A school whose staff have approved the activity for the messaging app and the backpack."""
    school = make_school(slug="bragernes", name="Bragernes skole")
    staff = make_staff(school)
    for channel, rule in (("school_messaging", "facebook"), ("backpack_post", "backpack")):
        db.session.add(
            DistributionRequest(
                activity=activity,
                school=school,
                week=WEEK,
                channel=channel,
                rule=rule,
                reasons=[],
                grades=[3, 4],
                status="approved",
                reviewed_by_id=staff.id,
                reviewed_at=utcnow() - timedelta(hours=1),
            )
        )
    db.session.commit()
    return school, staff


@pytest.fixture
def evil_staff_client(client, school_with_requests):
    """The school's staff, signed in, sending every request with the forged Host."""
    _school, staff = school_with_requests
    token = start_session(staff)
    db.session.commit()
    with client.session_transaction(base_url=f"http://{EVIL}") as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def evil_download(client, channel: str, fmt: str):
    response = client.post(
        f"/schools/bragernes/exports/{WEEK}/{channel}.{fmt}", base_url=f"http://{EVIL}"
    )
    assert response.status_code == 200
    return response


def test_messaging_csv_links_ignore_the_host_header(evil_staff_client, activity):
    raw = evil_download(evil_staff_client, "school_messaging", "csv").get_data()
    [row] = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
    assert row["Lenke"] == f"{BASE}/activities/{activity.id}"
    assert row["Kort lenke"] == f"{BASE}/a/{activity.id}?s=bragernes&c=school_messaging&w={WEEK}"
    assert_no_evil(raw.decode("utf-8-sig"))


def test_backpack_pdf_qr_codes_ignore_the_host_header(evil_staff_client, activity, tmp_path):
    if shutil.which("pdftoppm") is None:
        require_tool("pdftoppm (poppler-utils) is not installed")
    from PIL import Image

    pdf = tmp_path / "ranselpost.pdf"
    pdf.write_bytes(evil_download(evil_staff_client, "backpack_post", "pdf").get_data())
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert EVIL not in text

    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "p")], check=True)
    found = {
        code.text
        for png in tmp_path.glob("p-*.png")
        for code in zxingcpp.read_barcodes(Image.open(png).convert("L"))
    }
    assert found == {
        f"{BASE}/a/{activity.id}?s=bragernes&c=backpack_post&w={WEEK}",
        f"{BASE}/activities/{activity.id}.ics",
    }


# --- the production profile refuses other hosts -------------------------------------------------


@pytest.fixture
def production(make_app):
    return make_app(PROFILE="production", PUBLIC_BASE_URL=BASE)


def test_production_refuses_a_forged_host_with_a_400_page(production):
    client = production.test_client()

    response = client.get("/", base_url=f"https://{EVIL}")

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Nettstedet svarer ikke på adressen" in response.get_data(as_text=True)
    assert EVIL not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/activities", "/healthz"])
def test_production_refuses_a_forged_host_with_json_on_the_api(production, path):
    response = production.test_client().get(path, base_url=f"https://{EVIL}")

    assert response.status_code == 400
    assert "Nettstedet svarer ikke på adressen" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/feed.atom", "/calendar.ics", "/embed"])
def test_production_refuses_a_forged_host_on_the_cacheable_feeds(production, path):
    response = production.test_client().get(path, base_url=f"https://{EVIL}")

    assert response.status_code == 400
    assert "public" not in response.headers.get("Cache-Control", "")


def test_production_refuses_a_forged_host_for_a_signed_in_post(production):
    client = production.test_client()
    response = client.post(
        "/login", data={"email": "a@example.org", "password": "x"}, base_url=f"https://{EVIL}"
    )
    assert response.status_code == 400


def test_production_answers_on_its_public_address(production):
    client = production.test_client()
    assert client.get("/", base_url=BASE).status_code == 200
    assert client.get("/healthz", base_url=BASE + ":443").status_code == 200


@pytest.mark.parametrize(
    "names",
    [["www.example.no", "alt.example.no"], "www.example.no, alt.example.no"],
    ids=["list", "environment-string"],
)
def test_production_also_answers_on_configured_extra_names(make_app, names):
    app = make_app(PROFILE="production", PUBLIC_BASE_URL=BASE, TRUSTED_HOSTS=names)
    client = app.test_client()
    assert client.get("/", base_url="https://www.example.no").status_code == 200
    assert client.get("/", base_url="https://alt.example.no").status_code == 200
    assert client.get("/", base_url=BASE).status_code == 200
    assert client.get("/", base_url=f"https://{EVIL}").status_code == 400


def test_production_without_a_public_address_answers_only_on_this_machine(make_app):
    client = make_app(PROFILE="production").test_client()
    assert client.get("/", base_url="https://localhost").status_code == 200
    assert client.get("/", base_url="https://127.0.0.1").status_code == 200
    assert client.get("/", base_url=f"https://{EVIL}").status_code == 400


def test_make_run_answers_on_127_0_0_1_and_localhost(client):
    assert client.get("/", base_url="http://127.0.0.1:5000").status_code == 200
    assert client.get("/", base_url="http://localhost:5000").status_code == 200


def test_a_public_address_without_a_scheme_stops_the_start_with_a_message(make_app):
    with pytest.raises(RuntimeError, match="https://"):
        make_app(PROFILE="production", PUBLIC_BASE_URL="aktiviteter.example.no")
