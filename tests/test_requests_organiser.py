"""The organiser's side of the requests: the "Nå ut via skolene" form, the request lists and the
withdraw button; refusals store nothing, and one organisation never sees another's requests."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from sqlalchemy import func, select

from directory.approvals.display import upcoming_weeks
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    SchoolChoice,
    approve_request,
    create_requests,
    reject_request,
)
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Membership
from directory.schools.models import Municipality, School, SchoolGradeCount
from directory.timeutil import OSLO
from tests.conftest import (
    csrf_token_from,
    new_activity,
    new_organisation,
    quick_user,
    sign_in,
)
from tests.test_activities_manage import edit_data

FLYER = {"flyer_filename": "ab" * 16 + ".pdf"}
POST = {"facebook_post_url": "https://www.facebook.com/klubben/posts/1"}


@pytest.fixture
def world(
    quiet_search,
    make_municipality,
    make_school,
    make_organisation,
    make_activity,
    make_user,
    make_staff,
):
    """Klubben's football (ages 8–10, a flyer and a Facebook post) and four schools:
    Fjell shares on Facebook, Danvik sends flyers, Vik has neither channel (directory only),
    Marienlyst is a lower secondary school (outside the age group). Lier is another municipality.
    """
    schools = {
        "fjell": make_school(slug="fjell", name="Fjell skole"),
        "danvik": make_school(slug="danvik", name="Danvik skole", facebook_page_url=None),
        "vik": make_school(
            slug="vik", name="Vik skole", facebook_page_url=None, accepts_backpack_post=False
        ),
        "marienlyst": make_school(
            slug="marienlyst", name="Marienlyst skole", grade_min=8, grade_max=10
        ),
    }
    lier = make_municipality(slug="lier", name="Lier")
    schools["hegg"] = make_school(slug="hegg", name="Hegg skole", municipality=lier)
    member = make_user("leder@klubben.example", name="Kari Leder")
    other = make_user("leder@annet.example")
    klubben = make_organisation(slug="klubben", name="Klubben", members=[member])
    annet = make_organisation(slug="annet-lag", name="Annet lag", members=[other])
    football = make_activity(
        title="Fotball 8–10 år", organisation=klubben, age_min=8, age_max=10, **FLYER, **POST
    )
    chess = make_activity(title="Sjakk", organisation=klubben, age_min=8, age_max=10, **FLYER)
    draft = make_activity(
        title="Utkast", organisation=klubben, status="draft", age_min=8, age_max=10, **FLYER
    )
    theirs = make_activity(
        title="Annet lags kurs", organisation=annet, age_min=8, age_max=10, **FLYER
    )
    return {
        "schools": schools,
        "member": member,
        "other": other,
        "klubben": klubben,
        "annet": annet,
        "football": football,
        "chess": chess,
        "draft": draft,
        "theirs": theirs,
        "staff": {slug: make_staff(school) for slug, school in schools.items()},
        "week": upcoming_weeks()[1],
    }


def _rows(body: str) -> dict[str, str]:
    """school slug -> the school card's HTML on the reach page."""
    cards = body.split('<li class="reach-school" data-school="')[1:]
    if cards:
        cards[-1] = cards[-1].split("</form>", 1)[0]
    return {card.split('"', 1)[0]: card for card in cards}


def _send(client, activity, week, schools, grades=None):
    """Post the reach form: the schools, and each school's grades (all that fit by default)."""
    if grades is None:
        grades = {slug: [2, 3, 4, 5] for slug in schools}
    data = {
        "week": week,
        "schools": list(schools),
        "grades": [f"{slug}:{g}" for slug, gs in grades.items() for g in gs],
    }
    return client.post(f"/activities/{activity.id}/reach", data=data)


def _requests() -> list[DistributionRequest]:
    return list(db.session.scalars(select(DistributionRequest).order_by(DistributionRequest.id)))


def _count() -> int:
    return db.session.scalar(select(func.count(DistributionRequest.id)))


def _actions() -> list[str]:
    """The audited acts on requests, in order (the set-up's venues are audited too)."""
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.startswith("request.")).order_by(AuditEvent.id)
    )
    return [e.action for e in events]


