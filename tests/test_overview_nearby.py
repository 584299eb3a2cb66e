"""The weekly overview's printable list of offers near the school (issue 13, "near a school")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from tests.conftest import next_weekday_at, sign_in

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # Wednesday 18 November 2026
WEEK = "2026-W48"  # Monday 23 to Sunday 29 November
BASE = "https://aktiviteter.example.no"


@pytest.fixture(autouse=True)
def _on_a_wednesday_in_november():
    with time_machine.travel(NOW, tick=False):
        yield


def at(lat: float, lon: float) -> dict:
    """A venue of its own at this point (activities at one venue share its coordinates)."""
    return {"venue": f"Hallen {lat}", "address": f"Veien {lat}",
            "latitude": Decimal(str(lat)), "longitude": Decimal(str(lon))}  # fmt: skip


@pytest.fixture
def world(app, monkeypatch, make_school, make_staff, make_activity):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    school = make_school(slug="fjell", name="Fjell skole", grade_min=1, grade_max=7,
                         latitude=59.7439, longitude=10.2045)  # fmt: skip
    tuesday = next_weekday_at(1, 17)
    make_activity(title="Lenger unna", **at(59.7546, 10.2045))  # 1.19 km
    near = make_activity(title="Like ved", **at(59.7450, 10.2050))  # 0.13 km
    make_activity(title="For langt unna", **at(59.8000, 10.2045))  # 6.24 km
    make_activity(title="For de store", age_min=16, age_max=18, **at(59.7451, 10.2051))
    make_activity(title="Avlyst", status="cancelled", **at(59.7452, 10.2052))
    make_activity(title="Uten sted", venue="", address="")
    make_activity(title="Neste uke", **at(59.7453, 10.2053),
                  schedule={"dtstart": tuesday + timedelta(days=7), "rrule": ""})  # fmt: skip
    return {"school": school, "staff": make_staff(school), "near": near}


def nearby_rows(html: str) -> list[str]:
    section = re.search(r'<section class="nearby".*?</section>', html, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]  # the header row first
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_the_overview_lists_the_offers_near_the_school_nearest_first(client, world):
    sign_in(client, world["staff"])
    response = client.get(f"/schools/fjell/overview/{WEEK}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tilbud i nærheten av skolen" in html
    assert "innen 5,0 km fra skolen" in html
    rows = nearby_rows(html)
    assert [row.split(" km ")[1].split(" Organisasjon")[0] for row in rows] == [
        "Like ved",
        "Lenger unna",
    ]
    first = rows[0]
    assert first.startswith("0,1 km Like ved")
    assert "tirsdag 24. november kl. 17:00" in first
    assert f"Hallen 59.745, Veien 59.745 {BASE}/a/{world['near'].id}" in first
    assert rows[1].startswith("1,2 km Lenger unna")


def test_a_school_without_coordinates_gets_a_hint(client, world):
    world["school"].latitude = None
    from directory.extensions import db

    db.session.commit()
    sign_in(client, world["staff"])
    html = client.get(f"/schools/fjell/overview/{WEEK}").get_data(as_text=True)
    assert "Skolen har ingen koordinater ennå. Kommunen kan legge dem inn" in html
    assert "<table" not in html
