"""Dashboard pages: a dashboard's panels with their charts, the default "Partnership health"
and "Pipeline" dashboards, the filter bar, and the owner's editor (rename, share, add, remove
and reorder panels). Every panel runs through the report engine *as the signed-in user*.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.fields.definitions import STANDARD_FIELDS
from coterie.kit import conditional
from coterie.kit.problems import Problem
from coterie.records import presenters
from coterie.reports.currency_note import note as currency_note
from coterie.reports.dashboards import service as dashboards
from coterie.reports.dashboards.service import DashboardIn, DashboardRunOut, FilterBar, PanelOut
from coterie.reports.exports.spreadsheets import partner_names
from coterie.reports.presenting import CHART_LABELS, Presented, present
from coterie.reports.saved import service as saved
from coterie.reports.saved.builder import choices as builder_choices
from coterie.reports.saved.pages import addable_reports, index_page
from coterie.reports.saved.service import SharedWith
from coterie.web import csrf
from coterie.web.forms import (
    FORM_ERROR,
    STALE_FORM,
    FormFields,
    FormInput,
    errors_from_problem,
    errors_from_validation,
    is_stale,
)
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import answer_only, flash_back, flash_done, raise_on, submit
from coterie.web.templating import redirect, render

# the filter bar's regions, by label
REGIONS = [(key, presenters.humanize(key)) for key in STANDARD_FIELDS["region"].options]

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

# --- dashboards --------------------------------------------------------------------------------


@dataclass
class PanelView:
    panel: PanelOut
    result: Presented | None
    chart_id: str
    linked: bool = False  # the viewer may open the panel's saved report itself


@dataclass
class EditorPanel:
    """One panel as the owner's editor lists it: its place, report and chart type."""

    index: int
    report_id: uuid.UUID
    name: str
    chart: str


@dataclass
class Editor:
    """The owner's editor on a dashboard page: its panels and the reports it may add."""

    panels: list[EditorPanel]
    reports: list[tuple[str, str]]
    charts: list[tuple[str, str]]
    full: bool  # MAX_PANELS reached: nothing more can be added


