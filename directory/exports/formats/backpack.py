"""The backpack-post channel: a PDF with a cover sheet saying how many copies to print for each
grade and on which page each flyer is, then the flyers, each with a QR code to its activity:
the export's short link, carrying the school, channel and week so that a visit is counted.

An organisation's own flyer (the PDF it uploaded) is placed page by page, made a little smaller
so that a strip at the foot of the A4 page holds the QR code to the activity's page and the
flyer's number: nothing the organisation printed is covered. An offer without one gets a flyer
made from its facts, with QR codes to its page and its calendar file; two such flyers that each
fit half a page share one A4 sheet with a cut line between them, and a longer one has a page of
its own. An uploaded flyer that cannot be used (missing, too large, unreadable) is logged and
replaced by the made one: the export never fails on it.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from dataclasses import dataclass, field

import segno
from flask import current_app
from fpdf import FPDF
from fpdf.enums import MethodReturnValue
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
)

from directory.activities.uploads import MAX_FLYER_PAGES, STORED_NAME
from directory.approvals.display import grades_text
from directory.exports.formats.pdf import (
    INK,
    MARGIN,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    TEXT_WIDTH,
    PdfDocument,
    fit_link,
)
from directory.exports.formats.shared import Batch, Offer
from directory.i18n import gettext as _
from directory.i18n import ngettext
from directory.storage import UploadStorage, upload_storage

MAX_SCHEDULE_LINES = 3  # on a flyer; the activity page has them all
BAND = (0, 70, 120)  # the flyers' title band: white text on it has a contrast above 9:1
QR_SIZE = 40.0
HALF_HEIGHT = PAGE_HEIGHT / 2  # a flyer that fits shares its A4 sheet with another
HALF_QR_SIZE = 26.0
HALF_BOTTOM = 7.0  # under a half flyer's footer: clear of the cut line and the printer's margin
CUT_GAP = 4.0  # white above the lower half's title band, so a cut a little high shows no band
STRIP_HEIGHT = 30.0  # at the foot of an uploaded flyer's page: QR code, number, the school's note
STAMP_QR_SIZE = 24.0
POINTS_PER_MM = 72 / 25.4
# Guards on the uploaded flyers an export places (the upload checks bound one file already):
MAX_PLACED_BYTES = 64 * 1024 * 1024  # all of one export's files together
MAX_CONTENT_BYTES = 64 * 1024 * 1024  # all their page descriptions, decoded (held until written)
MAX_PAGE_SIDE = 14_400.0  # points: 200 inches, the largest page PDF has without a user unit

log = logging.getLogger("directory.exports")


@dataclass(frozen=True)
class GradeCopies:
    """How many copies of the flyers go to one grade; the counts are None when not registered."""

    grade: int
    classes: int | None
    pupils: int | None
    per_class: int | None  # copies of each flyer for each class: pupils / classes, rounded up
    flyers: int  # how many of the flyers target this grade
    total: int | None  # copies of all those flyers for the whole grade


@dataclass(frozen=True)
class UploadedFlyer:
    """An organisation's own flyer, opened and checked for placing: its pages and what they
    draw (the decoded content streams)."""

    name: str
    size: int
    pages: tuple[PageObject, ...]
    contents: tuple[bytes, ...]


@dataclass
class Sheet:
    """Pages after the cover: a made flyer on a page of its own ("full"), two made flyers on
    the halves of one page ("halves"), or an uploaded flyer's pages ("uploaded")."""

    kind: str
    numbers: list[int] = field(default_factory=list)  # the flyers' numbers, from 1
    pages: int = 1


