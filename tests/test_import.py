"""`flask import-activities`: a valid file is imported once, a bad one not at all."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from directory.activities.models import Activity, Schedule
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.importing import COLUMNS
from directory.organisations.models import Organisation
from directory.permissions import can_view_activity
from directory.policy.orgnumber import check_digit

HEADER = list(COLUMNS)


def org_number(first_eight: str) -> str:
    """A valid organisation number from eight digits (whose check digit is not 10)."""
    digit = check_digit(first_eight)
    assert digit is not None
    return f"{first_eight}{digit}"


CLUB = org_number("98765432")
CHOIR = org_number("91122334")
OTHER = org_number("81234567")


def row(**values) -> dict:
    """A valid row for the football club, with overrides."""
    base = {
        "organisation_name": "Åssiden IF",
        "organisation_number": CLUB,
        "organisation_kind": "volunteer",
        "organisation_verified": "ja",
        "title": "Fotballtrening for 2016-kullet",
        "summary": "Trening med lek og småspill.",
        "description": "Vi trener **ballkontroll** og samspill.",
        "category": "idrett",
        "age_min": "9",
        "age_max": "10",
        "price_nok": "0",
        "starts_at": "2030-09-03T17:00",
        "ends_at": "2030-09-03T18:30",
        "rrule": "FREQ=WEEKLY;UNTIL=20301217T225959Z",
        "venue": "Åssiden kunstgress",
        "address": "Buskerudveien 118, 3027 Drammen",
        "facebook_post_url": "https://www.facebook.com/assidenif/posts/123456789",
        "registration_url": "https://assiden-if.example/pamelding",
    }
    base.update(values)
    return base


GOOD_ROWS = [
    row(),
    row(
        title="Barnekoret",
        organisation_name="Bragernes barnekor",
        organisation_number=CHOIR,
        organisation_verified="nei",
        category="Musikk",  # the bokmål name, in another case
        age_min="6",
        age_max="10",
        price_nok="450",
        # An offset is converted to Oslo wall time: 15:00Z is 17:00 in September.
        starts_at="2030-09-04T15:00:00Z",
        ends_at="2030-09-04T16:00:00Z",
        rrule="FREQ=WEEKLY;INTERVAL=2;UNTIL=20301217",
        facebook_post_url="",
        registration_url="",
    ),
    row(
        title="Håndballskole",
        category="",
        age_min="6",
        age_max="8",
        starts_at="2030-10-05 10:00",
        ends_at="2030-10-05 13:00",
        rrule="",
    ),
]


def csv_bytes(rows, *, header=HEADER, delimiter=",", encoding="utf-8") -> bytes:
    """The rows as a CSV file."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=header, delimiter=delimiter, lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def categories(make_category):
    make_category(slug="idrett", name_nb="Idrett", name_nn="Idrett", name_en="Sports")
    make_category(slug="musikk", name_nb="Musikk", name_nn="Musikk", name_en="Music")


@pytest.fixture
def run_import(import_activities_file, categories):
    """Write the bytes to a file and run the command on it; returns the Click result."""
    return import_activities_file


