"""Organisers create, edit, publish, cancel, archive and copy activities; others may not."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from directory.accounts.operations import create_user
from directory.activities.models import Activity, Schedule
from directory.activities.schedule import build_rrule, format_local_list, summarise_rule
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from directory.policy.activity_states import allowed_actions, check_transition
from directory.schools.models import Municipality
from directory.storage import upload_storage
from tests.conftest import PASSWORD, csrf_token_from, login, next_weekday_at

# --- helpers -------------------------------------------------------------------------------


def next_tuesday() -> date:
    return next_weekday_at(1, 17).date()


def form_data(**overrides) -> dict:
    """A complete, valid activity form: weekly on Tuesdays for ten weeks."""
    first = next_tuesday()
    data = {
        "title": "Fotballtrening for nybegynnere",
        "summary": "Vi spiller fotball sammen.",
        "description": "Ta med **drikkeflaske**.",
        "category_id": "",
        "tags": "fotball,  nybegynner ,",
        "age_min": "8",
        "age_max": "12",
        "price_nok": "250",
        "price_note": "Per halvår",
        "venue": "Marienlyst",
        "address": "Marienlystgata 1, 3015 Drammen",
        "latitude": "59,7440",
        "longitude": "10,2045",
        "accessibility": "Trinnfri adkomst",
        "languages": "norsk, engelsk",
        "registration_url": "https://example.org/pamelding",
        "facebook_post_url": "https://www.facebook.com/klubben/posts/123",
        "capacity": "20",
        "image_alt": "",
        "first_date": first.isoformat(),
        "start_time": "17:00",
        "end_time": "18:30",
        "repeat": "weekly",
        "until": (first + timedelta(weeks=9)).isoformat(),
        "except_dates": "",
        "extra_dates": "",
    }
    data.update(overrides)
    return data


def field_errors(html: str, field: str) -> str:
    """The text of the error list next to a field ('' when there is none)."""
    match = re.search(rf'<ul class="errors" id="{field}-err">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def activity_count() -> int:
    return db.session.scalar(select(func.count(Activity.id)))


def png_bytes(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def create(client, org, **overrides):
    return client.post(f"/organisations/{org.slug}/activities/new", data=form_data(**overrides))


def audit_actions(activity_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "Activity", AuditEvent.object_id == activity_id)
            .order_by(AuditEvent.id)
        )
    )


# --- the status rules, pure ----------------------------------------------------------------


def test_status_transitions_are_a_pure_table():
    assert check_transition("draft", "published").allowed
    assert check_transition("published", "cancelled").allowed
    assert not check_transition("draft", "cancelled").allowed
    assert not check_transition("archived", "published").allowed
    assert not check_transition("unknown", "draft").allowed
    assert allowed_actions("draft") == ["publish", "archive"]
    assert allowed_actions("archived") == ["unpublish"]


# --- creating -------------------------------------------------------------------------------


def test_member_sees_the_new_activity_form(client, org, signed_in):
    response = client.get(f"/organisations/{org.slug}/activities/new")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in body
    for name in ("title", "age_min", "first_date", "repeat", "except_dates", "image", "flyer"):
        assert f'name="{name}"' in body


def test_create_stores_a_draft_with_one_schedule_and_an_audit_event(client, org, signed_in):
    response = create(
        client, org, except_dates=(next_tuesday() + timedelta(weeks=2)).strftime("%d.%m.%Y")
    )
    assert response.status_code == 302
    activity = db.session.scalars(select(Activity)).one()
    assert response.headers["Location"].endswith(f"/activities/{activity.id}")
    assert activity.status == "draft"
    assert activity.tags == "fotball, nybegynner"
    assert activity.price_nok == 250
    assert float(activity.latitude) == pytest.approx(59.744)
    (schedule,) = activity.schedules
    first = next_tuesday()
    assert schedule.dtstart == datetime.combine(first, datetime.min.time()).replace(hour=17)
    assert schedule.duration_minutes == 90
    assert schedule.rrule == build_rrule("weekly", first + timedelta(weeks=9))
    assert schedule.exdates == format_local_list(
        [datetime.combine(first + timedelta(weeks=2), datetime.min.time()).replace(hour=17)]
    )
    assert audit_actions(activity.id) == ["activity.create"]


def test_price_left_empty_means_free(client, org, signed_in):
    assert create(client, org, price_nok="").status_code == 302
    assert db.session.scalars(select(Activity)).one().price_nok == 0


VALIDATION_CASES = [
    # (overrides, field, message)
    ({"title": ""}, "title", "Skriv inn en tittel."),
    ({"title": "x" * 151}, "title", "høyst 150 tegn"),
    ({"summary": "x" * 301}, "summary", "høyst 300 tegn"),
    ({"description": "x" * 20001}, "description", "høyst 20 000 tegn"),
    ({"tags": "x" * 301}, "tags", "høyst 300 tegn"),
    ({"age_min": "åtte"}, "age_min", "Skriv alderen som et helt tall."),
    ({"age_min": ""}, "age_min", "Skriv inn laveste alder."),
    ({"age_max": "30"}, "age_max", "mellom 0 og 25 år"),
    ({"age_min": "12", "age_max": "8"}, "age_max", "Høyeste alder kan ikke være lavere"),
    ({"price_nok": "-5"}, "price_nok", "mellom 0 og 100 000 kroner"),
    ({"price_nok": "100001"}, "price_nok", "mellom 0 og 100 000 kroner"),
    ({"price_nok": "250 kr"}, "price_nok", "helt antall kroner"),
    ({"latitude": "59.7", "longitude": ""}, "longitude", "Fyll inn lengdegraden også"),
    ({"latitude": "", "longitude": "10.2"}, "latitude", "Fyll inn breddegraden også"),
    ({"latitude": "95"}, "latitude", "mellom -90 og 90"),
    ({"longitude": "NaN"}, "longitude", "desimaltall"),
    ({"registration_url": "javascript:alert(1)"}, "registration_url", "https://"),
    ({"registration_url": "ftp://example.org/x"}, "registration_url", "https://"),
    ({"facebook_post_url": "https://evil.example/post"}, "facebook_post_url", "Facebook"),
    (
        {"facebook_post_url": "https://facebook.com.evil.example/x"},
        "facebook_post_url",
        "Facebook",
    ),
    ({"capacity": "0"}, "capacity", "minst 1"),
    ({"category_id": "999999"}, "category_id", "Velg en kategori fra listen."),
    ({"first_date": ""}, "first_date", "Velg første dato."),
    ({"first_date": "31.02.2026"}, "first_date", "24.12.2026"),
    ({"first_date": "1999-12-31"}, "first_date", "for langt tilbake"),
    ({"start_time": "25:00"}, "start_time", "17:00"),
    ({"end_time": "16:00"}, "end_time", "etter starttidspunktet"),
    ({"repeat": "daily"}, "repeat", "Velg en av gjentakelsene"),
    ({"until": ""}, "until", "Velg siste dato"),
    ({"until": "2000-01-01"}, "until", "etter første dato"),
    ({"until": (date.today() + timedelta(days=800)).isoformat()}, "until", "18 måneder"),
    ({"except_dates": "banan, 1.1.2027"}, "except_dates", "banan"),
    ({"extra_dates": "2000-01-01"}, "extra_dates", "etter første dato"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), VALIDATION_CASES)
def test_each_validation_error_keeps_the_data_and_stores_nothing(
    client, org, signed_in, overrides, field, message
):
    response = create(client, org, **overrides)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in field_errors(body, field), body[:3000]
    assert "Skjemaet har feil" in body
    if field != "title":
        assert 'value="Fotballtrening for nybegynnere"' in body  # what was typed stays
    assert activity_count() == 0


def test_an_unreadable_number_gets_one_message_not_two(client, org, signed_in):
    response = create(client, org, age_min="åtte")
    errors = field_errors(response.get_data(as_text=True), "age_min")
    assert errors.count("<li>") == 1


def test_except_date_not_in_the_rule_is_named(client, org, signed_in):
    wednesday = next_tuesday() + timedelta(days=8)
    response = create(client, org, except_dates=wednesday.strftime("%d.%m.%Y"))
    assert response.status_code == 400
    errors = field_errors(response.get_data(as_text=True), "except_dates")
    assert f"{wednesday.day}.{wednesday.month}.{wednesday.year}" in errors
    assert activity_count() == 0


def test_an_image_needs_alt_text_and_must_be_chosen_again_after_an_error(client, org, signed_in):
    data = form_data(image_alt="")
    data["image"] = (io.BytesIO(png_bytes()), "bilde.png")
    response = client.post(f"/organisations/{org.slug}/activities/new", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Beskriv bildet" in field_errors(body, "image_alt")
    assert "velg bildet eller flygebladet en gang til" in body
    assert activity_count() == 0


def test_an_organisation_can_use_a_category(client, org, signed_in, make_category):
    category = make_category(name_nb="Idrett")
    assert create(client, org, category_id=str(category.id)).status_code == 302
    activity = db.session.scalars(select(Activity)).one()
    assert activity.category_id == category.id
    assert "Idrett" in client.get(f"/activities/{activity.id}").get_data(as_text=True)


# --- publishing and the other status changes ----------------------------------------------


def press(client, activity: Activity, action: str, **data):
    """Press a status button as the page shows it: with the activity's current version."""
    return client.post(
        f"/activities/{activity.id}/{action}", data={"version": activity.version, **data}
    )


