"""The export files, built from loaded rows: the messaging text and CSV, the Facebook share page,
the backpack-post PDF and the week's overview.

Every builder is deterministic: the same rows give the same bytes (no clock, no random ids, the
PDF's dates taken from the data), so exporting again gives the same file. The texts go to
Norwegian parents: callers build them inside `flask_babel.force_locale("nb")`, through gettext
all the same, so that they can be translated.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

import segno
from flask import current_app, render_template
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos

from directory.activities.display import describe_schedule
from directory.activities.schedule import next_start
from directory.approvals.display import grades_text, week_label, week_monday
from directory.rendering import format_price
from directory.timeutil import OSLO

if TYPE_CHECKING:
    from directory.approvals.models import DistributionRequest
    from directory.schools.models import School

# The formats each channel is exported in, the first being the main one.
CHANNEL_FORMATS: dict[str, tuple[str, ...]] = {
    "school_messaging": ("txt", "csv"),
    "facebook_share": ("html",),
    "backpack_post": ("pdf",),
}
MIMETYPES = {
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
# The channel's part of a file name: ASCII, as a school office's file system may need.
FILE_NAMES = {
    "school_messaging": "meldinger",
    "facebook_share": "facebook",
    "backpack_post": "ranselpost",
}
# Norwegian spreadsheets (Excel with a Norwegian locale) split CSV on semicolons and read UTF-8
# only after a byte-order mark.
CSV_DELIMITER = ";"
CSV_ENCODING = "utf-8-sig"
# When a batch has no dated request (never, for real rows): a fixed date keeps the PDF stable.
FALLBACK_DATE = datetime(2000, 1, 1, tzinfo=UTC)
MAX_SCHEDULE_LINES = 3  # on a flyer; the activity page has them all


# --- the rows, as the files show them ---------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """Absolute links to the public site; base_url is scheme, host and any prefix, no '/' last.

    Paths come from the URL map itself, not url_for(): no request is needed (the command line
    has none) and no interface-language parameter creeps into a link meant for parents.
    """

    base_url: str

    def _url(self, endpoint: str, **values: object) -> str:
        adapter = current_app.url_map.bind("localhost")
        return self.base_url + adapter.build(endpoint, values)

    def page(self, activity_id: int) -> str:
        """The activity's page."""
        return self._url("activities.show_activity", activity_id=activity_id)

    def short(self, activity_id: int) -> str:
        """The short link that redirects to the activity's page."""
        return self._url("exports.short_link", activity_id=activity_id)

    def calendar(self, activity_id: int) -> str:
        """The activity as an iCalendar file."""
        return self._url("feeds.activity_ics", activity_id=activity_id)

    def media(self, name: str) -> str:
        """An uploaded image."""
        return self._url("activities.media", name=name)


@dataclass(frozen=True)
class Offer:
    """One approved request as the export files show it: plain text and absolute links."""

    request_id: int
    activity_id: int
    title: str
    summary: str
    organiser: str
    schedule: tuple[str, ...]  # each schedule in words
    next_time: str | None  # the first time from the week's Monday on
    where: str
    ages: str
    grades: tuple[int, ...]  # the grades the organiser targets at this school
    price: str
    registration_url: str | None
    page_url: str
    short_url: str
    calendar_url: str
    facebook_post_url: str | None
    image_url: str | None
    image_name: str | None  # the stored file, for the preview's own link
    image_alt: str

    @property
    def grades_text(self) -> str:
        """The targeted grades in words, e.g. '3.–5. og 7. trinn'."""
        return grades_text(self.grades)

    @property
    def audience(self) -> str:
        """Who it is for: ages, and the grades when known."""
        if self.grades:
            return _("%(ages)s, %(grades)s", ages=self.ages, grades=self.grades_text)
        return self.ages


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
class Batch:
    """What one export file holds: a school, a week, a channel (None: all) and the offers."""

    school_name: str
    school_slug: str
    facebook_page_url: str | None
    messaging_label: str
    week: str
    channel: str | None
    offers: tuple[Offer, ...]
    grade_counts: dict[int, tuple[int, int]]  # grade -> (classes, pupils)
    created: datetime  # the PDF's date: the latest review of the included requests
    base_url: str

    @property
    def grades(self) -> list[int]:
        """Every grade any of the offers targets, in order."""
        return sorted({g for offer in self.offers for g in offer.grades})

    @property
    def week_number(self) -> int:
        """The ISO week's number."""
        return int(self.week.split("-W")[1])

    @property
    def week_label(self) -> str:
        """'Uke 48 (fra 23. november 2026)'."""
        return week_label(self.week)