def _request_for(world, slug: str, activity=None, week=None) -> DistributionRequest:
    """A request sent straight through the operation, committed."""
    (req,) = create_requests(
        activity or world["football"],
        [SchoolChoice(world["schools"][slug])],
        week or world["week"],
        actor=world["member"],
    )
    db.session.commit()
    return req


# --- the request form -------------------------------------------------------------------------


def test_the_page_shows_each_decision_and_what_can_be_asked(client, login_as, world):
    login_as(world["member"])
    response = client.get(f"/activities/{world['football'].id}/reach?week={world['week']}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    rows = _rows(body)
    assert set(rows) == {"fjell", "danvik", "vik"}  # Marienlyst is outside, Hegg elsewhere
    assert "1 skole har elever utenfor aldersgruppen" in body
    assert "Ingenting er sendt ennå" in body
    assert "kommer senere" not in body

    assert "Deling på skolens Facebook-side" in rows["fjell"]
    assert "Ranselpost (papirflyer)" in rows["danvik"]
    assert "Bare i katalogen" in rows["vik"]

    # The two schools with a channel can be ticked, with the fitting grades (ages 8–10 meet
    # grades 2–5) ticked already; the directory-only school says why it cannot be asked.
    for slug in ("fjell", "danvik"):
        assert f'name="schools" value="{slug}"' in rows[slug]
        assert re.search(rf'<label for="school-{slug}">', rows[slug])
        ticked = re.findall(rf'name="grades" value="{slug}:(\d+)" checked', rows[slug])
        assert ticked == ["2", "3", "4", "5"]
        assert "Kan ikke bes om" not in rows[slug]
    assert 'name="schools"' not in rows["vik"]
    assert 'name="grades"' not in rows["vik"]
    assert "Kan ikke bes om:" in rows["vik"]
    assert "bare i katalogen for denne skolen" in rows["vik"]
    assert f'name="week" value="{world["week"]}"' in body
    assert "Send forespørsel til skolene" in body


def test_sending_creates_one_request_per_school_with_the_decision_and_reasons(
    client, login_as, world
):
    login_as(world["member"])
    week = world["week"]
    response = _send(
        client,
        world["football"],
        week,
        ["fjell", "danvik"],
        {"fjell": [2, 3, 4, 5], "danvik": [4, 5]},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/activities/{world['football'].id}/requests"

    fjell, danvik = sorted(_requests(), key=lambda r: r.school.slug != "fjell")
    assert (fjell.channel, fjell.rule, fjell.status, fjell.week) == (
        "facebook_share",
        "facebook",
        "pending",
        week,
    )
    assert (danvik.channel, danvik.rule) == ("backpack_post", "backpack")
    assert fjell.grades == [2, 3, 4, 5]
    assert danvik.grades == [4, 5]
    assert any("eget Facebook-innlegg" in reason for reason in fjell.reasons)
    assert any("Skolen har ingen Facebook-side." in reason for reason in danvik.reasons)
    assert fjell.requested_by_id == world["member"].id
    assert _actions() == ["request.create", "request.create"]

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Forespørslene er sendt til 2 skoler" in page
    assert "Fjell skole" in page and "Danvik skole" in page
    assert page.count(">venter</span>") == 2
    assert "Skolen har ingen Facebook-side." in page  # the stored reasons
    assert "Kari Leder" in page

    # The page now says the schools were asked, and they cannot be asked again this week.
    reach = client.get(f"/activities/{world['football'].id}/reach?week={week}").get_data(True)
    assert "Ingenting er sendt ennå" not in reach
    assert "Du har sendt 2 forespørsler" in reach
    for slug in ("fjell", "danvik"):
        assert 'name="schools"' not in _rows(reach)[slug]
        assert "allerede spurt skolen for uke" in _rows(reach)[slug]


def test_a_directory_only_school_cannot_be_requested_and_nothing_is_stored(client, login_as, world):
    login_as(world["member"])
    response = _send(client, world["football"], world["week"], ["fjell", "vik"])
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Vik skole: Tilbudet vises bare i katalogen" in body
    assert "Ingenting er sendt." in body
    # The page comes back with the choice kept.
    assert 'name="schools" value="fjell" checked' in body
    assert _count() == 0
    assert _actions() == []


@pytest.mark.parametrize(
    ("schools", "grades", "message"),
    [
        (["atlantis"], {}, "Skolen «atlantis» er ikke blant skolene tilbudet kan nå."),
        (["hegg"], {}, "Skolen «hegg» er ikke blant skolene"),  # another municipality
        (["marienlyst"], {}, "Skolen «marienlyst» er ikke blant skolene"),  # outside the ages
        ([], {}, "Velg minst én skole."),
        (["fjell"], {"fjell": []}, "Velg minst ett trinn for Fjell skole."),
        (["danvik"], {"danvik": [1, 2]}, "Danvik skole: 1. trinn passer ikke aldersgruppen"),
        (["danvik"], {"danvik": [6]}, "Danvik skole: 6. trinn passer ikke aldersgruppen"),
        (["danvik"], {"danvik": ["tre"]}, "«danvik:tre» er ikke et trinn."),
    ],
)
def test_a_choice_the_page_does_not_offer_is_refused_and_nothing_is_stored(
    client, login_as, world, schools, grades, message
):
    login_as(world["member"])
    response = _send(client, world["football"], world["week"], schools, grades)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count() == 0


@pytest.mark.parametrize("week", ["2026-W54", "neste uke", "", "2026W10", "uke 50", "2099-W10"])
def test_a_week_not_on_the_page_is_400_with_a_clear_message(client, login_as, world, week):
    login_as(world["member"])
    response = _send(client, world["football"], week, ["fjell"])
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Velg en uke fra listen." in text
    assert f"«{week}" not in text and f"«{week.upper()}" not in text  # never echoed back
    assert _count() == 0


@pytest.mark.parametrize("week", ["neste uke", "2026W10", "2099-W10"])
def test_a_week_in_the_address_that_the_page_does_not_offer_is_400(client, login_as, world, week):
    login_as(world["member"])
    response = client.get(f"/activities/{world['football'].id}/reach?{urlencode({'week': week})}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Velg en uke fra listen." in text
    assert f"«{week}" not in text  # the message does not echo it


def test_a_past_week_is_refused(client, login_as, world):
    login_as(world["member"])
    shown = client.get(f"/activities/{world['football'].id}/reach?week=2020-W10")
    assert shown.status_code == 400
    message = "Den valgte uken er passert (uke 10 i 2020 (2.–8. mars)). Velg en uke fra listen."
    assert message in shown.get_data(as_text=True)
    response = _send(client, world["football"], "2020-W10", ["fjell"])
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count() == 0


# A Friday evening of week 49 (30 November – 6 December 2026): the week is ending.
FRIDAY_EVENING = datetime(2026, 12, 4, 19, 30, tzinfo=OSLO)


def _selected_week(body: str) -> str:
    return re.search(r'<option value="([^"]+)" selected>', body).group(1)


def test_on_a_friday_evening_the_page_opens_on_next_week(client, login_as, world):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        login_as(world["member"])
        body = client.get(f"/activities/{world['football'].id}/reach").get_data(as_text=True)
    assert _selected_week(body) == "2026-W50"
    assert 'name="week" value="2026-W50"' in body  # what the send button asks for
    assert '<option value="2026-W50" selected>Uke 50: 7.–13. desember</option>' in body
    # The ending week can still be picked, marked as this week; nothing is typed.
    assert '<option value="2026-W49">Uke 49: 30. november–6. desember (denne uken)</option>' in body
    assert "Uke 1, 2027: 4.–10. januar" in body
    assert 'type="week"' not in body


def test_the_page_opens_on_the_first_week_a_school_can_still_be_asked(client, login_as, world):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        schools = [SchoolChoice(world["schools"][slug]) for slug in ("fjell", "danvik")]
        create_requests(world["football"], schools, "2026-W50", actor=world["member"])
        db.session.commit()
        login_as(world["member"])
        body = client.get(f"/activities/{world['football'].id}/reach").get_data(as_text=True)
    assert _selected_week(body) == "2026-W51"


def test_one_summary_says_why_no_school_can_be_asked_and_what_would_change_it(
    client, login_as, world, make_organisation, make_activity
):
    new_club = make_organisation(
        slug="ny-klubb", name="Ny klubb", verification="pending", members=[world["member"]]
    )
    activity = make_activity(title="Håndball", organisation=new_club, age_min=8, age_max=10)
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        login_as(world["member"])
        body = client.get(f"/activities/{activity.id}/reach").get_data(as_text=True)
    assert set(_rows(body)) == {"fjell", "danvik", "vik"}
    summary = body.split('class="reach-summary', 1)[1].split("</section>", 1)[0]
    assert "Ingen av skolene kan bes om å formidle tilbudet</h3>" in summary
    assert "denne uken" not in summary and "uke 50" not in summary  # not the week's fault
    # Why, once for the page instead of once per school.
    assert body.count("Organisasjonen er ikke verifisert av kommunen ennå.") == 1
    assert body.count("Avsenderen er ikke skolen selv.") == 1
    # What would change it: verification, then a flyer (Fjell and Danvik take backpack post)
    # or a Facebook post (only Fjell has a Facebook page).
    assert "Be kommunen verifisere organisasjonen" in summary
    assert "Legg til en trykkbar flyer (PDF). Da kan 2 skoler bes om" in summary
    assert "Facebook-innlegg om tilbudet. Da kan 1 skole bes om å dele det." in summary
    assert f'href="/activities/{activity.id}/edit"' in summary
    for row in _rows(body).values():
        assert "Begrunnelsen står øverst." in row
        assert "verifisert" not in row


def test_reasons_that_differ_between_schools_are_shown_at_each_school(
    client, login_as, world, make_activity
):
    plain = make_activity(title="Turgruppe", organisation=world["klubben"], age_min=8, age_max=10)
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        login_as(world["member"])
        body = client.get(f"/activities/{plain.id}/reach").get_data(as_text=True)
    summary = body.split('class="reach-summary', 1)[1].split("</section>", 1)[0]
    assert (
        'Tilbudet har ingen trykkbar flyer til ranselpost. <span class="meta">(2 av 3 skoler)'
        in summary
    )
    rows = _rows(body)
    assert "Skolen tar ikke imot ranselpost." in rows["vik"]
    assert "Skolen tar ikke imot ranselpost." not in rows["fjell"]
    assert "Legg til en trykkbar flyer (PDF). Da kan 2 skoler bes om" in summary
    assert "(Når organisasjonen er verifisert.)" not in summary


def test_the_same_school_and_week_cannot_be_asked_twice(client, login_as, world):
    login_as(world["member"])
    week = world["week"]
    assert _send(client, world["football"], week, ["fjell"]).status_code == 302
    again = _send(client, world["football"], week, ["fjell", "danvik"])
    assert again.status_code == 422
    assert "Fjell skole: Det er allerede sendt en forespørsel" in again.get_data(as_text=True)
    assert _count() == 1  # Danvik was not asked either: all or nothing

    # Another week is a new request.
    assert _send(client, world["football"], upcoming_weeks()[2], ["fjell"]).status_code == 302
    assert _count() == 2


def test_a_draft_cannot_be_requested_and_the_page_says_why(client, login_as, world):
    login_as(world["member"])
    draft = world["draft"]
    body = client.get(f"/activities/{draft.id}/reach").get_data(as_text=True)
    assert "Aktiviteten må være publisert" in body
    assert 'name="schools"' not in body
    assert "Send forespørsel til skolene" not in body
    response = _send(client, draft, world["week"], ["danvik"])
    assert response.status_code == 422
    assert "Aktiviteten må være publisert" in response.get_data(as_text=True)
    assert _count() == 0


def test_the_form_and_the_withdraw_button_need_their_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        municipality = Municipality(slug="drammen", name="Drammen", messaging_label="Vigilo")
        school = School(
            municipality=municipality,
            slug="fjell",
            name="Fjell skole",
            grade_min=1,
            grade_max=7,
            facebook_page_url="https://www.facebook.com/fjell",
            accepts_backpack_post=True,
        )
        school.grade_counts.append(SchoolGradeCount(grade=3, classes=2, pupils=48))
        db.session.add(school)
        organisation = new_organisation(municipality, "Klubben")
        user = quick_user("leder")
        db.session.add(Membership(user=user, organisation=organisation, role="owner"))
        activity = new_activity(organisation, "Fotball", age_min=8, age_max=10, **POST)
        db.session.commit()
        client = app.test_client()
        sign_in(client, user)
        week = upcoming_weeks()[1]
        page = client.get(f"/activities/{activity.id}/reach?week={week}").get_data(True)
        data = {"week": week, "schools": ["fjell"], "grades": ["fjell:3"]}
        assert client.post(f"/activities/{activity.id}/reach", data=data).status_code == 400
        assert db.session.scalar(select(func.count(DistributionRequest.id))) == 0
        data["csrf_token"] = csrf_token_from(page)
        assert client.post(f"/activities/{activity.id}/reach", data=data).status_code == 302
        (req,) = db.session.scalars(select(DistributionRequest)).all()

        listing = client.get(f"/activities/{activity.id}/requests").get_data(True)
        token = csrf_token_from(listing)
        withdraw, version = f"/requests/{req.id}/withdraw", req.version
        assert client.post(withdraw, data={"version": version}).status_code == 400
        response = client.post(withdraw, data={"csrf_token": token, "version": version})
        assert response.status_code == 302
        db.session.refresh(req)
        assert req.status == "withdrawn"
        db.session.remove()


# --- withdrawing ------------------------------------------------------------------------------


def test_withdrawing_a_pending_request(client, login_as, world):
    req = _request_for(world, "fjell")
    login_as(world["member"])
    listing = client.get(f"/activities/{world['football'].id}/requests").get_data(True)
    assert f'action="/requests/{req.id}/withdraw"' in listing
    response = client.post(
        f"/requests/{req.id}/withdraw", data={"version": req.version, "return_to": "activity"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/activities/{world['football'].id}/requests"
    db.session.refresh(req)
    assert req.status == "withdrawn"
    assert _actions() == ["request.create", "request.withdraw"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "request.withdraw"))
    assert (event.actor_id, event.object_id) == (world["member"].id, req.id)
    assert event.data["before"] == "pending"

    page = client.get(response.headers["Location"]).get_data(True)
    assert "er trukket tilbake" in page
    assert ">trukket tilbake</span>" in page
    assert f'action="/requests/{req.id}/withdraw"' not in page  # no button once withdrawn
    # The school can be asked again for the same week.
    assert _send(client, world["football"], world["week"], ["fjell"]).status_code == 302


def test_withdrawing_from_the_organisation_list_goes_back_there(client, login_as, world):
    req = _request_for(world, "fjell")
    login_as(world["member"])
    response = client.post(
        f"/requests/{req.id}/withdraw", data={"version": req.version, "return_to": "organisation"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisations/klubben/requests"


def test_an_approved_request_can_still_be_withdrawn(client, login_as, world):
    req = _request_for(world, "fjell")
    approve_request(req, actor=world["staff"]["fjell"])
    db.session.commit()
    login_as(world["member"])
    response = client.post(f"/requests/{req.id}/withdraw", data={"version": req.version})
    assert response.status_code == 302
    db.session.refresh(req)
    assert req.status == "withdrawn"


@pytest.mark.parametrize("final", ["exported", "rejected", "withdrawn"])
def test_a_finished_request_cannot_be_withdrawn(client, login_as, world, final):
    req = _request_for(world, "danvik")
    if final == "rejected":
        reject_request(req, "Vi har fullt denne uken.", actor=world["staff"]["danvik"])
    else:
        req.status = final
    db.session.commit()
    login_as(world["member"])
    listing = client.get(f"/activities/{world['football'].id}/requests").get_data(True)
    assert f'action="/requests/{req.id}/withdraw"' not in listing
    response = client.post(f"/requests/{req.id}/withdraw", data={"version": req.version})
    assert response.status_code == 409
    assert "Bare ventende eller godkjente forespørsler kan trekkes tilbake" in response.get_data(
        True
    )
    db.session.refresh(req)
    assert req.status == final
    assert "request.withdraw" not in _actions()


def test_a_stale_withdraw_button_is_409(client, login_as, world):
    req = _request_for(world, "fjell")
    login_as(world["member"])
    version = req.version
    approve_request(req, actor=world["staff"]["fjell"])
    db.session.commit()
    response = client.post(f"/requests/{req.id}/withdraw", data={"version": version})
    assert response.status_code == 409
    assert "Noen andre har endret dette mens du hadde siden åpen" in response.get_data(True)
    db.session.refresh(req)
    assert req.status == "approved"


def test_a_bad_return_to_is_400(client, login_as, world):
    req = _request_for(world, "fjell")
    login_as(world["member"])
    response = client.post(
        f"/requests/{req.id}/withdraw", data={"version": req.version, "return_to": "//evil.example"}
    )
    assert response.status_code == 400
    db.session.refresh(req)
    assert req.status == "pending"


# --- the lists --------------------------------------------------------------------------------


def test_the_lists_show_every_status_with_the_school_reason_and_reviewer(
    client, login_as, world, make_user
):
    week = world["week"]
    later = upcoming_weeks()[2]
    pending = _request_for(world, "fjell")
    rejected = _request_for(world, "danvik")
    reject_request(rejected, "Ranselposten er full før jul.", actor=world["staff"]["danvik"])
    approved = _request_for(world, "danvik", activity=world["chess"], week=later)
    approve_request(approved, actor=world["staff"]["danvik"])
    db.session.commit()
    staff_name = world["staff"]["danvik"].name

    login_as(world["member"])
    body = client.get(f"/activities/{world['football'].id}/requests").get_data(True)
    assert ">venter</span>" in body and ">avvist</span>" in body
    assert "Ranselposten er full før jul." in body
    assert f"av {staff_name}" in body
    assert "Sjakk" not in body  # the activity's own requests only
    assert pending.school.name in body

    everything = client.get("/organisations/klubben/requests")
    assert everything.status_code == 200
    text = everything.get_data(True)
    for name in ("venter", "avvist", "godkjent"):
        assert f">{name}</span>" in text
    assert "Sjakk" in text and "Fotball 8–10 år" in text
    # Newest week first.
    assert text.index(f'id="week-{later}"') < text.index(f'id="week-{week}"')
    assert "Annet lags kurs" not in text


def test_an_edit_after_approval_sends_requests_back_to_review_with_the_change_shown(
    client, login_as, world
):
    approved = _request_for(world, "fjell")
    pending = _request_for(world, "danvik")
    exported = _request_for(world, "fjell", week=upcoming_weeks()[2])
    approve_request(approved, actor=world["staff"]["fjell"])
    approve_request(exported, actor=world["staff"]["fjell"])
    exported.status = "exported"
    db.session.commit()

    login_as(world["member"])
    activity = world["football"]
    data = edit_data(client, activity.id, title="Fotball for alle", age_max="10")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302

    for req in (approved, pending, exported):
        db.session.refresh(req)
    assert (approved.status, pending.status, exported.status) == ("pending", "pending", "exported")
    assert approved.reviewed_by_id is None
    assert "title" in approved.changes and "title" in pending.changes
    assert exported.changes == []
    assert _actions().count("request.reopen") == 2

    body = client.get(f"/activities/{activity.id}/requests").get_data(True)
    assert body.count("Venter på ny vurdering fra skolen") == 2
    assert "(tittel)" in body
    assert ">eksportert</span>" in body


def test_the_manage_pages_link_to_the_lists(client, login_as, world):
    login_as(world["member"])
    activity = world["football"]
    manage = client.get("/organisations/klubben/activities").get_data(True)
    assert 'href="/organisations/klubben/requests"' in manage
    assert f'href="/activities/{activity.id}/requests"' in manage
    edit = client.get(f"/activities/{activity.id}/edit").get_data(True)
    assert f'href="/activities/{activity.id}/requests"' in edit


def test_an_empty_list_says_so(client, login_as, world):
    login_as(world["member"])
    body = client.get(f"/activities/{world['football'].id}/requests").get_data(True)
    assert "Ingen forespørsler er sendt ennå." in body


def _cards(body: str) -> list[tuple[str, str]]:
    """(request id, status) of each request card on a list page, top to bottom."""
    return re.findall(r'<li class="card request" id="request-(\d+)" data-status="([a-z]+)">', body)


def _tab(body: str, label: str) -> str:
    """The status tab with this label: its link and count."""
    match = re.search(rf'<li><a href="[^"]*"[^>]*>{label} <span[^>]*>\d+</span></a></li>', body)
    assert match, label
    return match.group(0)


def test_the_organisation_list_filters_by_status_and_counts_the_whole_organisation(
    client, login_as, world
):
    pending = _request_for(world, "fjell")
    rejected = _request_for(world, "danvik")
    reject_request(rejected, "Ranselposten er full.", actor=world["staff"]["danvik"])
    approved = _request_for(world, "danvik", activity=world["chess"], week=upcoming_weeks()[2])
    approve_request(approved, actor=world["staff"]["danvik"])
    db.session.commit()
    create_requests(
        world["theirs"], [SchoolChoice(world["schools"]["fjell"])], world["week"],
        actor=world["other"],
    )  # fmt: skip
    db.session.commit()
    login_as(world["member"])

    everything = client.get("/organisations/klubben/requests").get_data(True)
    assert sorted(_cards(everything)) == sorted(
        [(str(r.id), r.status) for r in (pending, rejected, approved)]
    )
    assert 'aria-current="page">Alle <span class="badge badge-request-all">3</span>' in everything

    response = client.get("/organisations/klubben/requests?status=rejected")
    assert response.status_code == 200
    body = response.get_data(True)
    assert _cards(body) == [(str(rejected.id), "rejected")]
    assert "Ranselposten er full." in body
    # The counts stay those of the whole organisation (another organisation's not among them).
    assert 'aria-current="page">Avvist <span class="badge badge-request-rejected">1</span>' in body
    assert ">1</span>" in _tab(body, "Venter") and ">1</span>" in _tab(body, "Godkjent")
    assert ">3</span>" in _tab(body, "Alle")
    assert 'href="/organisations/klubben/requests?status=pending"' in body
    assert 'href="/organisations/klubben/requests"' in _tab(body, "Alle")

    nothing = client.get("/organisations/klubben/requests?status=withdrawn").get_data(True)
    assert _cards(nothing) == []
    assert "Ingen forespørsler her." in nothing
    assert "Ingen forespørsler er sendt ennå." not in nothing
    assert client.get("/organisations/klubben/requests?status=all").status_code == 200


def test_the_organisation_list_shows_fifty_requests_a_page_newest_week_first(
    client, login_as, world
):
    first_monday = date.fromisoformat("2024-01-01")  # 2024-W01
    weeks = [
        "{}-W{:02d}".format(*(first_monday + timedelta(weeks=n)).isocalendar()[:2])
        for n in range(51)
    ]
    school, activity = world["schools"]["danvik"], world["football"]
    db.session.add_all(
        DistributionRequest(
            activity=activity,
            school=school,
            week=week,
            channel="backpack_post",
            rule="backpack",
            requested_by=world["member"],
        )
        for week in weeks
    )
    db.session.commit()
    login_as(world["member"])

    first = client.get("/organisations/klubben/requests").get_data(True)
    assert len(_cards(first)) == 50
    assert "51 forespørsler · side 1 av 2" in first
    assert f'id="week-{weeks[-1]}"' in first and f'id="week-{weeks[0]}"' not in first
    assert first.index(f'id="week-{weeks[-1]}"') < first.index(f'id="week-{weeks[-2]}"')
    assert 'rel="next" href="/organisations/klubben/requests?page=2"' in first
    assert 'rel="prev"' not in first

    second = client.get("/organisations/klubben/requests?page=2").get_data(True)
    assert len(_cards(second)) == 1
    assert f'id="week-{weeks[0]}"' in second  # the oldest
    assert "side 2 av 2" in second
    assert 'rel="prev" href="/organisations/klubben/requests"' in second
    assert 'rel="next"' not in second
    # A page past the end shows the last page; the filter's links keep the status.
    assert _cards(client.get("/organisations/klubben/requests?page=9").get_data(True)) == (
        _cards(second)
    )
    pending = client.get("/organisations/klubben/requests?status=pending").get_data(True)
    assert 'href="/organisations/klubben/requests?status=pending&amp;page=2"' in pending


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "borte"}, "Velg en status fra listen."),
        ({"status": "x" * 5000}, "Velg en status fra listen."),
        ({"page": "0"}, "Sidetallet må være et helt tall fra 1."),
        ({"page": "-1"}, "Sidetallet må være et helt tall fra 1."),
        ({"page": "abc"}, "Sidetallet må være et helt tall fra 1."),
        ({"page": "٣"}, "Sidetallet må være et helt tall fra 1."),
        ({"page": "9" * 5000}, "Sidetallet må være et helt tall fra 1."),
    ],
)
def test_a_bad_filter_on_the_organisation_list_is_400_with_the_message(
    client, login_as, world, query, message
):
    _request_for(world, "fjell")
    login_as(world["member"])
    response = client.get("/organisations/klubben/requests?" + urlencode(query))
    assert response.status_code == 400
    body = response.get_data(True)
    assert message in body
    assert _cards(body) == []


# --- who may ----------------------------------------------------------------------------------


def test_another_organisation_cannot_see_send_or_withdraw(client, login_as, world):
    req = _request_for(world, "fjell")
    activity = world["football"]
    login_as(world["other"])
    assert client.get(f"/activities/{activity.id}/reach").status_code == 403
    assert _send(client, activity, world["week"], ["danvik"]).status_code == 403
    assert client.get(f"/activities/{activity.id}/requests").status_code == 403
    assert client.get("/organisations/klubben/requests").status_code == 403
    assert client.post(f"/requests/{req.id}/withdraw").status_code == 403
    db.session.refresh(req)
    assert req.status == "pending"
    assert _count() == 1
    # Their own list shows none of Klubben's requests.
    own = client.get("/organisations/annet-lag/requests").get_data(True)
    assert "Fjell skole" not in own
    assert "Ingen forespørsler er sendt ennå." in own


def test_school_staff_cannot_withdraw_or_see_the_organiser_lists(client, login_as, world):
    req = _request_for(world, "fjell")
    login_as(world["staff"]["fjell"])
    assert client.post(f"/requests/{req.id}/withdraw").status_code == 403
    assert client.get(f"/activities/{world['football'].id}/requests").status_code == 403
    assert client.get("/organisations/klubben/requests").status_code == 403


def test_missing_things_are_404_and_anonymous_visitors_are_sent_to_log_in(client, login_as, world):
    req = _request_for(world, "fjell")
    for path, method in (
        (f"/activities/{world['football'].id}/requests", "get"),
        ("/organisations/klubben/requests", "get"),
        (f"/requests/{req.id}/withdraw", "post"),
        (f"/activities/{world['football'].id}/reach", "post"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    login_as(world["member"])
    assert client.get("/activities/999999/requests").status_code == 404
    assert client.get("/organisations/finnes-ikke/requests").status_code == 404
    assert client.post("/requests/999999/withdraw").status_code == 404
    assert client.post("/activities/999999/reach").status_code == 404
    assert client.get(f"/requests/{req.id}/withdraw").status_code == 405


def test_only_the_ticked_schools_are_asked_though_every_grade_box_comes_ticked(
    client, login_as, world
):
    """As a browser sends the form: the grade boxes of every school, one school ticked."""
    login_as(world["member"])
    grades = {"fjell": [2, 3, 4, 5], "danvik": [2, 3, 4, 5]}
    response = _send(client, world["football"], world["week"], ["danvik"], grades)
    assert response.status_code == 302
    (req,) = _requests()
    assert (req.school.slug, req.grades) == ("danvik", [2, 3, 4, 5])
