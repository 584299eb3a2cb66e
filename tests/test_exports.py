"""Exports: what school staff download per week and channel, read back as a person would.

The CSV is parsed with the csv module, the PDF opened with pypdf (text, pages, page size) and
its QR codes decoded from a rendered page when pdftoppm and zxing-cpp are there; re-exporting
gives the same bytes, the command line writes the same file as the web, and only the school's
own staff get anything.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select

from directory.approvals.display import grades_text
from directory.approvals.models import DistributionRequest
from directory.audit.models import AuditEvent
from directory.exports.formats import backpack
from directory.exports.formats.pdf import pdf_safe
from directory.extensions import db
from directory.schools.models import Municipality, School, SchoolGradeCount, SchoolStaff
from directory.schools.routing import iso_week
from directory.storage import upload_storage
from directory.timeutil import utcnow
from tests.conftest import (
    csrf_token_from,
    new_activity,
    new_organisation,
    next_weekday_at,
    quick_user,
    require_tool,
    sign_in,
)

BASE = "https://aktiviteter.example.no"
# WEEK is fixed when the module is imported and serves as a default and in parametrize lists, so
# every test here runs on the same Wednesday: a run passing midnight before a Tuesday would
# otherwise meet the test activities a week after WEEK.
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # Wednesday 18 November 2026, 10:00 in Oslo
WEEK = "2026-W48"  # the week the test activities next meet in: Tuesday 24 November
A4 = (595.28, 841.89)  # points


@pytest.fixture(autouse=True)
def _on_a_wednesday_in_november():
    with time_machine.travel(NOW, tick=True):
        assert iso_week(next_weekday_at(1, 17).date()) == WEEK
        yield


# --- the world --------------------------------------------------------------------------------


def add_request(activity, school, channel, grades, *, status="approved", week=WEEK, reviewer=None):
    """A distribution request as the approval step leaves it."""
    row = DistributionRequest(
        activity=activity,
        school=school,
        week=week,
        channel=channel,
        rule="backpack" if channel == "backpack_post" else "facebook",
        reasons=[],
        grades=grades,
        status=status,
        reviewed_by_id=getattr(reviewer, "id", None),
        reviewed_at=utcnow() - timedelta(hours=1) if status != "pending" else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def world(app, monkeypatch, quiet_search, make_school, make_staff, make_activity):
    """A school with two approved requests in each channel, its staff, and another school."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    school = make_school(slug="bragernes", name="Bragernes skole")
    # Grade 3 has three classes of uneven size: 70 pupils -> 24 copies per class.
    grade3 = next(c for c in school.grade_counts if c.grade == 3)
    grade3.classes, grade3.pupils = 3, 70
    db.session.commit()
    other = make_school(slug="fjell", name="Fjell skole")
    staff = make_staff(school)
    football = make_activity(
        title="Æsj, fotball på Øvre Ål",
        summary="Fotballtrening for alle – nybegynnere er velkomne.",
        registration_url="https://klubb.example.no/påmelding",
        facebook_post_url="https://www.facebook.com/klubb/posts/111",
        image_filename="a" * 32 + ".jpg",
        image_alt="Barn som spiller fotball på kunstgress",
        flyer_filename="b" * 32 + ".pdf",
    )
    coding = make_activity(
        title="Kodeklubb",
        price_nok=300,
        venue="Biblioteket",
        address="Grønland 32, 3045 Drammen",
        facebook_post_url="https://www.facebook.com/bibliotek/posts/222",
        flyer_filename="c" * 32 + ".pdf",
    )
    requests = {}
    for channel in ("school_messaging", "facebook_share", "backpack_post"):
        requests[channel] = [
            add_request(football, school, channel, [3, 4, 5], reviewer=staff),
            add_request(coding, school, channel, [5, 7], reviewer=staff),
        ]
    return {
        "school": school,
        "other": other,
        "staff": staff,
        "other_staff": make_staff(other),
        "football": football,
        "coding": coding,
        "requests": requests,
    }


def download(client, channel, fmt, *, slug="bragernes", week=WEEK):
    return client.post(f"/schools/{slug}/exports/{week}/{channel}.{fmt}")


@pytest.fixture
def staff_client(client, world):
    sign_in(client, world["staff"])
    return client


def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=["export", *args])


def statuses(rows):
    return [db.session.get(DistributionRequest, r.id).status for r in rows]


def events(action="request.export"):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


# --- school messaging ---------------------------------------------------------------------------


