"""The admin's audit log names objects (activity, organisation, school, request) and acts in words,
looks the names up in one query per type, and stays within the admin's municipality."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import event

from directory.approvals.operations import (
    SchoolChoice,
    approve_request,
    create_requests,
    reject_request,
    withdraw_request,
)
from directory.audit.operations import record
from directory.extensions import db
from directory.labels import AUDIT_ACTION_LABELS
from directory.schools.routing import iso_week
from directory.timeutil import oslo_now


class _Rows(HTMLParser):
    """The audit table's body rows, each a list of cell texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif self._cell is not None:
            self._cell.append(" ")  # a <br> or an inline element: words stay apart

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def audit_rows(html: str) -> list[list[str]]:
    reader = _Rows()
    reader.feed(html)
    return reader.rows


@pytest.fixture
def admin(make_user, municipality):
    user = make_user(name="Ada Admin")
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


@pytest.fixture
def next_week():
    return iso_week(oslo_now().date() + timedelta(weeks=1))


@pytest.fixture
def requested(make_school, make_activity, make_organisation, make_user, make_staff, next_week):
    """Three requests from 'Sjakk for alle' to three schools: approved, rejected, withdrawn."""
    owner = make_user(name="Olga Organiser")
    organisation = make_organisation(name="Drammen sjakklubb", owners=[owner])
    activity = make_activity(
        organisation=organisation,
        title="Sjakk for alle",
        facebook_post_url="https://www.facebook.com/events/1",
    )
    schools = [make_school(name=name) for name in ("Alfaskolen", "Betaskolen", "Gammaskolen")]
    reqs = create_requests(activity, [SchoolChoice(s) for s in schools], next_week, actor=owner)
    db.session.commit()
    staff = make_staff(schools[0])
    approve_request(reqs[0], actor=staff)
    reject_request(reqs[1], "Ikke denne uken.", actor=make_staff(schools[1]))
    withdraw_request(reqs[2], actor=owner)
    db.session.commit()
    return {"activity": activity, "organisation": organisation, "schools": schools}


def test_requests_show_as_activity_school_and_week_with_the_act_in_words(
    client, admin, login_as, requested, next_week
):
    login_as(admin)
    response = client.get("/admin/audit")
    assert response.status_code == 200
    rows = audit_rows(response.get_data(as_text=True))
    number, year = int(next_week.split("-W")[1]), next_week.split("-W")[0]
    week = f"uke {number}/{year}"

    # the act in words and the object by name: no stored code or "DistributionRequest #7"
    acts = [(row[1], row[2]) for row in rows]
    to = "Forespørsel: Sjakk for alle →"
    assert ("Forespørsel trukket tilbake", f"{to} Gammaskolen, {week}") in acts
    assert ("Forespørsel avvist", f"{to} Betaskolen, {week}") in acts
    assert ("Forespørsel godkjent", f"{to} Alfaskolen, {week}") in acts
    created = [a for a in acts if a[0] == "Forespørsel sendt"]
    assert len(created) == 3
    assert not any("request." in cell or "DistributionRequest" in cell for r in rows for cell in r)


def test_activities_organisations_and_schools_show_by_name(
    client, admin, login_as, municipality, requested
):
    activity, organisation = requested["activity"], requested["organisation"]
    school = requested["schools"][0]
    record("activity.publish", activity, actor=None, municipality_id=municipality.id)
    record("organisation.verify", organisation, actor=admin, municipality_id=municipality.id)
    record("school.edit", school, actor=admin, municipality_id=municipality.id)
    db.session.commit()

    login_as(admin)
    rows = audit_rows(client.get("/admin/audit").get_data(as_text=True))
    cells = {row[1]: row[2] for row in rows}
    assert cells["Aktivitet publisert"] == "Aktivitet: Sjakk for alle"
    assert cells["Organisasjon verifisert"] == "Organisasjon: Drammen sjakklubb"
    # an act without a label shows its code, the object still by name
    assert cells["school.edit"] == "Skole: Alfaskolen"


def test_an_object_that_is_gone_falls_back_to_what_the_event_recorded(
    client, admin, login_as, municipality, make_activity
):
    activity = make_activity(title="Borte vekk")
    record(
        "activity.create",
        activity,
        actor=admin,
        municipality_id=municipality.id,
        data={"title": "Borte vekk"},
    )
    db.session.commit()
    activity_id = activity.id
    db.session.delete(activity)
    db.session.commit()

    login_as(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    rows = audit_rows(html)
    assert rows[0][2] == "Aktivitet: Borte vekk"
    # the stored codes stay on the row, for support
    assert f'title="activity.create, Activity #{activity_id}"' in html


def test_an_object_without_a_name_shows_its_kind_and_number_in_words(
    client, admin, login_as, municipality, make_school
):
    school = make_school(name="Nedlagt skole")
    record("school.update", school, actor=admin, municipality_id=municipality.id)
    db.session.commit()
    school_id = school.id
    db.session.delete(school)
    db.session.commit()

    login_as(admin)
    rows = audit_rows(client.get("/admin/audit").get_data(as_text=True))
    assert rows[0][1:3] == ["Skole endret", f"Skole nr. {school_id}"]


def test_every_act_the_code_records_has_a_label():
    """A new act without a label would show its raw code in the audit log."""
    source = "\n".join(
        p.read_text() for p in (Path(__file__).parents[1] / "directory").rglob("*.py")
    )
    recorded = set(re.findall(r'record\(\s*"([a-z_]+\.[a-z_]+)"', source))
    assert recorded, "found no record() calls"
    assert recorded - set(AUDIT_ACTION_LABELS) == set()


def test_names_are_looked_up_in_one_query_per_type_not_per_row(
    app, client, admin, login_as, make_school, make_activity, make_user, next_week
):
    owner = make_user()

    def statements_for_the_page() -> int:
        count = 0

        def count_select(conn, cursor, statement, *args):
            nonlocal count
            if statement.lstrip().upper().startswith("SELECT"):
                count += 1

        event.listen(db.engine, "before_cursor_execute", count_select)
        try:
            assert client.get("/admin/audit").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count_select)
        return count

    def add_requests(n: int) -> None:
        activity = make_activity(facebook_post_url="https://www.facebook.com/events/2")
        schools = [make_school() for _ in range(n)]
        create_requests(activity, [SchoolChoice(s) for s in schools], next_week, actor=owner)
        db.session.commit()

    login_as(admin)
    add_requests(2)
    few = statements_for_the_page()
    add_requests(12)
    many = statements_for_the_page()
    assert many == few


def test_another_municipality_s_objects_stay_out(
    client, admin, login_as, make_municipality, make_school, make_activity, make_organisation,
    make_user, requested,
):  # fmt: skip
    lier = make_municipality(slug="lier", name="Lier")
    lier_owner = make_user()
    lier_activity = make_activity(
        organisation=make_organisation(municipality=lier, owners=[lier_owner]),
        title="Lier-turen",
        facebook_post_url="https://www.facebook.com/events/3",
    )
    lier_school = make_school(municipality=lier, name="Lierskolen")
    week = iso_week(oslo_now().date() + timedelta(weeks=1))
    create_requests(lier_activity, [SchoolChoice(lier_school)], week, actor=lier_owner)
    db.session.commit()

    login_as(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Sjakk for alle" in html
    assert "Lier-turen" not in html
    assert "Lierskolen" not in html
