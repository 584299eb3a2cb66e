"""The municipal admin's request statistics: counts per channel, school, week, organisation kind
and status, the approval rate and the median time to decision, for the own municipality only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine

from directory.admin.statistics import WeekRange, duration_text, request_statistics
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    SchoolChoice,
    approve_request,
    create_requests,
    reject_request,
)
from directory.extensions import db
from directory.schools.routing import iso_week
from directory.timeutil import OSLO, oslo_now

SENT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class _Tables(HTMLParser):
    """Every table of a page by its caption: a list of rows, each a list of cell texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption" and self._caption is not None:
            self._caption_text = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).replace("\xa0", " ").split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._caption_text] = self._rows
            self._rows = None

    def handle_data(self, data):
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, dict[str, list[str]]]:
    """{caption: {row heading: [the row's other cells]}}."""
    reader = _Tables()
    reader.feed(html)
    return {caption: {row[0]: row[1:] for row in rows} for caption, rows in reader.tables.items()}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def text_of(html: str) -> str:
    """The page's text as a reader sees it, without tags, spaces collapsed."""
    reader = _Text()
    reader.feed(html)
    return " ".join(" ".join(reader.parts).replace("\xa0", " ").split())


@pytest.fixture
def admin(make_user, municipality):
    user = make_user(name="Ada Admin")
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


@pytest.fixture
def lier(make_municipality):
    return make_municipality(slug="lier", name="Lier")


def add_request(activity, school, week, channel, status, *, hours=None, sent=SENT):
    """A request row with a controlled time to decision (hours after it was sent)."""
    req = DistributionRequest(
        activity=activity,
        school=school,
        week=week,
        channel=channel,
        rule="test",
        reasons=[],
        grades=[3],
        status=status,
        created_at=sent,
        reviewed_at=sent + timedelta(hours=hours) if hours is not None else None,
    )
    db.session.add(req)
    return req


@pytest.fixture
def requests_world(municipality, lier, make_school, make_organisation, make_activity):
    """Six requests in Drammen (every state, three kinds, three weeks, two schools) and two in
    Lier that must not be counted."""
    a = make_school(name="Alfaskolen")
    b = make_school(name="Betaskolen")
    idle = make_school(name="Gammaskolen")  # nobody asked: shows with zeros
    volunteer = make_activity(organisation=make_organisation(kind="volunteer"))
    school_org = make_activity(organisation=make_organisation(kind="school"))
    municipal = make_activity(organisation=make_organisation(kind="municipal"))
    add_request(volunteer, a, "2026-W10", "facebook_share", "approved", hours=2)
    add_request(volunteer, b, "2026-W10", "backpack_post", "rejected", hours=10)
    add_request(school_org, a, "2026-W11", "backpack_post", "exported", hours=30)
    add_request(municipal, a, "2026-W12", "school_messaging", "pending")
    add_request(municipal, b, "2026-W12", "facebook_share", "withdrawn")
    add_request(municipal, a, "2026-W12", "backpack_post", "approved", hours=4)

    lier_school = make_school(municipality=lier, name="Lierskolen")
    lier_activity = make_activity(organisation=make_organisation(municipality=lier))
    add_request(lier_activity, lier_school, "2026-W10", "facebook_share", "approved", hours=500)
    add_request(lier_activity, lier_school, "2026-W11", "backpack_post", "rejected", hours=600)
    db.session.commit()
    return {"a": a, "b": b, "idle": idle}


def test_the_numbers_add_up_for_the_own_municipality(app, municipality, requests_world):
    stats = request_statistics(municipality)

    assert stats.total == 6
    assert stats.by_status.counts == {
        "approved": 2,
        "exported": 1,
        "rejected": 1,
        "pending": 1,
        "withdrawn": 1,
    }
    assert stats.decided == 4
    assert stats.approved == 3
    assert stats.approval_rate == pytest.approx(0.75)
    # 2, 4, 10 and 30 hours: the median of an even count is the mean of the middle two.
    assert stats.median_decision == timedelta(hours=7)

    channels = {row.key: row for row in stats.by_channel}
    assert {k: r.total for k, r in channels.items()} == {
        "school_messaging": 1,
        "facebook_share": 2,
        "backpack_post": 3,
    }
    assert channels["backpack_post"].approval_rate == pytest.approx(2 / 3)
    assert channels["school_messaging"].approval_rate is None  # nothing decided yet

    assert [(r.label, r.total) for r in stats.by_school] == [
        ("Alfaskolen", 4),
        ("Betaskolen", 2),
        ("Gammaskolen", 0),
    ]
    assert [(r.key, r.total) for r in stats.by_week] == [
        ("2026-W10", 2),
        ("2026-W11", 1),
        ("2026-W12", 3),
    ]
    assert {r.key: r.total for r in stats.by_kind} == {
        "volunteer": 2,
        "municipal": 3,
        "school": 1,
        "commercial": 0,
    }


