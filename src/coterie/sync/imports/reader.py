"""Reading an uploaded spreadsheet into text cells: CSV (UTF-8 with or without a byte order
mark, else Windows-1252; `;`, `,` or tab delimiters sniffed) or XLSX (the first sheet, read-only).

Every cell becomes text: XLSX numbers without a float's noise, dates as YYYY-MM-DD. Blank rows
are dropped; rows are padded or cut to the header row. Errors are 422 problems on `file`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from coterie.kit.problems import Problem, invalid

MAX_COLUMNS = 100
MAX_CELL = 20_000
XLSX_MAGIC = b"PK\x03\x04"
DELIMITERS = ";,\t"


@dataclass(frozen=True)
class Sheet:
    file_format: str  # csv | xlsx
    headers: list[str]
    rows: list[list[str]]


def too_large(max_bytes: int) -> Problem:
    return Problem(
        413,
        "file-too-large",
        "File too large",
        f"The file is larger than {max_bytes:,} bytes. Split it into smaller files and import "
        "them one after the other.",
        max_bytes=max_bytes,
    )


def read(filename: str, content: bytes, *, max_bytes: int, max_rows: int) -> Sheet:
    """The sheet in `content` (named `filename`), or a 413 / 422 saying what is wrong."""
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    if not content.strip():
        raise invalid("file", "is empty")
    if content.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        file_format, table = "xlsx", _xlsx_rows(content, max_rows)
    else:
        file_format, table = "csv", _csv_rows(_decode(content), max_rows)
    return _sheet(file_format, table, max_rows)


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # Windows-1252 leaves five bytes undefined; a file holding them is neither encoding
        return content.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise invalid(
            "file",
            "is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8 from your spreadsheet "
            "program, or upload the .xlsx file",
        ) from exc


def _csv_rows(text: str, max_rows: int) -> list[list[str]]:
    if "\x00" in text:
        raise invalid("file", "is not a CSV text file (it holds NUL characters)")
    sample = text[:20_000]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            sample, delimiters=DELIMITERS
        )
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        delimiter = max(DELIMITERS, key=first.count)
        dialect = type("Sniffed", (csv.excel,), {"delimiter": delimiter})
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            rows.append(row)
            if len(rows) > max_rows + 1:
                break
    except csv.Error as exc:
        raise invalid("file", f"is not readable as CSV: {exc}") from exc
    return rows


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _xlsx_rows(content: bytes, max_rows: int) -> list[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise invalid("file", "is not a readable XLSX workbook") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise invalid("file", "has no sheet")
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_xlsx_cell(v) for v in values[: MAX_COLUMNS + 1]])
            if len(rows) > max_rows + 1:
                break
        return rows
    finally:
        workbook.close()


def _sheet(file_format: str, table: list[list[str]], max_rows: int) -> Sheet:
    table = [[cell.strip() for cell in row] for row in table]
    table = [row for row in table if any(row)]
    if not table:
        raise invalid("file", "has no rows")
    headers = table[0]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise invalid("file", "has no header row: the first row must name the columns")
    if len(headers) > MAX_COLUMNS:
        raise invalid("file", f"has more than {MAX_COLUMNS} columns")
    headers = [h or f"Column {i + 1}" for i, h in enumerate(headers)]
    data = table[1:]
    if not data:
        raise invalid("file", "has a header row but no data rows")
    if len(data) > max_rows:
        raise Problem(
            413,
            "too-many-rows",
            "Too many rows",
            f"The file has more than {max_rows:,} data rows. Split it into smaller files and "
            "import them one after the other.",
            max_rows=max_rows,
        )
    width = len(headers)
    rows = [(row + [""] * width)[:width] for row in data]
    for number, row in enumerate(rows, start=2):
        for index, cell in enumerate(row):
            if len(cell) > MAX_CELL:
                raise invalid(
                    f"file.row {number}.{headers[index]}",
                    f"is longer than {MAX_CELL:,} characters",
                )
    return Sheet(file_format, headers, rows)
