"""What the two PDFs (the backpack post and the week's overview) share: text in the core fonts'
character set, the A4 page and its measures, and a document with fixed dates, so that the same
data gives the same bytes."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from directory.i18n import gettext as _

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
INK = (20, 20, 20)
MUTED = (80, 80, 80)


def fit_link(pdf: FPDF, link: str, width: float, sizes: tuple[float, ...]) -> str:
    """Set the largest of `sizes` at which the link fits a line of `width`, and return it; when
    none does, the link broken before its query string (the export's school, channel and week),
    then also before its second parameter, at the largest size the lines fit: broken anywhere
    else, a link is hard to type."""
    room = width - 2 * pdf.c_margin
    query = link.replace("?", "\n?", 1)
    text = link
    for text in (link, query, query.replace("&", "\n&", 1)):
        for size in sizes:
            pdf.set_font("Helvetica", "", size)
            if max(pdf.get_string_width(line) for line in text.split("\n")) <= room:
                return text
    return text  # at the smallest size, wrapped where it must


class PdfDocument(FPDF):
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