def test_messaging_text_has_every_fact_and_both_links(staff_client, world):
    football, coding = world["football"], world["coding"]

    response = download(staff_client, "school_messaging", "txt")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="bragernes-{WEEK}-meldinger.txt"'
    )
    text = response.get_data(as_text=True)
    assert "Send til: 3.–5. og 7. trinn" in text  # the grades to address in the app
    assert "Kanal: Vigilo" in text
    assert text.index("Kodeklubb") < text.index("Æsj, fotball på Øvre Ål")  # æ after z
    assert "Når: Hver tirsdag kl. 17:00–18:30" in text
    assert "Neste gang: tirsdag" in text
    assert "Hvor: Idrettshallen, Idrettsveien 1, 3015 Drammen" in text
    assert "Hvor: Biblioteket, Grønland 32, 3045 Drammen" in text
    assert "For: 8–12 år, 3.–5. trinn" in text
    assert "Pris: Gratis" in text and "Pris: 300\u00a0kr" in text
    assert "Påmelding: https://klubb.example.no/påmelding" in text
    assert f"Aktivitetens side: {BASE}/activities/{football.id}" in text
    assert f"Les mer: {BASE}/a/{football.id}" in text
    assert f"Les mer: {BASE}/a/{coding.id}" in text
    assert "lang=" not in text
    # No recipient data: nothing about pupils or guardians but the grades.
    assert "@" not in text


