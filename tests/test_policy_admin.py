"""The policy pages: who may edit what, optimistic locking, audit, and routing that follows."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.models import ChannelPolicy
from directory.schools.operations import update_policy
from directory.schools.routing import decide_for
from directory.timeutil import OSLO


def _form(version="0", **values) -> dict:
    data = {
        "order": "inherit",
        "facebook_enabled": "inherit",
        "backpack_enabled": "inherit",
        "backpack_weekly_quota": "",
        "blackout_inherit": "y",
        "blackout_weeks": "",
        "municipal_in_messaging": "inherit",
        "version": version,
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture(autouse=True)
def week_49():
    """A Friday in week 49 of 2026: the forms offer week 49 of 2026 to week 47 of 2027."""
    with time_machine.travel(datetime(2026, 12, 4, 12, 0, tzinfo=OSLO), tick=True):
        yield


def _override(school):
    db.session.expire_all()
    return db.session.scalar(select(ChannelPolicy).where(ChannelPolicy.school_id == school.id))


@pytest.fixture
def school(make_school):
    return make_school(name="Gulskogen skole", slug="gulskogen-skole")


@pytest.fixture
def admin(make_user, municipality):
    user = make_user()
    user.admin_municipality_id = municipality.id
    db.session.commit()
    return user


def test_a_school_admin_edits_their_school_and_sees_the_effect(
    app, client, school, make_staff, login_as
):
    login_as(make_staff(school, role="admin"))
    path = f"/schools/{school.slug}/policy"
    page = client.get(path)
    assert page.status_code == 200
    assert "Kommunens standard" in page.get_data(as_text=True)
    response = client.post(
        path,
        data=_form(order="backpack", backpack_weekly_quota="3", blackout_inherit=None,
                   blackout_weeks=["2026-W52", "2026-W51"]),
    )  # fmt: skip
    assert response.status_code == 302
    row = _override(school)
    assert row.settings == {
        "order": ["backpack", "facebook"],
        "backpack_weekly_quota": 3,
        "blackout_weeks": ["2026-W51", "2026-W52"],
    }
    body = client.get(path).get_data(as_text=True)
    assert "Ranselpost først" in body
    assert "uke 51 (14.–20. desember), uke 52 (21.–27. desember)" in body
    assert 'value="2026-W51" checked' in body and 'value="2026-W52" checked' in body
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "policy.update"))
    assert event.data["before"] is None and event.data["after"] == row.settings
    # A second change records what it replaced.
    first = dict(row.settings)
    client.post(path, data=_form(version=str(row.version), facebook_enabled="off"))
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "policy.update").order_by(AuditEvent.id)
    ).all()
    assert events[-1].data["before"] == first
    assert events[-1].data["after"] == {"facebook_enabled": False}


def test_the_weeks_are_ticked_from_a_list_with_their_dates(
    app, client, school, make_staff, login_as
):
    login_as(make_staff(school, role="admin"))
    body = client.get(f"/schools/{school.slug}/policy").get_data(as_text=True)
    assert 'type="checkbox" id="blackout-2026-W50" name="blackout_weeks" value="2026-W50"' in body
    assert '<label for="blackout-2026-W50">Uke 50: 7.–13. desember</label>' in body
    assert '<label for="blackout-2027-W47">Uke 47, 2027: 22.–28. november</label>' in body
    assert "blackout-2027-W48" not in body  # a year of weeks
    assert "blackout-2026-W48" not in body  # nothing past unless stored
    assert "<textarea" not in body and "2026-W52, " not in body


@pytest.mark.parametrize("week", ["jul", "uke 50", "2026-W48", "2027-W48", "2026-W54"])
def test_a_week_not_on_the_list_is_refused_next_to_the_field_and_nothing_is_stored(
    app, client, school, make_staff, login_as, week
):
    login_as(make_staff(school, role="admin"))
    response = client.post(
        f"/schools/{school.slug}/policy",
        data=_form(blackout_inherit=None, blackout_weeks=["2026-W50", week]),
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Velg ukene fra listen." in body
    assert "UKE" not in body and f"«{week}" not in body  # never echoed back
    assert _override(school) is None


def test_stored_past_weeks_stay_shown_and_are_kept_on_save(
    app, client, school, make_staff, login_as
):
    update_policy(school, {"blackout_weeks": ["2026-W10", "2026-W52"]}, actor=None,
                  municipality_id=school.municipality_id)  # fmt: skip
    db.session.commit()
    login_as(make_staff(school, role="admin"))
    path = f"/schools/{school.slug}/policy"
    body = client.get(path).get_data(as_text=True)
    assert 'value="2026-W10" checked' in body
    assert "Uke 10: 2.–8. mars" in body
    version = str(_override(school).version)
    response = client.post(
        path,
        data=_form(version, blackout_inherit=None, blackout_weeks=["2026-W10", "2026-W52"],
                   backpack_weekly_quota="1"),
    )  # fmt: skip
    assert response.status_code == 302
    assert _override(school).settings["blackout_weeks"] == ["2026-W10", "2026-W52"]


def test_weeks_typed_while_the_municipalitys_weeks_are_ticked_are_not_silently_dropped(
    app, client, school, make_staff, login_as
):
    login_as(make_staff(school, role="admin"))
    response = client.post(
        f"/schools/{school.slug}/policy", data=_form(blackout_weeks="2026-W52")
    )  # «Bruk kommunens stengte uker» is still ticked
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Fjern krysset for «Bruk kommunens stengte uker»" in body
    assert 'value="2026-W52" checked' in body  # what was ticked stays ticked
    assert _override(school) is None


def test_another_school_admin_is_refused_and_staff_only_read(
    app, client, school, make_school, make_staff, login_as
):
    other = make_school()
    login_as(make_staff(other, role="admin"))
    assert client.get(f"/schools/{school.slug}/policy").status_code == 403
    assert client.post(f"/schools/{school.slug}/policy", data=_form()).status_code == 403
    client.post("/logout")
    login_as(make_staff(school, role="staff"))
    page = client.get(f"/schools/{school.slug}/policy")
    assert page.status_code == 200
    assert '<form method="post" action="/schools/' not in page.get_data(as_text=True)
    assert (
        client.post(f"/schools/{school.slug}/policy", data=_form(order="backpack")).status_code
        == 403
    )
    assert _override(school) is None


def test_anonymous_visitors_are_sent_to_login(client, school):
    response = client.get(f"/schools/{school.slug}/policy")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_municipal_admin_edits_the_default_and_any_school_of_theirs(
    app, client, school, admin, make_municipality, make_school, login_as
):
    lier_school = make_school(municipality=make_municipality(slug="lier", name="Lier"))
    login_as(admin)
    assert client.get("/admin/schools").status_code == 200
    listing = client.get("/admin/schools").get_data(as_text=True)
    assert school.name in listing and lier_school.name not in listing
    assert client.get(f"/schools/{lier_school.slug}/policy").status_code == 404
    assert client.post(f"/schools/{lier_school.slug}/policy", data=_form()).status_code == 404
    response = client.post(
        "/admin/policy",
        data=_form(order="backpack", facebook_enabled="on", backpack_enabled="on",
                   backpack_weekly_quota="4", blackout_inherit=None,
                   municipal_in_messaging="no"),
    )  # fmt: skip
    assert response.status_code == 302
    default = db.session.scalar(select(ChannelPolicy).where(ChannelPolicy.school_id.is_(None)))
    assert default.settings["backpack_weekly_quota"] == 4
    assert (
        client.post(
            f"/schools/{school.slug}/policy", data=_form(facebook_enabled="off")
        ).status_code
        == 302
    )
    assert _override(school).settings == {"facebook_enabled": False}
    # The school page shows the new default next to the school's own choice.
    body = client.get(f"/schools/{school.slug}/policy").get_data(as_text=True)
    assert "Kommunens standard: 4" in body


def test_the_default_needs_every_setting(app, client, admin, login_as):
    login_as(admin)
    response = client.post("/admin/policy", data=_form(order="facebook", facebook_enabled="on",
                                                       backpack_enabled="on", blackout_inherit=None,
                                                       municipal_in_messaging="no"))  # fmt: skip
    assert response.status_code == 422
    assert "mangler" in response.get_data(as_text=True)
    assert db.session.scalar(select(ChannelPolicy)) is None


def test_a_stale_version_is_refused_with_409_and_nothing_changes(
    app, client, school, make_staff, login_as
):
    login_as(make_staff(school, role="admin"))
    path = f"/schools/{school.slug}/policy"
    assert client.post(path, data=_form(backpack_weekly_quota="3")).status_code == 302
    row = _override(school)
    before = (dict(row.settings), row.version)
    for version in ("0", None):  # an old version, and none at all
        response = client.post(path, data=_form(version=version, backpack_weekly_quota="9"))
        assert response.status_code == 409
        assert "Noen andre har endret dette mens du hadde siden åpen." in response.get_data(
            as_text=True
        )
    row = _override(school)
    assert (row.settings, row.version) == before


def test_routing_follows_a_saved_override(app, client, school, make_staff, make_activity, login_as):
    activity = make_activity(facebook_post_url="https://www.facebook.com/klubb/posts/1")
    assert decide_for(activity, school).channel == "facebook_share"
    login_as(make_staff(school, role="admin"))
    client.post(f"/schools/{school.slug}/policy", data=_form(facebook_enabled="off"))
    db.session.expire_all()
    # Without Facebook, and with no flyer for the backpack post, only the directory is left.
    assert decide_for(activity, school).channel == "directory_only"


def test_the_dashboard_links_a_school_admin_to_the_policy(
    app, client, school, make_staff, login_as
):
    login_as(make_staff(school, role="admin"))
    body = client.get("/account").get_data(as_text=True)
    assert f"/schools/{school.slug}/policy" in body