def test_create_publish_and_the_public_sees_it(client, app, org, signed_in):
    create(client, org)
    activity = db.session.scalars(select(Activity)).one()
    assert press(client, activity, "publish").status_code == 302
    db.session.refresh(activity)
    assert activity.status == "published" and activity.published_at is not None

    anonymous = app.test_client()
    assert "Fotballtrening for nybegynnere" in anonymous.get("/").get_data(as_text=True)
    detail = anonymous.get(f"/activities/{activity.id}")
    assert detail.status_code == 200
    assert "Drammen Fotballklubb" in detail.get_data(as_text=True)
    assert audit_actions(activity.id) == ["activity.create", "activity.publish"]


def test_unpublish_hides_the_activity_again(client, app, org, signed_in, make_activity):
    activity = make_activity(organisation=org, title="Sjakk")
    assert press(client, activity, "unpublish").status_code == 302
    anonymous = app.test_client()
    assert "Sjakk" not in anonymous.get("/").get_data(as_text=True)
    assert anonymous.get(f"/activities/{activity.id}").status_code == 404


def test_cancel_keeps_it_visible_marked_as_cancelled_with_the_note(
    client, app, org, signed_in, make_activity
):
    activity = make_activity(organisation=org, title="Sjakk")
    response = press(client, activity, "cancel", note="Treneren er syk hele høsten.")
    assert response.status_code == 302
    anonymous = app.test_client()
    home = anonymous.get("/").get_data(as_text=True)
    assert "Sjakk" in home and "Avlyst" in home
    detail = anonymous.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "Treneren er syk hele høsten." in detail
    assert audit_actions(activity.id) == ["activity.cancel"]


