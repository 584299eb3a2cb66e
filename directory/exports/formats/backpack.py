"""The backpack-post channel: a PDF with a cover sheet saying how many copies to print for each
grade, then one A4 flyer per offer with QR codes to its page and its calendar file."""

from __future__ import annotations

import math
from dataclasses import dataclass

import segno
from flask_babel import gettext as _
from flask_babel import ngettext
from fpdf import FPDF
from fpdf.enums import MethodReturnValue

from directory.approvals.display import grades_text
from directory.exports.formats.pdf import (
    INK,
    MARGIN,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    TEXT_WIDTH,
    PdfDocument,
)
from directory.exports.formats.shared import Batch, Offer

MAX_SCHEDULE_LINES = 3  # on a flyer; the activity page has them all
BAND = (0, 70, 120)  # the flyers' title band: white text on it has a contrast above 9:1
QR_SIZE = 40.0


@dataclass(frozen=True)
class GradeCopies:
    """How many copies of the flyers go to one grade; the counts are None when not registered."""

    grade: int
    classes: int | None
    pupils: int | None
    per_class: int | None  # copies of each flyer for each class: pupils / classes, rounded up
    flyers: int  # how many of the flyers target this grade
    total: int | None  # copies of all those flyers for the whole grade


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> segno.QRCode:
    """A QR code for `data` as vector squares (sharp at any print size), quiet zone included."""
    code = segno.make(data, error="m", micro=False)
    width, _height = code.symbol_size(border=4)
    module = size / width
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row, modules in enumerate(code.matrix_iter(border=4)):
        start = None
        for column, dark in enumerate([*modules, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                # A hair taller than a module, so that no seam shows between rows on screen.
                pdf.rect(
                    x + start * module,
                    y + row * module,
                    (column - start) * module,
                    module + 0.02,
                    style="F",
                )
                start = None
    return code


def copy_plan(batch: Batch) -> tuple[list[GradeCopies], dict[int, int | None]]:
    """Copies per grade (from the aggregate class counts) and per flyer (request id).

    Each class of a targeted grade gets pupils / classes copies of a flyer, rounded up; a grade
    without registered counts has None, and so has a flyer that targets one.
    """
    rows = []
    per_grade: dict[int, int | None] = {}
    for grade in batch.grades:
        flyers = sum(1 for offer in batch.offers if grade in offer.grades)
        classes, pupils = batch.grade_counts.get(grade, (None, None))
        if classes and pupils is not None:
            per_class = math.ceil(pupils / classes)
            per_grade[grade] = classes * per_class
            rows.append(
                GradeCopies(grade, classes, pupils, per_class, flyers, per_grade[grade] * flyers)
            )
        else:
            per_grade[grade] = None
            rows.append(GradeCopies(grade, classes, pupils, None, flyers, None))
    per_flyer: dict[int, int | None] = {}
    for offer in batch.offers:
        counts = [per_grade[g] for g in offer.grades]
        per_flyer[offer.request_id] = None if None in counts else sum(c or 0 for c in counts)
    return rows, per_flyer


def _number(value: int | None) -> str:
    return "–" if value is None else str(value)


def _cover_sheet(pdf: PdfDocument, batch: Batch) -> None:
    rows, per_flyer = copy_plan(batch)
    pdf.add_page()
    pdf.paragraph(_("Ranselpost – %(school)s", school=batch.school_name), 20, style="B", height=9)
    pdf.paragraph(batch.week_label, 13, height=7)
    pdf.ln(3)
    pdf.paragraph(
        ngettext(
            "Denne pakken har %(num)s flygeblad. Skriv ut hvert flygeblad så mange ganger som "
            "lista viser (nummeret står nederst på flygebladet), og legg dem i sekkene til "
            "elevene på trinnene som står oppført.",
            "Denne pakken har %(num)s flygeblader. Skriv ut hvert flygeblad så mange ganger som "
            "lista viser (nummeret står nederst på flygebladet), og legg dem i sekkene til "
            "elevene på trinnene som står oppført.",
            len(batch.offers),
        ),
        11,
        height=5.5,
    )
    pdf.ln(4)

    pdf.paragraph(_("Kopier per trinn"), 13, style="B", height=7)
    pdf.set_font("Helvetica", "", 10)
    known = [row.total for row in rows if row.total is not None]
    with pdf.table(
        col_widths=(20, 22, 22, 40, 30, 46),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5.5,
        first_row_as_headings=True,
    ) as table:
        table.row(
            [
                _("Trinn"),
                _("Klasser"),
                _("Elever"),
                _("Kopier per klasse"),
                _("Flygeblad"),
                _("Kopier i alt"),
            ]
        )
        for row in rows:
            table.row(
                [
                    _("%(grade)s. trinn", grade=row.grade),
                    _number(row.classes),
                    _number(row.pupils),
                    _number(row.per_class),
                    str(row.flyers),
                    _number(row.total),
                ]
            )
        table.row([_("Sum"), "", "", "", str(len(batch.offers)), str(sum(known))])
    missing = [row.grade for row in rows if row.total is None]
    if missing:
        pdf.ln(3)
        pdf.paragraph(
            _(
                "Skolen har ikke registrert klasser og elever for %(grades)s: tell kopiene selv.",
                grades=grades_text(missing),
            ),
            10,
            height=5,
        )
    pdf.ln(3)
    pdf.set_text_color(*MUTED)
    pdf.paragraph(
        _(
            "«Kopier per klasse» er elevene på trinnet delt på klassene, rundet opp. Tallene "
            "er skolens egne, samlet per trinn; ingen elevlister er brukt."
        ),
        9,
        height=4.5,
    )
    pdf.set_text_color(*INK)
    pdf.ln(5)
    pdf.paragraph(_("Flygeblad"), 13, style="B", height=7)
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(
        col_widths=(12, 70, 48, 30, 20),
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT"),
        line_height=5.5,
        first_row_as_headings=True,
    ) as table:
        table.row([_("Nr."), _("Aktivitet"), _("Arrangør"), _("Trinn"), _("Kopier")])
        for number, offer in enumerate(batch.offers, start=1):
            table.row(
                [
                    str(number),
                    offer.title,
                    offer.organiser,
                    ", ".join(str(g) for g in offer.grades) or "–",
                    _number(per_flyer[offer.request_id]),
                ]
            )


def _flyer_page(pdf: PdfDocument, number: int, offer: Offer, batch: Batch) -> None:
    pdf.add_page()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", "B", 26)
    title_lines = pdf.multi_cell(
        TEXT_WIDTH, 11, offer.title, dry_run=True, output=MethodReturnValue.LINES
    )
    band_height = 14 + 11 * len(title_lines) + 12
    pdf.set_fill_color(*BAND)
    pdf.rect(0, 0, PAGE_WIDTH, band_height, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_y(14)
    pdf.paragraph(offer.title, 26, style="B", height=11)
    pdf.paragraph(offer.organiser, 14, height=7)
    pdf.set_text_color(*INK)
    pdf.set_y(band_height + 8)
    if offer.summary:
        pdf.paragraph(offer.summary, 14, height=7)
        pdf.ln(4)
    schedule = list(offer.schedule[:MAX_SCHEDULE_LINES])
    if len(offer.schedule) > MAX_SCHEDULE_LINES:
        schedule.append(_("Flere tider står på nettsiden."))
    pdf.labelled(_("Når"), "\n".join(schedule) or "–")
    if offer.next_time:
        pdf.labelled(_("Neste gang"), offer.next_time)
    if offer.where:
        pdf.labelled(_("Hvor"), offer.where)
    pdf.labelled(_("For"), offer.audience)
    pdf.labelled(_("Pris"), offer.price)
    if offer.registration_url:
        pdf.labelled(_("Påmelding"), offer.registration_url)

    footer_top = PAGE_HEIGHT - 18
    block = 7 + QR_SIZE + 11  # label, code, the link in text
    top = min(max(pdf.get_y() + 6, 185.0), footer_top - block - 2)
    columns = (
        (MARGIN, _("Les mer og meld på"), offer.page_url, offer.short_url),
        (PAGE_WIDTH / 2 + 5, _("Legg i kalenderen"), offer.calendar_url, offer.calendar_url),
    )
    for x, label, data, shown in columns:
        pdf.set_xy(x, top)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(80, 6, label)
        draw_qr(pdf, data, x, top + 7, QR_SIZE)
        pdf.set_xy(x, top + 7 + QR_SIZE + 1)
        pdf.set_font("Helvetica", "", 9)
        pdf.block(85, 4.5, shown)

    pdf.set_draw_color(*MUTED)
    pdf.line(MARGIN, footer_top, PAGE_WIDTH - MARGIN, footer_top)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(MARGIN, footer_top + 2)
    pdf.set_font("Helvetica", "", 8.5)
    pdf.block(
        TEXT_WIDTH,
        4,
        _(
            "Nr. %(number)s – delt ut av %(school)s i uke %(week)s på vegne av %(organiser)s.",
            number=number,
            school=batch.school_name,
            week=batch.week_number,
            organiser=offer.organiser,
        ),
    )
    pdf.block(TEXT_WIDTH, 4, _("Skolen er ikke arrangør: spørsmål går til arrangøren."))
    pdf.set_text_color(*INK)
    pdf.set_auto_page_break(True, margin=MARGIN + 5)


def backpack_pdf(batch: Batch) -> bytes:
    """The backpack-post PDF: a cover sheet with the copies to print, then one flyer per offer."""
    pdf = PdfDocument(
        title=_("Ranselpost – %(school)s, %(week)s", school=batch.school_name, week=batch.week),
        subject=_("Flygeblad til elevenes sekker"),
        created=batch.created,
    )
    _cover_sheet(pdf, batch)
    for number, offer in enumerate(batch.offers, start=1):
        _flyer_page(pdf, number, offer, batch)
    return pdf.output_bytes()