def table_counts() -> dict[str, int]:
    """The number of rows in every table."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def activity(title: str) -> Activity:
    return db.session.scalars(select(Activity).where(Activity.title == title)).one()


# --- a good file ------------------------------------------------------------------------------


def test_a_good_file_creates_organisations_and_published_activities(
    run_import, municipality, client
):
    result = run_import(csv_bytes(GOOD_ROWS))

    assert result.exit_code == 0, result.output
    assert "3 nye, 0 endret, 0 uendret" in result.output
    assert "2 nye organisasjoner" in result.output

    club = db.session.scalars(select(Organisation).where(Organisation.org_number == CLUB)).one()
    assert club.name == "Åssiden IF"
    assert club.slug == "assiden-if"
    assert club.kind == "volunteer"
    assert club.verification == "verified"
    assert club.municipality_id == municipality.id
    choir = db.session.scalars(select(Organisation).where(Organisation.org_number == CHOIR)).one()
    assert choir.verification == "pending"

    football = activity("Fotballtrening for 2016-kullet")
    assert football.organisation_id == club.id
    assert football.status == "published"
    assert football.published_at is not None
    assert football.is_public
    assert can_view_activity(AnonymousUserMixin(), football)
    assert football.category.slug == "idrett"
    assert (football.age_min, football.age_max, football.price_nok) == (9, 10, 0)
    assert football.facebook_post_url == "https://www.facebook.com/assidenif/posts/123456789"
    [schedule] = football.schedules
    assert schedule.dtstart == datetime(2030, 9, 3, 17, 0)
    assert schedule.duration_minutes == 90
    assert schedule.rrule == "FREQ=WEEKLY;UNTIL=20301217T225959Z"

    choir_activity = activity("Barnekoret")
    assert choir_activity.category.slug == "musikk"
    assert choir_activity.price_nok == 450
    assert choir_activity.facebook_post_url is None
    [schedule] = choir_activity.schedules
    assert schedule.dtstart == datetime(2030, 9, 4, 17, 0)  # from 15:00Z
    assert schedule.duration_minutes == 60
    # A date-only UNTIL becomes the end of that Oslo day, in UTC.
    assert schedule.rrule == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20301217T225959Z"

    single = activity("Håndballskole")
    assert single.category is None
    assert single.schedules[0].rrule == ""
    assert single.schedules[0].duration_minutes == 180

    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "import.activities")
    ).all()
    assert event.municipality_id == municipality.id
    assert event.data["created"] == 3
    assert event.data["organisations_created"] == 2

    # Anyone can see the imported activity on its public page.
    page = client.get(f"/activities/{football.id}")
    assert page.status_code == 200
    assert "Fotballtrening for 2016-kullet" in page.get_data(as_text=True)


def test_an_existing_organisation_is_matched_by_number_and_keeps_its_name(
    run_import, make_organisation
):
    existing = make_organisation(name="Åssiden Idrettsforening", org_number=CLUB)
    result = run_import(csv_bytes([row()]))

    assert result.exit_code == 0, result.output
    assert "1 nye, 0 endret, 0 uendret." in result.output  # and no new organisation
    orgs = db.session.scalars(select(Organisation).where(Organisation.org_number == CLUB)).all()
    assert [o.id for o in orgs] == [existing.id]
    assert orgs[0].name == "Åssiden Idrettsforening"
    assert activity("Fotballtrening for 2016-kullet").organisation_id == existing.id


def test_reimporting_the_same_file_changes_nothing(run_import):
    data = csv_bytes(GOOD_ROWS)
    assert run_import(data).exit_code == 0
    before = table_counts()
    stamps = {a.id: (a.updated_at, a.version) for a in db.session.scalars(select(Activity))}
    schedules = {
        s.id: (s.dtstart, s.duration_minutes, s.rrule) for s in db.session.scalars(select(Schedule))
    }

    result = run_import(data)

    assert result.exit_code == 0, result.output
    assert "0 nye, 0 endret, 3 uendret" in result.output
    assert table_counts() == before
    assert {a.id: (a.updated_at, a.version) for a in db.session.scalars(select(Activity))} == stamps
    assert {
        s.id: (s.dtstart, s.duration_minutes, s.rrule) for s in db.session.scalars(select(Schedule))
    } == schedules


def test_a_changed_row_updates_that_activity_only(run_import):
    assert run_import(csv_bytes(GOOD_ROWS)).exit_code == 0
    football = activity("Fotballtrening for 2016-kullet")
    choir = activity("Barnekoret")
    football_version, choir_version = football.version, choir.version
    choir_updated = choir.updated_at
    before = table_counts()

    changed = [
        GOOD_ROWS[0] | {"price_nok": "350", "ends_at": "2030-09-03T18:45"},
        GOOD_ROWS[1],
        GOOD_ROWS[2],
    ]
    result = run_import(csv_bytes(changed))

    assert result.exit_code == 0, result.output
    assert "0 nye, 1 endret, 2 uendret" in result.output
    assert table_counts() == before | {"audit_event": before["audit_event"] + 1}
    football = activity("Fotballtrening for 2016-kullet")
    assert football.price_nok == 350
    assert football.schedules[0].duration_minutes == 105
    assert football.version == football_version + 1
    choir = activity("Barnekoret")
    assert (choir.version, choir.updated_at) == (choir_version, choir_updated)


def test_a_new_first_start_is_a_new_activity(run_import):
    assert run_import(csv_bytes([row()])).exit_code == 0
    result = run_import(csv_bytes([row(), row(starts_at="2031-01-07T17:00", ends_at="", rrule="")]))
    assert result.exit_code == 0, result.output
    assert "1 nye, 0 endret, 1 uendret" in result.output
    count = db.session.scalar(select(func.count()).select_from(Activity))
    assert count == 2


# --- bad files --------------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(run_import):
    before = table_counts()
    header = ",".join(HEADER)

    def line(**values) -> str:
        out = io.StringIO()
        csv.DictWriter(out, fieldnames=HEADER, lineterminator="\r\n").writerow(row(**values))
        return out.getvalue().removesuffix("\r\n")

    text = "\r\n".join(
        [
            header,  # line 1
            line(),  # line 2: valid, yet not written
            line(organisation_number="123456789"),  # 3
            line(title="Lang", description="To\nlinjer", age_min="12", age_max="8"),  # 4-5
            "",  # 6: empty lines are skipped
            line(title="", starts_at="i morgen"),  # 7
            line(title="Feil kategori", category="Rugby"),  # 8
            line(title="Feil regel", rrule="FREQ=FORTNIGHTLY"),  # 9
            line(title="Lokal UNTIL", rrule="FREQ=WEEKLY;UNTIL=20301217T230000"),  # 10
            line(title="Baklengs", ends_at="2030-09-03T16:00"),  # 11
            line(
                title="Feil adresse",
                facebook_post_url="facebook.com/x",
                registration_url="javascript:alert(1)",
            ),  # 12
            line(
                title="Feil type", organisation_kind="forening", organisation_verified="kanskje"
            ),  # 13
            line(title="Feil pris", price_nok="-5", age_min="30"),  # 14
            line(),  # 15: the same activity as line 2
            line(title="Tom regel", rrule="FREQ=WEEKLY;COUNT=0"),  # 16
        ]
    ).encode()

    result = run_import(text)

    assert result.exit_code == 1
    expected = {
        3: "organisation_number «123456789» er ikke et gyldig organisasjonsnummer",
        4: "age_min (12) kan ikke være større enn age_max (8)",
        7: "title mangler",
        8: "ukjent kategori «Rugby»; kjente kategorier: idrett, musikk",
        9: "rrule må ha FREQ=DAILY, WEEKLY, MONTHLY eller YEARLY",
        10: "UNTIL i rrule må være i UTC",
        11: "ends_at må være etter starts_at",
        12: "facebook_post_url «facebook.com/x» må være en adresse som begynner med http",
        13: "organisation_kind «forening» må være en av volunteer, municipal, school, commercial",
        14: "price_nok «-5» må være et helt antall kroner",
        15: "samme aktivitet (organisasjon, tittel og første start) som på linje 2",
        16: "rrule gir ingen datoer",
    }
    for number, message in expected.items():
        assert f"linje {number}: {message}" in result.output, result.output
    assert "linje 7: starts_at «i morgen» er ikke en gyldig tid" in result.output
    assert "linje 12: registration_url" in result.output
    assert "linje 13: organisation_verified «kanskje»" in result.output
    assert "linje 14: age_min «30» må være et heltall fra 0 til 25" in result.output
    assert "linje 2:" not in result.output
    assert "ingenting er importert" in result.output
    assert table_counts() == before


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"age_max": "26"}, "age_max «26» må være et heltall fra 0 til 25"),
        ({"price_nok": "100001"}, "price_nok «100001» må være et helt antall kroner fra 0 til"),
        ({"title": "T" * 151}, "title er lengre enn 150 tegn"),
        ({"organisation_name": "O" * 151}, "organisation_name er lengre enn 150 tegn"),
        (
            # The web form takes only a post on Facebook here; so does the import.
            {"facebook_post_url": "https://example.com/posts/1"},
            "facebook_post_url «https://example.com/posts/1» må være en adresse som begynner "
            "med http:// eller https://, til et innlegg på Facebook (facebook.com, fb.com, fb.me)",
        ),
    ],
    ids=["age", "price", "title", "organisation-name", "facebook-post"],
)
def test_a_value_the_web_form_refuses_is_refused(run_import, values, message):
    before = table_counts()
    result = run_import(csv_bytes([row(**values)]))
    assert result.exit_code == 1
    assert f"linje 2: {message}" in result.stderr
    assert table_counts() == before


def test_the_web_forms_limits_themselves_are_accepted(run_import):
    result = run_import(
        csv_bytes(
            [
                row(
                    title="T" * 150,
                    age_min="0",
                    age_max="25",
                    price_nok="100000",
                    facebook_post_url="https://fb.me/assidenif",
                )
            ]
        )
    )
    assert result.exit_code == 0, result.output
    imported = activity("T" * 150)
    assert (imported.age_min, imported.age_max, imported.price_nok) == (0, 25, 100_000)


def test_a_hidden_category_is_refused_for_a_new_activity(run_import, make_category):
    make_category(slug="sjakk", name_nb="Sjakk", hidden=True)
    before = table_counts()
    result = run_import(csv_bytes([row(category="Sjakk")]))
    assert result.exit_code == 1
    assert (
        "linje 2: kategorien «Sjakk» er skjult og tilbys ikke lenger; velg en annen kategori"
    ) in result.stderr
    assert table_counts() == before


def test_an_unknown_category_names_only_those_on_offer(run_import, make_category):
    make_category(slug="sjakk", name_nb="Sjakk", hidden=True)
    result = run_import(csv_bytes([row(category="Rugby")]))
    assert result.exit_code == 1
    assert "linje 2: ukjent kategori «Rugby»; kjente kategorier: idrett, musikk\n" in (
        result.stderr
    )


def test_an_activity_keeps_a_category_that_was_hidden_since(run_import):
    assert run_import(csv_bytes(GOOD_ROWS)).exit_code == 0
    football = activity("Fotballtrening for 2016-kullet")
    football.category.hidden = True
    db.session.commit()

    # As in the web form: the activity keeps its category, but none may move to it.
    again = run_import(csv_bytes(GOOD_ROWS))
    assert again.exit_code == 0, again.output
    assert "0 nye, 0 endret, 3 uendret" in again.output
    moved = run_import(csv_bytes([GOOD_ROWS[0], GOOD_ROWS[1] | {"category": "idrett"}]))
    assert moved.exit_code == 1
    assert "linje 3: kategorien «idrett» er skjult" in moved.stderr
    assert activity("Barnekoret").category.slug == "musikk"


def test_an_unquoted_delimiter_in_a_value_is_caught(run_import):
    data = csv_bytes([row()], delimiter=";").decode()
    # A spreadsheet would quote the RRULE; without quotes its ';' splits the row.
    data = data.replace(
        '"FREQ=WEEKLY;UNTIL=20301217T225959Z"', "FREQ=WEEKLY;UNTIL=20301217T225959Z"
    )
    result = run_import(data.encode())
    assert result.exit_code == 1
    fields, columns = len(HEADER) + 1, len(HEADER)
    assert (
        f"linje 2: raden har {fields} felt, men overskriften har {columns}; står det «;» i en verdi"
        in result.output
    )


def test_semicolons_and_a_byte_order_mark_are_accepted(run_import):
    result = run_import(csv_bytes(GOOD_ROWS, delimiter=";", encoding="utf-8-sig"))
    assert result.exit_code == 0, result.output
    assert "3 nye" in result.output
    assert db.session.scalar(select(Organisation.name).where(Organisation.org_number == CLUB)) == (
        "Åssiden IF"
    )


def test_unknown_columns_are_ignored_with_a_warning(run_import):
    rows = [r | {"kommentar": "intern merknad"} for r in GOOD_ROWS]
    result = run_import(csv_bytes(rows, header=[*HEADER, "kommentar"]))
    assert result.exit_code == 0, result.output
    assert "ukjent kolonne «kommentar» blir ignorert" in result.output
    assert "3 nye" in result.output


def test_optional_columns_may_be_left_out(run_import):
    header = ["organisation_name", "organisation_number", "organisation_kind", "title"]
    header += ["age_min", "age_max", "starts_at"]
    result = run_import(csv_bytes([row()], header=header))
    assert result.exit_code == 0, result.output
    imported = activity("Fotballtrening for 2016-kullet")
    assert imported.price_nok == 0
    assert imported.schedules[0].duration_minutes == 60
    assert imported.schedules[0].rrule == ""
    assert imported.organisation.verification == "pending"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Filen er tom."),
        (b"\r\n\r\n", "Filen er tom."),
        ("\ufeff".encode(), "Filen er tom."),
        (csv_bytes([]), "Filen har bare en overskriftsrad og ingen aktiviteter."),
        (csv_bytes(GOOD_ROWS, encoding="latin-1"), "Filen er ikke gyldig UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Filen er ikke gyldig UTF-8"),
        (b'{"title": "Barnekoret"}\n{"title": "Kodeklubb"}\n', "ser ikke ut til å være en CSV-fil"),
        (
            csv_bytes(GOOD_ROWS, header=[c for c in HEADER if c not in ("title", "starts_at")]),
            "Filen mangler kolonnene: title, starts_at.",
        ),
    ],
    ids=[
        "empty",
        "blank-lines",
        "only-bom",
        "header-only",
        "latin-1",
        "binary",
        "json",
        "missing-columns",
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(run_import, data, message):
    before = table_counts()
    result = run_import(data)
    assert result.exit_code == 1
    assert message in result.output
    assert table_counts() == before


def test_the_line_of_invalid_utf8_is_named(run_import):
    data = csv_bytes(GOOD_ROWS[:2]) + "Fjell Ballklubb".encode("latin-1") + b"\xc5\r\n"
    result = run_import(data)
    assert result.exit_code == 1
    assert "første feil på linje 4" in result.output


def test_dry_run_reports_without_writing(run_import):
    before = table_counts()
    result = run_import(csv_bytes(GOOD_ROWS), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Prøvekjøring, ingenting er lagret: 3 nye, 0 endret, 0 uendret" in result.output
    assert table_counts() == before


def test_dry_run_of_a_bad_file_fails_like_a_real_run(run_import):
    result = run_import(csv_bytes([row(age_min="x")]), "--dry-run")
    assert result.exit_code == 1
    assert "linje 2: age_min «x» må være et heltall fra 0 til 25" in result.output


# --- the municipality -------------------------------------------------------------------------


def test_several_municipalities_need_the_option(run_import, make_municipality):
    lier = make_municipality(slug="lier", name="Lier")
    before = table_counts()
    result = run_import(csv_bytes(GOOD_ROWS))
    assert result.exit_code == 1
    assert "velg en med --municipality (drammen, lier)" in result.output
    assert table_counts() == before

    result = run_import(csv_bytes(GOOD_ROWS), "--municipality", "lier")
    assert result.exit_code == 0, result.output
    club = db.session.scalars(select(Organisation).where(Organisation.org_number == CLUB)).one()
    assert club.municipality_id == lier.id


def test_an_unknown_municipality_is_refused(run_import):
    result = run_import(csv_bytes(GOOD_ROWS), "--municipality", "oslo")
    assert result.exit_code == 1
    assert "Ukjent kommune «oslo»" in result.output


def test_the_same_number_in_another_municipality_is_another_organisation(
    run_import, make_municipality
):
    lier = make_municipality(slug="lier", name="Lier")
    db.session.add(
        Organisation(
            municipality=lier,
            slug="assiden-if",
            name="Åssiden IF",
            kind="volunteer",
            org_number=CLUB,
        )
    )
    db.session.commit()
    result = run_import(csv_bytes([row()]), "--municipality", "drammen")
    assert result.exit_code == 0, result.output
    orgs = db.session.scalars(select(Organisation).where(Organisation.org_number == CLUB)).all()
    assert len(orgs) == 2
    assert {o.slug for o in orgs} == {"assiden-if", "assiden-if-2"}
