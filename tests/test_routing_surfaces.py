"""Where the routing decision shows: the `route` command, /api/v1/routing and the organiser's
"Nå ut via skolene" page agree, for every channel; plus their errors, access and /om/kanaler."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from directory.activities.models import Activity
from directory.approvals.display import upcoming_weeks
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.organisations.models import Membership
from directory.schools.models import ChannelPolicy, School
from directory.schools.routing import decide_for, reason_text
from tests.conftest import next_weekday_at


@pytest.fixture
def world(
    app, municipality, make_municipality, make_school, make_organisation, make_activity, make_user
):
    """Three schools, organisers of every kind that matters, and an activity for each case."""
    fjell = make_school(slug="fjell", name="Fjell skole", grade_min=1, grade_max=7)
    danvik = make_school(slug="danvik", name="Danvik skole", facebook_page_url=None)
    marienlyst = make_school(slug="marienlyst", name="Marienlyst skole", grade_min=8, grade_max=10)
    lier = make_municipality(slug="lier", name="Lier")
    hegg = make_school(slug="hegg", name="Hegg skole", municipality=lier)

    member = make_user("leder@klubb.example")
    outsider = make_user("leder@annet.example")
    klubb = make_organisation(slug="klubben", name="Klubben", members=[member])
    make_organisation(slug="annet-lag", name="Annet lag", members=[outsider])
    butikk = make_organisation(slug="butikken", name="Butikken AS", kind="commercial")
    ny = make_organisation(slug="nytt-lag", name="Nytt lag", verification="pending")
    avvist = make_organisation(slug="avvist", name="Avvist", verification="rejected")
    skolen = make_organisation(slug="fjell-skole", name="Fjell skole", kind="school")
    skolen.school_id = fjell.id
    db.session.commit()

    flyer = {"flyer_filename": "ab" * 16 + ".pdf"}
    post = {"facebook_post_url": "https://www.facebook.com/klubben/posts/1"}
    activities = {
        "football": make_activity(
            title="Fotball 8–10 år", organisation=klubb, age_min=8, age_max=10, **post, **flyer
        ),
        "flyer_only": make_activity(
            title="Sjakk", organisation=klubb, age_min=7, age_max=9, **flyer
        ),
        "commercial": make_activity(title="Klatrekurs", organisation=butikk, **post, **flyer),
        "unverified": make_activity(title="Nytt kurs", organisation=ny, **post, **flyer),
        "sfo": make_activity(
            title="SFO i vinterferien",
            organisation=skolen,
            age_min=6,
            age_max=9,
            school_business=True,
        ),
        "draft": make_activity(title="Utkast", organisation=klubb, status="draft"),
        "rejected": make_activity(title="Avvist kurs", organisation=avvist),
    }
    return {
        "schools": {"fjell": fjell, "danvik": danvik, "marienlyst": marienlyst, "hegg": hegg},
        "activities": activities,
        "member": member,
        "outsider": outsider,
        "klubb": klubb,
        "skolen": skolen,
    }


WEEK_INDEX = 1  # next week: on the page's week select, and nobody's "this week" by accident


def _week() -> str:
    return upcoming_weeks()[WEEK_INDEX]


def _fill_quota(world, school_slug: str, week: str, count: int = 2) -> None:
    """Approved backpack-post requests that take the school's places in the week."""
    school = world["schools"][school_slug]
    for activity in (world["activities"]["draft"], world["activities"]["commercial"])[:count]:
        db.session.add(
            DistributionRequest(
                activity_id=activity.id,
                school_id=school.id,
                week=week,
                channel="backpack_post",
                rule="backpack",
                status="approved",
            )
        )
    db.session.commit()


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["route", *args])


def _items(fragment: str) -> list[str]:
    """The texts of a fragment's list items, without a trailing count or tags."""
    return [
        html.unescape(re.sub(r"\s*<span.*", "", item, flags=re.S)).strip()
        for item in re.findall(r"<li>(.*?)</li>", fragment, re.S)
    ]