@dataclass(frozen=True)
class ExportFile:
    """A built file: its bytes, media type and download name."""

    content: bytes
    mimetype: str
    filename: str


def title_sort_key(title: str) -> str:
    """A title as Norwegian sorts it: æ, ø, å after z."""
    return title.casefold().translate({ord("æ"): "{", ord("ø"): "|", ord("å"): "}"})


def _clean_grades(values: object) -> tuple[int, ...]:
    """The stored grade list as sorted ints, ignoring anything that is not a whole number."""
    if not isinstance(values, list):
        return ()
    return tuple(sorted({v for v in values if isinstance(v, int) and not isinstance(v, bool)}))


def _next_time(request: DistributionRequest) -> str | None:
    """The activity's first time from the start of the request's week, in words."""
    monday = datetime.combine(week_monday(request.week), time(), tzinfo=OSLO)
    start = next_start(request.activity.schedules, after=monday)
    if start is None:
        return None
    day = format_date(start.date(), "EEEE") + " " + format_date(start.date(), _("d. MMMM"))
    return _("%(day)s kl. %(time)s", day=day, time=start.strftime("%H:%M"))


def _single_date(schedules) -> bool:
    """Whether the activity happens once: then its date in words says when, and no more."""
    return len(schedules) == 1 and not schedules[0].rrule and not schedules[0].rdates


def describe_offer(request: DistributionRequest, links: Links) -> Offer:
    """The request's activity as the export files show it (activity and schedules loaded)."""
    activity = request.activity
    price = format_price(activity.price_nok)
    if activity.price_note:
        price = f"{price} ({activity.price_note})"
    image_url = links.media(activity.image_filename) if activity.image_filename else None
    return Offer(
        request_id=request.id,
        activity_id=activity.id,
        title=activity.title,
        summary=activity.summary or "",
        organiser=activity.organisation.name,
        schedule=tuple(describe_schedule(s) for s in activity.schedules),
        next_time=None if _single_date(activity.schedules) else _next_time(request),
        where=", ".join(part for part in (activity.venue, activity.address) if part),
        ages=_("%(min)s–%(max)s år", min=activity.age_min, max=activity.age_max),
        grades=_clean_grades(request.grades),
        price=price,
        registration_url=activity.registration_url or None,
        page_url=links.page(activity.id),
        short_url=links.short(activity.id),
        calendar_url=links.calendar(activity.id),
        facebook_post_url=activity.facebook_post_url or None,
        image_url=image_url,
        image_name=activity.image_filename or None,
        image_alt=activity.image_alt or "",
    )


def build_batch(
    school: School,
    week: str,
    channel: str | None,
    requests: Sequence[DistributionRequest],
    links: Links,
) -> Batch:
    """The batch for the given requests, in their order (school's grade counts loaded)."""
    dates = [r.reviewed_at or r.created_at for r in requests if (r.reviewed_at or r.created_at)]
    return Batch(
        school_name=school.name,
        school_slug=school.slug,
        facebook_page_url=school.facebook_page_url or None,
        messaging_label=school.municipality.messaging_label,
        week=week,
        channel=channel,
        offers=tuple(describe_offer(r, links) for r in requests),
        grade_counts={c.grade: (c.classes, c.pupils) for c in school.grade_counts},
        created=max(dates) if dates else FALLBACK_DATE,
        base_url=links.base_url,
    )


