"""A report result as the pages show it: the chart's data (drawn by `static/reports.js` with
Chart.js) and the table of the same numbers, with labels, never keys.

Charts plot every measure asked for, each a dataset labelled with the measure's name and
tagged with its unit (`count`, `money`, `percent`, `days`): the browser gives each unit its own
axis (the first unit on the left, the others on the right), counts tick in whole numbers and
money axes read in the viewer's currency. A stacked bar stacks the second dimension within
each measure (one stack per measure). A pie shows the first measure only, and a pie or a line
over time leaves out the empty group ("Not set", e.g. no close date): a slice or a point in
time it is not; the table under the chart still lists it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.reports.exports.spreadsheets import DIMENSION_LABELS
from coterie.reports.exports.spreadsheets import labels as measure_labels
from coterie.reports.schemas import ReportOut, ReportRow, Value

CHART_LABELS = {
    "bar": "Bar",
    "stacked_bar": "Stacked bar",
    "pie": "Pie",
    "funnel": "Funnel",
    "line": "Line over time",
    "table": "Table only",
}
DIMENSIONS = tuple(DIMENSION_LABELS.items())  # (key, label), in the builder's order
# chart types that cannot show an empty group honestly: no slice and no point in time for it
DROPS_EMPTY = frozenset({"pie", "line"})


def _number(value: Value) -> float | None:
    return float(value) if value is not None else None


def unit(name: str) -> str:
    """What a measure's values are: `count`, `money`, `percent` (0..1) or `days`."""
    if name == "count":
        return "count"
    if name == "win_rate" or name.startswith("goal_attainment"):
        return "percent"
    if name == "avg_cycle_days":
        return "days"
    return "money"  # sum/avg/min/max of an amount, weighted pipeline


def _display(name: str, value: Value) -> str:
    if value is None:
        return "n/a"
    kind = unit(name)
    if kind == "percent":
        return f"{Decimal(value) * 100:.1f}%"
    if kind == "money" and isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


@dataclass
class TableRow:
    groups: list[str]
    cells: list[str]
    hidden: str = ""


@dataclass
class Presented:
    name: str
    chart_type: str
    chart_json: str | None
    headers: list[str]
    measure_headers: list[str]
    rows: list[TableRow]
    totals: TableRow
    currency: str
    rate_date: str
    period: str | None
    notes: list[str] = field(default_factory=list)
    empty: bool = False  # nothing the viewer may see matches
    has_money: bool = False  # a measure is an amount: the currency note applies
    chart_note: str = ""  # what the chart leaves out that the table shows


def _table_row(row: ReportRow, dims: list[str], names: list[str]) -> TableRow:
    hidden = sum(row.hidden.values())
    return TableRow(
        groups=[row.group[d].label if d in row.group else "" for d in dims],
        cells=[_display(n, row.measures.get(n)) for n in names],
        hidden=f"{hidden} hidden" if hidden else "",
    )


def chart_rows(result: ReportOut, chart_type: str) -> list[ReportRow]:
    """The rows a chart plots: without the empty group on a pie or a line over time."""
    if chart_type not in DROPS_EMPTY:
        return list(result.rows)
    return [r for r in result.rows if all(g.value is not None for g in r.group.values())]


def chart_data(name: str, chart_type: str, result: ReportOut, labels: list[str]) -> dict[str, Any]:
    """The chart's categories and datasets (every measure; a pie: the first)."""
    dims, names = result.group_by, result.measures
    rows = chart_rows(result, chart_type)
    stacked = chart_type == "stacked_bar" and len(dims) >= 2
    datasets: list[dict[str, Any]] = []
    categories: list[str]
    if not dims:
        categories = ["Total"]
        datasets = [
            {"label": labels[i], "unit": unit(n), "data": [_number(result.totals.measures.get(n))]}
            for i, n in enumerate(names)
        ]
    elif stacked:
        first = list(dict.fromkeys(r.group[dims[0]].label for r in rows))
        second = list(dict.fromkeys(r.group[dims[1]].label for r in rows))
        categories = first
        for i, n in enumerate(names):
            values = {
                (r.group[dims[0]].label, r.group[dims[1]].label): _number(r.measures.get(n))
                for r in rows
            }
            for s in second:
                datasets.append(
                    {
                        "label": f"{labels[i]}: {s}" if len(names) > 1 else s,
                        "stack": labels[i],
                        "unit": unit(n),
                        "data": [values.get((f, s)) for f in first],
                    }
                )
    else:
        categories = [" / ".join(r.group[d].label for d in dims) for r in rows]
        datasets = [
            {
                "label": labels[i],
                "unit": unit(n),
                "data": [_number(r.measures.get(n)) for r in rows],
            }
            for i, n in enumerate(names)
        ]
    if chart_type == "pie":
        datasets = datasets[:1]
    return {
        "type": chart_type,
        "title": name,
        "labels": categories,
        "datasets": datasets,
        "stacked": stacked,
        "currency": result.currency,
    }


def _chart_note(chart_type: str, result: ReportOut, labels: list[str]) -> str:
    notes: list[str] = []
    if chart_type == "pie" and len(labels) > 1:
        notes.append(f"The pie shows {labels[0].lower()}; the table holds every measure.")
    left_out = len(result.rows) - len(chart_rows(result, chart_type))
    if left_out:
        empty = sorted({g.label for r in result.rows for g in r.group.values() if g.value is None})
        notes.append(
            f"{' and '.join(empty)} is not plotted"
            f"{' as a slice' if chart_type == 'pie' else ' on the time axis'}; "
            "the table lists it."
        )
    return " ".join(notes)


def present(
    session: Session,
    actor: Actor,
    name: str,
    chart_type: str,
    result: ReportOut,
    partners: Mapping[uuid.UUID, str] | None = None,
) -> Presented:
    """The page's chart and table of `result`; `partners` as `exports.spreadsheets.labels`."""
    labels = measure_labels(session, actor, result, partners)
    chart = (
        None
        if chart_type == "table"
        else json.dumps(chart_data(name, chart_type, result, labels), separators=(",", ":"))
    )
    totals = _table_row(result.totals, result.group_by, result.measures)
    width = max(len(result.group_by), 1)
    totals.groups = [f"Total ({result.currency})"] + [""] * (width - 1)
    rows = [_table_row(r, result.group_by, result.measures) for r in result.rows]
    return Presented(
        name=name,
        chart_type=chart_type,
        chart_json=chart,
        headers=[DIMENSION_LABELS.get(d, d) for d in result.group_by] or [""],
        measure_headers=labels,
        rows=rows if result.group_by else [],
        totals=totals,
        currency=result.currency,
        rate_date=result.rate_date,
        period=result.period,
        notes=result.notes,
        empty=not result.rows and not any(v for v in result.totals.measures.values()),
        has_money=any(unit(n) == "money" for n in result.measures),
        chart_note=_chart_note(chart_type, result, labels) if chart else "",
    )