def _page_rows(body: str) -> dict[str, tuple[str, list[str]]]:
    """school slug -> (channel, reasons) from the organiser's page: the reasons at the school's
    card, with those the page says once for every school (in the summary above the cards), in
    the order of the rule's reasons at the school."""
    shared = []
    for pattern in (
        r'<details class="reach-common">(.*?)</details>',
        r'<ul class="blockers">(.*?)</ul>',
    ):
        match = re.search(pattern, body, re.S)
        shared += _items(match.group(1)) if match else []
    rows = {}
    for card in body.split('<li class="reach-school" data-school="')[1:]:
        slug, rest = card.split('"', 1)
        channel = re.search(r'data-channel="([^"]+)"', rest).group(1)
        own = re.search(r'<ol class="reasons">(.*?)</ol>', rest, re.S)
        rows[slug] = (channel, _items(own.group(1)) if own else [], shared)
    return rows


def _agree(row: tuple[str, list[str], list[str]], channel: str, reasons: list[str]) -> bool:
    """The page shows the channel and every reason of the rule, once: the school's own at its
    card in the rule's order, the others in the summary."""
    page_channel, own, shared = row
    return (
        page_channel == channel
        and own == [r for r in reasons if r in own]
        and all(r in own or r in shared for r in reasons)
    )


# (activity, school, channel, rule, a phrase one of the reasons must contain)
CASES = [
    ("football", "fjell", "facebook_share", "facebook", "eget Facebook-innlegg"),
    ("football", "danvik", "backpack_post", "backpack", "Skolen har ingen Facebook-side."),
    ("flyer_only", "fjell", "backpack_post", "backpack", "ikke et eget Facebook-innlegg"),
    ("commercial", "fjell", "directory_only", "commercial", "kommersiell"),
    ("unverified", "fjell", "directory_only", "unverified", "ikke verifisert"),
    ("football", "marienlyst", "not_eligible", "audience", "skolen har 8.–10. trinn"),
    ("sfo", "fjell", "school_messaging", "school-own", "Vigilo"),
    ("sfo", "danvik", "directory_only", "fallback", "Avsenderen er ikke skolen selv."),
]


@pytest.mark.parametrize(("key", "slug", "channel", "rule", "phrase"), CASES)
def test_cli_api_and_page_agree(
    app, client, login_as, make_user, world, key, slug, channel, rule, phrase
):
    activity = world["activities"][key]
    week = _week()

    result = _cli(app, str(activity.id), slug, "--week", week)
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.stdout)

    response = client.get(f"/api/v1/routing?activity={activity.id}&school={slug}&week={week}")
    assert response.status_code == 200
    from_api = response.get_json()

    assert from_cli == from_api
    assert (from_api["channel"], from_api["rule"]) == (channel, rule)
    assert any(phrase in reason for reason in from_api["reasons"]), from_api["reasons"]
    assert "Avsenderen" in from_api["reasons"][0]  # the rules in order, the first one first

    login_as(_member_of(make_user(), activity.organisation))
    page = client.get(f"/activities/{activity.id}/reach?week={week}")
    assert page.status_code == 200
    rows = _page_rows(page.get_data(as_text=True))
    if channel == "not_eligible":
        assert slug not in rows  # the page lists only schools whose grades fit
        assert "har elever utenfor aldersgruppen" in page.get_data(as_text=True)
    else:
        assert _agree(rows[slug], channel, from_api["reasons"]), (rows[slug], from_api["reasons"])


def _member_of(user, organisation):
    db.session.add(Membership(user=user, organisation=organisation, role="editor"))
    db.session.commit()
    return user


def _school_member(world):
    return _member_of(world["outsider"], world["skolen"])


