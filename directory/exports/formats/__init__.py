"""The export files, one module per format, built from loaded rows:

- shared: the offers of a school, week and channel as the files show them (Links, Offer, Batch)
- messaging: the school messaging channel's text and CSV
- facebook: the Facebook share list
- backpack: the backpack-post PDF (cover sheet and flyers)
- overview: the week's overview PDF
- pdf: what the two PDFs share (pdf_safe, the A4 document)

Every builder is deterministic: the same rows give the same bytes (no clock, no random ids, the
PDF's dates taken from the data), so exporting again gives the same file. The texts go to
Norwegian parents: callers build them inside `flask_babel.force_locale("nb")`, through gettext
all the same, so that they can be translated.

The PDF modules (backpack, overview, pdf) are imported by the calls that build a PDF, never
from here: they load fpdf2, fontTools, Pillow, pypdf and segno, some 30 MB that a worker
serving the public pages (the short links of this package among them) should not carry.
"""

from __future__ import annotations

from directory.exports.formats.facebook import facebook_share_html
from directory.exports.formats.messaging import messaging_csv, messaging_text_bytes
from directory.exports.formats.shared import Batch, ExportFile

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


def build_file(batch: Batch, fmt: str) -> ExportFile:
    """The batch's file in one of its channel's formats."""
    from directory.exports.formats.backpack import backpack_pdf

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
    from directory.exports.formats.overview import overview_pdf

    return ExportFile(
        content=overview_pdf(batch),
        mimetype=MIMETYPES["pdf"],
        filename=f"{batch.school_slug}-{batch.week}-oversikt.pdf",
    )