class _FormError(Exception):
    """Errors found while reading an editor form, by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _editor(
    session: Session, actor: Actor, board: dashboards.DashboardOut, run: DashboardRunOut
) -> Editor:
    panels = [
        EditorPanel(
            index=i,
            report_id=stored.report_id,
            name=shown.name,
            chart=CHART_LABELS.get(shown.chart_type, shown.chart_type),
        )
        for i, (stored, shown) in enumerate(zip(board.panels, run.panels, strict=False))
    ]
    return Editor(
        panels=panels,
        reports=addable_reports(session, actor),
        charts=list(CHART_LABELS.items()),
        full=len(board.panels) >= dashboards.MAX_PANELS,
    )


def _board_values(board: dashboards.DashboardOut) -> dict[str, Any]:
    shared = board.shared_with or SharedWith()
    return {
        "name": board.name,
        "share_users": [str(u) for u in shared.users],
        "share_companies": [str(c) for c in shared.companies],
    }


def _dashboard_page(
    request: Request,
    session: Session,
    actor: Actor,
    run: DashboardRunOut,
    *,
    action: str,
    board: dashboards.DashboardOut | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    openable = {r.id for r in saved.list_visible(session, actor)} if run.id else set()
    partners = partner_names(session, actor)  # once, not per panel
    panels = [
        PanelView(
            panel=p,
            result=present(session, actor, p.name, p.chart_type, p.result, partners)
            if p.result
            else None,
            chart_id=f"panel-{i}",
            linked=p.report_id in openable,
        )
        for i, p in enumerate(run.panels)
    ]
    editor = _editor(session, actor, board, run) if board is not None and board.can_edit else None
    money = next((v.result for v in panels if v.result is not None and v.result.has_money), None)
    context = {
        # one note for the whole dashboard, only when some panel shows amounts
        "currency_note": currency_note(session, actor.company_id, money.currency)
        if money is not None
        else None,
        "nav": "reports",
        "run": run,
        "board": board,
        "panels": panels,
        "choices": builder_choices(session, actor),
        "action": action,
        "bar": run.filters,
        "regions": REGIONS,
        "editor": editor,
        "errors": errors or {},
        "values": values if values is not None else (_board_values(board) if board else {}),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "reports/_panels.html", context)
    return render(request, "reports/dashboard.html", context, status_code=status_code)


def _filter_bar(request: Request) -> FilterBar | None:
    query = request.query_params
    if "apply" not in query:
        return None
    raw = {key: query.get(key) or None for key in ("plan", "program", "partner", "region")}
    try:
        return FilterBar.model_validate(raw)
    except ValidationError as exc:
        raise Problem(422, "validation-error", "Invalid filter", "Check the filter bar.") from exc


@router.get("/dashboards/{dashboard_id}")
def dashboard_page(request: Request, session: DB, actor: PageActor, dashboard_id: str) -> Response:
    board_id = parse_id(dashboard_id, "dashboard")
    run = dashboards.run(session, actor, board_id, _filter_bar(request))
    board = dashboards.to_out(session, actor, dashboards.get(session, actor, board_id))
    return _dashboard_page(
        request, session, actor, run, action=f"/dashboards/{board_id}", board=board
    )


@router.get("/reports/defaults/partners/{company_id}")
def partner_health_page(
    request: Request, session: DB, actor: PageActor, company_id: str
) -> Response:
    partner = parse_id(company_id, "partner")
    bar = _filter_bar(request)
    run = dashboards.partner_health(session, actor, partner, bar.region if bar else None)
    return _dashboard_page(
        request, session, actor, run, action=f"/reports/defaults/partners/{partner}"
    )


@router.get("/reports/defaults/plans/{plan_id}")
def plan_pipeline_page(request: Request, session: DB, actor: PageActor, plan_id: str) -> Response:
    plan = parse_id(plan_id, "plan")
    bar = _filter_bar(request)
    run = dashboards.plan_pipeline(session, actor, plan, bar.region if bar else None)
    return _dashboard_page(request, session, actor, run, action=f"/reports/defaults/plans/{plan}")


# --- building and editing a dashboard with forms -----------------------------------------------


def _board_errors(found: dict[str, str], panels_field: str) -> dict[str, str]:
    """Messages of a DashboardIn (or a Problem's paths) by the form field they are about."""
    keys = (
        ("name", "name"),
        ("panels", panels_field),
        ("shared_with.users", "share_users"),
        ("shared_with.companies", "share_companies"),
    )
    errors: dict[str, str] = {}
    for path, message in found.items():
        path = path.removeprefix("body.")
        key = next((field for prefix, field in keys if path.startswith(prefix)), FORM_ERROR)
        errors.setdefault(key, message)
    return errors


def _shares(values: dict[str, Any]) -> dict[str, Any]:
    return {"users": values["share_users"], "companies": values["share_companies"]}


@router.post("/dashboards/new")
def create_dashboard(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    values: dict[str, Any] = {
        "name": form.text("name"),
        "report_ids": form.texts("report_ids"),
        "share_users": form.texts("share_users"),
        "share_companies": form.texts("share_companies"),
    }

    def again(errors: dict[str, str]) -> Response:
        session.rollback()
        return index_page(request, session, actor, errors=errors, values=values, status_code=422)

    try:
        data = DashboardIn.model_validate(
            {
                "name": values["name"],
                "panels": [{"report_id": r} for r in values["report_ids"]],
                "shared_with": _shares(values),
            }
        )
    except ValidationError as exc:
        return again(_board_errors(errors_from_validation(exc), "report_ids"))
    return submit(
        session,
        lambda: dashboards.create(session, actor, data),
        done=lambda board: redirect(
            request, f"/dashboards/{board.id}", f"Dashboard “{board.name}” saved."
        ),
        refused=lambda problem: again(_board_errors(errors_from_problem(problem), "report_ids")),
        passes=answer_only(422),
    )


def _stored_input(board: dashboards.DashboardOut) -> dict[str, Any]:
    """The dashboard as stored, in DashboardIn's shape (the filter bar it keeps)."""
    return {
        "name": board.name,
        "panels": [p.model_dump(mode="json") for p in board.panels],
        "filters": board.filters.model_dump(mode="json"),
        "shared_with": (board.shared_with or SharedWith()).model_dump(mode="json"),
    }


def _stale_panel(problem: Problem, stored: int) -> int | None:
    """The index of an already stored panel whose report the owner may no longer use."""
    for error in problem.errors or []:
        parts = str(error.get("path", "")).split(".")
        if parts[:2] == ["body", "panels"] and len(parts) > 2 and parts[2].isdigit():
            index = int(parts[2])
            if index < stored:
                return index
    return None


def _edit_board(
    request: Request,
    session: Session,
    actor: Actor,
    board_id: uuid.UUID,
    form: FormFields,
    change: Callable[[dashboards.DashboardOut], dict[str, Any]],
    message: str,
    values: dict[str, Any] | None = None,
) -> Response:
    """Apply `change` (stored dashboard -> the fields it replaces) and save it, or show why not.

    Saved only at the version the form was read at: a dashboard changed meanwhile is shown
    again as it is now, with the message, rather than overwritten."""
    board = dashboards.to_out(session, actor, dashboards.get(session, actor, board_id))  # 404

    def again(errors: dict[str, str], status_code: int) -> Response:
        session.rollback()
        now = dashboards.to_out(session, actor, dashboards.get(session, actor, board_id))
        run = dashboards.run(session, actor, board_id, None)
        return _dashboard_page(
            request, session, actor, run, action=f"/dashboards/{board_id}", board=now,
            errors=errors, values=_board_values(now) | (values or {}), status_code=status_code,
        )  # fmt: skip

    if not board.can_edit:
        return again({FORM_ERROR: "Only the dashboard's owner can change it."}, 403)

    def save() -> None:
        version = form.version()
        conditional.check_version(board, version, "dashboard")  # before reading the change
        data = DashboardIn.model_validate(_stored_input(board) | change(board))
        dashboards.update(session, actor, board_id, data, version)

    def refused(problem: Problem) -> Response:
        errors = _board_errors(errors_from_problem(problem), "report_id")
        stale = _stale_panel(problem, len(board.panels))
        if stale is not None:
            errors = {
                FORM_ERROR: f"The report of panel {stale + 1} was deleted or is no longer shared "
                "with you: remove that panel first."
            }
        if is_stale(problem):
            errors = {FORM_ERROR: STALE_FORM}
        return again(errors, problem.status)

    try:
        return submit(
            session,
            save,
            done=flash_done(request, f"/dashboards/{board_id}", message),
            refused=refused,
            passes=answer_only(403, 412, 422, 428),
        )
    except _FormError as exc:
        return again(exc.errors, 422)
    except ValidationError as exc:
        return again(_board_errors(errors_from_validation(exc), "report_id"), 422)


@router.post("/dashboards/{dashboard_id}")
def update_dashboard(
    request: Request, session: DB, actor: PageActor, form: FormInput, dashboard_id: str
) -> Response:
    """Rename the dashboard and choose whom it is shared with; its panels stay as they are."""
    values: dict[str, Any] = {
        "name": form.text("name"),
        "share_users": form.texts("share_users"),
        "share_companies": form.texts("share_companies"),
    }

    def change(board: dashboards.DashboardOut) -> dict[str, Any]:
        return {"name": values["name"], "shared_with": _shares(values)}

    board_id = parse_id(dashboard_id, "dashboard")
    return _edit_board(request, session, actor, board_id, form, change, "Dashboard saved.", values)


PANEL_OPS = ("add", "remove", "up", "down")


@router.post("/dashboards/{dashboard_id}/panels")
def edit_panels(
    request: Request, session: DB, actor: PageActor, form: FormInput, dashboard_id: str
) -> Response:
    """Add a saved report as a panel, remove a panel, or move one up or down."""
    op = form.text("op")
    values = {"report_id": form.text("report_id"), "chart_type": form.text("chart_type")}

    def change(board: dashboards.DashboardOut) -> dict[str, Any]:
        panels: list[dict[str, Any]] = [p.model_dump(mode="json") for p in board.panels]
        if op == "add":
            if len(panels) >= dashboards.MAX_PANELS:
                raise _FormError(
                    {
                        "report_id": f"A dashboard holds at most {dashboards.MAX_PANELS} panels: "
                        "remove one first."
                    }
                )
            if not values["report_id"]:
                raise _FormError({"report_id": "Choose a saved report to add."})
            if values["chart_type"] and values["chart_type"] not in CHART_LABELS:
                raise _FormError({"chart_type": "Choose one of the options."})
            panels.append(
                {"report_id": values["report_id"], "chart_type": values["chart_type"] or None}
            )
            return {"panels": panels}
        index = form.text("index")
        if op not in PANEL_OPS or not index.isdigit() or int(index) >= len(panels):
            raise _FormError(
                {FORM_ERROR: "That panel is no longer on this dashboard: reload the page."}
            )
        i = int(index)
        if op == "remove":
            del panels[i]
        elif op == "up" and i > 0:
            panels[i - 1], panels[i] = panels[i], panels[i - 1]
        elif op == "down" and i + 1 < len(panels):
            panels[i + 1], panels[i] = panels[i], panels[i + 1]
        return {"panels": panels}

    messages = {
        "add": "Panel added.",
        "remove": "Panel removed.",
        "up": "Panel moved up.",
        "down": "Panel moved down.",
    }
    board_id = parse_id(dashboard_id, "dashboard")
    message = messages.get(op, "Dashboard saved.")
    return _edit_board(request, session, actor, board_id, form, change, message, values)


@router.post("/dashboards/{dashboard_id}/delete")
def delete_dashboard(
    request: Request, session: DB, actor: PageActor, form: FormInput, dashboard_id: str
) -> Response:
    board_id = parse_id(dashboard_id, "dashboard")
    return submit(
        session,
        lambda: dashboards.remove(session, actor, board_id, form.version()),
        done=flash_done(request, "/reports", "Dashboard deleted."),
        refused=flash_back(request, f"/dashboards/{board_id}"),
        passes=raise_on(403, 404),
    )