def test_a_used_quota_sends_the_flyer_nowhere_but_the_directory(app, client, login_as, world):
    activity = world["activities"]["flyer_only"]
    week = _week()
    _fill_quota(world, "fjell", week)

    from_cli = json.loads(_cli(app, str(activity.id), "fjell", "--week", week).stdout)
    from_api = client.get(
        f"/api/v1/routing?activity={activity.id}&school=fjell&week={week}"
    ).get_json()
    assert from_cli == from_api
    assert (from_api["channel"], from_api["rule"]) == ("directory_only", "fallback")
    assert (
        f"Ukekvoten for ranselpost (2) er brukt opp i uke {int(week[-2:])}."
        in (from_api["reasons"])
    )

    login_as(world["member"])
    rows = _page_rows(client.get(f"/activities/{activity.id}/reach?week={week}").get_data(True))
    assert _agree(rows["fjell"], "directory_only", from_api["reasons"])
    assert any("Ukekvoten" in reason for reason in rows["fjell"][1])  # at the school itself
    assert rows["danvik"][0] == "backpack_post"  # another school's quota is its own

    # Another week still has room.
    other = upcoming_weeks()[WEEK_INDEX + 1]
    again = client.get(f"/api/v1/routing?activity={activity.id}&school=fjell&week={other}")
    assert again.get_json()["channel"] == "backpack_post"


def test_rejected_and_withdrawn_requests_leave_the_quota_free(app, client, world):
    activity = world["activities"]["flyer_only"]
    week = _week()
    _fill_quota(world, "fjell", week)
    for request in db.session.scalars(select(DistributionRequest)):
        request.status = "rejected"
    db.session.commit()
    response = client.get(f"/api/v1/routing?activity={activity.id}&school=fjell&week={week}")
    assert response.get_json()["channel"] == "backpack_post"


def test_the_page_shows_the_channel_labels_and_the_count_outside_the_age_group(
    app, client, login_as, world
):
    login_as(world["member"])
    body = client.get(f"/activities/{world['activities']['football'].id}/reach").get_data(True)
    assert "Nå ut via skolene" in body
    assert "Deling på skolens Facebook-side" in body
    assert "Ranselpost (papirflyer)" in body
    assert "1 skole har elever utenfor aldersgruppen" in body  # Marienlyst (8.–10. trinn)
    assert "Hegg skole" not in body  # another municipality
    assert "Ingenting er sendt ennå" in body
    assert 'href="/om/kanaler"' in body
    for week in upcoming_weeks():
        assert f'value="{week}"' in body
    # Next week is chosen when none is asked for: this week may be ending.
    assert f'value="{upcoming_weeks()[1]}" selected' in body


def test_the_page_names_the_municipality_messaging_app(app, client, login_as, world):
    world["skolen"].municipality.messaging_label = "Skolemelding"
    db.session.commit()
    login_as(_school_member(world))
    body = client.get(f"/activities/{world['activities']['sfo'].id}/reach").get_data(True)
    assert "Skolens meldingsapp (Skolemelding)" in body


def test_the_page_refuses_a_bad_week(app, client, login_as, world):
    login_as(world["member"])
    activity = world["activities"]["football"]
    for week in ("2026-W54", "uke 5", "2026-W00", "2026W10"):
        response = client.get(f"/activities/{activity.id}/reach?week={week}")
        assert response.status_code == 400, week
        assert "Velg en uke fra listen." in response.get_data(as_text=True)


def test_who_may_see_the_page(app, client, login_as, world):
    activity = world["activities"]["football"]
    path = f"/activities/{activity.id}/reach"
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=")

    login_as(world["outsider"])
    assert client.get(path).status_code == 403
    assert client.get("/activities/999999/reach").status_code == 404
    client.post("/logout")

    login_as(world["member"])
    assert client.get(path).status_code == 200
    # The draft is the member's own: the page works and says it is not public yet.
    draft = client.get(f"/activities/{world['activities']['draft'].id}/reach")
    assert draft.status_code == 200
    assert "Aktiviteten er ikke offentlig" in draft.get_data(as_text=True)


def test_the_activity_page_and_the_manage_list_link_to_it_for_members_only(
    app, client, login_as, world
):
    activity = world["activities"]["football"]
    link = f'href="/activities/{activity.id}/reach"'
    assert link not in client.get(f"/activities/{activity.id}").get_data(True)
    login_as(world["member"])
    assert link in client.get(f"/activities/{activity.id}").get_data(True)
    assert link in client.get("/organisations/klubben/activities").get_data(True)


