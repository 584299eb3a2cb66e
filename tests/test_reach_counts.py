"""Reach you can count without tracking anyone: the exports' short links carry the school,
channel and week; each visit adds one to a daily counter that holds nothing about the visitor;
organisers, schools and the municipality see the sums, and a count under 5 as «under 5»."""

from __future__ import annotations

import html as html_lib
import io
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql

from directory.approvals.models import DistributionRequest
from directory.exports.formats import backpack
from directory.extensions import db
from directory.policy.reach_counts import SHOWN_FROM
from directory.reach_counts.models import ReachCount
from directory.reach_counts.operations import Visit, count_visit, upsert_statement
from directory.schools.routing import iso_week
from directory.timeutil import utcnow
from tests.conftest import next_weekday_at, sign_in
from tests.test_statistics import tables_of, text_of

BASE = "https://aktiviteter.example.no"
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # Wednesday 18 November 2026, 10:00 in Oslo
WEEK = "2026-W48"  # the week the test activity next meets in


@pytest.fixture(autouse=True)
def _on_a_wednesday_in_november():
    with time_machine.travel(NOW, tick=False):
        assert iso_week(next_weekday_at(1, 17).date()) == WEEK
        yield


@pytest.fixture
def world(app, monkeypatch, quiet_search, make_school, make_staff, make_activity,
          make_organisation, make_user, make_municipality, municipality):  # fmt: skip
    """A club with one offer approved at Bragernes in two channels, the school's staff, the
    municipality's admin, and a school in another municipality."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    school = make_school(slug="bragernes", name="Bragernes skole")
    lier = make_municipality(slug="lier", name="Lier")
    elsewhere = make_school(slug="lier-skole", name="Lier skole", municipality=lier)
    organiser = make_user("arrangor@example.org")
    club = make_organisation(name="Drammen Fotballklubb", members=[organiser])
    football = make_activity(
        organisation=club,
        title="Fotballskole",
        facebook_post_url="https://www.facebook.com/klubb/posts/111",
    )
    requests = {}
    for channel in ("backpack_post", "facebook_share", "school_messaging"):
        requests[channel] = DistributionRequest(
            activity=football,
            school=school,
            week=WEEK,
            channel=channel,
            rule="test",
            reasons=[],
            grades=[3, 4],
            status="approved",
            reviewed_at=utcnow() - timedelta(hours=1),
        )
        db.session.add(requests[channel])
    admin = make_user(name="Ada Admin")
    admin.admin_municipality_id = municipality.id
    db.session.commit()
    return {
        "school": school,
        "elsewhere": elsewhere,
        "staff": make_staff(school),
        "organiser": organiser,
        "club": club,
        "football": football,
        "requests": requests,
        "admin": admin,
    }


def link(activity_id: int, s="bragernes", c="backpack_post", w=WEEK) -> str:
    return f"/a/{activity_id}?s={s}&c={c}&w={w}"


def counter_rows() -> list[tuple]:
    db.session.expire_all()
    return [
        (r.activity_id, r.school_id, r.channel, r.week, r.day, r.visits)
        for r in db.session.scalars(select(ReachCount).order_by(ReachCount.day, ReachCount.id))
    ]


def add_counts(world, channel: str, visits: int, day: date = date(2026, 11, 18), week=WEEK):
    db.session.add(
        ReachCount(
            activity_id=world["football"].id,
            school_id=world["school"].id,
            channel=channel,
            week=week,
            day=day,
            visits=visits,
        )
    )
    db.session.commit()


# --- counting -----------------------------------------------------------------------------------


def test_three_visits_through_a_flyers_link_count_three(client, world):
    football = world["football"]

    responses = [client.get(link(football.id)) for _ in range(3)]

    for response in responses:
        assert response.status_code == 302  # not cached: the next visit is counted too
        assert response.headers["Location"].endswith(f"/activities/{football.id}")
        assert "?" not in response.headers["Location"]  # the page's address carries nothing
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers
    assert counter_rows() == [
        (football.id, world["school"].id, "backpack_post", WEEK, date(2026, 11, 18), 3)
    ]


def test_visits_on_different_oslo_days_have_rows_of_their_own(client, world):
    football = world["football"]
    # 23:30 in Oslo on the 18th, then 00:30 on the 19th (UTC is an hour behind in November).
    for moment in (datetime(2026, 11, 18, 22, 30, tzinfo=UTC), datetime(2026, 11, 18, 23, 30, tzinfo=UTC)):  # fmt: skip
        with time_machine.travel(moment, tick=False):
            assert client.get(link(football.id)).status_code == 302
    client.get(link(football.id, c="facebook_share"))  # 10:00 on the 18th again

    assert [(channel, day, visits) for *_, channel, _week, day, visits in counter_rows()] == [
        ("backpack_post", date(2026, 11, 18), 1),
        ("facebook_share", date(2026, 11, 18), 1),
        ("backpack_post", date(2026, 11, 19), 1),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "s=ukjent-skole&c=backpack_post&w=2026-W48",  # no such school
        "s=lier-skole&c=backpack_post&w=2026-W48",  # a school of another municipality
        "s=bragernes&c=sms&w=2026-W48",  # no such channel
        "s=bragernes&c=directory_only&w=2026-W48",  # a channel with no export
        "s=bragernes&c=backpack_post&w=2026-48",  # not a week
        "s=bragernes&c=backpack_post&w=2026-W54",  # no week 54 in 2026
        "s=bragernes&c=backpack_post&w=2031-W10",  # years away
        "s=bragernes&c=backpack_post",  # no week
        "c=backpack_post&w=2026-W48",  # no school
        "s=" + "x" * 300 + "&c=backpack_post&w=2026-W48",
    ],
)
def test_a_link_with_bad_parameters_still_leads_to_the_offer_and_counts_nothing(
    client, world, query
):
    football = world["football"]

    response = client.get(f"/a/{football.id}?{query}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/activities/{football.id}")
    assert "Set-Cookie" not in response.headers
    assert counter_rows() == []


def test_the_bare_short_link_stays_permanent_and_counts_nothing(client, world):
    response = client.get(f"/a/{world['football'].id}")

    assert response.status_code == 301
    assert counter_rows() == []


def test_a_head_request_is_no_visit(client, world):
    response = client.head(link(world["football"].id))

    assert response.status_code == 302
    assert counter_rows() == []


def test_a_link_to_an_offer_that_is_not_public_is_not_found_and_counts_nothing(
    client, world, make_activity
):
    draft = make_activity(organisation=world["club"], status="draft")

    assert client.get(link(draft.id)).status_code == 404
    assert client.get(link(999999)).status_code == 404
    assert counter_rows() == []


def test_the_counter_holds_nothing_about_the_visitor(client, world):
    columns = {c["name"] for c in inspect(db.engine).get_columns("reach_count")}
    assert columns == {"id", "activity_id", "school_id", "channel", "week", "day", "visits"}

    response = client.get(
        link(world["football"].id),
        headers={
            "User-Agent": "Mozilla/5.0 (Kari sin telefon)",
            "Referer": "https://www.facebook.com/bragernes",
            "Cookie": "sporing=abc123",
            "X-Forwarded-For": "198.51.100.7",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )

    assert response.status_code == 302
    assert "Set-Cookie" not in response.headers
    (row,) = counter_rows()
    stored = " ".join(str(value) for value in row)
    for trace in ("Mozilla", "Kari", "facebook", "abc123", "198.51.100.7", "203.0.113.9"):
        assert trace not in stored


def test_a_failing_counter_is_logged_and_the_link_still_works(client, world, monkeypatch, caplog):
    def broken(visit):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("directory.exports.views.count_visit", broken)

    response = client.get(link(world["football"].id))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/activities/{world['football'].id}")
    assert "could not count a visit" in caplog.text
    assert counter_rows() == []


def test_a_loop_stops_counting_while_the_link_keeps_working(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "REACH_COUNT_RATE_LIMIT", "3 per hour")
    football = world["football"]

    statuses = [client.get(link(football.id)).status_code for _ in range(6)]
    other = client.get(link(football.id), environ_base={"REMOTE_ADDR": "192.0.2.50"})

    assert statuses == [302] * 6
    assert other.status_code == 302
    assert [visits for *_, visits in counter_rows()] == [3 + 1]


def test_a_loop_past_the_short_links_own_limit_gets_429(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "SHORT_LINK_RATE_LIMIT", "2 per minute")
    football = world["football"]

    statuses = [client.get(link(football.id)).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert [visits for *_, visits in counter_rows()] == [2]


def test_the_upsert_is_one_insert_on_conflict_statement_on_postgresql(world):
    visit = Visit(1, 2, "backpack_post", WEEK, date(2026, 11, 18))

    sql = str(upsert_statement("postgresql", visit).compile(dialect=postgresql.dialect()))

    assert sql.startswith("INSERT INTO reach_count")
    assert (
        "ON CONFLICT (activity_id, school_id, channel, week, day) "
        "DO UPDATE SET visits = (reach_count.visits + %(visits_1)s::INTEGER)"
    ) in sql


def test_visits_counted_at_the_same_moment_in_two_sessions_are_all_kept(app, world):
    visit = Visit(world["football"].id, world["school"].id, "backpack_post", WEEK, date(2026, 11, 18))  # fmt: skip
    start = threading.Barrier(2)
    failures = []

    def visitor():
        try:
            with app.app_context():
                start.wait()
                for _ in range(10):
                    count_visit(visit)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # the assertion below names it
            failures.append(exc)

    threads = [threading.Thread(target=visitor) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert [visits for *_, visits in counter_rows()] == [20]


# --- the exports carry the school, channel and week ------------------------------------------


def tracked(world, channel: str) -> str:
    return f"{BASE}/a/{world['football'].id}?s=bragernes&c={channel}&w={WEEK}"


def staff_client(client, world):
    sign_in(client, world["staff"])
    return client


def test_the_backpack_flyers_link_and_qr_code_carry_school_channel_and_week(
    client, world, monkeypatch
):
    encoded = []
    real_make = backpack.segno.make
    monkeypatch.setattr(
        backpack.segno, "make", lambda content, **kw: encoded.append(content) or real_make(content, **kw)
    )  # fmt: skip
    staff_client(client, world)

    response = client.post(f"/schools/bragernes/exports/{WEEK}/backpack_post.pdf")

    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.get_data()))
    # A long link may break over two lines on the flyer: read it without the breaks.
    text = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert tracked(world, "backpack_post") in text
    assert encoded[0] == tracked(world, "backpack_post")  # the QR code to read more


def test_the_facebook_share_text_and_the_messages_carry_their_channel(client, world):
    staff_client(client, world)

    share = client.get(f"/schools/bragernes/exports/{WEEK}/facebook_share")
    messages = client.post(f"/schools/bragernes/exports/{WEEK}/school_messaging.txt")

    assert f"Les mer: {tracked(world, 'facebook_share')}" in html_lib.unescape(
        share.get_data(as_text=True)
    )
    assert f"Les mer: {tracked(world, 'school_messaging')}" in messages.get_data(as_text=True)


def test_the_weeks_overview_carries_the_overview_channel(client, world):
    staff_client(client, world)

    response = client.get(f"/schools/bragernes/overview/{WEEK}.pdf")

    reader = PdfReader(io.BytesIO(response.get_data()))
    text = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert tracked(world, "overview") in text


def test_a_visit_through_an_exported_link_is_counted(client, world):
    staff_client(client, world)
    messages = client.post(f"/schools/bragernes/exports/{WEEK}/school_messaging.txt")
    url = next(
        line.removeprefix("Les mer: ")
        for line in messages.get_data(as_text=True).splitlines()
        if line.startswith("Les mer: ")
    )

    assert client.get(url.removeprefix(BASE)).status_code == 302

    assert [(channel, visits) for *_, channel, _w, _d, visits in counter_rows()] == [
        ("school_messaging", 1)
    ]


# --- who sees the counts ----------------------------------------------------------------------


def test_the_organiser_sees_the_counts_per_school_and_channel_on_the_request_lists(client, world):
    add_counts(world, "backpack_post", 7)
    add_counts(world, "backpack_post", 5, day=date(2026, 11, 19))
    add_counts(world, "facebook_share", 3)
    add_counts(world, "overview", 6)
    sign_in(client, world["organiser"])

    for path in (
        f"/activities/{world['football'].id}/requests",
        f"/organisations/{world['club'].slug}/requests",
    ):
        page = client.get(path).get_data(as_text=True)
        text = text_of(page)
        assert "Besøk via skolens lenker Ranselpost (papirflyer): 12 Ukeoversikten: 6" in text
        assert "Deling på skolens Facebook-side: under 5 Ukeoversikten: 6" in text
        assert "Skolens meldingsapp (Vigilo): under 5 Ukeoversikten: 6" in text  # none yet


def test_the_school_sees_the_weeks_counts_per_offer_and_channel_on_its_exports_page(client, world):
    add_counts(world, "backpack_post", 9)
    add_counts(world, "backpack_post", 4, day=date(2026, 11, 19))
    add_counts(world, "facebook_share", 2)
    add_counts(world, "backpack_post", 40, week="2026-W47")  # last week's flyers
    staff_client(client, world)

    page = client.get(f"/schools/bragernes/exports?week={WEEK}").get_data(as_text=True)

    table = tables_of(page)["Besøk per tilbud og kanal, Uke 48 (fra 23. november 2026)"]
    assert table["Tilbud"] == [
        "Skolens meldingsapp (Vigilo)",
        "Deling på skolens Facebook-side",
        "Ranselpost (papirflyer)",
        "Ukeoversikten",
    ]
    assert table["Fotballskole"] == ["under 5", "under 5", "13", "under 5"]


def test_the_municipality_sees_the_counts_per_channel_and_school_in_its_statistics(
    client, world, make_school
):
    make_school(slug="fjell", name="Fjell skole")
    add_counts(world, "backpack_post", 30)
    add_counts(world, "facebook_share", 4)
    add_counts(world, "backpack_post", 8, week="2026-W40")
    sign_in(client, world["admin"])

    page = client.get("/admin/statistics").get_data(as_text=True)
    tables = tables_of(page)
    ranged = tables_of(client.get("/admin/statistics?from=2026-W45").get_data(as_text=True))

    assert tables["Besøk etter kanal"]["Ranselpost (papirflyer)"] == ["38"]
    assert tables["Besøk etter kanal"]["Deling på skolens Facebook-side"] == ["under 5"]
    assert tables["Besøk etter skole"]["Bragernes skole"] == ["42"]
    assert tables["Besøk etter skole"]["Fjell skole"] == ["under 5"]
    assert "Besøk i alt 42" in text_of(page)
    assert ranged["Besøk etter kanal"]["Ranselpost (papirflyer)"] == ["30"]


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_has_a_few_days_of_counts_for_its_exported_requests(app):
    from directory.demo import load_demo
    from directory.timeutil import OSLO

    now = datetime(2026, 11, 18, 10, 0, tzinfo=OSLO)
    load_demo(now=now)
    db.session.commit()

    rows = db.session.scalars(select(ReachCount)).all()
    exported = db.session.execute(
        select(DistributionRequest.activity_id, DistributionRequest.school_id).where(
            DistributionRequest.status == "exported"
        )
    ).all()
    assert rows and {(r.activity_id, r.school_id) for r in rows} <= set(exported)
    assert len({r.day for r in rows}) >= 2 and max(r.day for r in rows) == now.date()
    assert any(r.visits < SHOWN_FROM for r in rows) and any(r.visits >= SHOWN_FROM for r in rows)
    assert any(r.channel == "overview" for r in rows)


# --- the migration ------------------------------------------------------------------------------


def test_the_migration_adds_the_counter_and_takes_it_away_again(tmp_path):
    from flask_migrate import downgrade, upgrade

    from directory import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrations.sqlite3'}",
            "SECRET_KEY": "x",
            "TESTING": True,
            "UPLOAD_FOLDER": str(tmp_path / "u"),
            "SEARCH_INDEX_DIR": str(tmp_path / "s"),
        }
    )
    with app.app_context():
        upgrade(revision="a7c9e1f3b579")
        inspector = inspect(db.engine)
        assert {c["name"] for c in inspector.get_columns("reach_count")} == {
            "id", "activity_id", "school_id", "channel", "week", "day", "visits",
        }  # fmt: skip
        assert [u["name"] for u in inspector.get_unique_constraints("reach_count")] == [
            "uq_reach_count_activity_id_school_id_channel_week_day"
        ]
        downgrade(revision="c3e5a7b9d135")
        assert "reach_count" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