def test_messaging_csv_has_one_row_per_request(staff_client, world):
    football, coding = world["football"], world["coding"]

    response = download(staff_client, "school_messaging", "csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheets read UTF-8 after this mark
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert list(rows[0]) == [
        "ID", "Tittel", "Når", "Neste gang", "Hvor", "For", "Trinn", "Pris", "Påmelding",
        "Arrangør", "Lenke", "Kort lenke", "Melding",
    ]  # fmt: skip
    assert [r["ID"] for r in rows] == [str(coding.id), str(football.id)]
    second, first = rows
    assert first["Tittel"] == "Æsj, fotball på Øvre Ål"
    assert first["Trinn"] == "3, 4, 5"
    assert first["Pris"] == "Gratis"
    assert first["Lenke"] == f"{BASE}/activities/{football.id}"
    # The short link carries the school, channel and week: visits through it are counted.
    assert first["Kort lenke"] == f"{BASE}/a/{football.id}?s=bragernes&c=school_messaging&w={WEEK}"
    assert first["Melding"].startswith("Æsj, fotball på Øvre Ål\n")
    assert f"Les mer: {BASE}/a/{football.id}" in first["Melding"]
    assert second["Trinn"] == "5, 7"
    assert second["Pris"] == "300\u00a0kr"
    assert second["Hvor"] == "Biblioteket, Grønland 32, 3045 Drammen"


def test_messaging_preview_shows_the_messages_without_exporting(staff_client, world):
    response = staff_client.get(f"/schools/bragernes/exports/{WEEK}/school_messaging")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Æsj, fotball på Øvre Ål" in page and "Kodeklubb" in page
    assert "Send til: 3.–5. og 7. trinn." in page
    assert f"/schools/bragernes/exports/{WEEK}/school_messaging.txt" in page
    assert f"/schools/bragernes/exports/{WEEK}/school_messaging.csv" in page
    assert statuses(world["requests"]["school_messaging"]) == ["approved", "approved"]
    assert events() == []


# --- Facebook -----------------------------------------------------------------------------------


def test_facebook_page_lists_posts_texts_links_and_alt_text(staff_client, world):
    football = world["football"]

    page = staff_client.get(f"/schools/bragernes/exports/{WEEK}/facebook_share")
    response = download(staff_client, "facebook_share", "html")

    assert page.status_code == 200
    for body in (page.get_data(as_text=True), response.get_data(as_text=True)):
        assert "https://www.facebook.com/klubb/posts/111" in body
        assert "https://www.facebook.com/bibliotek/posts/222" in body
        assert 'alt="Barn som spiller fotball på kunstgress"' in body
        assert "Tips til foresatte på 3.–5. trinn: Æsj, fotball på Øvre Ål" in body
        assert f"{BASE}/activities/{football.id}" in body
        assert "https://www.facebook.com/skole" in body  # the school's own page
        assert "Aktiviteten har ikke noe bilde." in body  # Kodeklubb has none
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    downloaded = response.get_data(as_text=True)
    assert f'src="{BASE}/media/{"a" * 32}.jpg"' in downloaded
    assert "csrf" not in downloaded  # a document to keep, not a page with forms


def suggested_texts(client) -> dict[str, str]:
    """The Facebook page's suggested texts by activity title, as the staff member reads them."""
    html = client.get(f"/schools/bragernes/exports/{WEEK}/facebook_share").get_data(as_text=True)
    texts = [
        html_lib.unescape(t)
        for t in re.findall(r'<pre class="message"[^>]*>(.*?)</pre>', html, re.S)
    ]
    return {text.split(": ", 1)[1].split(" med ", 1)[0]: text for text in texts}


def test_the_suggested_facebook_text_reads_as_sentences(staff_client, world, make_activity):
    market = make_activity(
        title="Loppemarked",
        # Saturday in WEEK, 28 November
        schedule={
            "dtstart": next_weekday_at(5, 11) + timedelta(days=7),
            "duration_minutes": 90,
            "rrule": "",
        },
    )
    add_request(market, world["school"], "facebook_share", [4], reviewer=world["staff"])

    texts = suggested_texts(staff_client)

    # One date: the date as a sentence of its own, not a "next time", and no stray "..".
    assert "Loppemarked med" in texts["Loppemarked"]
    assert " Lørdag 28. november kl. 11:00–12:30. Pris: Gratis. " in texts["Loppemarked"]
    assert "Neste gang" not in texts["Loppemarked"]
    # Weekly: when it meets, then the week's first time.
    football = texts["Æsj, fotball på Øvre Ål"]
    assert " Hver tirsdag kl. 17:00–18:30" in football
    assert "Neste gang: tirsdag 24. november kl. 17:00. Pris:" in football
    for text in texts.values():
        assert ".." not in text


# --- backpack post ------------------------------------------------------------------------------


def pdf_text(reader, number):
    return " ".join(reader.pages[number].extract_text().split())


def test_backpack_pdf_has_a_cover_sheet_then_two_short_flyers_on_one_a4(staff_client, world):
    """Neither organisation's flyer file is there: both get a made flyer, half a page each."""
    football, coding = world["football"], world["coding"]

    response = download(staff_client, "backpack_post", "pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1 + 1
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4)
    cover = pdf_text(reader, 0)
    assert "Ranselpost – Bragernes skole" in cover
    assert "Æsj, fotball på Øvre Ål" in cover and "Kodeklubb" in cover
    # Grade 3: 3 classes, 70 pupils, 24 copies a class, one flyer: 72 copies.
    assert re.search(r"3\. trinn 3 70 24 1 72", cover), cover
    # Grades 4 and 7: 2 classes of 48 -> 24 a class, 48 a grade; grade 5 gets both flyers.
    assert re.search(r"5\. trinn 2 48 24 2 96", cover), cover
    assert re.search(r"Sum 2 264", cover), cover  # 72 + 48 + 96 + 48 (grade 6: none)
    # The flyer list: number, title, organiser, grades, page, copies.
    assert re.search(r"1 Kodeklubb .+ 5, 7 2 96", cover), cover
    assert re.search(r"2 Æsj, fotball på Øvre Ål .+ 3, 4, 5 2 168", cover), cover
    assert "klipp langs den stiplede linja" in cover
    both = pdf_text(reader, 1)
    assert both.index("Kodeklubb") < both.index("Æsj, fotball på Øvre Ål")  # top, then bottom
    flyer = both[both.index("Æsj, fotball på Øvre Ål") :]
    assert "Æsj, fotball på Øvre Ål" in flyer
    assert "Fotballtrening for alle – nybegynnere er velkomne." in flyer
    assert "Hver tirsdag kl. 17:00–18:30" in flyer
    assert "Gratis" in flyer and "8–12 år, 3.–5. trinn" in flyer
    assert f"{BASE}/a/{football.id}" in flyer
    assert f"{BASE}/activities/{football.id}.ics" in flyer
    assert "Skolen er ikke arrangør" in flyer
    assert f"Nr. 2 – delt ut av Bragernes skole i uke {int(WEEK[-2:])}" in flyer  # as on the list
    second = both[: both.index("Æsj, fotball på Øvre Ål")]
    assert "Kodeklubb" in second and "300 kr" in second.replace("\u00a0", " ")
    assert f"{BASE}/a/{coding.id}" in second
    assert reader.metadata.title == f"Ranselpost – Bragernes skole, {WEEK}"


def qr_codes(pdf, page, tmp_path) -> set[str]:
    """What the QR codes on one page of the PDF file say, read from the page rendered."""
    if shutil.which("pdftoppm") is None:
        # CI installs poppler-utils with Chromium: there a missing pdftoppm is a failure.
        require_tool("pdftoppm (poppler-utils) is not installed")
    from PIL import Image

    prefix = tmp_path / f"page{page}"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", str(page), "-l", str(page), str(pdf), str(prefix)],
        check=True,
    )
    (png,) = tmp_path.glob(f"{prefix.name}-*.png")
    return {r.text for r in zxingcpp.read_barcodes(Image.open(png).convert("L"))}


def test_backpack_flyers_carry_qr_codes_that_decode_to_the_activity_links(
    staff_client, world, tmp_path
):
    football, coding = world["football"], world["coding"]
    response = download(staff_client, "backpack_post", "pdf")
    pdf = tmp_path / "ranselpost.pdf"
    pdf.write_bytes(response.get_data())

    # Page 2 holds both flyers, each with its two codes.
    found = qr_codes(pdf, 2, tmp_path)

    assert found == {
        f"{BASE}/a/{football.id}?s=bragernes&c=backpack_post&w={WEEK}",
        f"{BASE}/activities/{football.id}.ics",
        f"{BASE}/a/{coding.id}?s=bragernes&c=backpack_post&w={WEEK}",
        f"{BASE}/activities/{coding.id}.ics",
    }


