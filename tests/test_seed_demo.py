"""`flask seed-demo`: a realistic, consistent demo that loads once."""

from __future__ import annotations

import html
import io
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from directory.accounts.models import User
from directory.activities.display import describe_schedule
from directory.activities.models import Activity, Category
from directory.activities.schedule import next_start
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import fitting_grades
from directory.audit.models import AuditEvent
from directory.demo import (
    ADMIN_PASSWORD,
    DEMO_ACCOUNTS,
    SCHOOL_PASSWORD,
    load_demo,
    request_weeks,
)
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from directory.policy.orgnumber import is_valid_org_number
from directory.policy.request_states import (
    CANCELLED,
    QUOTA_STATES,
    REQUESTABLE_CHANNELS,
    STATES,
)
from directory.schools.calendar import closed_weeks
from directory.schools.models import Municipality, School, SchoolStaff
from directory.schools.routing import policy_for
from directory.storage import upload_storage
from directory.timeutil import OSLO, oslo_now
from tests.conftest import login

# The demo writes flyers into the shared upload folder: each test removes those it added.
pytestmark = pytest.mark.usefixtures("remove_new_uploads")


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def municipality_counts(slug: str) -> tuple[int, int, int]:
    """(schools, organisations, activities) of a municipality."""
    municipality = db.session.scalars(select(Municipality).where(Municipality.slug == slug)).one()
    schools = db.session.scalar(
        select(func.count()).select_from(School).where(School.municipality_id == municipality.id)
    )
    orgs = db.session.scalar(
        select(func.count())
        .select_from(Organisation)
        .where(Organisation.municipality_id == municipality.id)
    )
    activities = db.session.scalar(
        select(func.count())
        .select_from(Activity)
        .join(Organisation)
        .where(Organisation.municipality_id == municipality.id)
    )
    return schools, orgs, activities