# --- the API's errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "activity"),
        ("school=fjell", "activity"),
        ("activity=&school=fjell", "activity"),
        ("activity=abc&school=fjell", "activity"),
        ("activity=-1&school=fjell", "activity"),
        ("activity=1.5&school=fjell", "activity"),
        ("activity=99999999999999999999&school=fjell", "activity"),
        ("activity={id}", "school"),
        ("activity={id}&school=", "school"),
        ("activity={id}&school=fjell&week=2026-W54", "week"),
        ("activity={id}&school=fjell&week=neste", "week"),
    ],
)
def test_api_400_names_the_parameter(client, world, query, parameter):
    query = query.format(id=world["activities"]["football"].id)
    response = client.get(f"/api/v1/routing?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert body["error"]


@pytest.mark.parametrize(
    ("activity", "school", "parameter"),
    [
        (None, "fjell", "activity"),  # unknown
        ("draft", "fjell", "activity"),  # not public
        ("rejected", "fjell", "activity"),  # its organisation is rejected
        ("football", "atlantis", "school"),
        ("football", "hegg", "school"),  # another municipality's school
    ],
)
def test_api_404_for_what_is_not_there(client, world, activity, school, parameter):
    activity_id = world["activities"][activity].id if activity else 999999
    response = client.get(f"/api/v1/routing?activity={activity_id}&school={school}")
    assert response.status_code == 404
    assert response.get_json()["parameter"] == parameter


def test_api_reasons_follow_the_language(app, client, world):
    activity = world["activities"]["football"]
    english = client.get(f"/api/v1/routing?activity={activity.id}&school=fjell&lang=en")
    assert english.status_code == 200
    decision = decide_for(db.session.get(Activity, activity.id), world["schools"]["fjell"])
    with force_locale("en"):
        expected = [reason_text(r) for r in decision.reasons]
    assert english.get_json()["reasons"] == expected


def test_api_without_a_week_uses_this_week(app, client, world):
    activity = world["activities"]["flyer_only"]
    _fill_quota(world, "fjell", upcoming_weeks()[0])
    body = client.get(f"/api/v1/routing?activity={activity.id}&school=fjell").get_json()
    assert body["channel"] == "directory_only"


# --- the command's errors -------------------------------------------------------------------


def test_cli_prints_readable_json(app, world):
    result = _cli(app, str(world["activities"]["sfo"].id), "fjell")
    assert result.exit_code == 0
    assert '"channel": "school_messaging"' in result.stdout
    assert "går i Vigilo" in result.stdout  # not escaped to \\u00e5
    assert result.stdout.startswith("{\n  ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999", "fjell"], "Aktiviteten med id 999999 finnes ikke."),
        (["{id}", "atlantis"], "Skolen «atlantis» finnes ikke."),
        (["{id}", "hegg"], "hører ikke til kommunen"),
        (["{id}", "fjell", "--week", "2026-W54"], "2026-W48"),
        (["{id}", "fjell", "--week", "neste uke"], "2026-W48"),
        (["tre", "fjell"], "tre"),
        (["{id}"], "SCHOOL_SLUG"),
    ],
)
def test_cli_refuses_with_exit_2(app, world, args, message):
    args = [a.format(id=world["activities"]["football"].id) for a in args]
    result = _cli(app, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_cli_refuses_a_deactivated_school(app, world):
    school = db.session.scalar(select(School).where(School.slug == "fjell"))
    school.active = False
    db.session.commit()
    result = _cli(app, str(world["activities"]["football"].id), "fjell")
    assert result.exit_code == 2
    assert "Skolen «fjell» er deaktivert" in result.stderr


# --- /om/kanaler ----------------------------------------------------------------------------


def test_the_channels_page_explains_the_rules(app, client, world):
    response = client.get("/om/kanaler")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    body = response.get_data(as_text=True)
    positions = [body.index(f"<code>{rule}</code>") for rule in (
        "school-own", "audience", "commercial", "unverified", "messaging-reserved", "facebook",
        "backpack", "fallback",
    )]  # fmt: skip
    assert positions == sorted(positions)
    assert "Høyst 2 flyere i uken går hjem i ranselen." in body
    assert "Vigilo" in body
    assert "Hva en skole ikke kan endre" in body
    assert "ingen påmeldinger" in body
    assert 'href="/om/kanaler"' in client.get("/").get_data(True)  # the footer links to it


def test_the_channels_page_reads_the_stored_municipal_default(app, client, world, municipality):
    db.session.add(
        ChannelPolicy(
            municipality_id=municipality.id,
            settings={
                "order": ["backpack", "facebook"],
                "facebook_enabled": True,
                "backpack_enabled": True,
                "backpack_weekly_quota": 3,
                "blackout_weeks": ["2026-W52"],
                "municipal_in_messaging": True,
            },
        )
    )
    db.session.commit()
    body = client.get("/om/kanaler?municipality=drammen").get_data(as_text=True)
    assert "Høyst 3 flyere i uken" in body
    assert "Ranselpost prøves før Facebook-deling." in body
    assert "2026-W52" in body
    assert "Kommunale tilbud kan sendes i Vigilo." in body
    lier = client.get("/om/kanaler?municipality=lier").get_data(as_text=True)
    assert "Høyst 2 flyere i uken" in lier  # Lier has stored nothing: the built-in default
    assert client.get("/om/kanaler?municipality=atlantis").status_code == 404


# --- the school_business checkbox -----------------------------------------------------------


def _activity_form(**overrides) -> dict:
    data = {
        "title": "Ny aktivitet",
        "age_min": "6",
        "age_max": "9",
        "price_nok": "0",
        "languages": "norsk",
        "first_date": next_weekday_at(2, 18).date().isoformat(),
        "start_time": "18:00",
        "end_time": "19:00",
        "repeat": "once",
        "school_business": "y",
    }
    data.update(overrides)
    return data


def test_school_business_is_ignored_for_other_organisations(app, client, login_as, world):
    login_as(world["member"])
    form = client.get("/organisations/klubben/activities/new").get_data(as_text=True)
    assert 'name="school_business"' not in form
    response = client.post("/organisations/klubben/activities/new", data=_activity_form())
    assert response.status_code == 302
    created = db.session.scalar(select(Activity).where(Activity.title == "Ny aktivitet"))
    assert created.school_business is False

    football = world["activities"]["football"]
    response = client.post(
        f"/activities/{football.id}/edit",
        data=_activity_form(title="Fotball", version=str(football.version)),
    )
    assert response.status_code == 302
    db.session.refresh(football)
    assert (football.title, football.school_business) == ("Fotball", False)


def test_school_business_is_kept_for_a_school(app, client, login_as, world):
    login_as(_school_member(world))
    form = client.get("/organisations/fjell-skole/activities/new").get_data(as_text=True)
    assert 'name="school_business"' in form
    client.post("/organisations/fjell-skole/activities/new", data=_activity_form())
    created = db.session.scalar(select(Activity).where(Activity.title == "Ny aktivitet"))
    assert created.school_business is True

    sfo = world["activities"]["sfo"]
    edit = client.get(f"/activities/{sfo.id}/edit").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*name="school_business"[^>]*>', edit)
    assert checkbox and " checked" in checkbox.group(0)
    data = _activity_form(version=str(sfo.version))
    del data["school_business"]  # unticked
    assert client.post(f"/activities/{sfo.id}/edit", data=data).status_code == 302
    db.session.refresh(sfo)
    assert sfo.school_business is False


# --- the demo -------------------------------------------------------------------------------


def test_the_demo_school_notice_goes_in_the_messaging_app(app, client, quiet_search):
    from directory.demo import load_demo
    from directory.organisations.models import Organisation

    load_demo()
    db.session.commit()
    schools = db.session.scalars(select(Organisation).where(Organisation.kind == "school")).all()
    assert schools and all(o.school is not None and o.school.name == o.name for o in schools)
    notice = db.session.scalars(select(Activity).where(Activity.school_business.is_(True))).one()
    own = notice.organisation.school
    response = client.get(f"/api/v1/routing?activity={notice.id}&school={own.slug}")
    assert response.get_json()["channel"] == "school_messaging"
    result = _cli(app, str(notice.id), own.slug)
    assert json.loads(result.stdout) == response.get_json()