def test_archive_hides_it_from_the_public(client, app, org, signed_in, make_activity):
    activity = make_activity(organisation=org, title="Sjakk")
    assert press(client, activity, "archive").status_code == 302
    anonymous = app.test_client()
    assert "Sjakk" not in anonymous.get("/").get_data(as_text=True)
    assert anonymous.get(f"/activities/{activity.id}").status_code == 404


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "cancel"),
        ("draft", "unpublish"),
        ("archived", "publish"),
        ("archived", "cancel"),
        ("archived", "archive"),
        ("published", "publish"),
        ("cancelled", "cancel"),
    ],
)
def test_illegal_transitions_are_409_and_change_nothing(
    client, org, signed_in, make_activity, status, action
):
    activity = make_activity(organisation=org, status=status)
    response = press(client, activity, action)
    assert response.status_code == 409
    assert "kan ikke" in response.get_data(as_text=True)
    db.session.refresh(activity)
    assert activity.status == status
    assert audit_actions(activity.id) == []


def test_publishing_without_a_future_date_is_refused(client, org, signed_in, make_activity):
    past = datetime(2020, 3, 3, 17, 0)
    activity = make_activity(
        organisation=org, status="draft", schedule={"dtstart": past, "rrule": ""}
    )
    response = press(client, activity, "publish")
    assert response.status_code == 409
    assert "ingen datoer fram i tid" in response.get_data(as_text=True)
    db.session.refresh(activity)
    assert activity.status == "draft"


