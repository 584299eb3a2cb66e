"""The clash finder: after a save or publish, an organiser is told of other organisations'
public offers for the same ages in the same municipality at the same times; nobody else is."""

from __future__ import annotations

import html
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import event, select

from directory.activities import clashes
from directory.activities.models import Activity
from directory.extensions import db
from directory.timeutil import OSLO
from tests.test_activities_manage import edit_data, form_data

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=OSLO)  # a Friday; the form's first Tuesday is 8 Dec
TUESDAY_17 = datetime(2026, 12, 8, 17, 0)  # naive Oslo wall time, as schedules store it
WEDNESDAY_17 = datetime(2026, 12, 9, 17, 0)
WARNING = "Obs: 1 tilbud fra en annen organisasjon"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def other_org(make_organisation):
    return make_organisation(name="Drammen Håndballklubb")


def other_offer(make_activity, organisation, **overrides):
    """Another club's weekly offer: Tuesdays 17:00–18:30 for 8–12 year olds, published."""
    schedule = {"dtstart": overrides.pop("dtstart", TUESDAY_17), "duration_minutes": 90}
    values = {"title": "Håndball for barn", "age_min": 8, "age_max": 12, "status": "published"}
    values.update(overrides)
    return make_activity(organisation=organisation, schedule=schedule, **values)


def create(client, org, **overrides):
    """Create through the form (Tuesdays 17:00–18:30, 8–12 years) and follow to the page."""
    response = client.post(f"/organisations/{org.slug}/activities/new", data=form_data(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return html.unescape(page)


def test_a_clash_with_another_organisations_offer_is_flashed_and_listed_with_why(
    client, org, signed_in, other_org, make_activity
):
    other_offer(make_activity, other_org)
    page = create(client, org)
    assert "Aktiviteten er lagret som utkast" in page  # the save succeeded all the same
    assert WARNING in page
    listed = page.split('id="clashes-heading"', 1)[1].split("</section>", 1)[0]
    assert "Håndball for barn" in listed and "Drammen Håndballklubb" in listed
    assert "samme alder, tirsdager 17:00–18:30" in listed
    assert db.session.scalars(select(Activity).where(Activity.organisation_id == org.id)).one()


def test_partly_overlapping_ages_and_times_say_which(
    client, org, signed_in, other_org, make_activity
):
    other_offer(
        make_activity, other_org, age_min=11, age_max=14, dtstart=TUESDAY_17.replace(hour=18)
    )
    page = create(client, org)
    assert "begge for 11–12 år, tirsdager 18:00–18:30" in page


@pytest.mark.parametrize(
    "case",
    ["different ages", "another day", "after it ends", "another municipality", "own offer",
     "draft", "cancelled", "far away"],
)  # fmt: skip
def test_no_warning_when_the_offers_do_not_compete(
    client, org, signed_in, other_org, make_activity, make_organisation, make_municipality, case
):
    if case == "different ages":
        other_offer(make_activity, other_org, age_min=13, age_max=16)
    elif case == "another day":
        other_offer(make_activity, other_org, dtstart=WEDNESDAY_17)
    elif case == "after it ends":
        other_offer(make_activity, other_org, dtstart=TUESDAY_17.replace(hour=18, minute=30))
    elif case == "another municipality":
        elsewhere = make_organisation(municipality=make_municipality(name="Lier"))
        other_offer(make_activity, elsewhere)
    elif case == "own offer":
        other_offer(make_activity, org)
    elif case == "far away":  # the form's venue is in Drammen; this one in Oslo
        other_offer(make_activity, other_org, latitude=59.9139, longitude=10.7522)
    else:
        other_offer(make_activity, other_org, status=case)
    page = create(client, org)
    assert "Aktiviteten er lagret som utkast" in page
    assert "Obs:" not in page and 'id="clashes-heading"' not in page


def test_an_edit_into_the_same_time_warns_and_is_saved(
    client, org, signed_in, other_org, make_activity
):
    other_offer(make_activity, other_org)
    create(client, org, start_time="19:00", end_time="20:00")
    mine = db.session.scalars(select(Activity).where(Activity.organisation_id == org.id)).one()
    data = edit_data(client, mine.id, start_time="18:00", end_time="19:00")
    response = client.post(f"/activities/{mine.id}/edit", data=data, follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "Endringene er lagret." in page and WARNING in page
    assert "samme alder, tirsdager 18:00–18:30" in page


def test_publishing_warns_too(client, org, signed_in, other_org, make_activity):
    other_offer(make_activity, other_org)
    mine = other_offer(make_activity, org, title="Fotball", status="draft")
    response = client.post(
        f"/activities/{mine.id}/publish",
        data={"version": mine.version, "return_to": "list"},
        follow_redirects=True,
    )
    page = html.unescape(response.get_data(as_text=True))
    assert "Aktiviteten er publisert." in page and WARNING in page


def test_the_public_and_other_clubs_never_see_the_clashes(
    app, client, org, member, make_activity, make_organisation, make_user, login_as
):
    rival = make_user("handball@example.org")
    other_offer(make_activity, make_organisation(name="Håndballklubben", members=[rival]))
    mine = other_offer(make_activity, org, title="Fotball")
    url = f"/activities/{mine.id}"
    anonymous = app.test_client().get(url).get_data(as_text=True)
    assert "Fotball" in anonymous and 'id="clashes-heading"' not in anonymous
    login_as(rival)  # the other club's member sees the page as the public does
    page = client.get(url).get_data(as_text=True)
    assert "Fotball" in page and 'id="clashes-heading"' not in page
    login_as(member)  # and the organiser does see it
    assert 'id="clashes-heading"' in client.get(url).get_data(as_text=True)


def test_the_candidates_are_bounded_and_gathered_in_three_queries(
    app, org, other_org, make_activity, make_organisation, monkeypatch
):
    monkeypatch.setattr(clashes, "MAX_CANDIDATES", 4)
    others = [make_organisation() for _ in range(3)] + [other_org]
    for n in range(6):
        other_offer(make_activity, others[n % 4], title=f"Tilbud {n}")
    mine = other_offer(make_activity, org, title="Fotball")
    db.session.expire_all()
    mine = db.session.get(Activity, mine.id)
    _ = mine.schedules, mine.organisation  # loaded as the page loads them
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = clashes.find_for(mine)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 3
    assert len(found) == 4  # at most MAX_CANDIDATES compared
