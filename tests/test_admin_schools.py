"""The municipal admin's school register: create, edit, deactivate and reactivate a school, and
what a deactivated school no longer is part of (routing, the reach page, search, the API)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.models import School, SchoolGradeCount
from directory.schools.operations import school_fingerprint
from tests.conftest import quick_user, sign_in


@pytest.fixture
def admin(app, municipality):
    user = quick_user("admin", admin_municipality_id=municipality.id)
    db.session.commit()
    return user


@pytest.fixture
def signed_in_admin(client, admin):
    sign_in(client, admin)
    return admin


def school_form(**overrides) -> dict:
    data = {
        "name": "Åssiden skole",
        "slug": "",
        "org_number": "",
        "grade_min": "1",
        "grade_max": "7",
        "area": "Åssiden",
        "address": "Skolegata 1, 3048 Drammen",
        "latitude": "59,7440",
        "longitude": "10,2045",
        "facebook_page_url": "www.facebook.com/assidenskole",
        "accepts_backpack_post": "y",
        **{f"classes_{g}": "2" for g in range(1, 8)},
        **{f"pupils_{g}": str(40 + g) for g in range(1, 8)},
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _school(slug: str) -> School | None:
    db.session.expire_all()
    return db.session.scalar(select(School).where(School.slug == slug))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_admin_adds_a_school_with_its_counts_and_the_act_is_audited(
    client, signed_in_admin, municipality
):
    page = client.get("/admin/schools/new")
    assert page.status_code == 200
    assert "Klasser og elever per trinn" in page.get_data(as_text=True)

    response = client.post("/admin/schools/new", data=school_form())
    assert response.status_code == 302
    school = _school("assiden-skole")  # the slug is made from the name
    assert school is not None and school.active
    assert school.municipality_id == municipality.id
    assert (school.grade_min, school.grade_max) == (1, 7)
    assert school.facebook_page_url == "https://www.facebook.com/assidenskole"
    assert school.latitude == pytest.approx(59.744)
    assert {(c.grade, c.classes, c.pupils) for c in school.grade_counts} == {
        (g, 2, 40 + g) for g in range(1, 8)
    }
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "school.create"))
    assert event.object_id == school.id and event.data["after"]["grade_max"] == 7

    listing = client.get("/admin/schools").get_data(as_text=True)
    assert "Åssiden skole" in listing
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Skole lagt til" in log and "Skole: Åssiden skole" in log
    api = client.get("/api/v1/schools").get_json()["items"]
    assert [s["slug"] for s in api] == ["assiden-skole"]


def test_a_chosen_slug_is_kept(client, signed_in_admin):
    client.post("/admin/schools/new", data=school_form(slug="Aassiden-B"))
    assert _school("aassiden-b") is not None


def test_a_school_never_gets_a_slug_the_schools_urls_use(client, signed_in_admin):
    # /schools/invitations/<token> is the staff invitation link, not a school's page.
    response = client.post("/admin/schools/new", data=school_form(slug="invitations"))
    assert response.status_code == 422
    assert "Kortnavnet er allerede i bruk" in response.get_data(as_text=True)
    client.post("/admin/schools/new", data=school_form(name="Invitations"))
    assert _school("invitations") is None and _school("invitations-2") is not None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grade_min": "0"}, "Trinnet må være et tall fra 1 til 10."),
        ({"grade_max": "11"}, "Trinnet må være et tall fra 1 til 10."),
        ({"grade_min": "to"}, "Skriv trinnet som et helt tall fra 1 til 10."),
        ({"grade_min": "8", "grade_max": "3"}, "Høyeste trinn kan ikke være lavere"),
        ({"org_number": "921234555"}, "Organisasjonsnummeret er ikke gyldig"),
        ({"slug": "fjell skole!"}, "Bruk bare små bokstaver"),
        ({"slug": "fjell-skole"}, "Kortnavnet er allerede i bruk"),
        (
            {"facebook_page_url": "https://example.org/skolen"},
            "Skriv adressen til en Facebook-side",
        ),
        ({"pupils_3": "-5"}, "Skriv et helt tall fra 0 til 2000."),
        ({"classes_2": "0"}, "Skriv et helt tall fra 1 til 50."),
        ({"pupils_4": ""}, "Fyll inn både klasser og elever for 4. trinn"),
        ({"longitude": ""}, "Fyll inn både breddegrad og lengdegrad"),
        ({"latitude": "nord"}, "Skriv breddegraden som et desimaltall"),
        ({"name": ""}, "Skriv inn navnet på skolen."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(
    client, signed_in_admin, make_school, overrides, message
):
    make_school(slug="fjell-skole", name="Fjell skole")
    schools, counts, events = _count(School), _count(SchoolGradeCount), _count(AuditEvent)
    response = client.post("/admin/schools/new", data=school_form(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert (_count(School), _count(SchoolGradeCount), _count(AuditEvent)) == (
        schools,
        counts,
        events,
    )


def test_a_taken_org_number_in_the_municipality_is_refused(client, signed_in_admin, make_school):
    make_school(org_number="974760673")
    response = client.post("/admin/schools/new", data=school_form(org_number="974 760 673"))
    assert response.status_code == 422
    assert "En annen skole i kommunen" in response.get_data(as_text=True)


def test_editing_a_school_changes_its_grades_and_counts_and_audits_before_and_after(
    client, signed_in_admin, make_school
):
    school = make_school(slug="fjell-skole", name="Fjell skole", grade_min=1, grade_max=7)
    path = f"/admin/schools/{school.slug}/edit"
    page = client.get(path).get_data(as_text=True)
    assert "7. trinn" in page and "8. trinn" not in page  # a row per grade in the range
    form = school_form(
        name="Fjell barneskole",
        slug=None,
        grade_max="4",
        version=school_fingerprint(school),
        facebook_page_url="",
        accepts_backpack_post=None,
    )
    response = client.post(path, data=form)
    assert response.status_code == 302
    school = _school("fjell-skole")
    assert school.name == "Fjell barneskole" and school.grade_max == 4
    assert school.facebook_page_url is None and school.accepts_backpack_post is False
    assert sorted(c.grade for c in school.grade_counts) == [1, 2, 3, 4]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "school.update"))
    assert event.data["before"]["name"] == "Fjell skole"
    assert event.data["after"]["name"] == "Fjell barneskole"
    assert event.data["before"]["grade_max"] == 7 and event.data["after"]["grade_max"] == 4


def test_a_stale_edit_is_refused_with_409_and_stores_nothing(client, signed_in_admin, make_school):
    school = make_school(slug="fjell-skole", name="Fjell skole")
    stale = school_fingerprint(school)
    school.area = "Endret av en annen"
    db.session.commit()
    response = client.post(
        f"/admin/schools/{school.slug}/edit",
        data=school_form(name="Mitt navn", slug=None, version=stale),
    )
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Noen andre har endret dette mens du hadde siden åpen." in body
    assert 'value="Mitt navn"' in body  # what they typed is still there to copy
    assert _school("fjell-skole").name == "Fjell skole"


def test_an_edit_without_a_version_counts_as_stale(client, signed_in_admin, make_school):
    school = make_school(slug="fjell-skole", name="Fjell skole")
    response = client.post(
        f"/admin/schools/{school.slug}/edit", data=school_form(name="Mitt navn", slug=None)
    )
    assert response.status_code == 409
    assert "Noen andre har endret dette" in response.get_data(as_text=True)
    assert _school("fjell-skole").name == "Fjell skole"


def test_the_slug_cannot_be_changed_after_creation(client, signed_in_admin, make_school):
    school = make_school(slug="fjell-skole")
    client.post(
        f"/admin/schools/{school.slug}/edit",
        data=school_form(slug="nytt-kortnavn", version=school_fingerprint(school)),
    )
    assert _school("fjell-skole") is not None and _school("nytt-kortnavn") is None


def test_another_municipalitys_admin_does_not_see_the_school_and_its_staff_may_not_edit_it(
    client, make_school, make_municipality, make_staff
):
    school = make_school(slug="fjell-skole")
    lier = make_municipality(slug="lier", name="Lier")
    other = quick_user("annen", admin_municipality_id=lier.id)
    db.session.commit()
    sign_in(client, other)
    for path in ("/edit", "/deactivate"):
        method = client.get if path == "/edit" else client.post
        assert method(f"/admin/schools/{school.slug}{path}").status_code == 404
    assert "fjell-skole" not in client.get("/admin/schools").get_data(as_text=True)
    sign_in(client, make_staff(school, role="admin"))
    assert client.get(f"/admin/schools/{school.slug}/edit").status_code == 403
    assert _school("fjell-skole").active


@pytest.fixture
def organiser_world(app, make_school, make_organisation, make_activity, make_user):
    school = make_school(slug="fjell-skole", name="Fjell skole")
    owner = make_user()
    organisation = make_organisation(owners=[owner])
    activity = make_activity(organisation=organisation)
    return school, owner, activity


def test_a_deactivated_school_leaves_routing_search_and_the_api_and_comes_back(
    client, admin, organiser_world, make_staff
):
    school, owner, activity = organiser_world
    staff = make_staff(school)

    sign_in(client, owner)
    assert "Fjell skole" in client.get(f"/activities/{activity.id}/reach").get_data(as_text=True)

    sign_in(client, admin)
    response = client.post(f"/admin/schools/{school.slug}/deactivate")
    assert response.status_code == 302
    assert _school("fjell-skole").active is False
    listing = client.get("/admin/schools").get_data(as_text=True)
    assert "Fjell skole" in listing and "Deaktivert" in listing
    assert "Skole deaktivert" in client.get("/admin/audit").get_data(as_text=True)

    # The organiser cannot ask it any more.
    sign_in(client, owner)
    assert "Fjell skole" not in client.get(f"/activities/{activity.id}/reach").get_data(
        as_text=True
    )
    # It is no search filter, and an old link to it answers as an unknown school.
    assert "Fjell skole" not in client.get("/activities").get_data(as_text=True)
    assert client.get("/activities?school=fjell-skole").status_code == 404
    # The API lists it no more and will not route to it.
    assert client.get("/api/v1/schools").get_json()["items"] == []
    routing = client.get(f"/api/v1/routing?activity={activity.id}&school=fjell-skole")
    assert routing.status_code == 404
    assert "deaktivert" in routing.get_json()["error"]

    # Its staff keep their history.
    sign_in(client, staff)
    assert client.get(f"/schools/{school.slug}/requests").status_code == 200

    sign_in(client, admin)
    assert client.post(f"/admin/schools/{school.slug}/reactivate").status_code == 302
    assert _school("fjell-skole").active is True
    assert [s["slug"] for s in client.get("/api/v1/schools").get_json()["items"]] == ["fjell-skole"]
    assert (
        client.get(f"/api/v1/routing?activity={activity.id}&school=fjell-skole").status_code == 200
    )


def test_deactivating_twice_records_one_event(client, signed_in_admin, make_school):
    school = make_school(slug="fjell-skole")
    client.post(f"/admin/schools/{school.slug}/deactivate")
    client.post(f"/admin/schools/{school.slug}/deactivate")
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "school.deactivate")
    ).all()
    assert len(events) == 1