def test_seed_demo_loads_a_consistent_demo_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "310 aktiviteter" in result.output
    assert "forespørsler til skolene" in result.output
    assert "admin@drammen.example / demo-admin-2026" in result.output
    db.session.expire_all()

    assert municipality_counts("drammen") == (15, 30, 300)
    schools, orgs, activities = municipality_counts("lier")
    assert (schools, orgs) == (2, 3)
    assert 8 <= activities <= 12
    assert db.session.scalar(select(func.count()).select_from(Category)) == 10

    drammen = db.session.scalars(select(Municipality).where(Municipality.slug == "drammen")).one()
    assert (drammen.messaging_label, drammen.org_number) == ("Vigilo", "921234554")

    # Schools: grades, channels and aggregate class counts.
    schools = db.session.scalars(select(School)).all()
    assert {(s.grade_min, s.grade_max) for s in schools} >= {(1, 7), (8, 10), (1, 10)}
    assert any(s.facebook_page_url for s in schools)
    assert any(not s.facebook_page_url for s in schools)
    assert any(not s.accepts_backpack_post for s in schools)
    for school in schools:
        assert [g.grade for g in school.grade_counts] == school.grades
        for count in school.grade_counts:
            assert 2 <= count.classes <= 4
            assert 18 * count.classes <= count.pupils <= 28 * count.classes

    # Organisations: every kind, valid numbers, most verified.
    orgs = db.session.scalars(select(Organisation)).all()
    assert all(is_valid_org_number(o.org_number) for o in orgs)
    assert len({o.org_number for o in orgs}) == len(orgs)
    drammen_orgs = [o for o in orgs if o.municipality_id == drammen.id]
    assert Counter(o.verification for o in drammen_orgs) == {
        "verified": 26,
        "pending": 3,
        "rejected": 1,
    }
    assert {o.kind for o in drammen_orgs} == {"volunteer", "municipal", "school", "commercial"}
    assert all(o.description.strip() and "**" in o.description for o in orgs)
    assert all(o.verified_by_id for o in orgs if o.verification == "verified")

    # Activities: in their organisation's municipality, varied, and many upcoming.
    activities = db.session.scalars(select(Activity)).all()
    schools_by_name = {s.name: s for s in schools}
    for activity in activities:
        host = schools_by_name.get(activity.venue)
        if host is not None:
            assert host.municipality_id == activity.organisation.municipality_id, activity.title
        assert activity.schedules
        assert 4 <= activity.age_min <= activity.age_max <= 19
    statuses = Counter(a.status for a in activities)
    assert statuses["published"] > 200
    assert {"draft", "cancelled", "archived"} <= set(statuses)
    free = sum(a.price_nok == 0 for a in activities)
    assert 0.35 < free / len(activities) < 0.65
    assert all(a.price_nok == 0 or 100 <= a.price_nok <= 2500 for a in activities)
    assert all(
        a.facebook_post_url.startswith("https://www.facebook.com/")
        for a in activities
        if a.facebook_post_url
    )
    assert 60 <= sum(bool(a.facebook_post_url) for a in activities) <= 150
    upcoming = [
        a for a in activities if a.status == "published" and next_start(a.schedules) is not None
    ]
    assert len(upcoming) > 150
    recurring = [s for a in activities for s in a.schedules if s.rrule]
    assert any("INTERVAL=2" in s.rrule for s in recurring)
    assert any(s.exdates for s in recurring)
    assert all("UNTIL=" in s.rrule and s.rrule.endswith("Z") for s in recurring)
    archived = [a for a in activities if a.status == "archived"]
    assert all(next_start(a.schedules) is None for a in archived)

    # Venues (issue 13): every activity at one, every venue with coordinates, and every school
    # with coordinates and public offers within a few kilometres.
    from directory.policy.geo import great_circle_km
    from directory.venues.models import Venue

    assert all(a.venue_id is not None for a in activities)
    venues = db.session.scalars(select(Venue)).all()
    assert len(venues) >= 20 and all(v.has_point for v in venues)
    assert any(v.accessibility for v in venues)
    for school in schools:
        assert school.latitude is not None and school.longitude is not None, school.name
        near = [
            a for a in upcoming
            if great_circle_km(school.latitude, school.longitude,
                               float(a.latitude), float(a.longitude)) <= 5
        ]  # fmt: skip
        assert len(near) >= 5, school.name
        assert any(a.trial_session for a in near), school.name

    # Flyers: about a third, real one-page A4 PDFs in the upload folder.
    with_flyer = [a for a in activities if a.flyer_filename]
    assert 60 <= len(with_flyer) <= 150
    for activity in with_flyer:
        reader = PdfReader(io.BytesIO(upload_storage().read(activity.flyer_filename)))
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)
        # The flyer says when as the activity page does, with its dashes and letters intact.
        text = " ".join(reader.pages[0].extract_text().split())
        assert activity.title in text
        assert describe_schedule(activity.schedules[0]) in text

    # Accounts: a small set with the documented roles.
    assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)
    admin = db.session.scalars(select(User).where(User.email == "admin@drammen.example")).one()
    assert admin.admin_municipality_id == drammen.id
    owner = db.session.scalars(select(User).where(User.email == "leder@drammen-turn.example")).one()
    assert [(m.organisation.name, m.role) for m in owner.memberships] == [
        ("Drammen Turnforening", "owner")
    ]
    assert db.session.scalar(select(func.count()).select_from(Membership)) >= 8
    roles = {(r.user.email, r.school.name, r.role) for r in db.session.scalars(select(SchoolStaff))}
    assert ("rektor@gulskogen.example", "Gulskogen skole", "admin") in roles
    assert ("laerer@gulskogen.example", "Gulskogen skole", "staff") in roles

    # The documented admin login works through the real login form.
    client = app.test_client()
    response = login(client, "admin@drammen.example", ADMIN_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account")

    # A second run with --if-empty changes nothing.
    before = table_counts()
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    assert "lastes ikke" in again.output
    db.session.expire_all()
    assert table_counts() == before


def test_seed_demo_without_if_empty_refuses_to_load_twice(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    before = table_counts()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "Demodataene finnes allerede" in result.output
    db.session.expire_all()
    assert table_counts() == before


# The demo is built for the day given, but sending its requests asks the clock which weeks have
# passed: the clock stands on that day too, or the test fails once the day is over.
@time_machine.travel(datetime(2027, 2, 3, 11, 0, tzinfo=UTC), tick=True)
def test_the_demo_is_the_same_for_the_same_day(app):
    now = datetime(2027, 2, 3, 12, 0, tzinfo=OSLO)  # a Wednesday

    def snapshot():
        load_demo(now=now)
        rows = db.session.execute(
            select(Organisation.org_number, Activity.title, Activity.status, Activity.price_nok)
            .join(Activity.organisation)
            .order_by(Activity.id)
        ).all()
        schedules = sorted(
            (a.title, a.status, s.dtstart, s.rrule, s.exdates)
            for a in db.session.scalars(select(Activity))
            for s in a.schedules
        )
        requests = sorted(
            (r.school.slug, r.week, r.activity.title, r.channel, r.status, tuple(r.grades),
             r.review_reason, r.requested_by.email, r.created_at.replace(tzinfo=None))
            for r in db.session.scalars(select(DistributionRequest))
        )  # fmt: skip
        db.session.rollback()
        return rows, schedules, requests

    first = snapshot()
    assert first == snapshot()
    # The requests are for the given day's week and the next, and every channel has something
    # to export at two schools or more.
    assert {week for _s, week, *_rest in first[2]} == {"2027-W05", "2027-W06"}
    exporting = defaultdict(set)
    for slug, _week, _title, channel, status, *_rest in first[2]:
        if status in QUOTA_STATES:
            exporting[channel].add(slug)
    assert all(len(exporting[channel]) >= 2 for channel in REQUESTABLE_CHANNELS), exporting
    # The season starts on the Monday of the given day's week; archived ones lie before it.
    current = [start for _t, status, start, _r, _e in first[1] if status != "archived"]
    assert date(2027, 2, 1) <= min(current).date() < date(2027, 2, 8)
    past = [start for _t, status, start, _r, _e in first[1] if status == "archived"]
    assert past and max(past).date() < date(2027, 2, 1)


# --- distribution requests -----------------------------------------------------------------


def test_the_demo_has_requests_in_every_state_for_this_week_and_the_next(app):
    now = oslo_now()
    summary = load_demo(now=now)
    db.session.commit()
    requests = db.session.scalars(select(DistributionRequest)).all()
    assert summary.requests == len(requests) > 0

    # This week and the next, or the first ones after them that the demo's school holidays
    # leave open.
    drammen = db.session.scalar(select(Municipality).where(Municipality.slug == "drammen"))
    weeks = [week for week, _monday in request_weeks(now.date(), closed_weeks(drammen.id))]
    # A request cancelled after approval needs its activity cancelled, which the demo keeps
    # out of the schools' weeks.
    for week in weeks:
        assert {r.status for r in requests if r.week == week} == set(STATES) - {CANCELLED}, week
    assert {r.week for r in requests} == set(weeks)

    # At three schools or more the staff have approved or exported something, and together
    # those schools have every channel to export; the demo staff's own schools among them.
    approved = defaultdict(set)
    for req in requests:
        if req.status in QUOTA_STATES:
            approved[req.school.name].add(req.channel)
    assert len(approved) >= 3
    assert set().union(*approved.values()) == set(REQUESTABLE_CHANNELS)
    staff_schools = {a.target for a in DEMO_ACCOUNTS if a.role.startswith("school_")}
    assert staff_schools <= set(approved)
    assert all(r.school.municipality.slug == "drammen" for r in requests)

    # No school's week holds more backpack-post approvals than its quota.
    holding = Counter(
        (r.school, r.week)
        for r in requests
        if r.channel == "backpack_post" and r.status in QUOTA_STATES
    )
    for (school, _week), count in holding.items():
        assert count <= policy_for(school).backpack_weekly_quota, school.name

    # Organisers of the demo send, the school's demo staff answer, and the times add up.
    staff = {(s.user_id, s.school_id) for s in db.session.scalars(select(SchoolStaff))}
    members = {(m.user_id, m.organisation_id) for m in db.session.scalars(select(Membership))}
    latest = now.astimezone(UTC)
    for req in requests:
        assert (req.requested_by_id, req.activity.organisation_id) in members
        assert req.activity.status == "published"
        assert req.grades and set(req.grades) <= set(fitting_grades(req.activity, req.school))
        assert req.reasons and req.rule
        assert req.created_at <= latest
        if req.status in ("approved", "exported", "rejected"):
            assert (req.reviewed_by_id, req.school_id) in staff
            assert req.created_at < req.reviewed_at <= latest
        else:
            assert req.reviewed_by_id is None and req.reviewed_at is None
        assert bool(req.review_reason) == (req.status == "rejected")
        if req.status == "exported":
            assert (req.exported_by_id, req.school_id) in staff
            assert req.reviewed_at < req.exported_at <= latest
        else:
            assert req.exported_by_id is None and req.exported_at is None

    # Every act is in the audit log, at the moment it happened.
    events = defaultdict(dict)
    for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "DistributionRequest")
    ):
        events[event.object_id][event.action] = event.created_at
    expected_acts = {
        "pending": {"request.create"},
        "approved": {"request.create", "request.approve"},
        "exported": {"request.create", "request.approve", "request.export"},
        "rejected": {"request.create", "request.reject"},
        "withdrawn": {"request.create", "request.withdraw"},
    }
    for req in requests:
        assert set(events[req.id]) == expected_acts[req.status], req.status
        assert events[req.id]["request.create"] == req.created_at

    # Each demo staff account finds waiting requests in its school's inbox.
    for account in DEMO_ACCOUNTS:
        if not account.role.startswith("school_"):
            continue
        school = db.session.scalars(select(School).where(School.name == account.target)).one()
        waiting = [r for r in requests if r.school_id == school.id and r.status == "pending"]
        assert waiting, school.name
        client = app.test_client()
        assert login(client, account.email, SCHOOL_PASSWORD).status_code == 302
        page = client.get(f"/schools/{school.slug}/requests")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert any(html.escape(r.activity.title, quote=False) in text for r in waiting)