def merge_by_activity(offers: Iterable[Offer]) -> list[Offer]:
    """One offer per activity (the first), with the grades of all its requests."""
    merged: dict[int, Offer] = {}
    for offer in offers:
        first = merged.get(offer.activity_id)
        if first is None:
            merged[offer.activity_id] = offer
        else:
            grades = tuple(sorted({*first.grades, *offer.grades}))
            merged[offer.activity_id] = replace(first, grades=grades)
    return list(merged.values())


def build_file(batch: Batch, fmt: str) -> ExportFile:
    """The batch's file in one of its channel's formats."""
    assert batch.channel is not None and fmt in CHANNEL_FORMATS[batch.channel]
    builders = {
        "txt": messaging_text_bytes,
        "csv": messaging_csv,
        "html": facebook_share_html,
        "pdf": backpack_pdf,
    }
    return ExportFile(
        content=builders[fmt](batch),
        mimetype=MIMETYPES[fmt],
        filename=f"{batch.school_slug}-{batch.week}-{FILE_NAMES[batch.channel]}.{fmt}",
    )


def overview_file(batch: Batch) -> ExportFile:
    """The week's overview of every approved offer at the school, as a PDF."""
    return ExportFile(
        content=overview_pdf(batch),
        mimetype=MIMETYPES["pdf"],
        filename=f"{batch.school_slug}-{batch.week}-oversikt.pdf",
    )


# --- school messaging ---------------------------------------------------------------------------


def message_text(offer: Offer) -> str:
    """One message for the messaging app, ready to paste: the facts and the short link."""
    lines = [offer.title]
    if offer.summary:
        lines.append(offer.summary)
    lines.append("")
    lines.append(_("Når: %(when)s", when=" ".join(offer.schedule)))
    if offer.next_time:
        lines.append(_("Neste gang: %(when)s", when=offer.next_time))
    if offer.where:
        lines.append(_("Hvor: %(where)s", where=offer.where))
    lines.append(_("For: %(audience)s", audience=offer.audience))
    lines.append(_("Pris: %(price)s", price=offer.price))
    if offer.registration_url:
        lines.append(_("Påmelding: %(url)s", url=offer.registration_url))
    lines.append(_("Arrangør: %(name)s", name=offer.organiser))
    lines.append(_("Les mer: %(url)s", url=offer.short_url))
    lines.append("")
    lines.append(_("Skolen formidler tilbudet, men er ikke arrangør. Spørsmål går til arrangøren."))
    return "\n".join(lines)


def messaging_text(batch: Batch) -> str:
    """All messages of the batch, each between rules, after a header saying whom to send to."""
    count = len(batch.offers)
    rule = "-" * 60
    lines = [
        _(
            "Meldinger til foresatte – %(school)s, %(week)s",
            school=batch.school_name,
            week=batch.week_label,
        ),
        _("Kanal: %(label)s", label=batch.messaging_label),
        _("Send til: %(grades)s", grades=grades_text(batch.grades)),
        ngettext(
            "%(num)s melding. Lim inn teksten mellom strekene i %(label)s.",
            "%(num)s meldinger. Lim inn teksten mellom strekene i %(label)s, én melding om gangen.",
            count,
            label=batch.messaging_label,
        ),
    ]
    for number, offer in enumerate(batch.offers, start=1):
        lines += [
            "",
            rule,
            _(
                "Melding %(number)s av %(count)s – send til %(grades)s",
                number=number,
                count=count,
                grades=offer.grades_text,
            ),
            _("Aktivitetens side: %(url)s", url=offer.page_url),
            rule,
            message_text(offer),
        ]
    lines += ["", rule]
    return "\n".join(lines) + "\n"


def messaging_text_bytes(batch: Batch) -> bytes:
    """The messaging text as a UTF-8 file."""
    return messaging_text(batch).encode("utf-8")


def csv_header() -> list[str]:
    """The CSV columns, in bokmål."""
    return [
        _("ID"),
        _("Tittel"),
        _("Når"),
        _("Neste gang"),
        _("Hvor"),
        _("For"),
        _("Trinn"),
        _("Pris"),
        _("Påmelding"),
        _("Arrangør"),
        _("Lenke"),
        _("Kort lenke"),
        _("Melding"),
    ]


