"""The week's overview: every approved offer at the school, across the channels and once each,
in one neutral PDF list."""

from __future__ import annotations

from fpdf.enums import Align

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
from directory.exports.formats.shared import Batch
from directory.i18n import gettext as _


class _Overview(PdfDocument):
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
        if offer.translations:
            # Names only: the PDF core fonts have no Cyrillic, Arabic or Ge'ez letters.
            languages = offer.other_languages(with_titles=False)
            pdf.labelled(_("Også på"), languages, size=10.5, label_width=24)
        link = fit_link(pdf, offer.short_url, TEXT_WIDTH - 24, (10.5,))
        pdf.labelled(_("Les mer"), link, size=10.5, label_width=24)
        pdf.ln(2)
    return pdf.output_bytes()


def overview_note() -> str:
    """The neutral note on the overview: the school passes offers on, it does not recommend."""
    return _(
        "Skolen formidler tilbud fra frivillige lag og kommunale tjenester som er godkjent for "
        "denne uken. Skolen er ikke arrangør; spørsmål om et tilbud går til arrangøren. "
        "Flere aktiviteter finner du i Aktivitetskatalogen."
    )
