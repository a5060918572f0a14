"""Report pages: saved reports and dashboards, the report builder with a live preview, charts.

Charts are drawn in the browser by Chart.js (`/static/vendor/chart.umd.min.js`) from JSON in a
`data-chart` attribute (the CSP forbids inline scripts; `static/reports.js` draws them), each
with a "Download PNG" button and a table of the same numbers under it. Every number is computed
by the report engine *as the signed-in user* (saved reports and dashboards shared by someone
else included), so the page shows only what the viewer may see, without its own private values
while "hide private fields" is on.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.partners import partner_ids
from coterie.deps import DB, reads_only
from coterie.fields.kinds import Kind
from coterie.kit.problems import Problem
from coterie.models import User
from coterie.network.companies import names as company_names
from coterie.reports import engine
from coterie.reports.dashboards import service as dashboards
from coterie.reports.saved import service as saved
from coterie.reports.saved.service import SavedReportIn, SharedWith
from coterie.reports.schemas import ReportIn, ReportOut, ReportRow, Value
from coterie.web import csrf
from coterie.web.forms import (
    FormFields,
    FormInput,
    errors_from_validation,
    is_stale,
)
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, flash_done, raise_on, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

CHART_LABELS = {
    "bar": "Bar",
    "stacked_bar": "Stacked bar",
    "pie": "Pie",
    "funnel": "Funnel",
    "line": "Line over time",
    "table": "Table only",
}
DIMENSIONS = (
    ("stage", "Stage"),
    ("partner", "Partner company"),
    ("close_quarter", "Quarter of close date"),
    ("region", "Region"),
    ("industry", "Industry"),
    ("product", "Product"),
    ("account", "Account"),
    ("owner", "Owner"),
    ("joint_stage", "Joint stage"),
    ("motion", "Motion"),
    ("source_company", "Source company"),
)
MEASURES = (
    ("count", "Count"),
    ("sum:mine.amount", "Sum of my amount"),
    ("avg:mine.amount", "Average of my amount"),
    ("weighted_pipeline", "Weighted pipeline"),
    ("win_rate", "Win rate"),
    ("avg_cycle_days", "Average cycle (days)"),
    ("goal_attainment", "Goal attainment (of the plan chosen above)"),
    # a measure the engine adds (e.g. "goal_attainment") gets its (value, label) pair here and
    # its label in `measure_label`'s `fixed` below; the builder's checkboxes come from this list
)
GROUP_SLOTS = 2


# --- presenting a result: chart data and the table of the same numbers -------------------------


def _number(value: Value) -> float | None:
    return float(value) if value is not None else None


def measure_label(name: str, partners: dict[uuid.UUID, str]) -> str:
    fixed = {
        "count": "Count",
        "weighted_pipeline": "Weighted pipeline",
        "win_rate": "Win rate",
        "avg_cycle_days": "Average cycle (days)",
        "goal_attainment": "Goal attainment",
    }
    if name in fixed:
        return fixed[name]
    op, _, rest = name.partition("(")
    target = rest.rstrip(")")
    if op == "goal_attainment":  # goal_attainment(<metric>)
        return f"Goal attainment ({target.replace('_', ' ')})"
    owner, _, key = target.partition(".")
    whose = "my" if owner == "mine" else None
    if whose is None:
        try:
            whose = f"{partners.get(uuid.UUID(owner), 'partner')}'s"
        except ValueError:
            whose = owner
    verb = {"sum": "Sum", "avg": "Average", "min": "Minimum", "max": "Maximum"}.get(op, op)
    return f"{verb} of {whose} {key}"


def _display(name: str, value: Value) -> str:
    if value is None:
        return "n/a"
    if name == "win_rate" or name.startswith("goal_attainment"):
        return f"{Decimal(value) * 100:.1f}%"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if "(" in name or name == "weighted_pipeline" else f"{value:,}"
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


def _table_row(row: ReportRow, dims: list[str], names: list[str]) -> TableRow:
    hidden = sum(row.hidden.values())
    return TableRow(
        groups=[row.group[d].label if d in row.group else "" for d in dims],
        cells=[_display(n, row.measures.get(n)) for n in names],
        hidden=f"{hidden} hidden" if hidden else "",
    )


def _chart(name: str, chart_type: str, result: ReportOut, labels: list[str]) -> dict[str, Any]:
    dims, names = result.group_by, result.measures
    stacked = chart_type == "stacked_bar" and len(dims) >= 2
    datasets: list[dict[str, Any]] = []
    categories: list[str]
    if not dims:
        categories = ["Total"]
        datasets = [
            {"label": labels[i], "data": [_number(result.totals.measures.get(n))]}
            for i, n in enumerate(names)
        ]
    elif stacked:
        first = list(dict.fromkeys(r.group[dims[0]].label for r in result.rows))
        second = list(dict.fromkeys(r.group[dims[1]].label for r in result.rows))
        categories = first
        values: dict[tuple[str, str], float | None] = {
            (r.group[dims[0]].label, r.group[dims[1]].label): _number(r.measures.get(names[0]))
            for r in result.rows
        }
        datasets = [{"label": s, "data": [values.get((f, s)) for f in first]} for s in second]
    else:
        categories = [" / ".join(r.group[d].label for d in dims) for r in result.rows]
        datasets = [
            {"label": labels[i], "data": [_number(r.measures.get(n)) for r in result.rows]}
            for i, n in enumerate(names)
        ]
    if not stacked:
        for i, n in enumerate(names[: len(datasets)]):
            # money on the left axis, counts, rates and days on a second one
            money = ("(" in n and not n.startswith("goal_attainment")) or n == "weighted_pipeline"
            datasets[i]["axis"] = "money" if money else "other"
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


def present(
    session: Session, actor: Actor, name: str, chart_type: str, result: ReportOut
) -> Presented:
    partners = company_names(session, partner_ids(session, actor.company_id))
    labels = [measure_label(n, partners) for n in result.measures]
    dim_labels = dict(DIMENSIONS)
    chart = (
        None
        if chart_type == "table"
        else json.dumps(_chart(name, chart_type, result, labels), separators=(",", ":"))
    )
    totals = _table_row(result.totals, result.group_by, result.measures)
    width = max(len(result.group_by), 1)
    totals.groups = [f"Total ({result.currency})"] + [""] * (width - 1)
    rows = [_table_row(r, result.group_by, result.measures) for r in result.rows]
    return Presented(
        name=name,
        chart_type=chart_type,
        chart_json=chart,
        headers=[dim_labels.get(d, d) for d in result.group_by] or [""],
        measure_headers=labels,
        rows=rows if result.group_by else [],
        totals=totals,
        currency=result.currency,
        rate_date=result.rate_date,
        period=result.period,
        notes=result.notes,
        empty=not result.rows and not any(v for v in result.totals.measures.values()),
    )


# --- the builder form --------------------------------------------------------------------------


@dataclass
class Choices:
    kinds: list[tuple[str, str]]
    dimensions: list[tuple[str, str]]
    measures: list[tuple[str, str]]
    charts: list[tuple[str, str]]
    colleagues: list[tuple[str, str]]
    partners: list[tuple[str, str]]
    plans: list[tuple[str, str]]
    programs: list[tuple[str, str]]


def builder_choices(session: Session, actor: Actor) -> Choices:
    partners = company_names(session, partner_ids(session, actor.company_id))
    colleagues = session.scalars(
        select(User)
        .where(User.company_id == actor.company_id, User.is_active, User.id != actor.user_id)
        .order_by(User.name)
    )
    principal = actor.principal

    def titles(kind: str) -> list[tuple[str, str]]:
        records = session.scalars(gate.visible(principal, kind).limit(200)).all()
        return sorted(((str(r.id), r.title) for r in records), key=lambda item: item[1])

    partner_measures = [
        (f"sum:{cid}.amount", f"Sum of {name}'s amount (where shared with you)")
        for cid, name in sorted(partners.items(), key=lambda item: item[1])
    ]
    return Choices(
        kinds=[(k.value, k.value.capitalize()) for k in Kind],
        dimensions=list(DIMENSIONS),
        measures=[*MEASURES, *partner_measures],
        charts=list(CHART_LABELS.items()),
        colleagues=[(str(u.id), u.name) for u in colleagues],
        partners=[(str(cid), n) for cid, n in sorted(partners.items(), key=lambda i: i[1])],
        plans=titles("plan"),
        programs=titles("program"),
    )


def _form_values(report: SavedReportIn) -> dict[str, Any]:
    definition = report.definition
    values: dict[str, Any] = {
        "name": report.name,
        "kind": definition.kind,
        "chart_type": report.chart_type,
        "quarter": definition.quarter or "",
        "plan_id": str(definition.plan_id) if definition.plan_id else "",
        "filters": json.dumps(definition.filters) if definition.filters else "",
        "measures": [f"{m.op}:{m.field}" if m.field else m.op for m in definition.measures],
        "share_users": [str(u) for u in report.shared_with.users],
        "share_companies": [str(c) for c in report.shared_with.companies],
    }
    for i in range(GROUP_SLOTS):
        values[f"group_by.{i}"] = definition.group_by[i] if i < len(definition.group_by) else ""
    return values


def read_builder_form(
    form: FormFields,
) -> tuple[dict[str, Any], SavedReportIn | None, dict[str, str]]:
    """The builder's fields as typed; the report they describe, or errors by field name."""
    values: dict[str, Any] = {
        "name": form.text("name"),
        "kind": form.text("kind") or "opportunity",
        "chart_type": form.text("chart_type") or "bar",
        "quarter": form.text("quarter"),
        "plan_id": form.text("plan_id"),
        "filters": form.text("filters", strip=False).strip(),
        "measures": form.texts("measures") or ["count"],
        "share_users": form.texts("share_users"),
        "share_companies": form.texts("share_companies"),
    }
    group_by: list[str] = []
    for i in range(GROUP_SLOTS):
        values[f"group_by.{i}"] = form.text(f"group_by.{i}")
        if values[f"group_by.{i}"]:
            group_by.append(values[f"group_by.{i}"])
    errors: dict[str, str] = {}
    filters: Any = None
    if values["filters"]:
        try:
            filters = json.loads(values["filters"])
        except ValueError:
            errors["filters"] = "Write a condition as JSON, e.g. "
            errors["filters"] += '{"field": "mine.region", "op": "eq", "value": "emea"}'
    measures = []
    for item in values["measures"]:
        op, _, target = item.partition(":")
        measures.append({"op": op, "field": target or None})
    body = {
        "name": values["name"] or "Untitled report",
        "chart_type": values["chart_type"],
        "definition": {
            "kind": values["kind"],
            "group_by": group_by,
            "measures": measures,
            "filters": filters,
            "quarter": values["quarter"] or None,
            "plan_id": values["plan_id"] or None,
        },
        "shared_with": {"users": values["share_users"], "companies": values["share_companies"]},
    }
    if errors:
        return values, None, errors
    try:
        return values, SavedReportIn.model_validate(body), {}
    except ValidationError as exc:
        found = errors_from_validation(exc)
        return values, None, _builder_errors({f"body.{k}": v for k, v in found.items()})