class Unplaceable(Exception):
    """An uploaded flyer opened but could not be placed into the export."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


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


def _cover_sheet(
    pdf: PdfDocument, batch: Batch, page_numbers: dict[int, str], halves: bool
) -> None:
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
    if halves:
        pdf.ln(1.5)
        pdf.paragraph(
            _(
                "Noen sider har to flygeblad. Skriv ut en slik side så mange ganger som det "
                "høyeste tallet for de to, og klipp langs den stiplede linja."
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
        col_widths=(12, 62, 44, 28, 16, 18),
        text_align=("RIGHT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        line_height=5.5,
        first_row_as_headings=True,
    ) as table:
        table.row([_("Nr."), _("Aktivitet"), _("Arrangør"), _("Trinn"), _("Side"), _("Kopier")])
        for number, offer in enumerate(batch.offers, start=1):
            table.row(
                [
                    str(number),
                    offer.title,
                    offer.organiser,
                    ", ".join(str(g) for g in offer.grades) or "–",
                    page_numbers[number],
                    _number(per_flyer[offer.request_id]),
                ]
            )


def _facts(offer: Offer) -> list[tuple[str, str]]:
    """The flyer's «label: value» rows."""
    schedule = list(offer.schedule[:MAX_SCHEDULE_LINES])
    if len(offer.schedule) > MAX_SCHEDULE_LINES:
        schedule.append(_("Flere tider står på nettsiden."))
    facts = [(_("Når"), "\n".join(schedule) or "–")]
    if offer.next_time:
        facts.append((_("Neste gang"), offer.next_time))
    if offer.where:
        facts.append((_("Hvor"), offer.where))
    facts.append((_("For"), offer.audience))
    facts.append((_("Pris"), offer.price))
    if offer.registration_url:
        facts.append((_("Påmelding"), offer.registration_url))
    return facts


