"""The report builder's form: its choices, the values it shows, and the report it describes.

Everything is chosen, nothing typed as JSON: records, chart, one or two dimensions, measures
(checkboxes), filter rows (`coterie.reports.filter_rows`: field, condition and value from
lists), an optional plan and quarter, and who to share with. `read()` turns a submitted form
into a `SavedReportIn` or errors by field name (a bad filter row: `filter.<index>`, shown next
to that row); `check()` runs the report as the viewer so that a row the engine refuses is
marked too, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.partners import partner_ids
from coterie.fields.kinds import Kind
from coterie.kit.problems import Problem
from coterie.kit.quarters import Quarter
from coterie.kit.words import possessive
from coterie.models import User
from coterie.network.companies import names as company_names
from coterie.reports import engine, filter_rows
from coterie.reports.filter_rows import FilterField, Rows
from coterie.reports.presenting import CHART_LABELS, DIMENSIONS
from coterie.reports.saved.service import SavedReportIn
from coterie.reports.schemas import ReportOut
from coterie.web.forms import FormFields, errors_from_validation

MEASURES = (
    ("count", "Count"),
    ("sum:mine.amount", "Sum of my amount"),
    ("avg:mine.amount", "Average of my amount"),
    ("weighted_pipeline", "Weighted pipeline"),
    ("win_rate", "Win rate"),
    ("avg_cycle_days", "Average cycle (days)"),
    ("goal_attainment", "Goal attainment (of the plan chosen above)"),
    # a measure the engine adds (e.g. "goal_attainment") gets its (value, label) pair here and
    # its label in `exports.spreadsheets.measure_label`; the builder's checkboxes come from this
    # list
)
GROUP_SLOTS = 2


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


def choices(session: Session, actor: Actor) -> Choices:
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
        (f"sum:{cid}.amount", f"Sum of {possessive(name)} amount (where shared with you)")
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


@dataclass
class BuilderForm:
    """A submitted builder: what it shows again, the report it describes, errors by field."""

    values: dict[str, Any]
    rows: Rows
    data: SavedReportIn | None = None
    errors: dict[str, str] = field(default_factory=dict)
    row_of: dict[int, int] = field(default_factory=dict)  # filter leaf -> row index
    run_error: str | None = None  # why the engine cannot run it (other than a filter row)


def values_of(report: SavedReportIn) -> dict[str, Any]:
    """The builder's values for a report (a saved one, or the blank new one)."""
    definition = report.definition
    values: dict[str, Any] = {
        "name": report.name,
        "kind": definition.kind,
        "chart_type": report.chart_type,
        "quarter": definition.quarter or "",
        "plan_id": str(definition.plan_id) if definition.plan_id else "",
        "filter_rows": filter_rows.rows_of(definition.filters),
        "measures": [f"{m.op}:{m.field}" if m.field else m.op for m in definition.measures],
        "share_users": [str(u) for u in report.shared_with.users],
        "share_companies": [str(c) for c in report.shared_with.companies],
    }
    for i in range(GROUP_SLOTS):
        values[f"group_by.{i}"] = definition.group_by[i] if i < len(definition.group_by) else ""
    return values


def quarter_choices(today: date, current: str) -> list[tuple[str, str]]:
    """The quarters the builder offers, newest first: the next four, this one and the eight
    before it ("Q3 2026"), plus the report's own quarter when it is older or further ahead."""
    newest = Quarter.of(today)
    for _ in range(4):
        newest = Quarter.of(newest.last_day + timedelta(days=1))
    found: list[tuple[str, str]] = []
    quarter = newest
    for _ in range(13):
        found.append((str(quarter), f"Q{quarter.number} {quarter.year}"))
        quarter = quarter.previous()
    if current and current not in dict(found):
        try:
            own = Quarter.parse(current)
        except ValueError:
            return found  # not a quarter: the form's error says so
        found.insert(0, (current, f"Q{own.number} {own.year}"))
    return found


def filter_fields(session: Session, actor: Actor, kind: str) -> list[FilterField]:
    """The filter rows' fields for records of `kind` (an unknown kind: none)."""
    if kind not in {k.value for k in Kind}:
        return []
    return filter_rows.fields(session, actor, kind)


def read(session: Session, actor: Actor, form: FormFields) -> BuilderForm:
    """The builder's fields as submitted; the report they describe, or errors by field name."""
    rows = filter_rows.read(form)
    values: dict[str, Any] = {
        "name": form.text("name"),
        "kind": form.text("kind") or "opportunity",
        "chart_type": form.text("chart_type") or "bar",
        "quarter": form.text("quarter"),
        "plan_id": form.text("plan_id"),
        "filter_rows": rows,
        "measures": form.texts("measures") or ["count"],
        "share_users": form.texts("share_users"),
        "share_companies": form.texts("share_companies"),
    }
    group_by: list[str] = []
    for i in range(GROUP_SLOTS):
        values[f"group_by.{i}"] = form.text(f"group_by.{i}")
        if values[f"group_by.{i}"]:
            group_by.append(values[f"group_by.{i}"])
    known = filter_rows.by_name(filter_fields(session, actor, values["kind"]))
    filters, row_of = filter_rows.compile_rows(rows, known)
    built = BuilderForm(values, rows, row_of=row_of)
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
            "filters": filters or None,
            "quarter": values["quarter"] or None,
            "plan_id": values["plan_id"] or None,
        },
        "shared_with": {"users": values["share_users"], "companies": values["share_companies"]},
    }
    built.errors = rows.errors()
    if built.errors:
        return built
    try:
        built.data = SavedReportIn.model_validate(body)
    except ValidationError as exc:
        found = errors_from_validation(exc)
        built.errors = _builder_errors({f"body.{k}": v for k, v in found.items()})
    return built


def check(session: Session, actor: Actor, built: BuilderForm) -> ReportOut | None:
    """Run the described report as the viewer; a filter the engine refuses marks its row
    (`built.errors`: not saved), any other refusal is `built.run_error` (a report the viewer
    cannot run may still be saved, e.g. for partners who can). None when it cannot run."""
    if built.data is None:
        return None
    try:
        return engine.run(session, actor, built.data.definition)
    except Problem as problem:
        if problem.status not in (400, 422):
            raise
        if filter_rows.refusal(problem, built.row_of, built.rows):
            built.errors = built.rows.errors()
        else:
            built.run_error = problem.detail
        return None


def first_error(built: BuilderForm) -> str | None:
    """One sentence for the preview: which filter row is wrong and why, or the form's error."""
    for row in built.rows.rows:
        if row.error:
            position = built.rows.rows.index(row) + 1
            return f"Filter {position}: {row.error}"
    return next(iter(built.errors.values()), None) or built.run_error


_FORM_KEYS = {
    "body.name": "name",
    "body.chart_type": "chart_type",
    "body.definition.kind": "kind",
    "body.definition.quarter": "quarter",
    "body.definition.plan_id": "plan_id",
    "body.definition.filters": "form",
    "body.shared_with.users": "share_users",
    "body.shared_with.companies": "share_companies",
    "body.definition.group_by": "group_by.0",
    "body.definition.measures": "measures",
    "body.filters": "form",
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


def problem_errors(problem: Problem) -> dict[str, str]:
    paths = [str(e.get("path", "")) for e in problem.errors or []]
    if problem.status == 422 and paths:
        messages = [str(e.get("message", problem.detail)) for e in problem.errors or []]
        return _builder_errors(dict(zip(paths, messages, strict=False)))
    return {"form": problem.detail}
