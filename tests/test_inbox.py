"""The school's request inbox: staff of a school review its requests and nobody else's.

Approving re-checks the routing rule at that moment (quota, blackout week); rejecting needs a
reason the organiser sees; every act writes an AuditEvent; an edit sends a request back with
the change shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from directory.activities.operations import ActivityData, change_activity_status, update_activity
from directory.approvals import inbox
from directory.approvals.display import upcoming_weeks, week_label
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import SchoolChoice, approve_request, create_requests
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.schools.operations import update_policy
from directory.weeks import not_a_week_message
from tests.conftest import csrf_token_from, sign_in

FRIDAY_OF_WEEK_49 = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # 18:00 in Oslo


@pytest.fixture
def world(
    app, quiet_search, municipality, make_municipality, make_school, make_user, make_staff,
    make_activity, make_organisation,
):  # fmt: skip
    """Two schools that take backpack post (no Facebook page), their staff, an organiser with
    three activities that have flyers, the municipal admin and another municipality's admin."""
    organiser = make_user(name="Olga Organisator")
    organisation = make_organisation(owners=[organiser], name="Drammen Sjakklubb")
    x = make_school(slug="x-skole", name="X skole", facebook_page_url=None)
    y = make_school(slug="y-skole", name="Y skole", facebook_page_url=None)
    activities = [
        make_activity(organisation=organisation, title=title, flyer_filename=f"{n}.pdf")
        for n, title in enumerate(["Sjakk for nybegynnere", "Lynsjakk", "Sjakkturnering"])
    ]
    admin = make_user(name="Kommune Admin")
    admin.admin_municipality_id = municipality.id
    other_admin = make_user(name="Annen Admin")
    other_admin.admin_municipality_id = make_municipality().id
    db.session.commit()
    return SimpleNamespace(
        organiser=organiser,
        organisation=organisation,
        x=x,
        y=y,
        activities=activities,
        staff_x=make_staff(x),
        admin_x=make_staff(x, role="admin"),
        staff_y=make_staff(y),
        admin=admin,
        other_admin=other_admin,
        week=upcoming_weeks()[1],
    )


def send(world, activity, school, week=None) -> DistributionRequest:
    """The organiser sends one request; committed."""
    [req] = create_requests(
        activity, [SchoolChoice(school)], week or world.week, actor=world.organiser
    )
    db.session.commit()
    return req


def status_of(req_id: int) -> str:
    db.session.expire_all()
    return db.session.get(DistributionRequest, req_id).status


def version_of(req_id: int) -> int:
    """The stored version: what the review page opened now carries."""
    db.session.expire_all()
    return db.session.get(DistributionRequest, req_id).version


def audit_count(action: str, req_id: int | None = None) -> int:
    query = select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
    if req_id is not None:
        query = query.where(AuditEvent.object_id == req_id)
    return db.session.scalar(query)


def inbox_url(school, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/schools/{school.slug}/requests" + (f"?{query}" if query else "")


# --- who sees what -------------------------------------------------------------------------------


def test_staff_see_their_own_schools_requests_and_never_anothers(client, world):
    mine = send(world, world.activities[0], world.x)
    theirs = send(world, world.activities[1], world.y)
    sign_in(client, world.staff_x)
    page = client.get(inbox_url(world.x))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sjakk for nybegynnere" in html
    assert "Lynsjakk" not in html
    assert f"/schools/x-skole/requests/{mine.id}" in html
    # Another school's request is not there, whichever school's address is used.
    assert client.get(f"/schools/x-skole/requests/{theirs.id}").status_code == 404
    assert client.get(f"/schools/y-skole/requests/{theirs.id}").status_code == 403
    assert client.get(inbox_url(world.y)).status_code == 403


def test_each_tick_box_is_labelled_with_the_offer_and_week_and_each_cell_names_itself(
    client, world
):
    req = send(world, world.activities[0], world.x)
    sign_in(client, world.staff_x)
    html = client.get(inbox_url(world.x)).get_data(as_text=True)
    label = re.search(rf'<label class="pick-label" for="pick-{req.id}">(.*?)</label>', html, re.S)
    assert label is not None and f'id="pick-{req.id}"' in label.group(1)
    words = " ".join(re.sub(r"<[^>]+>", " ", label.group(1)).split())
    assert words == f"Velg «Sjakk for nybegynnere», {week_label(world.week)}"
    # On a phone the row is a card and the column headings are out of sight: cells say what
    # they are.
    assert 'data-label="Arrangør"' in html and 'data-label="Kanal"' in html


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("staff_x", 200),
        ("admin_x", 200),
        ("staff_y", 403),
        ("admin", 403),  # the municipal admin sees statistics, not the school's inbox
        ("other_admin", 404),  # as for the school's policy page: not theirs to know about
        ("organiser", 403),
    ],
)
def test_who_may_open_the_inbox_and_a_request(client, world, who, expected):
    req = send(world, world.activities[0], world.x)
    sign_in(client, getattr(world, who))
    assert client.get(inbox_url(world.x)).status_code == expected
    assert client.get(f"/schools/x-skole/requests/{req.id}").status_code == expected


