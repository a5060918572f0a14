"""The one-click QBR deck: a PPTX (python-pptx) of a dashboard run *as the viewer*.

A title slide (dashboard name, company, date, currency), then one slide per panel: a native
chart (editable in PowerPoint: its numbers live in the chart's embedded workbook) of the panel's
chart type, a small table of the totals and the currency / rate note. A "table" panel gets a
native table instead of a chart; a panel the viewer cannot run shows the reason as text, and a
panel without any record says so in a sentence (e.g. "No records shared with Globex yet.").
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide
from pptx.util import Inches, Pt
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.network.companies import names as company_names
from coterie.reports.dashboards.service import DashboardRunOut, PanelOut
from coterie.reports.exports import spreadsheets as exports
from coterie.reports.presenting import chart_data
from coterie.reports.schemas import ReportOut, Value

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
CHART_TYPES = {
    "bar": XL_CHART_TYPE.COLUMN_CLUSTERED,
    "stacked_bar": XL_CHART_TYPE.COLUMN_STACKED,
    "pie": XL_CHART_TYPE.PIE,
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "funnel": XL_CHART_TYPE.BAR_CLUSTERED,
}
MAX_TABLE_ROWS = 12  # a "table" panel's native table; the rest is in the CSV/XLSX export


class _TextWorkbookWriter(CategoryWorkbookWriter):
    """The chart's embedded workbook with XlsxWriter's formulas off: a label such as
    `=HYPERLINK(...)` is written as text (python-pptx writes it with `write()`, which would
    otherwise store it as a formula that runs when someone edits the chart's data)."""

    @contextmanager
    def _open_worksheet(self, xlsx_file: IO[bytes]) -> Iterator[tuple[Any, Any]]:
        with super()._open_worksheet(xlsx_file) as (workbook, worksheet):
            worksheet.strings_to_formulas = False  # read by XlsxWriter at each write()
            yield workbook, worksheet


class _ChartData(CategoryChartData):
    @property
    def _workbook_writer(self) -> CategoryWorkbookWriter:
        return _TextWorkbookWriter(self)  # type: ignore[no-untyped-call]


@dataclass
class Series:
    categories: list[str]
    series: list[tuple[str, list[float | None]]]


def series(result: ReportOut, chart_type: str, labels: list[str]) -> Series:
    """The chart's categories and series: the report page's chart data
    (`coterie.reports.presenting.chart_data`), so a slide plots what the page plots."""
    data = chart_data("", chart_type, result, labels)
    return Series(
        categories=data["labels"],
        series=[(d["label"], d["data"]) for d in data["datasets"]],
    )


def _text(
    slide: Slide, left: float, top: float, width: float, height: float, text: str, size: int = 11
) -> None:
    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(size)


def _table(
    slide: Slide,
    left: float,
    top: float,
    width: float,
    header: list[str],
    rows: list[list[str]],
) -> None:
    shape = slide.shapes.add_table(
        len(rows) + 1, len(header), Inches(left), Inches(top), Inches(width), Inches(0.3)
    )
    grid = shape.table
    for c, text in enumerate(header):
        grid.cell(0, c).text = text
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row):
            grid.cell(r, c).text = text
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(10)


def _display(name: str, value: Value) -> str:
    if value is None:
        return "n/a"
    if exports.is_ratio(name):
        return f"{float(value) * 100:.1f}%"
    if exports.is_money(name):
        return f"{float(value):,.2f}"
    return f"{value:,}"


def _no_records(result: ReportOut) -> bool:
    """Whether the report found no record at all (a chart of it would have no categories)."""
    if result.rows:
        return False
    totals = result.totals.measures
    return all(v is None or (name == "count" and v == 0) for name, v in totals.items())


def _nothing_yet(session: Session, run: DashboardRunOut, panel: PanelOut) -> str:
    """What an empty panel says: the filter bar's partner or plan when that alone narrows it."""
    definition = panel.definition
    bar = run.filters
    narrowed = definition is None or bool(
        definition.filters or definition.quarter or definition.plan_id
    )
    if not narrowed and not (bar.region or bar.program):
        if bar.partner is not None and bar.plan is None:
            partner = company_names(session, [bar.partner]).get(bar.partner, "this partner")
            return f"No records shared with {partner} yet."
        if bar.plan is not None and bar.partner is None:
            return "No records linked to this plan yet."
    return "No records match this panel yet."