@pytest.mark.parametrize("version", ["0", None], ids=["old", "missing"])
def test_a_stale_status_button_is_409(client, org, signed_in, make_activity, version):
    activity = make_activity(organisation=org)
    data = {} if version is None else {"version": version}
    response = client.post(f"/activities/{activity.id}/cancel", data=data)
    assert response.status_code == 409
    assert "Noen andre har endret dette" in response.get_data(as_text=True)
    db.session.refresh(activity)
    assert activity.status == "published"


def test_manage_list_shows_every_status_with_buttons(client, org, signed_in, make_activity):
    for status in ("draft", "published", "cancelled", "archived"):
        make_activity(organisation=org, status=status, title=f"Aktivitet {status}")
    body = client.get(f"/organisations/{org.slug}/activities").get_data(as_text=True)
    for status in ("draft", "published", "cancelled", "archived"):
        assert f"Aktivitet {status}" in body
    assert "Publiser" in body and "Avlys" in body and "Arkiver" in body
    assert "Kopier til neste sesong" in body
    assert 'name="csrf_token"' in body


# --- editing ---------------------------------------------------------------------------------


def selected_option(html: str, name: str) -> str:
    """The value of the option the page selected in the select named `name`."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    chosen = re.search(
        r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html.group(1)
    )
    return next(g for g in chosen.groups() if g is not None)


def edit_data(client, activity_id: int, **overrides) -> dict:
    """The edit form as the page fills it, with overrides, read back from the HTML."""
    html = client.get(f"/activities/{activity_id}/edit").get_data(as_text=True)
    data = {}
    for name in (
        "title", "tags", "age_min", "age_max", "price_nok", "price_note", "venue",
        "address", "latitude", "longitude", "other_languages", "registration_url",
        "facebook_post_url", "capacity", "image_alt", "first_date", "start_time", "end_time",
        "until", "version",
    ):  # fmt: skip
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', html
        )
        data[name] = match.group(1).replace("&amp;", "&") if match else ""
    for name in ("summary", "description", "accessibility", "except_dates", "extra_dates"):
        match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', html, re.S)
        data[name] = match.group(1) if match else ""
    repeat = re.search(r'<option selected value="(\w+)"|<option value="(\w+)" selected', html)
    data["repeat"] = next(g for g in repeat.groups() if g)
    data["venue_choice"] = selected_option(html, "venue_choice")
    data["languages"] = [
        re.search(r'value="([^"]*)"', box).group(1)
        for box in re.findall(r'<input[^>]*name="languages"[^>]*>', html)
        if " checked" in box
    ]
    data["category_id"] = ""
    data.update(overrides)
    return data


def test_edit_updates_fields_and_records_before_and_after(client, org, signed_in):
    create(client, org)
    activity = db.session.scalars(select(Activity)).one()
    data = edit_data(client, activity.id, title="Fotball for alle", age_max="13")
    assert data["version"] == str(activity.version)
    response = client.post(f"/activities/{activity.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.refresh(activity)
    assert (activity.title, activity.age_max) == ("Fotball for alle", 13)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "activity.update")
    ).one()
    assert event.data["changes"]["title"] == ["Fotballtrening for nybegynnere", "Fotball for alle"]
    assert event.data["changes"]["age_max"] == [12, 13]
    assert "schedule" not in event.data["changes"]


def test_edit_changes_the_schedule(client, org, signed_in):
    create(client, org)
    activity = db.session.scalars(select(Activity)).one()
    data = edit_data(client, activity.id, repeat="biweekly", start_time="18:00", end_time="19:00")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302
    (schedule,) = db.session.scalars(select(Schedule)).all()
    assert schedule.dtstart.hour == 18 and schedule.duration_minutes == 60
    assert "INTERVAL=2" in schedule.rrule


def test_a_stale_version_is_409_and_changes_nothing(client, org, signed_in):
    create(client, org)
    activity = db.session.scalars(select(Activity)).one()
    stale = edit_data(client, activity.id, title="Mitt gamle skjema")
    first = edit_data(client, activity.id, title="Den andres endring")
    assert client.post(f"/activities/{activity.id}/edit", data=first).status_code == 302
    response = client.post(f"/activities/{activity.id}/edit", data=stale)
    assert response.status_code == 409
    assert "Noen andre har endret dette" in response.get_data(as_text=True)
    db.session.refresh(activity)
    assert activity.title == "Den andres endring"


def test_saving_without_changes_records_nothing(client, org, signed_in):
    create(client, org)
    activity = db.session.scalars(select(Activity)).one()
    version = activity.version
    response = client.post(f"/activities/{activity.id}/edit", data=edit_data(client, activity.id))
    assert response.status_code == 302
    assert "Ingen endringer å lagre." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    db.session.refresh(activity)
    assert activity.version == version
    assert audit_actions(activity.id) == ["activity.create"]


def test_an_edit_without_a_version_is_refused(client, org, signed_in):
    create(client, org)
    activity = db.session.scalars(select(Activity)).one()
    data = edit_data(client, activity.id, title="Uten versjon")
    del data["version"]
    response = client.post(f"/activities/{activity.id}/edit", data=data)
    assert response.status_code == 409
    assert "Noen andre har endret dette" in response.get_data(as_text=True)
    db.session.refresh(activity)
    assert activity.title == "Fotballtrening for nybegynnere"


def test_edit_with_errors_is_400_and_keeps_the_stored_data(client, org, signed_in):
    create(client, org)
    activity = db.session.scalars(select(Activity)).one()
    data = edit_data(client, activity.id, title="", age_min="99")
    response = client.post(f"/activities/{activity.id}/edit", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Skriv inn en tittel." in field_errors(body, "title")
    assert 'value="99"' in body
    db.session.refresh(activity)
    assert activity.title == "Fotballtrening for nybegynnere"


def test_editing_an_imported_activity_with_several_schedules_keeps_the_others(
    client, org, signed_in, make_activity
):
    # The form shows the earliest schedule: the imported Tuesday-and-Thursday rule starts first,
    # a plain weekly Saturday schedule follows it.
    tuesday = next_weekday_at(1, 17)
    activity = make_activity(
        organisation=org, schedule={"dtstart": tuesday, "rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}
    )
    saturday = (tuesday + timedelta(days=4)).replace(hour=10)
    db.session.add(Schedule(activity_id=activity.id, dtstart=saturday, rrule="FREQ=WEEKLY"))
    db.session.commit()
    page = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert "1 tidsplan til" in page
    assert "mer sammensatt enn skjemaet kan vise" in page
    # Only the title changes: the imported rules stay as they were.
    data = edit_data(client, activity.id, title="Ny tittel")
    response = client.post(f"/activities/{activity.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    rules = sorted(s.rrule for s in db.session.scalars(select(Schedule)))
    assert rules == ["FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=TU,TH"]


def test_replacing_and_removing_the_image(client, org, signed_in, app):
    data = form_data(image_alt="Barn som spiller fotball")
    data["image"] = (io.BytesIO(png_bytes()), "bilde.png")
    assert client.post(f"/organisations/{org.slug}/activities/new", data=data).status_code == 302
    activity = db.session.scalars(select(Activity)).one()
    first_name = activity.image_filename
    assert first_name

    data = edit_data(client, activity.id)
    data["image"] = (io.BytesIO(png_bytes((60, 40))), "nytt.png")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302
    db.session.refresh(activity)
    assert activity.image_filename not in (None, first_name)
    assert not upload_storage().exists(first_name)  # no longer used by any activity

    data = edit_data(client, activity.id, remove_image="y")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302
    db.session.refresh(activity)
    assert activity.image_filename is None and activity.image_alt == ""


# --- copying ---------------------------------------------------------------------------------


def test_copy_to_next_season_moves_every_date_52_weeks(client, org, signed_in, make_activity):
    first = datetime.combine(next_tuesday(), datetime.min.time()).replace(hour=17)
    activity = make_activity(
        organisation=org,
        image_filename="a" * 32 + ".jpg",
        image_alt="Et bilde",
        flyer_filename="b" * 32 + ".pdf",
        schedule={
            "dtstart": first,
            "rrule": build_rrule("weekly", first.date() + timedelta(weeks=8)),
            "exdates": format_local_list([first + timedelta(weeks=2)]),
            "rdates": format_local_list([first + timedelta(weeks=10, days=2)]),
        },
    )
    response = client.post(f"/activities/{activity.id}/copy")
    assert response.status_code == 302
    copy = db.session.scalars(select(Activity).where(Activity.copied_from_id == activity.id)).one()
    assert response.headers["Location"].endswith(f"/activities/{copy.id}/edit")
    assert copy.status == "draft"
    assert copy.title == activity.title
    assert (copy.image_filename, copy.flyer_filename) == (
        activity.image_filename,
        activity.flyer_filename,
    )
    (moved,) = copy.schedules
    assert moved.dtstart == first + timedelta(weeks=52)
    assert moved.dtstart.weekday() == first.weekday()
    assert summarise_rule(moved).until == first.date() + timedelta(weeks=60)
    assert moved.exdates == format_local_list([first + timedelta(weeks=54)])
    assert moved.rdates == format_local_list([first + timedelta(weeks=62, days=2)])
    assert audit_actions(copy.id) == ["activity.copy"]
    # The original is untouched.
    db.session.refresh(activity)
    assert activity.schedules[0].dtstart == first and activity.status == "published"


# --- who may do what -------------------------------------------------------------------------

MANAGEMENT_ROUTES = [
    ("get", "/organisations/{slug}/activities"),
    ("get", "/organisations/{slug}/activities/new"),
    ("post", "/organisations/{slug}/activities/new"),
    ("get", "/activities/{id}/edit"),
    ("post", "/activities/{id}/edit"),
    ("post", "/activities/{id}/publish"),
    ("post", "/activities/{id}/unpublish"),
    ("post", "/activities/{id}/cancel"),
    ("post", "/activities/{id}/archive"),
    ("post", "/activities/{id}/copy"),
]


@pytest.mark.parametrize("status", ["published", "draft"])
@pytest.mark.parametrize(("method", "path"), MANAGEMENT_ROUTES)
def test_another_organisations_member_is_refused(
    client, make_user, make_organisation, make_activity, login_as, method, path, status
):
    """403 where the outsider may see what the URL names; a draft's own URLs are 404, as its
    public page is, so that they do not reveal that the id exists."""
    owner_org = make_organisation()
    activity = make_activity(organisation=owner_org, status=status)
    outsider = make_user()
    make_organisation(members=[outsider])
    login_as(outsider)
    url = path.format(slug=owner_org.slug, id=activity.id)
    response = getattr(client, method)(url, data=form_data() if method == "post" else None)
    hidden = status == "draft" and "{id}" in path
    assert response.status_code == (404 if hidden else 403)
    db.session.refresh(activity)
    assert activity.status == status
    assert activity_count() == 1


@pytest.mark.parametrize(("method", "path"), MANAGEMENT_ROUTES)
def test_anonymous_is_sent_to_login(client, make_activity, method, path):
    activity = make_activity(status="draft")
    url = path.format(slug=activity.organisation.slug, id=activity.id)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "path"), MANAGEMENT_ROUTES)
def test_unknown_ids_are_404(client, signed_in, method, path):
    url = path.format(slug="finnes-ikke", id=999999)
    assert getattr(client, method)(url).status_code == 404


def test_school_staff_and_municipal_admin_cannot_edit(
    client, make_activity, make_school, make_staff, make_user, municipality, login_as
):
    activity = make_activity(status="draft")
    published = make_activity(organisation=activity.organisation)
    login_as(make_staff(make_school()))
    assert client.get(f"/activities/{published.id}/edit").status_code == 403
    # The school's staff may not see the draft at all: its edit page is as unknown as it is.
    assert client.get(f"/activities/{activity.id}/edit").status_code == 404
    admin = make_user()
    admin.admin_municipality_id = municipality.id
    db.session.commit()
    login_as(admin)
    # The admin may look at the draft, so is told plainly that editing it is not allowed.
    assert client.get(f"/activities/{activity.id}").status_code == 200
    assert client.get(f"/activities/{activity.id}/edit").status_code == 403
    assert client.post(f"/activities/{activity.id}/publish").status_code == 403
    db.session.refresh(activity)
    assert activity.status == "draft"


def test_drafts_are_visible_to_members_with_a_banner_and_hidden_from_others(
    app, client, org, signed_in, make_activity, make_user, make_organisation
):
    activity = make_activity(organisation=org, status="draft", title="Hemmelig utkast")
    page = client.get(f"/activities/{activity.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "ikke offentlig" in body and "Rediger" in body
    assert app.test_client().get(f"/activities/{activity.id}").status_code == 404
    other = app.test_client()
    outsider = make_user()
    make_organisation(members=[outsider])
    login(other, outsider)
    assert other.get(f"/activities/{activity.id}").status_code == 404


def test_status_buttons_need_the_csrf_token_when_protection_is_on(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = create_user("csrf@example.org", "Csrf", PASSWORD)
        organisation = Organisation(
            municipality=Municipality(slug="m", name="M"), slug="o", name="O", kind="volunteer"
        )
        activity = Activity(organisation=organisation, title="T", age_min=1, age_max=2)
        activity.schedules.append(Schedule(dtstart=next_weekday_at(1, 17), rrule="FREQ=WEEKLY"))
        db.session.add_all([activity, Membership(user=user, organisation=organisation)])
        db.session.commit()
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})

        assert press(client, activity, "publish").status_code == 400
        db.session.refresh(activity)
        assert activity.status == "draft"

        page = client.get("/organisations/o/activities").get_data(as_text=True)
        response = press(client, activity, "publish", csrf_token=csrf_token_from(page))
        assert response.status_code == 302
        db.session.refresh(activity)
        assert activity.status == "published"
        db.session.remove()


# --- the venue, not coordinates ----------------------------------------------------------------


@pytest.fixture
def venues(org, make_organisation, make_activity, make_municipality):
    """The organisation's own earlier venue, a public venue of another club in the
    municipality, another club's draft, and a venue in another municipality."""
    from decimal import Decimal

    make_activity(organisation=org, venue="Marienlyst stadion", address="Marienlystgata 1",
                  latitude=Decimal("59.744000"), longitude=Decimal("10.204500"))  # fmt: skip
    neighbour = make_organisation(name="Fjell IL")
    make_activity(organisation=neighbour, venue="Fjellhallen", address="Fjellveien 3",
                  latitude=Decimal("59.730100"), longitude=Decimal("10.180200"))  # fmt: skip
    make_activity(organisation=neighbour, venue="Hemmelig hall", status="draft")
    elsewhere = make_organisation(name="Lier IL", municipality=make_municipality())
    make_activity(organisation=elsewhere, venue="Lierhallen")


