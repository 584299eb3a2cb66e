"""The school-year calendar: holidays imported from a file (CLI and page) or added by hand,
holiday weeks closed to requests, the school's lead time, the reach page's next weeks, the API."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from directory.approvals.models import DistributionRequest
from directory.approvals.operations import RequestError, SchoolChoice, create_requests
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.models import ChannelPolicy, SchoolHoliday
from directory.schools.policy_files import export_toml, parse_policy_file
from directory.timeutil import OSLO
from tests.conftest import quick_user, sign_in

FLYER = {"flyer_filename": "ab" * 16 + ".pdf"}
# Friday 4 December 2026: this week is 2026-W49.
FRIDAY = datetime(2026, 12, 4, 12, 0, tzinfo=OSLO)

CSV = (
    "school_year,name,first_day,last_day\n"
    "2026-2027,Høstferie,2026-09-28,2026-10-02\n"
    "2026-2027,Juleferie,2026-12-21,2027-01-01\n"
    "2026-2027,Planleggingsdag,2027-01-04,2027-01-04\n"
)
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Skolerute//NO\r\n"
    "BEGIN:VEVENT\r\nUID:1@test\r\nDTSTAMP:20260801T000000Z\r\nSUMMARY:Vinterferie\r\n"
    "DTSTART;VALUE=DATE:20270222\r\nDTEND;VALUE=DATE:20270227\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:2@test\r\nDTSTAMP:20260801T000000Z\r\nSUMMARY:Planleggingsdag\r\n"
    "DTSTART;VALUE=DATE:20260814\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def run(app, path, *options, slug="drammen"):
    return app.test_cli_runner().invoke(
        args=["import-school-calendar", str(path), "--municipality", slug, *options]
    )


def write(tmp_path, text: str, name: str = "skolerute.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def holidays() -> list[tuple[str, str, date, date]]:
    db.session.expire_all()
    rows = db.session.scalars(select(SchoolHoliday).order_by(SchoolHoliday.first_day))
    return [(h.school_year, h.name, h.first_day, h.last_day) for h in rows]


def actions(prefix: str) -> list[str]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
    )
    return [event.action for event in events]


def add(municipality, name, first, last, year="2026-2027") -> SchoolHoliday:
    row = SchoolHoliday(
        municipality_id=municipality.id,
        school_year=year,
        name=name,
        first_day=first,
        last_day=last,
    )
    db.session.add(row)
    db.session.commit()
    return row


# --- the command line ---------------------------------------------------------------------------


def test_a_csv_file_imports_its_holidays(app, municipality, tmp_path):
    result = run(app, write(tmp_path, CSV))
    assert result.exit_code == 0, result.output
    assert "Skolerute importert til Drammen: 2026-2027: 3 ferier." in result.output
    assert holidays() == [
        ("2026-2027", "Høstferie", date(2026, 9, 28), date(2026, 10, 2)),
        ("2026-2027", "Juleferie", date(2026, 12, 21), date(2027, 1, 1)),
        ("2026-2027", "Planleggingsdag", date(2027, 1, 4), date(2027, 1, 4)),
    ]
    assert actions("import.school_calendar") == ["import.school_calendar"]


def test_a_semicolon_file_with_norwegian_dates_and_no_school_year(app, municipality, tmp_path):
    text = "school_year;name;first_day;last_day\n;Vinterferie;22.02.2027;26.02.2027\n"
    result = run(app, write(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert holidays() == [("2026-2027", "Vinterferie", date(2027, 2, 22), date(2027, 2, 26))]


def test_an_icalendar_file_imports_with_dtend_exclusive(app, municipality, tmp_path):
    result = run(app, write(tmp_path, ICS, "skolerute.ics"))
    assert result.exit_code == 0, result.output
    assert holidays() == [
        ("2026-2027", "Planleggingsdag", date(2026, 8, 14), date(2026, 8, 14)),
        ("2026-2027", "Vinterferie", date(2027, 2, 22), date(2027, 2, 26)),
    ]


def test_reimporting_a_school_year_replaces_its_holidays_and_keeps_other_years(
    app, municipality, tmp_path
):
    add(municipality, "Gammel ferie", date(2025, 10, 6), date(2025, 10, 10), "2025-2026")
    assert run(app, write(tmp_path, CSV)).exit_code == 0
    again = run(app, write(tmp_path, CSV.rsplit("\n", 2)[0] + "\n"))
    assert again.exit_code == 0, again.output
    assert "2026-2027: 2 ferier (erstattet 3)" in again.output
    assert [name for _year, name, _f, _l in holidays()] == [
        "Gammel ferie",
        "Høstferie",
        "Juleferie",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            CSV + "2026-2027,Vinterferie,2027-02-26,2027-02-22\n",
            "linje 5: siste dag er før første dag",
        ),
        (CSV + "2026-2027,Vinterferie,31.02.2027,2027-03-01\n", "linje 5: first_day «31.02.2027»"),
        (CSV + "2026/27,Vinterferie,2027-02-22,2027-02-26\n", "linje 5: school_year «2026/27»"),
        (CSV + "2025-2026,Vinterferie,2027-02-22,2027-02-26\n", "er ikke i skoleåret 2025-2026"),
        (CSV + "2026-2027,,2027-02-22,2027-02-26\n", "linje 5: name mangler"),
        (CSV + "2026-2027,Høstferie,2026-09-28,2026-10-02\n", "linje 5: Høstferie fra 2026-09-28"),
        ("school_year,name,first_day,last_day,pupil\n", "Ukjent kolonne: «pupil»"),
        ("school_year,name,first_day\n", "Filen mangler kolonnene: last_day"),
    ],
)
def test_a_bad_csv_file_exits_1_and_writes_nothing(app, municipality, tmp_path, text, message):
    add(municipality, "Eksisterende", date(2026, 10, 12), date(2026, 10, 16))
    result = run(app, write(tmp_path, text))
    assert result.exit_code == 1
    assert message in result.output
    assert [name for _y, name, _f, _l in holidays()] == ["Eksisterende"]
    assert actions("import.school_calendar") == []


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("SUMMARY:Planleggingsdag\r\n", "VEVENT 2: navnet mangler"),
        ("DTSTART;VALUE=DATE:20260814\r\n", "VEVENT 2: DTSTART mangler"),
    ],
)
def test_a_bad_icalendar_file_exits_1_and_writes_nothing(
    app, municipality, tmp_path, broken, message
):
    result = run(app, write(tmp_path, ICS.replace(broken, ""), "skolerute.ics"))
    assert result.exit_code == 1
    assert message in result.output
    assert holidays() == []


def test_a_file_that_is_no_calendar_at_all_exits_1(app, municipality, tmp_path):
    path = tmp_path / "skolerute.ics"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = run(app, path)
    assert result.exit_code == 1
    assert holidays() == []


def test_a_dry_run_checks_the_file_and_writes_nothing(app, municipality, tmp_path):
    result = run(app, write(tmp_path, CSV), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Prøvekjøring, ingenting er lagret. Skolerute: 2026-2027: 3 ferier." in result.output
    assert holidays() == []


def test_an_unknown_municipality_exits_1(app, municipality, tmp_path):
    result = run(app, write(tmp_path, CSV), slug="oslo")
    assert result.exit_code == 1
    assert "Ukjent kommune «oslo»" in result.output


# --- the admin's page ---------------------------------------------------------------------------


@pytest.fixture
def admin(client, municipality):
    user = quick_user("admin", admin_municipality_id=municipality.id)
    db.session.commit()
    sign_in(client, user)
    return user


def test_the_page_lists_the_school_years_with_their_holidays_and_closed_weeks(
    client, admin, municipality
):
    add(municipality, "Høstferie", date(2026, 9, 28), date(2026, 10, 2))
    add(municipality, "Planleggingsdag", date(2026, 11, 13), date(2026, 11, 13))
    body = client.get("/admin/school-calendar").get_data(as_text=True)
    assert "Skoleåret 2026-2027" in body
    assert "Høstferie" in body and "uke 40 (28. september–4. oktober)" in body
    assert "ingen hel uke" in body  # the planning day closes no week


def test_the_admin_adds_a_holiday_and_it_is_audited(client, admin, municipality):
    data = {"name": "Vinterferie", "first_day": "2027-02-22", "last_day": "26.02.2027"}
    response = client.post("/admin/school-calendar/holidays", data=data)
    assert response.status_code == 302
    assert holidays() == [("2026-2027", "Vinterferie", date(2027, 2, 22), date(2027, 2, 26))]
    assert actions("school_holiday") == ["school_holiday.add"]
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Skoleferie lagt til" in log


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "first_day": "2027-02-22", "last_day": "2027-02-26"}, "Skriv navnet"),
        ({"name": "Ferie", "first_day": "2027-02-26", "last_day": "2027-02-22"}, "Siste dag er"),
        ({"name": "Ferie", "first_day": "i morgen", "last_day": "2027-02-22"}, "Skriv datoen"),
        ({"name": "Ferie", "first_day": "2027-01-01", "last_day": "2027-08-01"}, "høyst 120"),
    ],
)
def test_a_bad_holiday_is_refused_and_nothing_is_stored(client, admin, data, message):
    response = client.post("/admin/school-calendar/holidays", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert holidays() == []


def test_the_admin_removes_a_holiday_of_their_own_municipality_only(
    client, admin, municipality, make_municipality
):
    mine = add(municipality, "Høstferie", date(2026, 9, 28), date(2026, 10, 2))
    lier = make_municipality(slug="lier", name="Lier")
    theirs = add(lier, "Høstferie", date(2026, 10, 5), date(2026, 10, 9))
    assert client.post(f"/admin/school-calendar/holidays/{theirs.id}/remove").status_code == 404
    response = client.post(f"/admin/school-calendar/holidays/{mine.id}/remove")
    assert response.status_code == 302
    assert [name for _y, name, _f, _l in holidays()] == ["Høstferie"]  # Lier's
    assert actions("school_holiday") == ["school_holiday.remove"]
    assert client.post("/admin/school-calendar/holidays/999999/remove").status_code == 404


def test_the_admin_uploads_a_calendar_file(client, admin):
    upload = {"calendar_file": (io.BytesIO(ICS.encode()), "skolerute.ics")}
    response = client.post("/admin/school-calendar/import", data=upload)
    assert response.status_code == 302
    assert len(holidays()) == 2
    assert actions("import.school_calendar") == ["import.school_calendar"]


def test_a_bad_upload_is_400_with_its_errors_and_nothing_is_stored(client, admin):
    bad = CSV + "2026-2027,Vinterferie,2027-02-26,2027-02-22\n"
    upload = {"calendar_file": (io.BytesIO(bad.encode()), "skolerute.csv")}
    response = client.post("/admin/school-calendar/import", data=upload)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Ingenting er importert." in body and "linje 5: siste dag er før første dag" in body
    assert holidays() == []
    assert client.post("/admin/school-calendar/import", data={}).status_code == 400


# --- the API ------------------------------------------------------------------------------------


def test_the_api_lists_the_holidays_with_their_blackout_weeks(client, municipality):
    add(municipality, "Juleferie", date(2026, 12, 21), date(2027, 1, 1))
    add(municipality, "Planleggingsdag", date(2027, 1, 4), date(2027, 1, 4))
    response = client.get("/api/v1/school-calendar?municipality=drammen")
    assert response.status_code == 200
    assert response.get_json() == {
        "items": [
            {
                "municipality": "drammen",
                "school_year": "2026-2027",
                "name": "Juleferie",
                "first_day": "2026-12-21",
                "last_day": "2027-01-01",
                "blackout_weeks": ["2026-W52", "2026-W53"],
            },
            {
                "municipality": "drammen",
                "school_year": "2026-2027",
                "name": "Planleggingsdag",
                "first_day": "2027-01-04",
                "last_day": "2027-01-04",
                "blackout_weeks": [],
            },
        ]
    }


def test_the_api_answers_404_for_an_unknown_municipality_and_all_without_one(
    client, municipality, make_municipality
):
    add(municipality, "Høstferie", date(2026, 9, 28), date(2026, 10, 2))
    add(
        make_municipality(slug="lier", name="Lier"),
        "Høstferie",
        date(2026, 10, 5),
        date(2026, 10, 9),
    )
    unknown = client.get("/api/v1/school-calendar?municipality=oslo")
    assert unknown.status_code == 404 and "oslo" in unknown.get_json()["error"]
    every = client.get("/api/v1/school-calendar").get_json()["items"]
    assert [(item["municipality"], item["blackout_weeks"]) for item in every] == [
        ("drammen", ["2026-W40"]),
        ("lier", ["2026-W41"]),
    ]


# --- requests in the school year ----------------------------------------------------------------


@pytest.fixture
def world(quiet_search, municipality, make_school, make_organisation, make_activity, make_user):
    """Two schools taking backpack post (no Facebook page), a club with a flyer offer, and
    Christmas (weeks 52 and 53 closed) plus a planning day on Monday 4 January."""
    schools = [
        make_school(slug="fjell", name="Fjell skole", facebook_page_url=None),
        make_school(slug="danvik", name="Danvik skole", facebook_page_url=None),
    ]
    member = make_user("leder@klubben.example")
    klubben = make_organisation(slug="klubben", name="Klubben", members=[member])
    football = make_activity(title="Fotball", organisation=klubben, age_min=8, age_max=10, **FLYER)
    add(municipality, "Juleferie", date(2026, 12, 21), date(2027, 1, 1))
    add(municipality, "Planleggingsdag", date(2027, 1, 4), date(2027, 1, 4))
    return {"schools": schools, "member": member, "football": football}


def _lead_days(municipality, school, days: int) -> None:
    db.session.add(
        ChannelPolicy(
            municipality_id=municipality.id, school_id=school.id, settings={"lead_days": days}
        )
    )
    db.session.commit()


def _week_items(body: str) -> list[str]:
    return re.findall(r'<li class="reach-week" data-week="([^"]+)"', body)


def test_the_reach_page_leaves_holiday_weeks_out_and_warns_of_a_clash(client, login_as, world):
    with time_machine.travel(FRIDAY, tick=False):
        login_as(world["member"])
        body = client.get(f"/activities/{world['football'].id}/reach").get_data(as_text=True)
    weeks = _week_items(body)
    assert weeks[:4] == ["2026-W49", "2026-W50", "2026-W51", "2027-W01"]
    assert len(weeks) == 9
    assert "2026-W52" not in body.split('id="week"')[1].split("</select>")[0]  # nor in the list
    assert "Skoleferier er tatt ut: uke 52 (21.–27. desember) – Juleferie; uke 53" in body
    clash = body.split('data-week="2027-W01"')[1].split("</li>", 1)[0]
    assert "Delvis skoleferie:" in clash and "Planleggingsdag på mandag 4. januar" in clash
    # No lead time: a week can be asked for until its Sunday; both schools have 2 places.
    w51 = body.split('data-week="2026-W51"')[1].split('class="reach-week"')[0]
    assert "Frist: søndag 20. desember" in w51
    assert "Ledig ranselpost ved 2 skoler" in w51 and "2 av 2 ledige" in w51


def test_the_reach_page_shows_the_last_day_to_ask_under_a_lead_time(
    client, login_as, world, municipality
):
    for school in world["schools"]:
        _lead_days(municipality, school, 3)
    with time_machine.travel(FRIDAY, tick=False):
        login_as(world["member"])
        body = client.get(f"/activities/{world['football'].id}/reach").get_data(as_text=True)
    weeks = _week_items(body)
    # Week 50's last day was Friday 4 December (today): still open; week 49's has passed.
    assert weeks[0] == "2026-W50"
    w51 = body.split('data-week="2026-W51"')[1].split('class="reach-week"')[0]
    assert "Frist: fredag 11. desember" in w51


def test_a_schools_own_blackout_week_shows_no_free_places(client, login_as, world, municipality):
    fjell = world["schools"][0]
    db.session.add(
        ChannelPolicy(
            municipality_id=municipality.id,
            school_id=fjell.id,
            settings={"blackout_weeks": ["2026-W51"]},
        )
    )
    db.session.commit()
    with time_machine.travel(FRIDAY, tick=False):
        login_as(world["member"])
        body = client.get(f"/activities/{world['football'].id}/reach").get_data(as_text=True)
    w51 = body.split('data-week="2026-W51"')[1].split('class="reach-week"')[0]
    assert "Ledig ranselpost ved 1 skole" in w51
    assert "stengt for ranselpost denne uken" in w51.split('data-school="fjell"')[1]


def test_a_request_after_the_last_day_is_refused_naming_the_day(
    client, login_as, world, municipality
):
    fjell = world["schools"][0]
    _lead_days(municipality, fjell, 7)
    with time_machine.travel(FRIDAY, tick=False):
        login_as(world["member"])
        data = {"week": "2026-W50", "schools": ["fjell"], "grades": ["fjell:3"]}
        response = client.post(f"/activities/{world['football'].id}/reach", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "siste dag å be om uke 50 (7.–13. desember) var mandag 30. november" in body
    assert db.session.scalar(select(func.count(DistributionRequest.id))) == 0


def test_the_operation_refuses_a_holiday_week_and_a_late_request(world, municipality):
    fjell = world["schools"][0]
    with time_machine.travel(FRIDAY, tick=False):
        with pytest.raises(RequestError) as holiday:
            create_requests(world["football"], [SchoolChoice(fjell)], "2026-W52", actor=None)
        assert "skoleferie" in holiday.value.message
        _lead_days(municipality, fjell, 10)
        with pytest.raises(RequestError) as late:
            create_requests(world["football"], [SchoolChoice(fjell)], "2026-W50", actor=None)
        assert "For sent" in late.value.message
        # Week 51's last day under ten days is Friday 4 December: today, still in time.
        (req,) = create_requests(world["football"], [SchoolChoice(fjell)], "2026-W51", actor=None)
    assert req.channel == "backpack_post"


def test_a_holiday_week_in_the_address_is_400(client, login_as, world):
    with time_machine.travel(FRIDAY, tick=False):
        login_as(world["member"])
        response = client.get(f"/activities/{world['football'].id}/reach?week=2026-W52")
    assert response.status_code == 400
    assert "Det er skoleferie i uke 52" in response.get_data(as_text=True)


def test_routing_says_a_holiday_week_has_no_backpack_post(client, world):
    fjell = world["schools"][0]
    url = f"/api/v1/routing?activity={world['football'].id}&school={fjell.slug}&week=2026-W52"
    answer = client.get(url).get_json()
    assert answer["channel"] == "directory_only"
    assert "Uke 52 er skoleferie, så skolen deler ikke ut ranselpost." in answer["reasons"]


# --- the lead time as a policy setting ----------------------------------------------------------


def test_the_school_admin_sets_a_lead_time_in_the_policy_form(
    client, world, make_staff, municipality
):
    fjell = world["schools"][0]
    staff = make_staff(fjell, role="admin")
    sign_in(client, staff)
    page = client.get(f"/schools/{fjell.slug}/policy").get_data(as_text=True)
    assert 'name="lead_days"' in page
    version = re.search(r'name="version"[^>]*value="(\d+)"', page)
    data = {
        "order": "inherit",
        "facebook_enabled": "inherit",
        "backpack_enabled": "inherit",
        "municipal_in_messaging": "inherit",
        "blackout_inherit": "y",
        "lead_days": "5",
        "version": version.group(1) if version else "0",
    }
    response = client.post(f"/schools/{fjell.slug}/policy", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    stored = db.session.scalar(select(ChannelPolicy).where(ChannelPolicy.school_id == fjell.id))
    assert stored.settings == {"lead_days": 5}
    assert "5 dager før uken" in client.get(f"/schools/{fjell.slug}/policy").get_data(as_text=True)


def test_a_policy_file_with_a_lead_time_round_trips(app):
    settings = {"backpack_weekly_quota": 3, "lead_days": 7}
    text = export_toml(settings, title="Fjell skole (Drammen)", day=date(2026, 12, 4))
    assert "lead_days = 7" in text
    again = parse_policy_file(text.encode(), "p.toml", complete=False)
    assert export_toml(again, title="Fjell skole (Drammen)", day=date(2026, 12, 4)) == text


# --- the demo and the migration -----------------------------------------------------------------


def test_the_demo_has_a_school_calendar_for_the_current_school_year(app, client):
    from directory.demo import load_demo

    with time_machine.travel(FRIDAY, tick=False):
        load_demo()
        db.session.commit()
        answer = client.get("/api/v1/school-calendar?municipality=drammen").get_json()
    names = {item["name"]: item for item in answer["items"]}
    assert {item["school_year"] for item in answer["items"]} == {"2026-2027"}
    assert names["Høstferie"]["blackout_weeks"] == ["2026-W40"]
    assert names["Vinterferie"]["blackout_weeks"] == ["2027-W08"]
    assert names["Juleferie"]["blackout_weeks"] == ["2026-W52", "2026-W53"]
    assert names["Påskeferie"]["first_day"] == "2027-03-22"  # Easter Sunday is 28 March
    assert names["Sommerferie"]["first_day"] == "2027-06-19"
    lier = client.get("/api/v1/school-calendar?municipality=lier").get_json()
    assert len(lier["items"]) == 5


def test_the_migration_adds_and_removes_the_holiday_table(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from directory import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
            "SECRET_KEY": "x",
            "TESTING": True,
            "UPLOAD_FOLDER": str(tmp_path / "u"),
            "SEARCH_INDEX_DIR": str(tmp_path / "s"),
        }
    )
    with app.app_context():
        upgrade(revision="f6b8d0e2a468")
        columns = {c["name"] for c in inspect(db.engine).get_columns("school_holiday")}
        assert columns == {
            "id", "municipality_id", "school_year", "name", "first_day", "last_day", "created_at"
        }  # fmt: skip
        downgrade(revision="c3e5a7b9d135")
        assert "school_holiday" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