def test_signed_out_visitors_go_to_login_and_unknown_schools_are_404(client, world):
    req = send(world, world.activities[0], world.x)
    response = client.get(inbox_url(world.x))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.post(f"/schools/x-skole/requests/{req.id}/approve").status_code == 302
    assert status_of(req.id) == "pending"
    sign_in(client, world.staff_x)
    assert client.get("/schools/finnes-ikke/requests").status_code == 404
    assert client.get("/schools/x-skole/requests/999999").status_code == 404


def test_staff_of_another_school_cannot_approve_or_reject(client, world):
    req = send(world, world.activities[0], world.x)
    sign_in(client, world.staff_y)
    for action, data in (("approve", {}), ("reject", {"reason": "Nei takk"})):
        # Through the request's own school: not theirs (403); through their own: not there (404).
        assert (
            client.post(f"/schools/x-skole/requests/{req.id}/{action}", data=data).status_code
            == 403
        )
        assert (
            client.post(f"/schools/y-skole/requests/{req.id}/{action}", data=data).status_code
            == 404
        )
    assert (
        client.post(
            "/schools/x-skole/requests/bulk-approve", data={"requests": [req.id]}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/schools/y-skole/requests/bulk-approve", data={"requests": [req.id]}
        ).status_code
        == 404
    )
    assert status_of(req.id) == "pending"
    assert audit_count("request.approve") == audit_count("request.reject") == 0


def test_bulk_approval_with_another_schools_request_approves_nothing(client, world):
    mine = send(world, world.activities[0], world.x)
    theirs = send(world, world.activities[1], world.y)
    sign_in(client, world.staff_x)
    response = client.post(
        "/schools/x-skole/requests/bulk-approve", data={"requests": [mine.id, theirs.id]}
    )
    assert response.status_code == 404
    assert "Ingenting er godkjent" in response.get_data(as_text=True)
    assert status_of(mine.id) == "pending"
    assert status_of(theirs.id) == "pending"


# --- approving and rejecting ---------------------------------------------------------------------


def test_approving_records_who_and_when_and_an_audit_event(client, world):
    req = send(world, world.activities[0], world.x)
    sign_in(client, world.staff_x)
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/approve", data={"version": req.version}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/schools/x-skole/requests")
    assert "er godkjent" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    req = db.session.get(DistributionRequest, req.id)
    assert req.status == "approved"
    assert req.reviewed_by_id == world.staff_x.id
    assert req.reviewed_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "request.approve"))
    assert event.object_id == req.id
    assert event.actor_id == world.staff_x.id
    assert event.data["school"] == "x-skole"
    # The review page now lists the approval in the history.
    history = client.get(f"/schools/x-skole/requests/{req.id}").get_data(as_text=True)
    assert 'data-action="request.approve"' in history


