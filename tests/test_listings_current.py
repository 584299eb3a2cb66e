"""Listings that stay current (issue 14, item 1): `confirmed_until`, the reminders of
`flask review-listings`, the one-click «Fortsatt aktuell» link and button, and what an expired
listing leaves (lists, search, feeds, widget, routing) and keeps (its page, its API item)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from directory.activities.listings import confirmation_token
from directory.activities.models import Activity, ListingReminder
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Membership
from directory.search.database_backend import DatabaseBackend
from directory.search.query import SearchQuery
from directory.search.service import get_backend
from directory.search.whoosh_backend import WhooshBackend
from tests.conftest import mail_link, mail_text

# Saturday 5 December 2026, 11:00 in Oslo: the autumn season ends on 31 December, within 30
# days, so publishing or renewing now runs to six months ahead (short of 30 June).
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
TODAY = date(2026, 12, 5)
AUTUMN_END = date(2026, 12, 31)
RENEWED = date(2027, 6, 5)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def owner(make_user):
    return make_user("eier@example.org", name="Eva Eier")


@pytest.fixture
def editor(make_user):
    return make_user("redaktor@example.org", name="Rolf Redaktør")


@pytest.fixture
def club(make_organisation, owner, editor):
    return make_organisation(name="Fjell IL", owners=[owner], members=[editor])


@pytest.fixture
def near(frozen, make_activity, club):
    """A published activity whose listing runs out in 14 days."""
    return make_activity(
        organisation=club, title="Klatring for barn", confirmed_until=TODAY + timedelta(days=14)
    )


def review(app, *args):
    result = app.test_cli_runner().invoke(
        args=["review-listings", "--base-url", "http://127.0.0.1:5000", *args]
    )
    db.session.expire_all()
    return result


def confirmations() -> int:
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "activity.confirm")
    )


def stored(activity: Activity) -> tuple:
    db.session.expire_all()
    current = db.session.get(Activity, activity.id)
    return (current.confirmed_until, current.version, confirmations())


# --- the date ----------------------------------------------------------------------------------


def test_publishing_confirms_the_listing_until_the_end_of_the_season(
    frozen, app, client, make_activity, club, owner, login_as
):
    draft = make_activity(organisation=club, status="draft")
    login_as(owner)
    response = client.post(f"/activities/{draft.id}/publish", data={"version": draft.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Activity, draft.id).confirmed_until == RENEWED


# --- review-listings ----------------------------------------------------------------------------


def test_review_listings_mails_every_member_14_days_before_with_a_link(
    app, smtp_server, near, owner, editor
):
    result = review(app)
    assert result.exit_code == 0, result.output
    assert "2 påminnelser sendt" in result.output
    assert sorted(m["X-Envelope-To"] for m in smtp_server.messages) == [
        "eier@example.org",
        "redaktor@example.org",
    ]
    message = smtp_server.to("eier@example.org")[0]
    assert "Klatring for barn" in message["Subject"]
    text = mail_text(message)
    assert "19. desember 2026" in text
    assert "/listings/confirm/" in mail_link(message, "/listings/confirm/")


def test_a_second_run_the_same_day_sends_nothing_twice(app, smtp_server, near):
    assert review(app).exit_code == 0
    again = review(app)
    assert again.exit_code == 0
    assert "0 påminnelser sendt" in again.output
    assert len(smtp_server.messages) == 2


def test_the_3_day_reminder_follows_the_14_day_one_and_then_nothing(app, frozen, smtp_server, near):
    review(app)
    frozen.move_to(NOW + timedelta(days=5))  # 9 days left: the 14-day reminder has been sent
    assert "0 påminnelser" in review(app).output
    frozen.move_to(NOW + timedelta(days=11))  # 3 days left
    assert "2 påminnelser" in review(app).output
    frozen.move_to(NOW + timedelta(days=13))
    assert "0 påminnelser" in review(app).output
    assert len(smtp_server.messages) == 4
    assert db.session.scalar(select(func.count(ListingReminder.id))) == 4


def test_listings_far_from_their_date_drafts_and_expired_ones_get_no_reminder(
    app, smtp_server, frozen, make_activity, club
):
    make_activity(organisation=club, confirmed_until=TODAY + timedelta(days=40))
    make_activity(organisation=club, status="draft", confirmed_until=TODAY + timedelta(days=3))
    make_activity(organisation=club, confirmed_until=TODAY - timedelta(days=1))
    result = review(app)
    assert result.exit_code == 0
    assert "0 påminnelser" in result.output
    assert smtp_server.messages == []


def test_a_failed_mail_is_counted_exits_1_and_is_sent_by_the_next_run(
    app, near, smtp_down, monkeypatch
):
    result = review(app)
    assert result.exit_code == 1
    assert "2 kunne ikke sendes" in result.output
    assert db.session.scalar(select(func.count(ListingReminder.id))) == 0


# --- the e-mailed link ---------------------------------------------------------------------------


def link_for(activity: Activity, user) -> str:
    with db.session.no_autoflush:
        token = confirmation_token(db.session.get(Activity, activity.id), user.id)
    return f"/listings/confirm/{token}"


def test_opening_the_link_shows_a_button_and_changes_nothing(app, client, near, owner):
    before = stored(near)
    page = client.get(link_for(near, owner))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Fortsatt aktuell" in body and "<form" in body
    assert stored(near) == before


def test_the_button_behind_the_link_renews_without_a_login_and_is_audited(app, client, near, owner):
    response = client.post(link_for(near, owner))
    assert response.status_code == 200
    assert "5. juni 2027" in response.get_data(as_text=True)
    assert stored(near)[0] == RENEWED
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "activity.confirm"))
    assert event.actor_id == owner.id
    assert event.data["from"] == "2026-12-19" and event.data["to"] == "2027-06-05"


def test_a_link_from_the_mail_works_once(app, client, smtp_server, near, owner):
    review(app)
    link = mail_link(smtp_server.to("eier@example.org")[0], "/listings/confirm/")
    assert client.post(link).status_code == 200
    before = stored(near)
    again = client.post(link)
    assert again.status_code == 410
    assert "allerede brukt" in again.get_data(as_text=True)
    assert client.get(link).status_code == 410
    assert stored(near) == before


def test_the_other_members_link_is_spent_once_the_listing_is_renewed(
    app, client, near, owner, editor
):
    first, second = link_for(near, owner), link_for(near, editor)
    assert client.post(first).status_code == 200
    before = stored(near)
    assert client.post(second).status_code == 410
    assert stored(near) == before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda link: link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"),
        lambda link: "/listings/confirm/ikke-en-lenke",
        lambda link: "/listings/confirm/" + "x" * 1000,
    ],
    ids=["tampered", "garbage", "huge"],
)
def test_a_forged_link_is_refused_with_a_clear_page_and_changes_nothing(
    app, client, near, owner, mangle
):
    link = mangle(link_for(near, owner))
    before = stored(near)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 404
        assert "Lenken er ikke gyldig" in response.get_data(as_text=True)
    assert stored(near) == before


def test_a_link_signed_with_another_secret_is_refused(app, client, near, owner, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-different-secret")
    link = link_for(near, owner)
    monkeypatch.setitem(app.config, "SECRET_KEY", "test-secret-key")
    assert client.post(link).status_code == 404
    assert stored(near)[0] == TODAY + timedelta(days=14)


def test_a_link_older_than_30_days_is_refused_and_changes_nothing(
    app, client, frozen, make_activity, club, owner
):
    activity = make_activity(organisation=club, confirmed_until=TODAY + timedelta(days=40))
    link = link_for(activity, owner)
    frozen.move_to(NOW + timedelta(days=31))
    before = stored(activity)
    response = client.post(link)
    assert response.status_code == 410
    assert "for gammel" in response.get_data(as_text=True)
    assert stored(activity) == before


def test_the_link_of_a_member_who_has_left_is_refused(app, client, near, editor):
    link = link_for(near, editor)
    db.session.execute(Membership.__table__.delete().where(Membership.user_id == editor.id))
    db.session.commit()
    before = stored(near)
    assert client.post(link).status_code == 403
    assert stored(near) == before


# --- the organisation's list and button ------------------------------------------------------------


def test_the_list_shows_the_date_and_an_expired_listing_and_renews_in_one_click(
    app, client, frozen, make_activity, club, owner, login_as
):
    current = make_activity(organisation=club, title="Fotball", confirmed_until=AUTUMN_END)
    expired = make_activity(
        organisation=club, title="Håndball", confirmed_until=TODAY - timedelta(days=3)
    )
    login_as(owner)
    page = client.get(f"/organisations/{club.slug}/activities").get_data(as_text=True)
    assert "Bekreftet til 31. desember 2026" in page
    assert "Utløpt" in page and "2. desember 2026" in page
    response = client.post(f"/activities/{expired.id}/confirm", data={"return_to": "list"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organisations/{club.slug}/activities")
    assert stored(expired)[0] == RENEWED
    assert stored(current)[0] == AUTUMN_END
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "activity.confirm"))
    assert (event.data["from"], event.data["to"], event.actor_id) == (
        "2026-12-02",
        "2027-06-05",
        owner.id,
    )
    page = client.get(f"/organisations/{club.slug}/activities").get_data(as_text=True)
    assert "Utløpt" not in page


def test_a_draft_cannot_be_confirmed_only_published(
    app, client, frozen, make_activity, club, owner, login_as
):
    draft = make_activity(organisation=club, status="draft")
    login_as(owner)
    response = client.post(f"/activities/{draft.id}/confirm")
    assert response.status_code == 409
    assert stored(draft)[0] is None


# --- past the date -------------------------------------------------------------------------------------


@pytest.fixture
def two(frozen, make_activity, club):
    """A current and an expired published activity of the same club."""
    current = make_activity(organisation=club, title="Sjakk for barn", confirmed_until=TODAY)
    expired = make_activity(
        organisation=club, title="Tegning for barn", confirmed_until=TODAY - timedelta(days=1)
    )
    return current, expired


def test_an_expired_listing_leaves_search_and_the_api_list(app, client, two):
    for path in ("/activities?q=barn", "/", "/api/v1/activities?q=barn"):
        body = client.get(path).get_data(as_text=True)
        assert "Sjakk for barn" in body, path
        assert "Tegning for barn" not in body, path


@pytest.mark.parametrize("path", ["/calendar.ics", "/feed.atom", "/embed"])
def test_an_expired_listing_leaves_the_feeds_and_the_widget(app, client, two, path):
    body = client.get(path).get_data(as_text=True)
    assert "Sjakk for barn" in body
    assert "Tegning for barn" not in body


def test_an_expired_listing_leaves_its_organisations_page(app, client, two, club):
    body = client.get(f"/organisations/{club.slug}").get_data(as_text=True)
    assert "Sjakk for barn" in body
    assert "Tegning for barn" not in body


def test_the_database_backend_leaves_expired_listings_out_too(app, two):
    result = DatabaseBackend().query(SearchQuery(text="barn"), now=NOW)
    assert result.ids == [two[0].id]


def test_the_index_drops_a_listing_the_day_after_its_date_without_a_reindex(app, two):
    index = get_backend()
    assert isinstance(index, WhooshBackend)
    query = SearchQuery(text="barn")
    assert index.query(query, now=NOW).ids == [two[0].id]
    last_second = datetime(2026, 12, 5, 22, 59, 59, tzinfo=UTC)  # 23:59:59 in Oslo
    assert index.query(query, now=last_second).ids == [two[0].id]
    midnight = datetime(2026, 12, 5, 23, 0, 0, tzinfo=UTC)
    assert index.query(query, now=midnight).ids == []


def test_what_is_listed_is_kept_for_the_day_only(app, two):
    """The search keeps, per process, which activities are listed on a day (asked once while
    the public data stays the same); the next day is asked anew, with no change in between."""
    from sqlalchemy import event

    from directory.search.service import _listed

    current, expired = two
    ran: list[str] = []

    def note(conn, cursor, statement, *args):
        ran.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert _listed([current.id, expired.id], TODAY)[0] == [current.id]
        asked = len(ran)
        assert _listed([expired.id, current.id], TODAY)[0] == [current.id]
        assert len(ran) == asked  # known for the day
        assert _listed([current.id, expired.id], TODAY + timedelta(days=1))[0] == []
        assert len(ran) > asked
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_an_expired_listings_page_stays_and_says_it_may_be_out_of_date(app, client, two):
    response = client.get(f"/activities/{two[1].id}")
    assert response.status_code == 200
    assert (
        "Denne aktiviteten er ikke bekreftet siden 4. desember 2026, og kan være utdatert."
        in response.get_data(as_text=True)
    )
    current = client.get(f"/activities/{two[0].id}").get_data(as_text=True)
    assert "ikke bekreftet siden" not in current


def test_the_api_item_of_an_expired_listing_says_expired_and_keeps_its_status(app, client, two):
    expired = client.get(f"/api/v1/activities/{two[1].id}").get_json()
    assert expired["expired"] is True
    assert expired["status"] == "published"
    assert expired["confirmed_until"] == "2026-12-04"
    current = client.get(f"/api/v1/activities/{two[0].id}").get_json()
    assert current["expired"] is False


def test_an_expired_listing_is_not_routed_to_schools(app, client, two, make_school):
    school = make_school()
    current = client.get(f"/api/v1/routing?activity={two[0].id}&school={school.slug}")
    assert current.status_code == 200
    expired = client.get(f"/api/v1/routing?activity={two[1].id}&school={school.slug}")
    assert expired.status_code == 404
    assert "ikke bekreftet" in expired.get_json()["error"]


def test_a_member_renews_an_expired_listing_from_its_page(app, client, two, owner, login_as):
    expired = two[1]
    assert "Fortsatt aktuell" not in client.get(f"/activities/{expired.id}").get_data(as_text=True)
    login_as(owner)
    assert "Fortsatt aktuell" in client.get(f"/activities/{expired.id}").get_data(as_text=True)
    response = client.post(f"/activities/{expired.id}/confirm", data={"return_to": "detail"})
    assert response.headers["Location"].endswith(f"/activities/{expired.id}")
    assert stored(expired)[0] == RENEWED
    page = client.get(f"/activities/{expired.id}").get_data(as_text=True)
    assert "ikke bekreftet siden" not in page
    assert "Tegning for barn" in client.get("/activities?q=tegning").get_data(as_text=True)


def test_someone_outside_the_organisation_cannot_renew(app, client, two, make_user, login_as):
    login_as(make_user())
    before = stored(two[1])
    assert client.post(f"/activities/{two[1].id}/confirm").status_code == 403
    assert stored(two[1]) == before


def test_an_organisation_whose_only_listing_expired_leaves_the_directory(
    app, client, frozen, make_activity, make_organisation
):
    lapsed = make_organisation(name="Sovende lag")
    make_activity(organisation=lapsed, confirmed_until=TODAY - timedelta(days=1))
    awake = make_organisation(name="Våkent lag")
    make_activity(organisation=awake, confirmed_until=TODAY)
    for path in ("/organisations", "/api/v1/organisations", "/sitemap.xml"):
        body = client.get(path).get_data(as_text=True)
        assert awake.slug in body, path
        assert lapsed.slug not in body, path