def test_backpack_qr_codes_encode_the_counted_short_link_and_the_calendar_link(
    staff_client, world, monkeypatch
):
    """Without a decoder: what each flyer's codes are made from, caught at generation."""
    encoded = []
    real_make = backpack.segno.make

    def spy(content, **kwargs):
        encoded.append(content)
        return real_make(content, **kwargs)

    monkeypatch.setattr(backpack.segno, "make", spy)
    football, coding = world["football"], world["coding"]

    assert download(staff_client, "backpack_post", "pdf").status_code == 200

    assert encoded == [
        f"{BASE}/a/{coding.id}?s=bragernes&c=backpack_post&w={WEEK}",
        f"{BASE}/activities/{coding.id}.ics",
        f"{BASE}/a/{football.id}?s=bragernes&c=backpack_post&w={WEEK}",
        f"{BASE}/activities/{football.id}.ics",
    ]


def test_grades_without_counts_are_flagged_not_guessed(staff_client, world):
    db.session.delete(
        db.session.scalar(
            select(SchoolGradeCount).where(
                SchoolGradeCount.school_id == world["school"].id, SchoolGradeCount.grade == 7
            )
        )
    )
    db.session.commit()

    reader = PdfReader(io.BytesIO(download(staff_client, "backpack_post", "pdf").get_data()))

    cover = pdf_text(reader, 0)
    assert re.search(r"7\. trinn – – – 1 –", cover), cover
    assert "Skolen har ikke registrert klasser og elever for 7. trinn" in cover
    assert re.search(r"Sum 2 216", cover), cover


def test_a_made_flyer_too_long_for_half_a_page_has_a_page_of_its_own(
    staff_client, world, make_activity
):
    camp = make_activity(
        title="Vinterleir på Konnerud for alle som vil lære å gå på ski, bygge snøhule, lage "
        "mat på bål og sove ute i telt sammen med andre barn",
        summary="Fire dager med ski, snøhule og bål. " * 8,
        registration_url="https://skiklubb.example.no/påmelding/vinterleir-2026",
    )
    add_request(camp, world["school"], "backpack_post", [4], reviewer=world["staff"])

    reader = PdfReader(io.BytesIO(download(staff_client, "backpack_post", "pdf").get_data()))

    assert len(reader.pages) == 1 + 2
    assert "Ranselpost – Bragernes skole" in pdf_text(reader, 0)
    pages = [pdf_text(reader, n) for n in (1, 2)]
    (alone,) = [page for page in pages if "Vinterleir" in page]
    (shared,) = [page for page in pages if "Vinterleir" not in page]
    assert "Kodeklubb" not in alone and "Æsj, fotball" not in alone
    assert "Kodeklubb" in shared and "Æsj, fotball på Øvre Ål" in shared


# --- backpack post: the organisation's own flyer -----------------------------------------------


