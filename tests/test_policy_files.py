"""Policy files: export to TOML and JSON, import back byte-identically, refuse broken files."""

from __future__ import annotations

import io
import json
import tomllib
from datetime import date

import pytest
from sqlalchemy import select

from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.policy.channel_policy import default_settings
from directory.schools.models import ChannelPolicy
from directory.schools.policy_files import (
    MAX_FILE_BYTES,
    PolicyFileError,
    export_json,
    export_toml,
    parse_policy_file,
)

OVERRIDE = {
    "order": ["backpack", "facebook"],
    "backpack_weekly_quota": 3,
    "blackout_weeks": ["2026-W52", "2026-W51"],
}
DAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("settings", "complete"), [(default_settings(), True), (OVERRIDE, False), ({}, False)]
)
def test_toml_and_json_round_trip_byte_for_byte(settings, complete):
    toml_text = export_toml(settings, title="Gulskogen skole (Drammen)", day=DAY)
    again = parse_policy_file(toml_text.encode(), "p.toml", complete=complete)
    assert export_toml(again, title="Gulskogen skole (Drammen)", day=DAY) == toml_text
    json_text = export_json(settings)
    again = parse_policy_file(json_text.encode(), "p.json", complete=complete)
    assert export_json(again) == json_text
    # Either file, read by a standard parser, says the same thing.
    assert tomllib.loads(toml_text) == json.loads(json_text)


def test_the_toml_header_names_whose_policy_and_when():
    text = export_toml(OVERRIDE, title="Gulskogen skole (Drammen)", day=DAY)
    assert text.startswith(
        "# Kanalretningslinjer: Gulskogen skole (Drammen)\n# Eksportert 2026-11-23\n"
    )
    assert 'blackout_weeks = ["2026-W51", "2026-W52"]' in text
    assert "facebook_enabled" not in text  # an override lists only what the school set


def test_the_format_is_read_from_the_content_without_an_extension():
    assert parse_policy_file(b'{"backpack_weekly_quota": 4}', None, complete=False) == {
        "backpack_weekly_quota": 4
    }
    assert parse_policy_file(b"backpack_weekly_quota = 4\n", "upload", complete=False) == {
        "backpack_weekly_quota": 4
    }


def _error(data: bytes, filename: str | None = None, *, complete: bool = False) -> PolicyFileError:
    with pytest.raises(PolicyFileError) as info:
        parse_policy_file(data, filename, complete=complete)
    return info.value


def test_a_toml_syntax_error_names_its_line_and_column():
    error = _error(b'# ok\nbackpack_weekly_quota = 3\norder = ["facebook"\n', "p.toml")
    assert error.line == 4
    assert "Linje 4" in error.text and "TOML" in error.text


def test_a_json_syntax_error_names_its_line():
    error = _error(b'{\n  "backpack_weekly_quota": 3,\n  "order": ]\n}\n', "p.json")
    assert (error.line, error.column) == (3, 12)
    assert error.text.startswith("Linje 3, kolonne 12: ugyldig JSON")


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b'colour = "red"\n', "colour", "ikke en kjent innstilling"),
        (b"allow_commercial = true\n", "allow_commercial", "kan ikke endres"),
        (b'backpack_weekly_quota = "3"\n', "backpack_weekly_quota", "helt tall fra 0 til 20"),
        (b"facebook_enabled = 1\n", "facebook_enabled", "true eller false"),
        (b'blackout_weeks = ["jul"]\n', "blackout_weeks", "ISO-uke"),
    ],
)
def test_a_wrong_setting_is_refused_naming_the_field(data, field, words):
    error = _error(data, "p.toml")
    assert error.field == field
    assert field in error.text and words in error.text


def test_the_default_must_set_everything():
    error = _error(b"backpack_weekly_quota = 3\n", "p.toml", complete=True)
    assert error.field == "order" and "mangler" in error.text


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "tom"),
        (b"  \n\n", "tom"),
        ('order = "æ"\n'.encode("latin-1"), "UTF-8"),
        (b"#" * (MAX_FILE_BYTES + 1), "for stor"),
    ],
)
def test_empty_foreign_or_huge_files_are_refused(data, words):
    assert words in _error(data, "p.toml").text


# --- through the pages: nothing stored on a refusal ------------------------------------------


@pytest.fixture
def school_admin(app, make_school, make_staff, login_as):
    school = make_school(name="Gulskogen skole", slug="gulskogen-skole")
    login_as(make_staff(school, role="admin"))
    return school


def _upload(client, path, content: bytes, name: str):
    return client.post(
        path, data={"policy_file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def _stored(school_id):
    db.session.expire_all()
    row = db.session.scalar(select(ChannelPolicy).where(ChannelPolicy.school_id == school_id))
    return (dict(row.settings), row.version) if row else None


def test_importing_an_override_stores_it_and_exports_the_same_file(app, client, school_admin):
    path = f"/schools/{school_admin.slug}/policy"
    exported = export_json(OVERRIDE).encode()
    response = _upload(client, path + "/import", exported, "gulskogen.json")
    assert response.status_code == 302
    assert client.get(path + ".json").get_data() == exported
    toml_file = client.get(path + ".toml")
    assert toml_file.headers["Content-Disposition"].startswith("attachment;")
    again = _upload(client, path + "/import", toml_file.get_data(), "gulskogen.toml")
    assert again.status_code == 302
    assert client.get(path + ".toml").get_data() == toml_file.get_data()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "policy.import").order_by(AuditEvent.id)
    ).first()
    assert event.data["before"] is None
    assert event.data["after"]["backpack_weekly_quota"] == 3


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b"backpack_weekly_quota = \n", "p.toml", "Linje 1"),
        (b'{"order": ["backpack", "facebook"],}', "p.json", "Linje 1"),
        (b"allow_commercial = true\n", "p.toml", "skolen formidler ikke reklame"),
        (b"", "p.toml", "Filen er tom"),
        (b"\xff\xfe\x00", "p.toml", "UTF-8"),
        (b"#" * (MAX_FILE_BYTES + 10), "p.toml", "for stor"),
    ],
)
def test_a_refused_file_leaves_the_stored_policy_unchanged(
    app, client, school_admin, content, name, words
):
    path = f"/schools/{school_admin.slug}/policy"
    assert (
        _upload(client, path + "/import", export_json(OVERRIDE).encode(), "ok.json").status_code
        == 302
    )
    before = _stored(school_admin.id)
    events = db.session.scalar(select(db.func.count(AuditEvent.id)))
    response = _upload(client, path + "/import", content, name)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert _stored(school_admin.id) == before
    assert db.session.scalar(select(db.func.count(AuditEvent.id))) == events


def test_the_municipal_default_round_trips_through_its_pages(
    app, client, municipality, make_user, login_as
):
    admin = make_user()
    admin.admin_municipality_id = municipality.id
    db.session.commit()
    login_as(admin)
    toml_file = client.get("/admin/policy.toml").get_data()
    changed = toml_file.replace(b"backpack_weekly_quota = 2", b"backpack_weekly_quota = 5")
    assert _upload(client, "/admin/policy/import", changed, "drammen.toml").status_code == 302
    assert client.get("/admin/policy.toml").get_data() == changed
    # A default missing a setting is refused and the stored default stays.
    response = _upload(client, "/admin/policy/import", b"backpack_weekly_quota = 1\n", "d.toml")
    assert response.status_code == 400
    assert "mangler" in response.get_data(as_text=True)
    assert client.get("/admin/policy.toml").get_data() == changed