def test_a_stale_or_repeated_approval_does_not_approve_twice(client, world):
    req = send(world, world.activities[0], world.x)
    seen_version = req.version
    sign_in(client, world.staff_x)
    url = f"/schools/x-skole/requests/{req.id}/approve"
    assert client.post(url, data={"version": seen_version}).status_code == 302
    # The same button pressed again from the old page: the version no longer matches.
    again = client.post(url, data={"version": seen_version})
    assert again.status_code == 409
    assert "Noen andre har endret dette mens du hadde siden åpen" in again.get_data(as_text=True)
    # Without a version the page is just as stale.
    bare = client.post(url)
    assert bare.status_code == 409
    assert "Noen andre har endret dette mens du hadde siden åpen" in bare.get_data(as_text=True)
    # From a page opened after the approval, the state check refuses it.
    fresh = client.post(url, data={"version": version_of(req.id)})
    assert fresh.status_code == 409
    assert "Bare ventende forespørsler kan godkjennes" in fresh.get_data(as_text=True)
    assert audit_count("request.approve", req.id) == 1


def test_rejecting_needs_a_reason_the_organiser_sees(client, world):
    req = send(world, world.activities[0], world.x)
    sign_in(client, world.staff_x)
    url = f"/schools/x-skole/requests/{req.id}/reject"
    for blank in ("", "   "):
        response = client.post(url, data={"reason": blank, "version": req.version})
        assert response.status_code == 422
        assert "Skriv en begrunnelse" in response.get_data(as_text=True)
    assert status_of(req.id) == "pending"
    assert audit_count("request.reject") == 0

    response = client.post(
        url, data={"reason": "Vi har allerede sendt ut mye denne uken.", "version": req.version}
    )
    assert response.status_code == 302
    db.session.expire_all()
    req = db.session.get(DistributionRequest, req.id)
    assert req.status == "rejected"
    assert req.review_reason == "Vi har allerede sendt ut mye denne uken."
    assert req.reviewed_by_id == world.staff_x.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "request.reject"))
    assert event.data["reason"] == "Vi har allerede sendt ut mye denne uken."
    # The organiser reads the reason on their own list.
    sign_in(client, world.organiser)
    own = client.get(f"/activities/{req.activity_id}/requests").get_data(as_text=True)
    assert "Vi har allerede sendt ut mye denne uken." in own


def test_a_stale_rejection_shows_the_page_again_with_the_reason_and_the_new_version(client, world):
    activity = world.activities[0]
    req = send(world, activity, world.x)
    seen_version = req.version
    update_activity(activity, ActivityData(fields={"price_nok": 350}), actor=world.organiser)
    db.session.commit()
    sign_in(client, world.staff_x)
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/reject",
        data={"reason": "Feil uke for oss.", "version": seen_version},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Noen andre har endret dette mens du hadde siden åpen" in html
    assert "Feil uke for oss.</textarea>" in html  # the reviewer's reason is kept
    assert f'name="version" value="{version_of(req.id)}"' in html  # sending again will do
    assert status_of(req.id) == "pending"
    assert audit_count("request.reject") == 0


def test_an_approved_request_can_still_be_rejected_but_a_rejected_one_not_approved(client, world):
    req = send(world, world.activities[0], world.x)
    approve_request(req, actor=world.staff_x)
    db.session.commit()
    sign_in(client, world.staff_x)
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/reject",
        data={"reason": "Feil uke for oss.", "version": version_of(req.id)},
    )
    assert response.status_code == 302
    assert status_of(req.id) == "rejected"
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/approve", data={"version": version_of(req.id)}
    )
    assert response.status_code == 409
    assert "Bare ventende forespørsler kan godkjennes" in response.get_data(as_text=True)
    assert status_of(req.id) == "rejected"


def test_approving_when_the_weeks_quota_is_used_up_is_refused_with_the_reason(client, world):
    first, second, third = (send(world, a, world.x) for a in world.activities)
    for req in (first, second):  # the default quota: two flyers a week
        approve_request(req, actor=world.staff_x)
    db.session.commit()
    sign_in(client, world.staff_x)
    review = client.get(f"/schools/x-skole/requests/{third.id}").get_data(as_text=True)
    assert "kan ikke godkjennes nå" in review  # the warning before anyone presses a button
    response = client.post(
        f"/schools/x-skole/requests/{third.id}/approve", data={"version": third.version}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Regelen gir ikke lenger samme kanal" in html
    assert "Ukekvoten for ranselpost (2) er brukt opp" in html
    assert status_of(third.id) == "pending"
    assert audit_count("request.approve", third.id) == 0


def test_approving_in_a_blackout_week_is_refused_with_the_reason(client, world):
    req = send(world, world.activities[0], world.x)
    update_policy(world.x, {"blackout_weeks": [world.week]}, actor=world.admin_x)
    db.session.commit()
    sign_in(client, world.staff_x)
    review = client.get(f"/schools/x-skole/requests/{req.id}").get_data(as_text=True)
    assert "er stengt for ranselpost" in review
    assert "kan ikke godkjennes nå" in review
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/approve", data={"version": req.version}
    )
    assert response.status_code == 409
    assert "er stengt for ranselpost ved skolen" in response.get_data(as_text=True)
    assert status_of(req.id) == "pending"