def venue_key(html: str, label_start: str) -> str:
    """The value of the venue list's option whose text starts with `label_start`."""
    return re.search(rf'<option value="([0-9a-f]+)"[^>]*>{re.escape(label_start)}', html).group(1)


def test_the_form_offers_earlier_and_municipal_venues_with_coordinates_folded_away(
    client, org, signed_in, venues
):
    html = client.get(f"/organisations/{org.slug}/activities/new").get_data(as_text=True)
    choice = re.search(r'<select[^>]*name="venue_choice".*?</select>', html, re.S).group(0)
    assert '<optgroup label="Steder dere har brukt">' in choice
    assert "Marienlyst stadion, Marienlystgata 1" in choice
    assert '<optgroup label="Andre steder i kommunen">' in choice
    assert "Fjellhallen, Fjellveien 3" in choice
    assert "Nytt sted" in choice
    assert "Hemmelig hall" not in choice and "Lierhallen" not in choice
    details = re.search(r"<details[^>]*>.*?</details>", html, re.S).group(0)
    assert "Avansert: koordinater" in details
    assert 'name="latitude"' in details and 'name="longitude"' in details


def test_choosing_a_known_venue_fills_its_address_and_coordinates(client, org, signed_in, venues):
    html = client.get(f"/organisations/{org.slug}/activities/new").get_data(as_text=True)
    key = venue_key(html, "Fjellhallen")
    response = create(
        client, org, title="Innebandy", venue_choice=key, venue="", address="", latitude="",
        longitude="",
    )  # fmt: skip
    assert response.status_code == 302
    activity = db.session.scalars(select(Activity).where(Activity.title == "Innebandy")).one()
    assert (activity.venue, activity.address) == ("Fjellhallen", "Fjellveien 3")
    assert (str(activity.latitude), str(activity.longitude)) == ("59.730100", "10.180200")
    # The edit form shows the venue chosen in the list, and saving it untouched changes nothing.
    edit = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert selected_option(edit, "venue_choice") == key
    response = client.post(f"/activities/{activity.id}/edit", data=edit_data(client, activity.id))
    assert response.status_code == 302
    assert audit_actions(activity.id) == ["activity.create"]


