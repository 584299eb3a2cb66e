"""SQL statements per request: the activity page and the organiser's reach page cost a fixed
number of statements, whatever the number of schools or occurrences."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.schools.models import ChannelPolicy
from directory.timeutil import OSLO
from tests.test_api import count_queries

# A Wednesday morning in Oslo: week 2026-W47 is this week, W48 the next.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=OSLO)
WEEK = "2026-W48"
FLYER = {"flyer_filename": "ab" * 16 + ".pdf"}
POST = {"facebook_post_url": "https://www.facebook.com/klubben/posts/1"}

# The counts at three schools, pinned so a regression shows. The reach page's include the
# sign-in's own (the session, the user, their memberships and school roles); before issue 16 it
# ran 28 at three schools and 177 at thirty.
REACH_STATEMENTS = 15
# The activity page: the activity with its organisation, municipality, category, schedules and
# translations in one statement, its venue, and the public data's version, under which the
# page's schedule facts are kept (6 while the to-one relations came one by one, 4 while the
# schedules and the translations came apart).
ACTIVITY_STATEMENTS = 3
# The search pages and the API list once this process has their cards and items (kept until
# the public data changes, directory/activities/cards.py) and knows which of the found
# activities are listed on the day: the public data's version only (before issue 16: 11 and 7;
# 6 while every request loaded the activities, their schedules, translations, organisations and
# categories; 2 while every request asked which were still listed).
HOME_STATEMENTS = 1
API_LIST_STATEMENTS = 1
# The first request after a change: the version, which of the found activities are listed, then
# the activities with their organisations and categories, their schedules and their
# translations, together for the whole page.
FIRST_STATEMENTS = 5
# The API list next, in the same version: what is listed is known; its items are new.
ITEMS_STATEMENTS = 4


def statements_for(client, path: str) -> int:
    """The number of SQL statements one GET of `path` runs (it must answer 200)."""
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(statements)


def _add_schools(make_school, make_user, world, count: int, start: int = 0) -> None:
    """`count` schools of every kind the page shows: with and without the channels, some with
    their own policy, some with the week's backpack post taken or asked for already."""
    requester = make_user()
    for n in range(start, start + count):
        school = make_school(
            slug=f"skole-{n:02d}",
            name=f"Skole {n:02d}",
            facebook_page_url=None if n % 3 == 1 else "https://www.facebook.com/skole",
            accepts_backpack_post=n % 4 != 2,
            grade_min=8 if n % 7 == 6 else 1,
            grade_max=10 if n % 7 == 6 else 7,
        )
        if n % 5 == 0:
            settings = (
                {"backpack_weekly_quota": 1}
                if n % 2
                else {"order": ["backpack", "facebook"], "lead_days": 10}
            )
            db.session.add(
                ChannelPolicy(
                    municipality_id=school.municipality_id, school_id=school.id, settings=settings
                )
            )
        if n % 4 == 1:  # someone else's flyer already takes a place this week
            db.session.add(
                DistributionRequest(
                    activity=world["other"],
                    school=school,
                    week=WEEK,
                    channel="backpack_post",
                    rule="backpack",
                    status="approved",
                    requested_by_id=requester.id,
                )
            )
        if n % 6 == 2:  # this activity was asked for already
            db.session.add(
                DistributionRequest(
                    activity=world["activity"],
                    school=school,
                    week="2026-W49",
                    channel="facebook_share",
                    rule="facebook",
                    status="pending",
                    requested_by_id=requester.id,
                )
            )
    db.session.commit()


@pytest.fixture
def reach_world(app, quiet_search, make_school, make_organisation, make_activity, make_user):
    """A signed-in organiser's activity (with a flyer and a Facebook post) and a way to add
    schools to its municipality."""
    with time_machine.travel(NOW, tick=False):
        member = make_user("leder@klubben.example")
        club = make_organisation(slug="klubben", name="Klubben", members=[member])
        other = make_activity(title="Annet", organisation=make_organisation(), **FLYER)
        activity = make_activity(
            title="Fotball", organisation=club, age_min=8, age_max=10, **FLYER, **POST
        )
        db.session.add(
            ChannelPolicy(
                municipality_id=club.municipality_id,
                settings={
                    "order": ["facebook", "backpack"],
                    "facebook_enabled": True,
                    "backpack_enabled": True,
                    "backpack_weekly_quota": 2,
                    "blackout_weeks": ["2026-W50"],
                    "municipal_in_messaging": True,
                },
            )
        )
        db.session.commit()
    return {"member": member, "activity": activity, "other": other}


def test_the_reach_page_costs_the_same_at_3_and_30_schools(
    client, login_as, reach_world, make_school, make_user
):
    activity = reach_world["activity"]
    path = f"/activities/{activity.id}/reach"
    with time_machine.travel(NOW, tick=False):
        login_as(reach_world["member"])
        _add_schools(make_school, make_user, reach_world, 3)
        at_three = statements_for(client, path)
        with_week = statements_for(client, f"{path}?week=2026-W49")
        _add_schools(make_school, make_user, reach_world, 27, start=3)
        at_thirty = statements_for(client, path)
        assert statements_for(client, f"{path}?week=2026-W49") == with_week
    assert at_thirty == at_three
    assert at_three == REACH_STATEMENTS


def test_the_activity_page_costs_the_same_whatever_its_occurrences(
    client, app, make_activity, make_school
):
    with time_machine.travel(NOW, tick=False):
        few = make_activity(schedule={"dtstart": datetime(2026, 11, 24, 17), "rrule": ""})
        many = make_activity(
            schedule={
                "dtstart": datetime(2026, 1, 6, 17),
                "rrule": "FREQ=DAILY",
                "exdates": "20261119T170000 20261121T170000",
                "rdates": "20261118T200000",
            }
        )
        for _n in range(3):
            make_school()
        at_three = statements_for(client, f"/activities/{few.id}")
        assert statements_for(client, f"/activities/{many.id}") == at_three
        for _n in range(27):
            make_school()
        assert statements_for(client, f"/activities/{few.id}") == at_three
    assert at_three == ACTIVITY_STATEMENTS


def test_the_search_pages_cost_the_same_at_3_and_30_schools(
    client, app, make_activity, make_school, make_category
):
    sport, old = make_category(), make_category(hidden=True)
    for n in range(4):
        make_activity(title=f"Fotball {n}", category=sport if n % 2 else old)
    paths = ("/", "/activities?q=fotball", "/api/v1/activities")
    for _n in range(3):
        make_school()
    for path in paths:
        client.get(path)  # this process loads the filter lists once per data version
    at_three = [statements_for(client, path) for path in paths]
    for _n in range(27):
        make_school()
    for path in paths:
        client.get(path)
    assert [statements_for(client, path) for path in paths] == at_three
    assert at_three == [HOME_STATEMENTS, HOME_STATEMENTS, API_LIST_STATEMENTS]


def test_after_a_change_a_page_loads_its_activities_together_whatever_their_number(
    client, make_activity, make_organisation
):
    club = make_organisation()
    for listed in (3, 20):
        for n in range(listed - 1):
            make_activity(title=f"Fotball {listed}-{n}", organisation=club)
        make_activity(title="Fotball sist", organisation=club)  # a change: nothing kept holds
        client.get("/activities?q=ingenting")  # the filter lists again, and no card
        assert statements_for(client, "/") == FIRST_STATEMENTS
        client.get("/activities?q=ingenting")  # the same version: only the API's items are new
        assert statements_for(client, "/api/v1/activities") == ITEMS_STATEMENTS