_FORM_KEYS = {
    "body.name": "name",
    "body.chart_type": "chart_type",
    "body.definition.kind": "kind",
    "body.definition.quarter": "quarter",
    "body.definition.plan_id": "plan_id",
    "body.definition.filters": "filters",
    "body.shared_with.users": "share_users",
    "body.shared_with.companies": "share_companies",
    "body.definition.group_by": "group_by.0",
    "body.definition.measures": "measures",
    "body.filters": "filters",
    "body.group_by": "group_by.0",
    "body.measures": "measures",
    "body.quarter": "quarter",
    "body.plan_id": "plan_id",
    "body.kind": "kind",
}


def _builder_errors(errors: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path, message in errors.items():
        key = next((v for k, v in _FORM_KEYS.items() if path.startswith(k)), "form")
        found.setdefault(key, message)
    return found


def _problem_errors(problem: Problem) -> dict[str, str]:
    paths = [str(e.get("path", "")) for e in problem.errors or []]
    if problem.status == 422 and paths:
        messages = [str(e.get("message", problem.detail)) for e in problem.errors or []]
        return _builder_errors(dict(zip(paths, messages, strict=False)))
    return {"form": problem.detail}


def _run_as_viewer(
    session: Session, actor: Actor, definition: ReportIn
) -> tuple[ReportOut | None, str | None]:
    try:
        return engine.run(session, actor, definition), None
    except Problem as problem:
        if problem.status in (400, 422):
            return None, problem.detail
        raise


def builder_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    report: saved.SavedReportOut | None = None,
    result: Presented | None = None,
    run_error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "reports/builder.html",
        {
            "nav": "reports",
            "values": values,
            "errors": errors or {},
            "choices": builder_choices(session, actor),
            "report": report,
            "result": result,
            "run_error": run_error,
        },
        status_code=status_code,
    )