def _panel_slide(
    prs: PresentationType,
    session: Session,
    actor: Actor,
    run: DashboardRunOut,
    panel: PanelOut,
    partners: Mapping[uuid.UUID, str],
) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[5])  # title only
    if slide.shapes.title is not None:
        slide.shapes.title.text = panel.name
    result = panel.result
    if result is None:
        _text(slide, 0.7, 2.0, 11.5, 2.0, panel.error or "This panel has no numbers for you.")
        return
    if _no_records(result):  # an honest sentence, not an empty chart or table
        _text(slide, 0.7, 2.0, 11.5, 2.0, _nothing_yet(session, run, panel), size=20)
        return
    data = exports.table(session, actor, result, partners)
    names = data.measures
    drawn = (
        series(result, panel.chart_type, data.measure_headers)
        if panel.chart_type in CHART_TYPES
        else None
    )
    # a table when asked, or when the chart would have no category (a pie or a line of the
    # empty group alone: it is no slice and no quarter)
    as_table = drawn is None or not drawn.categories
    if as_table:
        header = [*(data.group_headers or [""]), *data.measure_headers]
        rows = [
            [*groups, *(_display(n, v) for n, v in zip(names, values, strict=True))]
            for groups, values in data.rows[:MAX_TABLE_ROWS]
        ]
        total_label = [f"Total ({data.currency})"] + [""] * (len(data.group_headers or [""]) - 1)
        rows.append(
            [*total_label, *(_display(n, v) for n, v in zip(names, data.total, strict=True))]
        )
        _table(slide, 0.5, 1.4, 12.3, header, rows)
    elif drawn is not None:
        chart_data = _ChartData()  # type: ignore[no-untyped-call]
        chart_data.categories = drawn.categories
        for label, values in drawn.series:
            chart_data.add_series(label, values)  # type: ignore[no-untyped-call]
        frame = slide.shapes.add_chart(
            CHART_TYPES[panel.chart_type],
            Inches(0.5),
            Inches(1.4),
            Inches(8.3),
            Inches(5.6),
            chart_data,
        )
        chart = frame.chart
        chart.has_legend = len(drawn.series) > 1 or panel.chart_type == "pie"
        if chart.has_legend:
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
        totals = [
            [label, _display(n, v)]
            for label, n, v in zip(data.measure_headers, names, data.total, strict=True)
        ]
        _table(slide, 9.1, 1.4, 3.8, [f"Total ({data.currency})", ""], totals)
    note = "\n".join(f"{label}: {text}" for label, text in data.about)
    if not as_table:  # beside the chart, under the totals
        top = min(1.4 + 0.4 * (len(names) + 1) + 0.2, 5.2)
        _text(slide, 9.1, top, 3.8, 7.2 - top, note, size=8)
    else:  # under the table
        top = min(1.4 + 0.37 * (min(len(data.rows), MAX_TABLE_ROWS) + 2) + 0.2, 6.2)
        _text(slide, 0.5, top, 12.3, 7.3 - top, note, size=9)


def build(session: Session, actor: Actor, run: DashboardRunOut) -> bytes:
    """The deck of a dashboard run (already computed as the viewer)."""
    prs = Presentation()
    prs.slide_width = Inches(13.333)
    prs.slide_height = Inches(7.5)
    title = prs.slides.add_slide(prs.slide_layouts[0])
    if title.shapes.title is not None:
        title.shapes.title.text = run.name
    currency = next(
        (p.result.currency for p in run.panels if p.result is not None), actor.company.currency
    )
    subtitle = title.placeholders[1]
    subtitle.text = f"{actor.company.name}\n{utcnow().date().isoformat()}\nAmounts in {currency}"
    partners = exports.partner_names(session, actor)  # once, not per panel
    for panel in run.panels:
        _panel_slide(prs, session, actor, run, panel, partners)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