def _handed_out(number: int, offer: Offer, batch: Batch) -> str:
    return _(
        "Nr. %(number)s – delt ut av %(school)s i uke %(week)s på vegne av %(organiser)s.",
        number=number,
        school=batch.school_name,
        week=batch.week_number,
        organiser=offer.organiser,
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
    for label, value in _facts(offer):
        pdf.labelled(label, value)

    footer_top = PAGE_HEIGHT - 18
    block = 7 + QR_SIZE + 11  # label, code, the link in text
    top = min(max(pdf.get_y() + 6, 185.0), footer_top - block - 2)
    columns = (
        (MARGIN, _("Les mer og meld på"), offer.short_url, offer.short_url),
        (PAGE_WIDTH / 2 + 5, _("Legg i kalenderen"), offer.calendar_url, offer.calendar_url),
    )
    for x, label, data, shown in columns:
        pdf.set_xy(x, top)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(80, 6, label)
        draw_qr(pdf, data, x, top + 7, QR_SIZE)
        pdf.set_xy(x, top + 7 + QR_SIZE + 1)
        pdf.block(85, 4.5, fit_link(pdf, shown, 85, (9,)))

    pdf.set_draw_color(*MUTED)
    pdf.line(MARGIN, footer_top, PAGE_WIDTH - MARGIN, footer_top)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(MARGIN, footer_top + 2)
    pdf.set_font("Helvetica", "", 8.5)
    pdf.block(TEXT_WIDTH, 4, _handed_out(number, offer, batch))
    pdf.block(TEXT_WIDTH, 4, _("Skolen er ikke arrangør: spørsmål går til arrangøren."))
    pdf.set_text_color(*INK)
    pdf.set_auto_page_break(True, margin=MARGIN + 5)


def _lines(pdf: FPDF, width: float, height: float, text: str) -> int:
    """How many lines `text` takes in a column of `width` in the current font (as `block`)."""
    if "\n" not in text and pdf.get_string_width(text) <= width - 2 * pdf.c_margin:
        return 1
    return len(pdf.multi_cell(width, height, text, dry_run=True, output=MethodReturnValue.LINES))


def _half_body(pdf: PdfDocument, offer: Offer, top: float, *, draw: bool = True) -> float:
    """A half-page flyer's title band and facts, from `top`; the y under them. With `draw`
    False nothing is drawn: the lines are counted as `PdfDocument.block` breaks them, which
    gives the same y far quicker."""
    band_top = top if top == 0 else top + CUT_GAP
    pdf.set_font("Helvetica", "B", 20)
    title_lines = _lines(pdf, TEXT_WIDTH, 8.5, offer.title)
    pdf.set_font("Helvetica", "", 12)
    organiser_lines = _lines(pdf, TEXT_WIDTH, 5.5, offer.organiser)
    band_height = 8 + 8.5 * title_lines + 5.5 * organiser_lines + 6
    if draw:
        pdf.set_fill_color(*BAND)
        pdf.rect(0, band_top, PAGE_WIDTH, band_height, style="F")
        pdf.set_text_color(255, 255, 255)
        pdf.set_y(band_top + 8)
        pdf.paragraph(offer.title, 20, style="B", height=8.5)
        pdf.paragraph(offer.organiser, 12, height=5.5)
        pdf.set_text_color(*INK)
    y = band_top + band_height + 5
    if draw:
        pdf.set_y(y)
        if offer.summary:
            pdf.paragraph(offer.summary, 11, height=5.2)
            pdf.ln(2)
        for label, value in _facts(offer):
            pdf.labelled(label, value, size=11, label_width=28)
        return pdf.get_y()
    pdf.set_font("Helvetica", "", 11)
    if offer.summary:
        y += 5.2 * _lines(pdf, TEXT_WIDTH, 5.2, offer.summary) + 2
    for _label, value in _facts(offer):
        y += 5.5 * _lines(pdf, TEXT_WIDTH - 28, 5.5, value) + 1.2  # as `labelled` moves on
    return y


def _half_footer_top(pdf: PdfDocument, number: int, offer: Offer, batch: Batch, top: float):
    """Where a half-page flyer's footer starts: as low in its half as its lines allow."""
    pdf.set_font("Helvetica", "", 8)
    lines = _lines(pdf, TEXT_WIDTH, 3.6, _handed_out(number, offer, batch)) + 1
    return top + HALF_HEIGHT - HALF_BOTTOM - 3.6 * lines - 2


def _fits_half(scratch: PdfDocument, number: int, offer: Offer, batch: Batch) -> bool:
    """Whether the made flyer fits half a page (measured as the lower half, the tighter one)."""
    bottom = _half_body(scratch, offer, HALF_HEIGHT, draw=False)
    qr_top = _half_footer_top(scratch, number, offer, batch, HALF_HEIGHT) - 3 - HALF_QR_SIZE
    return bottom <= qr_top - 3


def _half_flyer(pdf: PdfDocument, number: int, offer: Offer, batch: Batch, top: float) -> None:
    """A made flyer in the half of the current page from `top` (a page's top or its middle)."""
    _half_body(pdf, offer, top)
    footer_top = _half_footer_top(pdf, number, offer, batch, top)
    qr_top = footer_top - 3 - HALF_QR_SIZE
    column = TEXT_WIDTH / 2
    text_width = column - HALF_QR_SIZE - 5
    columns = (
        (MARGIN, _("Les mer og meld på"), offer.short_url, offer.short_url),
        (MARGIN + column, _("Legg i kalenderen"), offer.calendar_url, offer.calendar_url),
    )
    for x, label, data, shown in columns:
        draw_qr(pdf, data, x, qr_top, HALF_QR_SIZE)
        pdf.set_xy(x + HALF_QR_SIZE + 3, qr_top + 4)
        pdf.set_font("Helvetica", "B", 11)
        pdf.block(text_width, 5.5, label)
        pdf.set_xy(x + HALF_QR_SIZE + 3, qr_top + 11)
        # A link is kept on one line when a smaller size allows: broken, it is hard to type.
        pdf.block(text_width, 4.2, fit_link(pdf, shown, text_width, (9, 8, 7)))

    pdf.set_draw_color(*MUTED)
    pdf.line(MARGIN, footer_top, PAGE_WIDTH - MARGIN, footer_top)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(MARGIN, footer_top + 2)
    pdf.set_font("Helvetica", "", 8)
    pdf.block(TEXT_WIDTH, 3.6, _handed_out(number, offer, batch))
    pdf.block(TEXT_WIDTH, 3.6, _("Skolen er ikke arrangør: spørsmål går til arrangøren."))
    pdf.set_text_color(*INK)


def _halves_page(pdf: PdfDocument, batch: Batch, numbers: list[int]) -> None:
    """Two made flyers on one page, a dashed cut line between them."""
    pdf.add_page()
    pdf.set_auto_page_break(False)
    for number, top in zip(numbers, (0.0, HALF_HEIGHT), strict=True):
        _half_flyer(pdf, number, batch.offers[number - 1], batch, top)
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(dash=3, gap=2)
    pdf.line(0, HALF_HEIGHT, PAGE_WIDTH, HALF_HEIGHT)
    pdf.set_dash_pattern()
    pdf.set_line_width(0.2)
    pdf.set_auto_page_break(True, margin=MARGIN + 5)


def _uploaded_page(
    pdf: PdfDocument, number: int, offer: Offer, batch: Batch, page: int, pages: int
) -> None:
    """A page for one page of an uploaded flyer: the strip at its foot, with a QR code of the
    short link (which counts the visit; a click on screen goes to the activity's page), the
    short link, the flyer's number and the school's note.
    The flyer's page is placed above the strip afterwards (`_place_uploads`)."""
    pdf.add_page()
    pdf.set_auto_page_break(False)
    top = PAGE_HEIGHT - STRIP_HEIGHT
    pdf.set_draw_color(*MUTED)
    pdf.line(MARGIN, top, PAGE_WIDTH - MARGIN, top)
    qr_top = top + 2
    draw_qr(pdf, offer.short_url, MARGIN, qr_top, STAMP_QR_SIZE)
    pdf.link(MARGIN, qr_top, STAMP_QR_SIZE, STAMP_QR_SIZE, offer.page_url)
    x = MARGIN + STAMP_QR_SIZE + 4
    width = PAGE_WIDTH - MARGIN - x
    pdf.set_xy(x, qr_top + 1)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width, 5.5, _("Les mer og meld på"), link=offer.page_url)
    # The short link (with the export's school, channel and week) on a line of its own.
    shown = fit_link(pdf, offer.short_url, width, (10, 9, 8))
    pdf.set_xy(x, qr_top + 6.5)
    pdf.block(width, 4.2, shown)
    pdf.set_text_color(*MUTED)
    pdf.set_font("Helvetica", "", 8.5)
    handed_out = _handed_out(number, offer, batch)
    if pages > 1:
        handed_out += " " + _("Side %(page)s av %(pages)s.", page=page, pages=pages)
    pdf.set_xy(x, max(pdf.get_y(), qr_top + 11) + 0.5)
    pdf.block(width, 4, handed_out)
    pdf.set_x(x)
    pdf.block(width, 4, _("Skolen er ikke arrangør: spørsmål går til arrangøren."))
    pdf.set_text_color(*INK)
    pdf.set_auto_page_break(True, margin=MARGIN + 5)


