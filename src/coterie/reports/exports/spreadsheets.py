"""CSV and XLSX of a report result: one row per group (group labels, then measure values), a
total row, and the currency and rate policy under them (XLSX: on an "About" sheet).

The result passed in is always the engine's result for the *viewer* (`engine.run` as the caller),
so an export holds exactly the numbers the viewer's report page shows, masked the same way.
Reports are aggregated, hence small: both files are built in memory.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from openpyxl import Workbook
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz.partners import partner_ids
from coterie.kit.spreadsheets import csv_cell, xlsx_cell
from coterie.kit.words import possessive
from coterie.network.companies import names as company_names
from coterie.reports.schemas import ReportOut, ReportRow, Value

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DIMENSION_LABELS = {
    "stage": "Stage",
    "partner": "Partner company",
    "close_quarter": "Quarter of close date",
    "region": "Region",
    "industry": "Industry",
    "product": "Product",
    "account": "Account",
    "owner": "Owner",
    "joint_stage": "Joint stage",
    "motion": "Motion",
    "source_company": "Source company",
    "campaign": "Campaign",
    "solution": "Joint solution",
}
_FIXED = {
    "count": "Count",
    "weighted_pipeline": "Weighted pipeline",
    "win_rate": "Win rate",
    "avg_cycle_days": "Average cycle (days)",
    "goal_attainment": "Goal attainment",
}
_VERBS = {"sum": "Sum", "avg": "Average", "min": "Minimum", "max": "Maximum"}


def measure_label(name: str, partners: Mapping[uuid.UUID, str]) -> str:
    """'sum(mine.amount)' -> 'Sum of my amount'; a partner's field named after the partner."""
    if name in _FIXED:
        return _FIXED[name]
    op, _, rest = name.partition("(")
    if op == "goal_attainment":  # goal_attainment(<metric>)
        return f"Goal attainment ({rest.rstrip(')').replace('_', ' ')})"
    owner, _, key = rest.rstrip(")").partition(".")
    if owner == "mine":
        whose = "my"
    else:
        try:
            whose = possessive(partners.get(uuid.UUID(owner), "partner"))
        except ValueError:
            whose = owner
    return f"{_VERBS.get(op, op)} of {whose} {key}"


def is_money(name: str) -> bool:
    return ("(" in name and not is_ratio(name)) or name == "weighted_pipeline"


def is_ratio(name: str) -> bool:
    """A 0..1 measure shown as a percentage: win rate, goal attainment."""
    return name == "win_rate" or name.startswith("goal_attainment")


@dataclass
class Table:
    """A result flattened for a file or a slide: headers, one row per group, the total row."""

    group_headers: list[str]
    measure_headers: list[str]
    measures: list[str]  # Measure.name per measure column
    rows: list[tuple[list[str], list[Value]]]
    total: list[Value]
    currency: str
    about: list[tuple[str, str]]  # (label, text): currency, rate policy, period, notes


def partner_names(session: Session, actor: Actor) -> dict[uuid.UUID, str]:
    """The viewer's partners by id: the measure labels name their fields after them."""
    return company_names(session, partner_ids(session, actor.company_id))


def labels(
    session: Session,
    actor: Actor,
    result: ReportOut,
    partners: Mapping[uuid.UUID, str] | None = None,
) -> list[str]:
    """The measures' labels; `partners`: the viewer's partner names when already read (a
    dashboard reads them once for all its panels)."""
    known = partner_names(session, actor) if partners is None else partners
    return [measure_label(n, known) for n in result.measures]


def _hidden(row: ReportRow) -> int:
    return sum(row.hidden.values())


def table(
    session: Session,
    actor: Actor,
    result: ReportOut,
    partners: Mapping[uuid.UUID, str] | None = None,
) -> Table:
    dims = result.group_by
    rows = [
        (
            [r.group[d].label if d in r.group else "" for d in dims],
            [r.measures.get(n) for n in result.measures],
        )
        for r in result.rows
    ]
    about = [("Currency", result.currency), ("Exchange rates", result.rate_date)]
    if result.period:
        about.append(("Period", result.period))
    hidden = _hidden(result.totals)
    if hidden:
        about.append(("Hidden", f"{hidden} value(s) not visible to you were left out"))
    about.extend(("Note", note) for note in result.notes)
    return Table(
        group_headers=[DIMENSION_LABELS.get(d, d) for d in dims],
        measure_headers=labels(session, actor, result, partners),
        measures=list(result.measures),
        rows=rows,
        total=[result.totals.measures.get(n) for n in result.measures],
        currency=result.currency,
        about=about,
    )


def to_csv(data: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    groups_header = data.group_headers or [""]  # no dimension: a label column for the total
    writer.writerow([csv_cell(h) for h in [*groups_header, *data.measure_headers]])
    if data.group_headers:
        for groups, values in data.rows:
            writer.writerow([csv_cell(cell) for cell in [*groups, *values]])
    total_label = [f"Total ({data.currency})"] + [""] * (len(groups_header) - 1)
    writer.writerow([csv_cell(cell) for cell in [*total_label, *data.total]])
    writer.writerow([])
    for label, text in data.about:
        writer.writerow([csv_cell(label), csv_cell(text)])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(data: Table, title: str) -> bytes:
    """The "Report" sheet (headers, a row per group, the total row, measures formatted as
    money, percentages or numbers) and the "About" sheet (title, currency, rates, notes)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Report")
    sheet.append(
        [xlsx_cell(sheet, h) for h in [*(data.group_headers or [""]), *data.measure_headers]]
    )
    formats = [
        "0.00%" if is_ratio(n) else "#,##0.00" if is_money(n) else "#,##0.##" for n in data.measures
    ]
    width = len(data.group_headers or [""])

    def put(groups: list[str], values: list[Value]) -> None:
        sheet.append(
            [
                *(xlsx_cell(sheet, g) for g in groups),
                *(xlsx_cell(sheet, v, fmt) for v, fmt in zip(values, formats, strict=True)),
            ]
        )

    if data.group_headers:
        for groups, values in data.rows:
            put(groups, values)
    put([f"Total ({data.currency})"] + [""] * (width - 1), data.total)
    about = book.create_sheet("About")
    for label, text in [("Report", title), *data.about]:
        about.append([xlsx_cell(about, label), xlsx_cell(about, text)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(name: str, extension: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "report"
    return f"{stem[:80]}.{extension}"