def test_the_page_shows_the_counts_in_tables(client, admin, login_as, requests_world):
    login_as(admin)
    response = client.get("/admin/statistics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(html)
    tables = tables_of(html)

    assert tables["Forespørsler etter status"]["I alt"] == ["6"]
    assert tables["Forespørsler etter status"]["Venter"] == ["1"]
    assert tables["Forespørsler etter status"]["Godkjent"] == ["2"]
    # columns: total, pending, approved, exported, cancelled after approval, rejected,
    # withdrawn, approval rate
    schools = {
        name: " | ".join(cells) for name, cells in tables["Forespørsler etter skole"].items()
    }
    assert schools["Alfaskolen"] == "4 | 1 | 2 | 1 | 0 | 0 | 0 | 100 %"
    assert schools["Betaskolen"] == "2 | 0 | 0 | 0 | 0 | 1 | 1 | 0 %"
    assert schools["Gammaskolen"] == "0 | 0 | 0 | 0 | 0 | 0 | 0 | –"
    assert tables["Forespørsler etter kanal"]["Ranselpost (papirflyer)"][0] == "3"
    assert tables["Forespørsler etter kanal"]["Ranselpost (papirflyer)"][-1] == "67 %"
    assert tables["Forespørsler etter type arrangør"]["Frivillig lag/forening"][0] == "2"
    assert [row[0] for row in tables["Forespørsler etter uke"].values()][1:] == ["2", "1", "3"]
    assert "75 %" in page
    assert "7 timer" in page
    # another municipality's school and numbers are nowhere
    assert "Lierskolen" not in page
    assert "8" not in tables["Forespørsler etter status"]["I alt"]
    # counts only: no person's name or address on the page
    assert "@" not in html.replace("mailto:", "")


def test_the_week_filter_limits_every_number(client, admin, login_as, municipality, requests_world):
    stats = request_statistics(municipality, WeekRange("2026-W11", "2026-W12"))
    assert stats.total == 4
    assert stats.decided == 2
    assert stats.approval_rate == 1
    assert stats.median_decision == timedelta(hours=17)  # 4 and 30 hours
    assert [r.key for r in stats.by_week] == ["2026-W11", "2026-W12"]

    login_as(admin)
    response = client.get("/admin/statistics?from=2026-W10&to=2026-W10")
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    tables = tables_of(response.get_data(as_text=True))
    assert tables["Forespørsler etter status"]["I alt"] == ["2"]
    assert "50 %" in page
    assert "6 timer" in page  # 2 and 10 hours

    only_from = client.get("/admin/statistics?from=2026-W12")
    assert tables_of(only_from.get_data(as_text=True))["Forespørsler etter status"]["I alt"] == [
        "3"
    ]


def test_no_decided_request_shows_a_dash(client, admin, login_as):
    login_as(admin)
    response = client.get("/admin/statistics")
    assert response.status_code == 200
    tables = tables_of(response.get_data(as_text=True))
    assert tables["Forespørsler etter status"]["I alt"] == ["0"]
    page = text_of(response.get_data(as_text=True))
    assert "Godkjenningsgrad –" in page
    assert "Median tid til avgjørelse –" in page


def test_an_odd_number_of_decisions_has_its_middle_as_median(
    app, municipality, make_school, make_activity
):
    school = make_school()
    activity = make_activity()
    for hours in (1, 50, 3):
        add_request(activity, school, "2026-W20", "facebook_share", "rejected", hours=hours)
    db.session.commit()
    assert request_statistics(municipality).median_decision == timedelta(hours=3)


# The week filter offers a year back and twelve weeks ahead of week 49 of 2026.
FRIDAY_OF_WEEK_49 = datetime(2026, 12, 4, 12, 0, tzinfo=OSLO)


def field_errors(html: str, field_id: str) -> list[str]:
    """The error messages shown under one field of the page's form."""
    match = re.search(rf'<ul class="errors" id="{field_id}-err">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1), re.S) if match else []


@pytest.mark.parametrize(
    ("query", "field_id", "message"),
    [
        ("from=uke+12", "from", "Fra uke: Velg en uke fra listen."),
        ("to=2026-W54", "to", "Til uke: Velg en uke fra listen."),
        ("from=2026-W30&to=2026-W10", "to", "Fra uke kan ikke være etter til uke."),
        ("from=2025-W53", "from", "Fra uke: Velg en uke fra listen."),  # 2025 has 52 ISO weeks
        ("from=2026-W9", "from", "Fra uke: Velg en uke fra listen."),
        ("to=2030-W10", "to", "Til uke: Velg en uke fra listen."),  # not on the list
    ],
)
@time_machine.travel(FRIDAY_OF_WEEK_49, tick=True)
def test_a_bad_week_filter_is_a_400_that_says_why_next_to_the_field(
    client, admin, login_as, requests_world, query, field_id, message
):
    login_as(admin)
    response = client.get(f"/admin/statistics?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = field_errors(html, field_id)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert field_errors(html, "to" if field_id == "from" else "from") == []
    assert 'role="alert"' in html
    assert re.search(rf'<select [^>]*aria-invalid="true"[^>]*id="{field_id}"', html)
    assert "UKE" not in html and "«uke" not in html  # what was typed is not echoed
    # No numbers for a range the admin did not ask for, and a way back to all weeks.
    assert "Forespørsler etter status" not in html
    assert 'href="/admin/statistics">Vis alle uker' in html


@time_machine.travel(FRIDAY_OF_WEEK_49, tick=True)
def test_the_week_fields_keep_what_was_asked_and_empty_ones_leave_the_range_open(
    client, admin, login_as, requests_world
):
    login_as(admin)
    response = client.get("/admin/statistics?from=2026-W11&to=+2026-W12+")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert tables_of(html)["Forespørsler etter status"]["I alt"] == ["4"]
    assert re.search(r'<select [^>]*name="from"', html) and 'type="week"' not in html
    assert '<option selected value="2026-W11">Uke 11: 9.–15. mars</option>' in html
    assert '<option selected value="2026-W12">Uke 12: 16.–22. mars</option>' in html
    assert '<option value="2027-W08">Uke 8, 2027: 22.–28. februar</option>' in html  # 12 ahead
    assert "2027-W09" not in html
    assert "Vis alle uker" in html

    response = client.get("/admin/statistics?from=&to=")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert tables_of(html)["Forespørsler etter status"]["I alt"] == ["6"]
    assert "Vis alle uker" not in html
    assert 'class="errors"' not in html and 'role="alert"' not in html


def test_time_to_decision_reads_as_words(app):
    assert duration_text(timedelta(minutes=45)) == "45 minutter"
    assert duration_text(timedelta(minutes=61)) == "1 time"
    assert duration_text(timedelta(hours=7)) == "7 timer"
    assert duration_text(timedelta(hours=47, minutes=10)) == "47 timer"
    assert duration_text(timedelta(hours=48)) == "2 dager"
    assert duration_text(timedelta(days=3, hours=4)) == "3 dager og 4 timer"


def test_requests_made_through_the_operations_are_counted(
    app, client, admin, login_as, municipality, make_school, make_activity, make_staff
):
    schools = [make_school(name=f"Skole {n}", accepts_backpack_post=False) for n in range(3)]
    staff = make_staff(schools[0])
    activity = make_activity(facebook_post_url="https://www.facebook.com/events/1")
    week = iso_week(oslo_now().date() + timedelta(weeks=1))
    created = create_requests(activity, [SchoolChoice(s) for s in schools], week, actor=admin)
    db.session.commit()
    approve_request(created[0], actor=staff)
    reject_request(created[1], "Vi har nok tilbud denne uken.", actor=staff)
    db.session.commit()

    stats = request_statistics(municipality)
    assert stats.total == 3
    assert stats.by_status.counts == {"approved": 1, "rejected": 1, "pending": 1}
    assert stats.approval_rate == pytest.approx(0.5)
    assert stats.median_decision is not None and stats.median_decision >= timedelta(0)
    assert {r.key: r.total for r in stats.by_channel}["facebook_share"] == 3
    assert [(r.key, r.total) for r in stats.by_week] == [(week, 3)]


def test_other_roles_get_403_and_anonymous_visitors_the_login_page(
    app, client, make_user, make_school, make_staff, make_organisation, login_as, requests_world
):
    anonymous = app.test_client().get("/admin/statistics")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")

    owner = make_user()
    make_organisation(owners=[owner])
    login_as(owner)
    assert client.get("/admin/statistics").status_code == 403

    school_admin = make_staff(requests_world["a"], role="admin")
    login_as(school_admin)
    assert client.get("/admin/statistics").status_code == 403
    staff = make_staff(requests_world["b"])
    login_as(staff)
    assert client.get("/admin/statistics").status_code == 403


def test_another_municipality_s_admin_sees_only_their_own(client, make_user, lier, login_as,
                                                          requests_world):  # fmt: skip
    lier_admin = make_user(name="Lier Admin")
    lier_admin.admin_municipality_id = lier.id
    db.session.commit()
    login_as(lier_admin)
    response = client.get("/admin/statistics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    tables = tables_of(html)
    assert tables["Forespørsler etter status"]["I alt"] == ["2"]
    assert list(tables["Forespørsler etter skole"]) == ["Skole", "Lierskolen"]
    assert "Alfaskolen" not in html


def test_the_admin_pages_link_to_the_statistics(client, admin, login_as):
    login_as(admin)
    for path in ("/admin/organisations", "/admin/audit", "/account"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'href="/admin/statistics"' in response.get_data(as_text=True), path