def club_flyer(*pages: str) -> bytes:
    """A flyer as a club makes one: A4, a coloured band to the foot of the page, some text."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    for text in pages:
        pdf.add_page()
        pdf.set_fill_color(0, 122, 94)
        pdf.rect(0, 262, 210, 35, style="F")
        pdf.set_font("Helvetica", "B", 28)
        pdf.text(20, 40, text)
    return bytes(pdf.output())


def upload_flyer(activity, data: bytes) -> None:
    """The organisation uploads its flyer (checked and stored as the activity form does)."""
    from directory.activities.uploads import save_flyer_bytes

    activity.flyer_filename = save_flyer_bytes(data)
    db.session.commit()


def test_backpack_places_the_organisations_own_flyer_with_a_qr_code_to_the_activity(
    staff_client, world, tmp_path
):
    football = world["football"]
    upload_flyer(football, club_flyer("Fotballskolen til Øvre Ål IL", "Treningstider og kart"))

    response = download(staff_client, "backpack_post", "pdf")

    raw = response.get_data()
    reader = PdfReader(io.BytesIO(raw))
    # The cover; Kodeklubb's made flyer (no other to share with: a page of its own); the
    # club's two pages.
    assert len(reader.pages) == 1 + 1 + 2
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4)
    cover = pdf_text(reader, 0)
    assert "Ranselpost – Bragernes skole" in cover
    assert re.search(r"2 Æsj, fotball på Øvre Ål .+ 3, 4, 5 3–4 168", cover), cover
    assert "stiplede" not in cover  # no page is shared
    first, second = pdf_text(reader, 2), pdf_text(reader, 3)
    assert "Fotballskolen til Øvre Ål IL" in first and "Treningstider og kart" in second
    assert "Hver tirsdag" not in first  # the club's flyer, not one made in its place
    assert f"Les mer og meld på {BASE}/a/{football.id}?s=bragernes&c=backpack_post" in first
    assert f"Nr. 2 – delt ut av Bragernes skole i uke {int(WEEK[-2:])}" in first
    assert "Side 1 av 2" in first and "Side 2 av 2" in second
    links = [a.get_object()["/A"]["/URI"] for a in reader.pages[2]["/Annots"]]
    assert set(links) == {f"{BASE}/activities/{football.id}"}
    # The same rows give the same bytes, the placed flyer included.
    assert download(staff_client, "backpack_post", "pdf").get_data() == raw

    pdf = tmp_path / "ranselpost.pdf"
    pdf.write_bytes(raw)
    assert qr_codes(pdf, 3, tmp_path) == {
        f"{BASE}/a/{football.id}?s=bragernes&c=backpack_post&w={WEEK}"
    }


@pytest.mark.parametrize("fault", ["broken", "too large"])
def test_an_uploaded_flyer_that_cannot_be_used_gives_way_to_a_made_one(
    app, staff_client, world, monkeypatch, caplog, fault
):
    football = world["football"]
    flyer = club_flyer("Fotballskolen til Øvre Ål IL")
    upload_flyer(football, flyer)
    if fault == "broken":  # cut short where it is stored
        upload_storage().put(football.flyer_filename, flyer[: len(flyer) // 3], "application/pdf")
        db.session.commit()
    else:
        monkeypatch.setitem(app.config, "FLYER_MAX_BYTES", len(flyer) - 1)

    with caplog.at_level("WARNING", logger="directory.exports"):
        response = download(staff_client, "backpack_post", "pdf")

    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1 + 1  # both made flyers on one page
    text = pdf_text(reader, 1)
    assert "Fotballskolen" not in text
    assert "Æsj, fotball på Øvre Ål" in text and "Hver tirsdag kl. 17:00–18:30" in text
    assert any(football.flyer_filename in r.getMessage() for r in caplog.records)


def test_an_uploaded_flyer_that_cannot_be_placed_gives_way_to_a_made_one(
    staff_client, world, monkeypatch, caplog
):
    upload_flyer(world["football"], club_flyer("Fotballskolen til Øvre Ål IL"))

    def fails(*args):
        raise ValueError("a resource pypdf cannot copy")

    monkeypatch.setattr(backpack, "_place_page", fails)
    with caplog.at_level("WARNING", logger="directory.exports"):
        response = download(staff_client, "backpack_post", "pdf")

    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1 + 1
    assert "Æsj, fotball på Øvre Ål" in pdf_text(reader, 1)
    assert "could not be placed" in caplog.text


# --- exporting: marks, audit, same bytes again --------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "fmt"),
    [
        ("school_messaging", "txt"),
        ("school_messaging", "csv"),
        ("facebook_share", "html"),
        ("backpack_post", "pdf"),
    ],
)
def test_export_marks_requests_exported_and_again_gives_the_same_file(
    staff_client, world, channel, fmt
):
    rows = world["requests"][channel]

    first = download(staff_client, channel, fmt)
    marked = [db.session.get(DistributionRequest, r.id) for r in rows]
    when = [r.exported_at for r in marked]
    second = download(staff_client, channel, fmt)

    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert statuses(rows) == ["exported", "exported"]
    assert all(r.exported_by_id == world["staff"].id for r in marked)
    assert all(w is not None for w in when)
    db.session.expire_all()
    assert [db.session.get(DistributionRequest, r.id).exported_at for r in rows] == when
    # The other channels' requests are untouched.
    others = [r for c, rs in world["requests"].items() if c != channel for r in rs]
    assert set(statuses(others)) == {"approved"}


def test_each_exported_request_gets_an_audit_event(staff_client, world):
    rows = world["requests"]["backpack_post"]

    download(staff_client, "backpack_post", "pdf")
    download(staff_client, "backpack_post", "pdf")

    found = events()
    assert [e.object_id for e in found] == [r.id for r in reversed(rows)] * 2  # title order
    assert all(e.actor_id == world["staff"].id for e in found)
    assert all(e.municipality_id == world["school"].municipality_id for e in found)
    assert [e.data["again"] for e in found] == [False, False, True, True]
    assert found[0].data == {
        "week": WEEK,
        "channel": "backpack_post",
        "format": "pdf",
        "from": "approved",
        "again": False,
        "source": "web",
    }


def test_a_request_approved_after_an_export_joins_the_next_one(staff_client, world, make_activity):
    download(staff_client, "school_messaging", "txt")
    late = make_activity(title="Bandøving")
    added = add_request(late, world["school"], "school_messaging", [6], reviewer=world["staff"])

    text = download(staff_client, "school_messaging", "txt").get_data(as_text=True)

    assert "Bandøving" in text and "Æsj, fotball" in text
    assert statuses([added]) == ["exported"]


def test_a_single_date_is_not_repeated_as_the_next_time(staff_client, world, make_activity):
    concert = make_activity(
        title="Julekonsert",
        schedule={"dtstart": next_weekday_at(3, 18), "duration_minutes": 60, "rrule": ""},
    )
    add_request(concert, world["school"], "school_messaging", [4], reviewer=world["staff"])

    text = download(staff_client, "school_messaging", "txt").get_data(as_text=True)

    block = text[text.index("Julekonsert\n") :]
    assert "Når: Torsdag" in block.split("Arrangør:")[0]
    assert "Neste gang" not in block.split("Arrangør:")[0]


def test_only_approved_and_exported_requests_of_that_week_are_exported(
    staff_client, world, make_activity
):
    school = world["school"]
    for status in ("pending", "rejected", "withdrawn"):
        add_request(make_activity(title=f"Status {status}"), school, "backpack_post", [3],
                    status=status)  # fmt: skip
    next_week = iso_week(next_weekday_at(1, 17).date() + timedelta(weeks=1))
    add_request(make_activity(title="Neste uke"), school, "backpack_post", [3], week=next_week)

    reader = PdfReader(io.BytesIO(download(staff_client, "backpack_post", "pdf").get_data()))

    assert len(reader.pages) == 2  # the cover, and the two approved flyers on one page
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Status" not in text and "Neste uke" not in text


def test_an_activity_no_longer_published_is_left_out_and_stays_approved(staff_client, world):
    world["coding"].status = "cancelled"
    db.session.commit()

    page = staff_client.get(f"/schools/bragernes/exports/{WEEK}/backpack_post")
    reader = PdfReader(io.BytesIO(download(staff_client, "backpack_post", "pdf").get_data()))

    assert "ikke lenger er publisert" in page.get_data(as_text=True)
    assert len(reader.pages) == 2
    assert statuses(world["requests"]["backpack_post"]) == ["exported", "approved"]


def test_nothing_approved_says_so_and_downloads_no_empty_file(staff_client, world):
    week = iso_week(next_weekday_at(1, 17).date() + timedelta(weeks=5))

    page = staff_client.get(f"/schools/bragernes/exports/{week}/backpack_post")
    response = download(staff_client, "backpack_post", "pdf", week=week)

    assert page.status_code == 200
    assert "Det er ingen godkjente forespørsler å eksportere" in page.get_data(as_text=True)
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert "Det er ingen godkjente forespørsler å eksportere" in response.get_data(as_text=True)
    assert events() == []


# --- the index and the overview -----------------------------------------------------------------


def test_index_counts_approved_and_exported_per_channel(staff_client, world):
    download(staff_client, "backpack_post", "pdf")

    page = staff_client.get(f"/schools/bragernes/exports?week={WEEK}").get_data(as_text=True)

    row = re.search(r'<tr data-channel="backpack_post">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td[^>]*>(\d+)</td>", row) == ["0", "2"]
    row = re.search(r'<tr data-channel="school_messaging">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td[^>]*>(\d+)</td>", row) == ["2", "0"]
    assert f"/schools/bragernes/overview/{WEEK}" in page


def test_overview_lists_every_approved_offer_once_and_changes_nothing(
    staff_client, world, make_activity
):
    pending = make_activity(title="Venter fortsatt")
    add_request(pending, world["school"], "backpack_post", [3], status="pending")

    page = staff_client.get(f"/schools/bragernes/overview/{WEEK}")
    response = staff_client.get(f"/schools/bragernes/overview/{WEEK}.pdf")

    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert body.count("<h2>Æsj, fotball på Øvre Ål</h2>") == 1  # three channels, one offer
    assert "Kodeklubb" in body and "Venter fortsatt" not in body
    assert "3.–5. trinn" in body
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Aktiviteter for barn og unge" in text
    assert text.count("Æsj, fotball på Øvre Ål") == 1 and "Kodeklubb" in text
    assert "Skolen er ikke arrangør" in text
    assert "Venter fortsatt" not in text
    assert f"{BASE}/a/{world['football'].id}" in text
    assert all(float(p.mediabox.width) == pytest.approx(A4[0]) for p in reader.pages)
    assert (
        response.get_data()
        == staff_client.get(f"/schools/bragernes/overview/{WEEK}.pdf").get_data()
    )
    assert {s for rows in world["requests"].values() for s in statuses(rows)} == {"approved"}
    assert events() == []


def test_overview_of_an_empty_week_says_so(staff_client, world):
    week = iso_week(next_weekday_at(1, 17).date() + timedelta(weeks=5))

    page = staff_client.get(f"/schools/bragernes/overview/{week}")
    response = staff_client.get(f"/schools/bragernes/overview/{week}.pdf")

    assert "Skolen har ingen godkjente tilbud" in page.get_data(as_text=True)
    assert response.status_code == 409


# --- short links --------------------------------------------------------------------------------


def test_short_link_redirects_permanently_to_a_public_activity(client, world, make_activity):
    football = world["football"]
    draft = make_activity(title="Utkast", status="draft")

    response = client.get(f"/a/{football.id}")

    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/activities/{football.id}")
    assert client.get(f"/a/{draft.id}").status_code == 404
    assert client.get("/a/999999").status_code == 404


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        # A filter that is not a week is a bad request; a path with no week names no page.
        ("get", "/schools/bragernes/exports?week=2026-48", 400),
        ("get", "/schools/bragernes/exports/2026-W54/backpack_post", 404),
        ("post", "/schools/bragernes/exports/uke48/backpack_post.pdf", 404),
        ("get", "/schools/bragernes/overview/2026-W60", 404),
        ("get", "/schools/bragernes/overview/neste.pdf", 404),
    ],
)
def test_a_bad_week_is_refused_with_a_message(staff_client, method, path, status):
    response = getattr(staff_client, method)(path)

    assert response.status_code == status
    # The week picker's own value is chosen from a list; a URL's week is written out.
    expected = "Velg en uke fra listen." if "?week=" in path else "for eksempel 2026-W48"
    assert expected in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", f"/schools/bragernes/exports/{WEEK}/sms", 404),
        ("get", f"/schools/bragernes/exports/{WEEK}/directory_only", 404),
        ("post", f"/schools/bragernes/exports/{WEEK}/not_eligible.txt", 404),
        ("post", f"/schools/bragernes/exports/{WEEK}/facebook_share.pdf", 404),
        ("post", f"/schools/bragernes/exports/{WEEK}/backpack_post.docx", 404),
        ("get", f"/schools/bragernes/exports/{WEEK}/backpack_post.pdf", 405),
        ("post", f"/schools/bragernes/exports/{WEEK}/backpack_post", 405),
        ("get", f"/schools/nowhere/exports/{WEEK}/backpack_post", 404),
    ],
)
def test_unknown_channels_formats_and_methods_are_refused(
    staff_client, world, method, path, status
):
    response = getattr(staff_client, method)(path)

    assert response.status_code == status
    assert statuses(world["requests"]["backpack_post"]) == ["approved", "approved"]


def test_the_export_button_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, PUBLIC_BASE_URL=BASE)
    with app.app_context():
        municipality = Municipality(slug="drammen", name="Drammen")
        school = School(
            municipality=municipality, slug="bragernes", name="Bragernes", grade_min=1, grade_max=7
        )
        staff = quick_user("ansatt")
        db.session.add(SchoolStaff(user=staff, school=school, role="staff"))
        activity = new_activity(new_organisation(municipality, "Bragernes IL"), "Sjakk")
        row = add_request(activity, school, "backpack_post", [3], reviewer=staff)
        client = app.test_client()
        sign_in(client, staff)
        path = f"/schools/bragernes/exports/{WEEK}/backpack_post"

        refused = client.post(path + ".pdf")
        page = client.get(path).get_data(as_text=True)
        accepted = client.post(path + ".pdf", data={"csrf_token": csrf_token_from(page)})

        assert refused.status_code == 400
        assert accepted.status_code == 200 and accepted.mimetype == "application/pdf"
        assert db.session.get(DistributionRequest, row.id).status == "exported"
        db.session.remove()


# --- who may ------------------------------------------------------------------------------------

ROUTES = [
    ("get", "/schools/bragernes/exports"),
    ("get", f"/schools/bragernes/exports/{WEEK}/school_messaging"),
    ("get", f"/schools/bragernes/exports/{WEEK}/facebook_share"),
    ("get", f"/schools/bragernes/exports/{WEEK}/backpack_post"),
    ("post", f"/schools/bragernes/exports/{WEEK}/school_messaging.txt"),
    ("post", f"/schools/bragernes/exports/{WEEK}/school_messaging.csv"),
    ("post", f"/schools/bragernes/exports/{WEEK}/facebook_share.html"),
    ("post", f"/schools/bragernes/exports/{WEEK}/backpack_post.pdf"),
    ("get", f"/schools/bragernes/overview/{WEEK}"),
    ("get", f"/schools/bragernes/overview/{WEEK}.pdf"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_staff_of_another_school_get_nothing(client, world, method, path):
    sign_in(client, world["other_staff"])

    response = getattr(client, method)(path)

    assert response.status_code == 403  # the school's pages exist; they are not theirs
    assert "Æsj" not in response.get_data(as_text=True)
    assert {s for rows in world["requests"].values() for s in statuses(rows)} == {"approved"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_organisers_and_the_municipal_admin_get_nothing(client, world, make_user, method, path):
    football = world["football"]
    organiser = football.organisation
    member = make_user()
    from directory.organisations.models import Membership

    db.session.add(Membership(user=member, organisation=organiser, role="owner"))
    admin = make_user()
    admin.admin_municipality_id = world["school"].municipality_id
    db.session.commit()

    for user in (member, admin):
        sign_in(client, user)
        response = getattr(client, method)(path)
        assert response.status_code == 403, (user.email, path)
    assert events() == []


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_the_login(client, world, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert events() == []


def test_a_school_admin_may_export_too(client, world, make_staff):
    sign_in(client, make_staff(world["school"], role="admin"))

    assert download(client, "backpack_post", "pdf").status_code == 200


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "fmt"),
    [
        ("school_messaging", "txt"),
        ("school_messaging", "csv"),
        ("facebook_share", "html"),
        ("backpack_post", "pdf"),
    ],
)
def test_cli_writes_the_file_the_staff_download(app, staff_client, world, tmp_path, channel, fmt):
    out = tmp_path / f"eksport.{fmt}"

    result = run_cli(app, "bragernes", "--week", WEEK, "--channel", channel, "--out", str(out))
    web = download(staff_client, channel, fmt)

    assert result.exit_code == 0, result.output
    assert "2 forespørsler" in result.output and "2 merket som eksportert nå" in result.output
    assert out.read_bytes() == web.get_data()
    rows = [db.session.get(DistributionRequest, r.id) for r in world["requests"][channel]]
    assert [r.status for r in rows] == ["exported", "exported"]
    assert [r.exported_by_id for r in rows] == [None, None]  # the command line is nobody
    found = events()
    assert [e.data["source"] for e in found] == ["cli", "cli", "web", "web"]
    assert found[0].actor_id is None


def test_cli_without_a_public_address_links_to_the_local_server(app, world, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    out = tmp_path / "meldinger.txt"

    result = run_cli(
        app, "bragernes", "--week", WEEK, "--channel", "school_messaging", "--out", str(out)
    )

    assert result.exit_code == 0, result.output
    assert "PUBLIC_BASE_URL er ikke satt" in result.output
    assert f"http://127.0.0.1:5000/a/{world['football'].id}" in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "--week", WEEK, "--channel", "backpack_post"], "Skolen «nowhere» finnes ikke"),
        (["bragernes", "--week", "2026-48", "--channel", "backpack_post"], "2026-W48"),
        (["bragernes", "--week", WEEK, "--channel", "sms"], "«sms» kan ikke eksporteres"),
        (["bragernes", "--week", WEEK, "--channel", "directory_only"], "kan ikke eksporteres"),
    ],
)
def test_cli_refuses_bad_arguments_with_exit_code_2(app, world, tmp_path, args, message):
    out = tmp_path / "ranselpost.pdf"

    result = run_cli(app, *args, "--out", str(out))

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()
    assert events() == []


@pytest.mark.parametrize(
    ("channel", "name"),
    [("backpack_post", "ranselpost.csv"), ("school_messaging", "meldinger.pdf"),
     ("facebook_share", "deling")],
)  # fmt: skip
def test_cli_refuses_a_file_name_that_does_not_fit_the_channel(app, world, tmp_path, channel, name):
    result = run_cli(
        app, "bragernes", "--week", WEEK, "--channel", channel, "--out", str(tmp_path / name)
    )

    assert result.exit_code == 2
    assert "eksporteres som" in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_with_nothing_approved_writes_nothing_and_exits_1(app, world, tmp_path):
    week = iso_week(next_weekday_at(1, 17).date() + timedelta(weeks=5))
    out = tmp_path / "ranselpost.pdf"

    result = run_cli(
        app, "bragernes", "--week", week, "--channel", "backpack_post", "--out", str(out)
    )

    assert result.exit_code == 1
    assert "ingen godkjente forespørsler" in result.output
    assert not out.exists()


# --- the pieces ---------------------------------------------------------------------------------


def test_grades_are_written_as_runs(app):
    assert grades_text([5, 3, 4, 7]) == "3.–5. og 7. trinn"
    assert grades_text([1, 3, 5]) == "1., 3. og 5. trinn"
    assert grades_text([8]) == "8. trinn"
    assert grades_text([]) == ""


def test_pdf_text_keeps_norwegian_letters_and_replaces_the_rest():
    assert pdf_safe("Blåbær og rømmegrøt – «ÆØÅ» €") == "Blåbær og rømmegrøt – «ÆØÅ» €"
    assert pdf_safe("Čáhppes ŋ đ") == "Cáhppes n d"
    assert pdf_safe("Fotball ⚽ i dag") == "Fotball  i dag"
    assert pdf_safe("Ωmega") == "?mega"