def test_bulk_approval_approves_what_fits_and_says_why_for_the_rest(client, world):
    reqs = [send(world, a, world.x) for a in world.activities]
    sign_in(client, world.staff_x)
    response = client.post(
        "/schools/x-skole/requests/bulk-approve",
        data={"requests": [r.id for r in reqs], "return_week": world.week},
    )
    assert response.status_code == 302
    assert f"week={world.week}" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 forespørsler er godkjent." in html
    assert "«Sjakkturnering»" in html and "er ikke godkjent" in html
    assert "Ukekvoten for ranselpost (2) er brukt opp" in html
    # Oldest first: the last one sent is the one left waiting.
    assert [status_of(r.id) for r in reqs] == ["approved", "approved", "pending"]
    assert audit_count("request.approve") == 2


@pytest.mark.parametrize(
    "data",
    [{}, {"requests": "abc"}, {"requests": "0"}, {"requests": str(2**40)}],
    ids=["none", "not-a-number", "zero", "too-large"],
)
def test_bulk_approval_with_bad_ids_is_a_400(client, world, data):
    req = send(world, world.activities[0], world.x)
    sign_in(client, world.staff_x)
    response = client.post("/schools/x-skole/requests/bulk-approve", data=data)
    assert response.status_code == 400
    assert status_of(req.id) == "pending"


# --- filters -------------------------------------------------------------------------------------


def test_the_inbox_filters_by_status_week_and_channel(client, world):
    later = upcoming_weeks()[2]
    pending = send(world, world.activities[0], world.x)
    approved = send(world, world.activities[1], world.x)
    next_week = send(world, world.activities[2], world.x, week=later)
    approve_request(approved, actor=world.staff_x)
    db.session.commit()
    sign_in(client, world.staff_x)

    def titles(**args) -> set[str]:
        response = client.get(inbox_url(world.x, **args))
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return {a.title for a in world.activities if f">{a.title}</a>" in html}

    # Pending by default, every week.
    assert titles() == {"Sjakk for nybegynnere", "Sjakkturnering"}
    assert titles(status="approved") == {"Lynsjakk"}
    assert titles(status="all") == {a.title for a in world.activities}
    assert titles(week=world.week) == {"Sjakk for nybegynnere"}
    assert titles(week=later, status="all") == {"Sjakkturnering"}
    assert titles(channel="backpack_post", status="all") == {a.title for a in world.activities}
    assert titles(channel="facebook_share") == set()
    # The status links count what the week and channel filter leaves.
    html = client.get(inbox_url(world.x, week=world.week)).get_data(as_text=True)
    assert f'status=pending&amp;week={world.week}" aria-current="page">Venter' in html
    assert 'badge-request-pending">1</span>' in html
    assert 'badge-request-approved">1</span>' in html
    assert {pending.id, next_week.id}  # both exist; the week filter hid one


