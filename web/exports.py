"""Every CSV file the product answers is written here, by `csv_response`, so that none can carry a formula.

Exports are opened in Excel or LibreOffice, which run a cell starting with `=`, `+`, `-`, `@`, a tab or a
line break as a formula (OWASP "CSV injection"), and the cells hold what people outside the company typed:
a contact's name, a comment, an event field. Such a cell is written with a leading `'`, as OWASP advises,
unless it is a plain number (a negative amount stays a number). The module sits in `web/` because a CSV
file is a page in another shape: it writes labels already translated, and answers a download.

The answer's content type carries RFC 4180's `header=present`: only this function sets it, and the test of
every CSV route of the app checks it there."""

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A number as typed in either language's spreadsheet: sign, digits, one decimal separator.
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
CONTENT_TYPE = "text/csv; charset=utf-8; header=present"


def cell(value) -> str | int | float | Decimal:
    """One value as a spreadsheet will read it: numbers and dates as such, any other text inert."""
    if type(value) is str:  # most cells: checked first (an export can hold 50,000 rows)
        if value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
            return "'" + value
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        # Without the "T" and the offset, both spreadsheets read a date and time (the header says UTC).
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    """A CSV download: `;` between cells (what French spreadsheets expect), a UTF-8 byte order mark (so they
    read the file as UTF-8), every cell through `cell`."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    name = "".join(c for c in filename if c.isprintable() and c not in '"\\/;')
    plain = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return Response(
        out.getvalue(),
        content_type=CONTENT_TYPE,
        headers={"Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"},
    )
