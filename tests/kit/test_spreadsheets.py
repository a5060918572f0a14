"""The one formula-injection guard of every CSV and XLSX file: text a spreadsheet would run is
quoted in CSV and a quote-prefixed string cell in XLSX; numbers, dates and booleans keep their
types; characters XML cannot hold are dropped instead of failing the whole file."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from coterie.kit.spreadsheets import Cell, csv_cell, xlsx_cell

TRIGGERS = ["=1+2", "+1", "-2", "@SUM(A1)", "\tcmd", "\r=1", '=HYPERLINK("http://x","y")']


@pytest.mark.parametrize("text", TRIGGERS)
def test_text_that_would_run_is_quoted_in_csv(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-5, "-5"),
        (Decimal("-5.50"), "-5.50"),
        (-0.25, "-0.25"),
        (True, "true"),
        (None, ""),
        (date(2031, 2, 3), "2031-02-03"),
        ("a=b", "a=b"),
        (" =1", " =1"),
    ],
)
def test_values_we_write_are_never_quoted(value: Cell, text: str) -> None:
    assert csv_cell(value) == text


def _round_trip(values: list[Cell], formats: list[str | None] | None = None) -> list[Any]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("S")
    formats = formats or [None] * len(values)
    sheet.append([xlsx_cell(sheet, v, f) for v, f in zip(values, formats, strict=True)])
    out = io.BytesIO()
    book.save(out)
    return list(next(load_workbook(io.BytesIO(out.getvalue()))["S"].iter_rows()))


def test_xlsx_text_is_a_string_cell_and_numbers_stay_numbers() -> None:
    cells = _round_trip([*TRIGGERS, "plain", -5, Decimal("12.50"), True, date(2031, 2, 3)])
    texts = cells[: len(TRIGGERS)]
    plain, number, money, flag, day = cells[len(TRIGGERS) :]
    for cell, text in zip(texts, TRIGGERS, strict=True):
        assert cell.data_type == "s"
        assert cell.value == text
        assert cell.quotePrefix
    assert not plain.quotePrefix
    assert number.value == -5
    assert number.data_type == "n"
    assert money.value == 12.5
    assert flag.value is True
    assert day.value == datetime(2031, 2, 3)


def test_xlsx_keeps_number_formats_utc_times_and_drops_what_xml_cannot_hold() -> None:
    moment = datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    money, when, text = _round_trip(
        [Decimal("1234.5"), moment, "bell\x07 and tab\t"], ["#,##0.00", None, None]
    )
    assert money.number_format == "#,##0.00"
    assert when.value == datetime(2031, 2, 3, 4, 5)
    assert text.value == "bell and tab\t"