@pytest.mark.time_machine(FRIDAY_OF_WEEK_49, tick=True)
def test_the_week_filter_is_a_list_of_weeks_with_their_dates(client, world):
    """This week and the next three, and every week the school has requests for; the query
    keeps the ISO week."""
    send(world, world.activities[0], world.x)  # week 50
    send(world, world.activities[1], world.x, week="2027-W02")
    sign_in(client, world.staff_x)
    html = client.get(inbox_url(world.x)).get_data(as_text=True)
    assert re.search(r'<select [^>]*id="week" name="week"', html)
    assert "<datalist" not in html and "ISO-uke" not in html
    options = re.findall(r"<option [^>]*>[^<]*</option>", html.split('name="week"')[1])
    assert options[:6] == [
        '<option selected value="">Alle uker</option>',
        '<option value="2026-W49">Uke 49: 30. november–6. desember</option>',
        '<option value="2026-W50">Uke 50: 7.–13. desember</option>',
        '<option value="2026-W51">Uke 51: 14.–20. desember</option>',
        '<option value="2026-W52">Uke 52: 21.–27. desember</option>',
        '<option value="2027-W02">Uke 2, 2027: 11.–17. januar</option>',
    ]

    response = client.get(inbox_url(world.x, week="2027-W02", status="all"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<option selected value="2027-W02">Uke 2, 2027: 11.–17. januar</option>' in html
    assert "Lynsjakk</a>" in html and "Sjakk for nybegynnere</a>" not in html


@pytest.mark.time_machine(FRIDAY_OF_WEEK_49, tick=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"week": "uke-48"}, None),
        ({"week": "UKE"}, None),
        ({"week": "2026-W60"}, None),
        ({"week": "2026-W40"}, None),  # a real week, but not on the list
        ({"status": "borte"}, "Velg en status fra listen."),
        ({"channel": "directory_only"}, "Velg en kanal fra listen."),
        ({"page": "x"}, "Sidetallet må være et helt tall fra 1."),
    ],
)
def test_bad_filters_are_a_400_with_the_message(client, world, app, args, message):
    send(world, world.activities[0], world.x)
    sign_in(client, world.staff_x)
    response = client.get(inbox_url(world.x, **args))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    with app.test_request_context():
        expected = message or not_a_week_message()
    assert expected in html
    assert "Sjakk for nybegynnere</a>" not in html
    if "week" in args:  # the value is never echoed on the page (the language links keep it)
        main = html.split('<main id="main">')[1].split("</main>")[0]
        assert f'<ul class="errors" id="week-err"><li>{expected}</li></ul>' in main
        assert args["week"] not in main


# --- after an edit -------------------------------------------------------------------------------


def test_an_edit_after_approval_sends_it_back_with_the_change_shown(client, world):
    activity = world.activities[0]
    req = send(world, activity, world.x)
    approve_request(req, actor=world.staff_x)
    db.session.commit()
    update_activity(
        activity,
        ActivityData(fields={"title": "Sjakk for alle", "price_nok": 200}),
        actor=world.organiser,
    )
    db.session.commit()
    assert status_of(req.id) == "pending"
    sign_in(client, world.staff_x)
    inbox = client.get(inbox_url(world.x)).get_data(as_text=True)
    assert "Sjakk for alle" in inbox
    assert "Endret av arrangøren etter innsending: tittel, pris" in inbox
    review = client.get(f"/schools/x-skole/requests/{req.id}").get_data(as_text=True)
    assert "«Sjakk for nybegynnere» → «Sjakk for alle»" in review
    assert "«0» → «200»" in review
    assert 'data-action="request.reopen"' in review
    # Approving the changed offer, from the page that shows the change, works as before.
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/approve", data={"version": version_of(req.id)}
    )
    assert response.status_code == 302
    assert status_of(req.id) == "approved"


def test_a_changed_language_is_shown_by_name_not_code(client, world):
    activity = world.activities[0]
    activity.languages = "no"
    req = send(world, activity, world.x)
    update_activity(activity, ActivityData(fields={"languages": "no, en"}), actor=world.organiser)
    db.session.commit()
    sign_in(client, world.staff_x)
    review = client.get(f"/schools/x-skole/requests/{req.id}").get_data(as_text=True)
    assert "Språk: «norsk» → «norsk, engelsk»" in review
    english = client.get(f"/schools/x-skole/requests/{req.id}?lang=en").get_data(as_text=True)
    assert "Norwegian, English" in english  # names from the locale data, not translations
    assert "no, en" not in review + english