def messaging_csv(batch: Batch) -> bytes:
    """One row per request: the facts in columns and the whole message in the last one."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(csv_header())
    for offer in batch.offers:
        writer.writerow(
            [
                offer.activity_id,
                offer.title,
                " ".join(offer.schedule),
                offer.next_time or "",
                offer.where,
                offer.ages,
                ", ".join(str(g) for g in offer.grades),
                offer.price,
                offer.registration_url or "",
                offer.organiser,
                offer.page_url,
                offer.short_url,
                message_text(offer),
            ]
        )
    return out.getvalue().encode(CSV_ENCODING)


# --- Facebook ---------------------------------------------------------------------------------


def facebook_text(offer: Offer) -> str:
    """A suggested text to go with the shared post."""
    when = offer.next_time or (offer.schedule[0] if offer.schedule else "")
    parts = [
        _(
            "Tips til foresatte på %(grades)s: %(title)s med %(organiser)s.",
            grades=offer.grades_text or offer.ages,
            title=offer.title,
            organiser=offer.organiser,
        )
    ]
    if when:
        parts.append(_("Neste gang: %(when)s.", when=when))
    parts.append(_("Pris: %(price)s.", price=offer.price))
    parts.append(_("Les mer: %(url)s", url=offer.short_url))
    return " ".join(parts)


def facebook_share_html(batch: Batch) -> bytes:
    """A page to work through, one request after the other: what to share, with which text."""
    html = render_template(
        "exports/facebook_share.html",
        batch=batch,
        items=[(offer, facebook_text(offer)) for offer in batch.offers],
    )
    return html.encode("utf-8")


# --- PDFs -------------------------------------------------------------------------------------

# Letters the PDF core fonts lack, with the letter a reader expects in their place.
_PDF_REPLACEMENTS = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ŋ": "n",
        "Ŋ": "N",
        "ŧ": "t",
        "Ŧ": "T",
        "\t": " ",
        "\u2009": " ",
        "\u202f": "\u00a0",
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",
    }
)


def pdf_safe(text: str) -> str:
    """Text in the PDF core fonts' character set (Windows-1252: æøå, dashes, quotes, €).

    A letter outside it loses its accent (č -> c) or becomes '?'; symbols such as emoji are
    left out. The core fonts keep the PDFs small and need no font file on the machine.
    """
    text = unicodedata.normalize("NFC", text).translate(_PDF_REPLACEMENTS)
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode("cp1252")
            out.append(char)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("cp1252", "ignore").decode("cp1252")
            if plain:
                out.append(plain)
            elif unicodedata.category(char).startswith("L"):
                out.append("?")
    return "".join(out)


PAGE_WIDTH = 210.0  # A4, millimetres
PAGE_HEIGHT = 297.0
MARGIN = 15.0
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BAND = (0, 70, 120)  # the flyers' title band: white text on it has a contrast above 9:1
INK = (20, 20, 20)
MUTED = (80, 80, 80)
QR_SIZE = 40.0


class _Document(FPDF):
    """An A4 document in the core fonts, with fixed dates so that the same data gives the same
    bytes (fpdf2's file id is a hash of the content and the creation date)."""

    def __init__(self, *, title: str, subject: str, created: datetime):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.set_creation_date(created)
        self.set_title(pdf_safe(title))
        self.set_subject(pdf_safe(subject))
        self.set_author(pdf_safe(_("Aktivitetskatalogen")))
        self.set_creator(pdf_safe(_("Aktivitetskatalogen")))
        self.set_lang("nb")
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 5)
        self.set_text_color(*INK)

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(pdf_safe(text))

    def block(self, width: float, height: float, text: str) -> None:
        """Left-aligned text in a column of `width` from the current x, wrapping as needed; the
        cursor goes to the left margin below it. One line takes the quick way: fpdf2's line
        breaking costs far more than measuring the text once."""
        fits = "\n" not in text and self.get_string_width(text) <= width - 2 * self.c_margin
        place = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
        if fits:
            self.cell(width, height, text, align=Align.L, **place)
        else:
            self.multi_cell(width, height, text, align=Align.L, **place)

    def paragraph(self, text: str, size: float, *, style: str = "", height: float | None = None):
        """A paragraph across the text width, leaving the cursor below it."""
        self.set_font("Helvetica", style, size)
        self.set_x(MARGIN)
        self.block(TEXT_WIDTH, height or size * 0.5, text)

    def labelled(self, label: str, value: str, *, size: float = 12, label_width: float = 32):
        """A 'label: value' row, the value wrapping in its own column."""
        self.set_x(MARGIN)
        self.set_font("Helvetica", "B", size)
        self.cell(label_width, size * 0.5, label)
        self.set_font("Helvetica", "", size)
        self.block(TEXT_WIDTH - label_width, size * 0.5, value)
        self.ln(1.2)

    def output_bytes(self) -> bytes:
        """The finished PDF."""
        return bytes(self.output())


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