# --- pages -------------------------------------------------------------------------------------


def index_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    reports = [saved.to_out(session, actor, r) for r in saved.list_visible(session, actor)]
    boards = [dashboards.to_out(session, actor, d) for d in dashboards.list_visible(session, actor)]
    return render(
        request,
        "reports/index.html",
        {
            "nav": "reports",
            "mine": [r for r in reports if r.company_id == actor.company_id],
            "shared": [r for r in reports if r.company_id != actor.company_id],
            "dashboards": boards,
            "choices": builder_choices(session, actor),
            "addable": addable_reports(session, actor),
            "chart_labels": CHART_LABELS,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/reports")
def reports_index(request: Request, session: DB, actor: PageActor) -> Response:
    return index_page(request, session, actor)


@router.get("/reports/new")
def new_report(request: Request, session: DB, actor: PageActor) -> Response:
    blank = SavedReportIn(name="New", definition=ReportIn(group_by=["stage"]), chart_type="bar")
    return builder_page(request, session, actor, values=_form_values(blank) | {"name": ""})


@router.post("/reports/preview")
@reads_only
def preview(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    """The htmx preview: run what the builder describes, as the signed-in user."""
    _, data, errors = read_builder_form(form)
    result: Presented | None = None
    message = next(iter(errors.values()), None) if errors else None
    if data is not None:
        out, message = _run_as_viewer(session, actor, data.definition)
        if out is not None:
            result = present(session, actor, data.name, data.chart_type, out)
    return render(
        request,
        "reports/_result.html",
        {"result": result, "run_error": message, "chart_id": "preview"},
    )


@router.post("/reports/new")
def create_report(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    values, data, errors = read_builder_form(form)
    if data is None:
        return builder_page(request, session, actor, values=values, errors=errors, status_code=422)
    return submit(
        session,
        lambda: saved.create(session, actor, data),
        done=lambda report: redirect(
            request, f"/reports/{report.id}", f"Report “{report.name}” saved."
        ),
        refused=lambda problem: builder_page(
            request, session, actor, values=values, errors=_problem_errors(problem),
            status_code=422,
        ),
    )  # fmt: skip


@router.get("/reports/{report_id}")
def report_page(request: Request, session: DB, actor: PageActor, report_id: str) -> Response:
    report = saved.get(session, actor, parse_id(report_id, "report"))
    out = saved.to_out(session, actor, report)
    result, run_error = _run_as_viewer(session, actor, out.definition)
    presented = present(session, actor, out.name, out.chart_type, result) if result else None
    values = _form_values(
        SavedReportIn(
            name=out.name,
            definition=out.definition,
            chart_type=out.chart_type,
            shared_with=out.shared_with or SharedWith(),
        )
    )
    return builder_page(
        request, session, actor, values=values, report=out, result=presented, run_error=run_error
    )


@router.post("/reports/{report_id}")
def update_report(
    request: Request, session: DB, actor: PageActor, form: FormInput, report_id: str
) -> Response:
    report_uuid = parse_id(report_id, "report")
    out = saved.to_out(session, actor, saved.get(session, actor, report_uuid))
    values, data, errors = read_builder_form(form)
    if data is None:
        return builder_page(
            request, session, actor, values=values, errors=errors, report=out, status_code=422
        )

    def refused(problem: Problem) -> Response:
        errors = _problem_errors(problem)
        if is_stale(problem):
            errors = {
                "form": "Someone changed this report since you opened it, so nothing was "
                "saved. Save again to replace their version with yours, or reload the page "
                "to see theirs."
            }
        return builder_page(
            request, session, actor, values=values, errors=errors, report=out,
            status_code=problem.status if problem.status in (403, 412, 428) else 422,
        )  # fmt: skip

    return submit(
        session,
        lambda: saved.update(session, actor, report_uuid, data, form.version()),
        done=lambda _: redirect(request, f"/reports/{report_uuid}", "Report saved."),
        refused=refused,
    )


@router.post("/reports/{report_id}/delete")
def delete_report(
    request: Request, session: DB, actor: PageActor, form: FormInput, report_id: str
) -> Response:
    report_uuid = parse_id(report_id, "report")
    return submit(
        session,
        lambda: saved.remove(session, actor, report_uuid, form.version()),
        done=flash_done(request, "/reports", "Report deleted."),
        refused=flash_back(request, f"/reports/{report_uuid}"),
        passes=raise_on(403, 404),
    )


# --- the dashboards on the index -------------------------------------------------------------


def addable_reports(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """Saved reports the actor may put on a dashboard: mine first, then partners' shared ones."""
    reports = saved.list_visible(session, actor)
    reports.sort(key=lambda r: r.company_id != actor.company_id)  # stable: by name within
    shared = {r.company_id for r in reports if r.company_id != actor.company_id}
    owners = company_names(session, shared) if shared else {}
    return [
        (
            str(r.id),
            r.name
            if r.company_id == actor.company_id
            else f"{r.name} (shared by {owners.get(r.company_id, 'a partner')})",
        )
        for r in reports
    ]