def test_approving_from_a_page_opened_before_the_edit_is_refused(client, world):
    activity = world.activities[0]
    req = send(world, activity, world.x)
    seen_version = req.version
    update_activity(activity, ActivityData(fields={"price_nok": 350}), actor=world.organiser)
    db.session.commit()
    sign_in(client, world.staff_x)
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/approve", data={"version": seen_version}
    )
    assert response.status_code == 409
    assert "Pris" in response.get_data(as_text=True)  # the page shows what changed
    assert status_of(req.id) == "pending"


# --- the review page and the dashboard -----------------------------------------------------------


def test_the_review_page_shows_the_offer_first_and_the_rules_reasons_once(client, world):
    req = send(world, world.activities[0], world.x)
    sign_in(client, world.staff_x)
    html = client.get(f"/schools/x-skole/requests/{req.id}").get_data(as_text=True)
    assert req.reasons
    for reason in req.reasons:  # unchanged since it was sent: given once, not under two headings
        assert html.count(str(escape(reason))) == 1
    assert "Nå: Ranselpost (papirflyer), som da forespørselen ble sendt" in html
    assert "kan ikke godkjennes nå" not in html
    # What is asked comes before the buttons that decide it.
    offer = html.index('id="offer-heading"')
    assert offer < html.index("Drammen Sjakklubb") < html.index("Godkjenn</button>")
    assert offer < html.index("/media/0.pdf") < html.index('name="reason"')


def test_when_the_rule_changed_the_review_page_gives_both_decisions(client, world):
    first, second, third = (send(world, a, world.x) for a in world.activities)
    for req in (first, second):  # the default quota: two flyers a week
        approve_request(req, actor=world.staff_x)
    db.session.commit()
    sign_in(client, world.staff_x)
    html = client.get(f"/schools/x-skole/requests/{third.id}").get_data(as_text=True)
    assert "Nå: Bare i katalogen" in html
    assert "Da forespørselen ble sendt: Ranselpost (papirflyer)" in html
    assert "Ukekvoten for ranselpost (2) er brukt opp" in html


def test_the_dashboard_lists_the_users_schools_with_pending_counts(client, world):
    send(world, world.activities[0], world.x)
    send(world, world.activities[1], world.x)
    sign_in(client, world.staff_x)
    html = client.get("/account").get_data(as_text=True)
    assert "X skole" in html
    assert 'href="/schools/x-skole/requests"' in html
    assert "2 venter" in html
    assert 'href="/schools/x-skole/policy"' in html
    assert "Y skole" not in html


def test_export_links_point_to_the_weeks_exports(client, world):
    req = send(world, world.activities[0], world.x)
    approve_request(req, actor=world.staff_x)
    db.session.commit()
    sign_in(client, world.staff_x)
    html = client.get(inbox_url(world.x)).get_data(as_text=True)
    assert f"/schools/x-skole/exports/{world.week}/backpack_post" in html
    assert f"/schools/x-skole/overview/{world.week}" in html
    assert f"/schools/x-skole/exports?week={world.week}" in html
    review = client.get(f"/schools/x-skole/requests/{req.id}").get_data(as_text=True)
    assert f"/schools/x-skole/exports/{world.week}/backpack_post" in review
    # The export page the link leads to opens for the school's staff.
    assert client.get(f"/schools/x-skole/exports/{world.week}/backpack_post").status_code == 200


def test_the_inbox_pages_through_long_lists(client, world, monkeypatch):
    monkeypatch.setattr(inbox, "PER_PAGE", 2)
    for activity in world.activities:
        send(world, activity, world.x)
    sign_in(client, world.staff_x)
    first = client.get(inbox_url(world.x)).get_data(as_text=True)
    assert "3 forespørsler" in first and "side 1 av 2" in first
    assert 'rel="next" href="/schools/x-skole/requests?status=pending&amp;page=2"' in first
    second = client.get(inbox_url(world.x, page=2)).get_data(as_text=True)
    assert "Sjakkturnering</a>" in second and "Lynsjakk</a>" not in second
    # A page past the end shows the last page rather than nothing.
    assert "Sjakkturnering</a>" in client.get(inbox_url(world.x, page=9)).get_data(as_text=True)


