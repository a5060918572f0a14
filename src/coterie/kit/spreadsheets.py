"""Cells of the CSV and XLSX files the product writes, safe from formula injection.

A spreadsheet program runs a cell that starts with `=`, `+`, `-`, `@`, tab or carriage return
as a formula (OWASP, "CSV injection"): a partner's label `=HYPERLINK(...)` becomes a live link,
`=cmd|...` a command. Every cell of every export goes through here:

- CSV (`csv_cell`): such text gets a leading single quote (`'=1+2`), which spreadsheet programs
  show as text.
- XLSX (`xlsx_cell`, openpyxl write-only sheets): text is always a string cell, never a formula,
  so it keeps its exact value; such text also carries Excel's quote prefix (what typing `'=1+2`
  gives), so that editing the cell keeps it text. Characters XML cannot hold are dropped.
- Numbers, dates and booleans are written by us as values of their type and never quoted (a
  negative amount stays the number -5).

The QBR deck's charts embed workbooks written by python-pptx with XlsxWriter; `coterie.reports
.deck` opens those with formulas turned off, so their labels are text there too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | Decimal | bool | date | datetime | None


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet program would run `text` as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def csv_cell(value: Cell) -> str:
    """A value as CSV text; text that would run as a formula gets a leading `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value if runs_as_formula(value) else value


def xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell, number_format: str | None = None) -> Any:
    """A value as an XLSX cell of a write-only sheet: text as a string cell (quote-prefixed when
    it would run as a formula), timestamps in UTC (Excel has no time zones), numbers as
    numbers, dates as dates; `number_format` for a number's display."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
        if runs_as_formula(value):
            cell.quotePrefix = True
        return cell
    if isinstance(value, datetime):
        value = value.astimezone(UTC).replace(tzinfo=None)
    if number_format is None:
        return value
    # openpyxl writes Decimal and date cells; its type stubs do not list them
    cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
    cell.number_format = number_format
    return cell