def test_a_new_venue_is_typed_in_and_offered_next_time(client, org, signed_in, venues):
    response = create(client, org, title="Svømming", venue_choice="new", venue="Badeland",
                      address="Badeveien 2", latitude="", longitude="")  # fmt: skip
    assert response.status_code == 302
    activity = db.session.scalars(select(Activity).where(Activity.title == "Svømming")).one()
    assert (activity.venue, activity.latitude) == ("Badeland", None)
    html = client.get(f"/organisations/{org.slug}/activities/new").get_data(as_text=True)
    assert "Badeland, Badeveien 2" in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"venue": "Et annet sted"}, "venue", "Du har valgt et sted fra listen"),
        ({"latitude": "59,1"}, "latitude", "Du har valgt et sted fra listen"),
        ({"venue_choice": "0123456789abcdef"}, "venue_choice", "finnes ikke i listen lenger"),
    ],
)
def test_a_listed_venue_with_a_typed_one_or_an_unknown_venue_is_refused(
    client, org, signed_in, venues, overrides, field, message
):
    html = client.get(f"/organisations/{org.slug}/activities/new").get_data(as_text=True)
    data = {"venue_choice": venue_key(html, "Marienlyst stadion"), "venue": "", "address": "",
            "latitude": "", "longitude": "", **overrides}  # fmt: skip
    before = activity_count()
    response = create(client, org, **data)
    assert response.status_code == 400
    assert message in field_errors(response.get_data(as_text=True), field)
    assert activity_count() == before