def test_with_csrf_on_the_filters_need_no_token_and_the_buttons_carry_one(
    app, client, world, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    req = send(world, world.activities[0], world.x)
    other = send(world, world.activities[1], world.x)
    sign_in(client, world.staff_x)
    page = client.get(inbox_url(world.x, week=world.week, channel="backpack_post"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = re.search(r'<form method="post"[^>]*class="bulk-approve">.*?</form>', html, re.S)
    token = csrf_token_from(form.group(0))
    url = "/schools/x-skole/requests/bulk-approve"
    assert client.post(url, data={"requests": [req.id]}).status_code == 400
    assert status_of(req.id) == "pending"
    assert client.post(url, data={"requests": [req.id], "csrf_token": token}).status_code == 302
    assert status_of(req.id) == "approved"
    review = client.get(f"/schools/x-skole/requests/{other.id}").get_data(as_text=True)
    response = client.post(
        f"/schools/x-skole/requests/{other.id}/reject",
        data={
            "reason": "Passer ikke nå.",
            "csrf_token": csrf_token_from(review),
            "version": other.version,
        },
    )
    assert response.status_code == 302
    assert status_of(other.id) == "rejected"


def test_an_unpublished_offer_cannot_be_approved(client, world):
    activity = world.activities[0]
    req = send(world, activity, world.x)
    change_activity_status(activity, {"action": "unpublish"}, actor=world.organiser)
    db.session.commit()
    sign_in(client, world.staff_x)
    review = client.get(f"/schools/x-skole/requests/{req.id}").get_data(as_text=True)
    assert "Aktiviteten er ikke offentlig nå" in review
    response = client.post(
        f"/schools/x-skole/requests/{req.id}/approve", data={"version": version_of(req.id)}
    )
    assert response.status_code == 409
    assert "ikke publisert lenger" in response.get_data(as_text=True)
    assert status_of(req.id) == "pending"


def test_an_offer_cancelled_after_approval_goes_back_to_the_school_with_the_reason(client, world):
    """Approved (and exported) requests come back as «avlyst etter godkjenning» with the
    organiser's reason, at the top of the inbox; they leave the week's export. A request still
    pending stays pending: it cannot be approved while the offer is cancelled."""
    activity, other = world.activities[0], world.activities[1]
    approved = send(world, activity, world.x)
    pending = send(world, activity, world.y)
    kept = send(world, other, world.x)
    for req in (approved, kept):
        approve_request(req, actor=world.staff_x)
    db.session.commit()
    sign_in(client, world.staff_x)
    export = f"/schools/x-skole/exports/{world.week}/backpack_post"
    assert client.post(export + ".pdf").status_code == 200
    assert status_of(approved.id) == "exported"

    sign_in(client, world.organiser)
    response = client.post(
        f"/activities/{activity.id}/cancel",
        data={"version": activity.version, "note": "Hallen er stengt resten av høsten."},
    )
    assert response.status_code == 302
    assert status_of(approved.id) == "cancelled"
    assert status_of(pending.id) == "pending"
    assert status_of(kept.id) == "exported"
    event = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "request.cancel", AuditEvent.object_id == approved.id
        )
    ).one()
    assert event.data["before"] == "exported"
    assert event.data["reason"] == "Hallen er stengt resten av høsten."

    sign_in(client, world.staff_x)
    html = client.get(inbox_url(world.x)).get_data(as_text=True)
    section = re.search(r'<section[^>]*class="[^"]*inbox-cancelled.*?</section>', html, re.S)
    assert section is not None
    assert "Avlyst etter godkjenning" in section.group(0)
    assert "Sjakk for nybegynnere" in section.group(0)
    assert "Hallen er stengt resten av høsten." in section.group(0)
    assert "Lynsjakk" not in section.group(0)
    review = client.get(f"/schools/x-skole/requests/{approved.id}").get_data(as_text=True)
    assert "Avlyst av arrangøren etter godkjenning" in review
    assert "Hallen er stengt resten av høsten." in review
    preview = client.get(export).get_data(as_text=True)
    assert "Lynsjakk" in preview and "Sjakk for nybegynnere" not in preview
    # The other school never approved it: nothing to take down there.
    sign_in(client, world.staff_y)
    assert "inbox-cancelled" not in client.get(inbox_url(world.y)).get_data(as_text=True)