def _cover_sheet(pdf: _Document, batch: Batch) -> None:
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


def _flyer_page(pdf: _Document, number: int, offer: Offer, batch: Batch) -> None:
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
    pdf = _Document(
        title=_("Ranselpost – %(school)s, %(week)s", school=batch.school_name, week=batch.week),
        subject=_("Flygeblad til elevenes sekker"),
        created=batch.created,
    )
    _cover_sheet(pdf, batch)
    for number, offer in enumerate(batch.offers, start=1):
        _flyer_page(pdf, number, offer, batch)
    return pdf.output_bytes()


class _Overview(_Document):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "", 8.5)
        self.set_text_color(*MUTED)
        # TRANSLATORS: {nb} becomes the number of pages when the PDF is written; keep it as it is.
        self.cell(0, 5, _("Side %(page)s av {nb}", page=self.page_no()), align=Align.R)
        self.set_text_color(*INK)


def overview_pdf(batch: Batch) -> bytes:
    """The week's overview: every approved offer at the school in one neutral list."""
    pdf = _Overview(
        title=_(
            "Aktiviteter for barn og unge – %(school)s, %(week)s",
            school=batch.school_name,
            week=batch.week,
        ),
        subject=_("Ukeoversikt over tilbud"),
        created=batch.created,
    )
    pdf.add_page()
    pdf.paragraph(_("Aktiviteter for barn og unge"), 20, style="B", height=9)
    pdf.paragraph(f"{batch.school_name} – {batch.week_label}", 13, height=7)
    pdf.ln(2)
    pdf.set_text_color(*MUTED)
    pdf.paragraph(overview_note(), 10, height=5)
    pdf.set_text_color(*INK)
    pdf.ln(3)
    for offer in batch.offers:
        if pdf.get_y() > PAGE_HEIGHT - 75:
            pdf.add_page()
        pdf.set_draw_color(*MUTED)
        pdf.line(MARGIN, pdf.get_y(), PAGE_WIDTH - MARGIN, pdf.get_y())
        pdf.ln(3)
        pdf.paragraph(offer.title, 14, style="B", height=7)
        pdf.set_text_color(*MUTED)
        pdf.paragraph(offer.organiser, 10.5, height=5)
        pdf.set_text_color(*INK)
        if offer.summary:
            pdf.paragraph(offer.summary, 10.5, height=5)
        pdf.ln(1)
        pdf.labelled(_("Når"), " ".join(offer.schedule) or "–", size=10.5, label_width=24)
        if offer.where:
            pdf.labelled(_("Hvor"), offer.where, size=10.5, label_width=24)
        pdf.labelled(_("For"), offer.audience, size=10.5, label_width=24)
        pdf.labelled(_("Pris"), offer.price, size=10.5, label_width=24)
        pdf.labelled(_("Les mer"), offer.short_url, size=10.5, label_width=24)
        pdf.ln(2)
    return pdf.output_bytes()


def overview_note() -> str:
    """The neutral note on the overview: the school passes offers on, it does not recommend."""
    return _(
        "Skolen formidler tilbud fra frivillige lag og kommunale tjenester som er godkjent for "
        "denne uken. Skolen er ikke arrangør; spørsmål om et tilbud går til arrangøren. "
        "Flere aktiviteter finner du i Aktivitetskatalogen."
    )