def _open_flyer(
    storage: UploadStorage, name: str, limit: int, content_limit: int
) -> UploadedFlyer | None:
    """The uploaded flyer `name`, opened and checked for placing; None (logged) when it cannot
    be used: not there, larger than `limit` bytes, unreadable, encrypted, too many pages or
    pages of no usable size, or page descriptions longer than `content_limit` bytes."""

    def unusable(reason: str, *args: object) -> None:
        log.warning(
            "backpack export: the uploaded flyer %s " + reason + "; the made flyer is used",
            name,
            *args,
        )

    if not (STORED_NAME.fullmatch(name) and name.endswith(".pdf")):
        return unusable("has no stored PDF's name")
    try:
        found = storage.get(name)
        if found is None:
            return unusable("is not stored")
        size = found.size
        if size > limit:
            return unusable("is too large (%d bytes, at most %d here)", size, limit)
        data = found.read()
    except OSError as exc:
        return unusable("cannot be read from disk (%s)", exc.strerror or exc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about small flaws it repairs
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return unusable("is encrypted")
            pages = tuple(reader.pages)
            if not 1 <= len(pages) <= MAX_FLYER_PAGES:
                return unusable("has %d pages", len(pages))
            contents = []
            for page in pages:
                box = page.cropbox
                if not (0 < box.width <= MAX_PAGE_SIDE and 0 < box.height <= MAX_PAGE_SIDE):
                    return unusable("has a page of no usable size")
                stream = page.get_contents()
                contents.append(b"" if stream is None else stream.get_data())
                if sum(map(len, contents)) > content_limit:
                    return unusable("describes its pages at too great a length")
    except Exception as exc:  # pypdf raises many kinds of error on broken files
        return unusable("cannot be opened (%r)", exc)
    return UploadedFlyer(name, size, pages, tuple(contents))


def uploaded_flyers(batch: Batch) -> dict[int, UploadedFlyer]:
    """The usable uploaded flyers of the batch's offers, by request id; each file is opened
    once, and all of them together may not pass MAX_PLACED_BYTES nor MAX_CONTENT_BYTES (the
    ones past it get made flyers)."""
    storage = upload_storage()
    limit = current_app.config["FLYER_MAX_BYTES"]
    opened: dict[str, UploadedFlyer | None] = {}
    bytes_left, content_left = MAX_PLACED_BYTES, MAX_CONTENT_BYTES
    found = {}
    for offer in batch.offers:
        name = offer.flyer_name
        if not name:
            continue
        if name not in opened:
            flyer = _open_flyer(storage, name, min(limit, bytes_left), content_left)
            opened[name] = flyer
            if flyer is not None:
                bytes_left -= flyer.size
                content_left -= sum(map(len, flyer.contents))
        if opened[name] is not None:
            found[offer.request_id] = opened[name]
    return found


def _fit(page: PageObject, target: PageObject) -> tuple[float, ...]:
    """The matrix that draws `page` (its crop box, turned as its /Rotate says) as large as
    fits above the strip of `target`, centred across and at the top."""
    box = page.cropbox
    left, bottom, right, top = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    turn = Transformation().translate(-left, -bottom).rotate(-(page.rotation % 360))
    corners = [
        turn.apply_on(p) for p in ((left, bottom), (right, bottom), (left, top), (right, top))
    ]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    area_width = float(target.mediabox.width)
    area_bottom = (STRIP_HEIGHT + 2) * POINTS_PER_MM
    area_height = float(target.mediabox.height) - area_bottom
    scale = min(area_width / width, area_height / height)
    placed = (
        turn.translate(-min(xs), -min(ys))
        .scale(scale, scale)
        .translate((area_width - width * scale) / 2, area_bottom + area_height - height * scale)
    )
    return placed.ctm


def _place_page(writer: PdfWriter, target: PageObject, page: PageObject, content: bytes) -> None:
    """Draw `page` onto `target` as a form XObject: its content stream is copied as it is,
    not parsed, so a richly drawn flyer costs no more than its bytes."""
    box = page.cropbox
    form = DecodedStreamObject()
    form.set_data(content)
    form = form.flate_encode()
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(
        FloatObject(float(v)) for v in (box.left, box.bottom, box.right, box.top)
    )
    for key in ("/Resources", "/Group"):
        if key in page:  # a reference stays one, to the copy in the writer
            form[NameObject(key)] = page.raw_get(key).clone(writer)
    # pypdf has no public call to add a new stream object to a writer.
    reference = writer._add_object(form)
    resources = DictionaryObject(target["/Resources"])  # the page's own, not fpdf2's shared one
    xobjects = DictionaryObject(resources["/XObject"] if "/XObject" in resources else {})
    name = NameObject(f"/Flyer{len(xobjects)}")
    xobjects[name] = reference
    resources[NameObject("/XObject")] = xobjects
    target[NameObject("/Resources")] = resources
    matrix = " ".join(f"{v:.5f}" for v in _fit(page, target))
    draw = DecodedStreamObject()
    draw.set_data(f"q {matrix} cm {name} Do Q\n".encode())
    contents = target.raw_get("/Contents")
    drawn = list(contents) if isinstance(contents, ArrayObject) else [contents]
    target[NameObject("/Contents")] = ArrayObject([writer._add_object(draw), *drawn])


def _place_uploads(data: bytes, placements: list[tuple[int, UploadedFlyer, int]]) -> bytes:
    """The made PDF with each uploaded flyer's pages placed above their strips."""
    writer = PdfWriter(clone_from=io.BytesIO(data))
    for index, flyer, page in placements:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _place_page(writer, writer.pages[index], flyer.pages[page], flyer.contents[page])
        except Exception as exc:  # pypdf raises many kinds of error on broken files
            raise Unplaceable(flyer.name) from exc
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def plan_sheets(
    batch: Batch, uploads: dict[int, UploadedFlyer], scratch: PdfDocument
) -> list[Sheet]:
    """The pages after the cover, in the flyers' order: an uploaded flyer's pages; a made
    flyer that fits half a page shares a page with the next one that does, and has the page
    to itself when none is left; a longer one has its own page."""
    sheets: list[Sheet] = []
    open_half: Sheet | None = None
    for number, offer in enumerate(batch.offers, start=1):
        flyer = uploads.get(offer.request_id)
        if flyer is not None:
            sheets.append(Sheet("uploaded", [number], len(flyer.pages)))
        elif not _fits_half(scratch, number, offer, batch):
            sheets.append(Sheet("full", [number]))
        elif open_half is None:
            open_half = Sheet("halves", [number])
            sheets.append(open_half)
        else:
            open_half.numbers.append(number)
            open_half = None
    if open_half is not None:
        open_half.kind = "full"
    return sheets


def _page_numbers(sheets: list[Sheet], first: int) -> dict[int, str]:
    """The page (or pages, '4–5') each flyer is on, the first sheet being page `first`."""
    numbers = {}
    page = first
    for sheet in sheets:
        shown = str(page) if sheet.pages == 1 else f"{page}–{page + sheet.pages - 1}"
        for number in sheet.numbers:
            numbers[number] = shown
        page += sheet.pages
    return numbers


def _document(batch: Batch) -> PdfDocument:
    return PdfDocument(
        title=_("Ranselpost – %(school)s, %(week)s", school=batch.school_name, week=batch.week),
        subject=_("Flygeblad til elevenes sekker"),
        created=batch.created,
    )


def _build(batch: Batch, uploads: dict[int, UploadedFlyer]) -> bytes:
    scratch = _document(batch)  # for measuring only
    scratch.add_page()
    sheets = plan_sheets(batch, uploads, scratch)
    halves = any(sheet.kind == "halves" for sheet in sheets)
    # The cover lists each flyer's page, so its own length must be known: drawn again in the
    # rare case it takes more pages than guessed (about 25 flyers on the first, 45 on others).
    cover_pages = 1 + math.ceil(max(0, len(batch.offers) - 25) / 45)
    for _attempt in range(4):
        pdf = _document(batch)
        _cover_sheet(pdf, batch, _page_numbers(sheets, cover_pages + 1), halves)
        if pdf.pages_count == cover_pages:
            break
        cover_pages = pdf.pages_count
    placements = []
    for sheet in sheets:
        first = sheet.numbers[0]
        offer = batch.offers[first - 1]
        if sheet.kind == "halves":
            _halves_page(pdf, batch, sheet.numbers)
        elif sheet.kind == "full":
            _flyer_page(pdf, first, offer, batch)
        else:
            flyer = uploads[offer.request_id]
            for page in range(sheet.pages):
                _uploaded_page(pdf, first, offer, batch, page + 1, sheet.pages)
                placements.append((pdf.pages_count - 1, flyer, page))
    data = pdf.output_bytes()
    return _place_uploads(data, placements) if placements else data


def backpack_pdf(batch: Batch) -> bytes:
    """The backpack-post PDF: a cover sheet with the copies to print, then the flyers (the
    organisations' own where they uploaded one)."""
    uploads = uploaded_flyers(batch)
    while True:
        try:
            return _build(batch, uploads)
        except Unplaceable as error:
            log.warning(
                "backpack export: the uploaded flyer %s could not be placed; the made flyer "
                "is used",
                error.name,
                exc_info=error.__cause__,
            )
            uploads = {key: f for key, f in uploads.items() if f.name != error.name}