# --- the languages ---------------------------------------------------------------------------------


def test_languages_are_ticked_from_a_list_and_read_in_the_page_s_language(
    client, app, org, signed_in
):
    response = create(client, org, languages=["no", "pl"], other_languages="kurdisk")
    assert response.status_code == 302
    activity = db.session.scalars(select(Activity)).one()
    assert activity.languages == "no, pl, kurdisk"
    press(client, activity, "publish")
    edit = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="languages"[^>]*value="pl"', edit)
    assert 'name="other_languages" type="text" value="kurdisk"' in edit

    anonymous = app.test_client()
    norsk = anonymous.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "<dd>norsk, polsk, kurdisk</dd>" in norsk
    english = anonymous.get(f"/activities/{activity.id}?lang=en").get_data(as_text=True)
    assert "<dd>Norwegian, Polish, kurdisk</dd>" in english


def test_free_text_languages_from_an_older_form_are_read_as_codes(client, org, signed_in):
    assert create(client, org, languages="Norsk og engelsk").status_code == 302
    assert db.session.scalars(select(Activity.languages)).one() == "no, en"
    response = create(client, org, title="Kurdisk", languages="kurdisk")
    assert response.status_code == 400
    assert "Andre språk" in field_errors(response.get_data(as_text=True), "languages")
