"""Dashboards: ordered panels of saved reports, a filter bar, sharing, and default dashboards.

A dashboard names saved reports (each panel with its chart type) and a filter bar (plan,
program, partner, region) applied on top of every panel's own filters when it runs. Sharing
works like saved reports (`coterie.reports.saved`). Sharing a dashboard shares its panels'
*definitions*: a viewer runs every panel as itself, so it only ever sees its own numbers; a
panel the viewer cannot run (a field it may not see) shows the engine's message in that panel.

The filter bar is compiled into the records filter language before the engine runs:
region → `mine.region = value`; partner, plan and program → `id in [...]`, the ids computed
through the gate for the viewer (records it may see with that partner active on them; records
linked to that plan, or to that program's plans, that it may see). A plan or program the viewer
cannot see answers 404.

Default dashboards are generated on request and never stored: "Partnership health" per
accepted partner and "Pipeline" per plan the viewer may see.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.partners import partner_ids
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields.kinds import ParticipantStatus
from coterie.kit import conditional
from coterie.kit.problems import Problem, invalid, not_found
from coterie.models import Company, Participant, Record
from coterie.models.cosell import PlanDetails, PlanRecord
from coterie.models.report import Dashboard, SavedReport
from coterie.records.query import MAX_FILTER_LENGTH
from coterie.reports import engine
from coterie.reports.saved import service as saved
from coterie.reports.saved.service import DASHBOARD, ChartType, SharedWith
from coterie.reports.schemas import Measure, ReportIn, ReportOut

MAX_PANELS = 12
NOTHING = str(uuid.UUID(int=0))  # an id no record has: "in" over an empty set


class FilterBar(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: uuid.UUID | None = None
    program: uuid.UUID | None = None
    partner: uuid.UUID | None = Field(default=None, description="A partner company")
    region: str | None = Field(default=None, max_length=40)

    def is_empty(self) -> bool:
        return not (self.plan or self.program or self.partner or self.region)


class PanelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_id: uuid.UUID
    chart_type: ChartType | None = Field(
        default=None, description="Defaults to the saved report's own chart type"
    )


class DashboardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    panels: list[PanelIn] = Field(default_factory=list, max_length=MAX_PANELS)
    filters: FilterBar = Field(default_factory=FilterBar)
    shared_with: SharedWith = Field(default_factory=SharedWith)


class DashboardOut(BaseModel):
    id: uuid.UUID
    name: str
    panels: list[PanelIn]
    filters: FilterBar
    company_id: uuid.UUID
    company_name: str
    owner_user_id: uuid.UUID | None
    shared_with: SharedWith | None  # the owner's company only
    can_edit: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PanelOut(BaseModel):
    report_id: uuid.UUID | None  # None: a panel of a default dashboard
    name: str
    chart_type: str
    definition: ReportIn | None
    result: ReportOut | None
    error: str | None = None  # why this viewer gets no numbers here


class DashboardRunOut(BaseModel):
    id: uuid.UUID | None  # None: a default dashboard (generated, not stored)
    name: str
    filters: FilterBar
    panels: list[PanelOut]


# --- the filter bar ----------------------------------------------------------------------------


def _partner_ids(principal: Principal, kind: str, partner: uuid.UUID) -> Any:
    return (
        select(Participant.record_id)
        .where(
            Participant.company_id == partner,
            Participant.status == ParticipantStatus.ACTIVE.value,
            Participant.record_id.in_(gate.visible_ids(principal, kind)),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def _plan_ids(session: Session, principal: Principal, kind: str, plans: list[uuid.UUID]) -> Any:
    return (
        select(PlanRecord.record_id)
        .where(
            PlanRecord.plan_id.in_(plans),
            and_(
                PlanRecord.kind == kind, PlanRecord.record_id.in_(gate.visible_ids(principal, kind))
            ),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def _program_plans(session: Session, principal: Principal, program: uuid.UUID) -> list[uuid.UUID]:
    gate.check(session, principal, "program", program)  # 404 when hidden
    return list(
        session.scalars(
            gate.visible(principal, "plan")
            .join(PlanDetails, PlanDetails.record_id == Record.id)
            .where(PlanDetails.program_id == program)
            .with_only_columns(Record.id)
        )
    )


def narrow(session: Session, actor: Actor, definition: ReportIn, bar: FilterBar) -> ReportIn:
    """The definition with the filter bar ANDed to its own filters, for this viewer."""
    if bar.is_empty():
        return definition
    principal = actor.principal
    kind = definition.kind
    leaves: list[dict[str, Any]] = []
    if bar.region:
        leaves.append({"field": "mine.region", "op": "eq", "value": bar.region})
    id_sets: list[set[uuid.UUID]] = []
    if bar.partner is not None:
        id_sets.append(set(session.scalars(_partner_ids(principal, kind, bar.partner))))
    if bar.plan is not None:
        gate.check(session, principal, "plan", bar.plan)  # 404 when hidden
        id_sets.append(set(session.scalars(_plan_ids(session, principal, kind, [bar.plan]))))
    if bar.program is not None:
        plans = _program_plans(session, principal, bar.program)
        id_sets.append(set(session.scalars(_plan_ids(session, principal, kind, plans))))
    if id_sets:
        ids = sorted(str(i) for i in set.intersection(*id_sets)) or [NOTHING]
        leaf = {"field": "id", "op": "in", "value": ids}
        if len(json.dumps(leaf)) > MAX_FILTER_LENGTH:
            raise Problem(
                400,
                "filter-bar-too-broad",
                "Filter bar too broad",
                f"The filter bar selects {len(ids)} records, more than a dashboard can narrow to "
                "at once; add a region or choose a plan.",
            )
        leaves.append(leaf)
    own = definition.filters
    conditions: list[Any] = []
    if isinstance(own, list):
        conditions.extend(own)
    elif isinstance(own, dict):
        conditions.append(own)
    # a list of conditions, ANDed by the engine (each item parsed on its own); the bar's plan
    # also scopes a definition without its own plan, so its goal attainment reads that plan
    scope = {"plan_id": bar.plan} if bar.plan is not None and definition.plan_id is None else {}
    return definition.model_copy(update={"filters": [*conditions, *leaves], **scope})


def run_definition(
    session: Session, actor: Actor, definition: ReportIn, bar: FilterBar
) -> tuple[ReportOut | None, str | None]:
    """Run as the viewer; a definition the viewer may not run gives its message, not numbers."""
    try:
        return engine.run(session, actor, narrow(session, actor, definition, bar)), None
    except Problem as problem:
        if problem.status in (400, 422):
            return None, problem.detail
        raise


# --- stored dashboards -------------------------------------------------------------------------


def to_out(session: Session, actor: Actor, board: Dashboard) -> DashboardOut:
    company = session.get(Company, board.company_id)
    own = board.company_id == actor.company_id
    return DashboardOut(
        id=board.id,
        name=board.name,
        panels=[PanelIn.model_validate(p) for p in board.panels],
        filters=FilterBar.model_validate(board.filters),
        company_id=board.company_id,
        company_name=company.name if company is not None else "",
        owner_user_id=board.owner_user_id if own else None,
        shared_with=saved.shares_of(session, DASHBOARD, board.id) if own else None,
        can_edit=saved.may_edit(actor, board.company_id, board.owner_user_id),
        version=board.version,
        created_at=board.created_at,
        updated_at=board.updated_at,
    )


def get(session: Session, actor: Actor, dashboard_id: uuid.UUID) -> Dashboard:
    board = session.get(Dashboard, dashboard_id)
    if board is None or not saved.may_view(
        session, actor, DASHBOARD, board.id, board.company_id, board.owner_user_id
    ):
        raise not_found("dashboard")
    return board


def list_visible(session: Session, actor: Actor) -> list[Dashboard]:
    shared = saved.shared_subject_ids(session, actor, DASHBOARD)
    statement = select(Dashboard).where(
        or_(Dashboard.company_id == actor.company_id, Dashboard.id.in_(shared))
    )
    return [
        b
        for b in session.scalars(statement.order_by(Dashboard.name, Dashboard.id))
        if saved.may_view(session, actor, DASHBOARD, b.id, b.company_id, b.owner_user_id)
    ]


def _check(session: Session, actor: Actor, data: DashboardIn) -> None:
    for i, panel in enumerate(data.panels):
        try:
            saved.get(session, actor, panel.report_id)
        except Problem as problem:
            raise invalid(
                f"body.panels.{i}.report_id", "is not a saved report you can see"
            ) from problem
    saved.check_shares(session, actor, data.shared_with)
    bar = data.filters
    principal = actor.principal
    if bar.partner is not None and bar.partner not in partner_ids(session, actor.company_id):
        raise invalid("body.filters.partner", "is not an accepted partner of your company")
    for key, kind, value in (("plan", "plan", bar.plan), ("program", "program", bar.program)):
        if value is None:
            continue
        try:
            gate.check(session, principal, kind, value)
        except Problem as problem:
            raise invalid(f"body.filters.{key}", f"is not a {kind} you can see") from problem


def _dump(data: DashboardIn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return (
        [p.model_dump(mode="json") for p in data.panels],
        data.filters.model_dump(mode="json"),
    )


def create(session: Session, actor: Actor, data: DashboardIn) -> Dashboard:
    _check(session, actor, data)
    panels, filters = _dump(data)
    board = Dashboard(
        company_id=actor.company_id,
        owner_user_id=actor.user_id,
        name=data.name,
        panels=panels,
        filters=filters,
    )
    session.add(board)
    session.flush()
    saved.set_shares(session, DASHBOARD, board.id, data.shared_with)
    audit.record(session, actor, "dashboard.created", "dashboard", board.id, name=board.name)
    return board


def _require_edit(actor: Actor, board: Dashboard) -> None:
    if not saved.may_edit(actor, board.company_id, board.owner_user_id):
        raise Problem(403, "forbidden", "Forbidden", "Only the dashboard's owner can change it.")


def update(
    session: Session, actor: Actor, dashboard_id: uuid.UUID, data: DashboardIn, expected: int
) -> Dashboard:
    board = get(session, actor, dashboard_id)
    _require_edit(actor, board)
    conditional.claim_version(session, board, expected, "dashboard")
    _check(session, actor, data)
    board.panels, board.filters = _dump(data)
    board.name = data.name
    board.updated_at = utcnow()
    saved.set_shares(session, DASHBOARD, board.id, data.shared_with)
    audit.record(session, actor, "dashboard.updated", "dashboard", board.id, name=board.name)
    return board


def remove(session: Session, actor: Actor, dashboard_id: uuid.UUID, expected: int) -> None:
    board = get(session, actor, dashboard_id)
    _require_edit(actor, board)
    conditional.claim_version(session, board, expected, "dashboard")
    audit.record(session, actor, "dashboard.deleted", "dashboard", board.id, name=board.name)
    saved.set_shares(session, DASHBOARD, board.id, SharedWith())
    session.delete(board)
    session.flush()


def run(
    session: Session, actor: Actor, dashboard_id: uuid.UUID, bar: FilterBar | None
) -> DashboardRunOut:
    """Every panel run as the viewer, under the filter bar asked for (else the stored one)."""
    board = get(session, actor, dashboard_id)
    filters = bar if bar is not None else FilterBar.model_validate(board.filters)
    panels: list[PanelOut] = []
    for panel in (PanelIn.model_validate(p) for p in board.panels):
        report = session.get(SavedReport, panel.report_id)
        if report is None:
            panels.append(
                PanelOut(
                    report_id=panel.report_id,
                    name="(deleted report)",
                    chart_type=panel.chart_type or "table",
                    definition=None,
                    result=None,
                    error="This report was deleted.",
                )
            )
            continue
        definition = ReportIn.model_validate(report.definition)
        result, error = run_definition(session, actor, definition, filters)
        panels.append(
            PanelOut(
                report_id=report.id,
                name=report.name,
                chart_type=panel.chart_type or report.chart_type,
                definition=definition,
                result=result,
                error=error,
            )
        )
    return DashboardRunOut(id=board.id, name=board.name, filters=filters, panels=panels)


# --- default dashboards (generated, never stored) ---------------------------------------------

_AMOUNT = Measure(op="sum", field="mine.amount")
_COUNT = Measure(op="count")


def _defaults(kind: str) -> list[tuple[str, str, ReportIn]]:
    return [
        (
            "Opportunities by stage",
            "bar",
            ReportIn(kind=kind, group_by=["stage"], measures=[_COUNT]),
        ),
        (
            "My amount by stage",
            "funnel",
            ReportIn(kind=kind, group_by=["stage"], measures=[_AMOUNT]),
        ),
        ("Win rate", "table", ReportIn(kind=kind, measures=[Measure(op="win_rate"), _COUNT])),
        (
            "Pipeline by quarter",
            "line",
            ReportIn(
                kind=kind,
                group_by=["close_quarter"],
                measures=[_AMOUNT, Measure(op="weighted_pipeline")],
            ),
        ),
    ]


def _generated(
    session: Session,
    actor: Actor,
    name: str,
    bar: FilterBar,
    extra: list[tuple[str, str, ReportIn]],
) -> DashboardRunOut:
    panels: list[PanelOut] = []
    for title, chart, definition in [*_defaults("opportunity"), *extra]:
        result, error = run_definition(session, actor, definition, bar)
        panels.append(
            PanelOut(
                report_id=None,
                name=title,
                chart_type=chart,
                definition=definition,
                result=result,
                error=error,
            )
        )
    return DashboardRunOut(id=None, name=name, filters=bar, panels=panels)


def partner_health(
    session: Session, actor: Actor, partner_id: uuid.UUID, region: str | None = None
) -> DashboardRunOut:
    """ "Partnership health" with one accepted partner: my view of the records we share."""
    if partner_id not in partner_ids(session, actor.company_id):
        raise not_found("partner")
    company = session.get(Company, partner_id)
    name = f"Partnership health: {company.name if company else ''}"
    return _generated(session, actor, name, FilterBar(partner=partner_id, region=region), [])


def plan_pipeline(
    session: Session, actor: Actor, plan_id: uuid.UUID, region: str | None = None
) -> DashboardRunOut:
    """ "Pipeline" of one plan the viewer may see: the plan's linked opportunities."""
    plan = gate.check(session, actor.principal, "plan", plan_id)  # 404 when hidden
    extra = [
        (
            "Pipeline by partner",
            "bar",
            ReportIn(kind="opportunity", group_by=["partner"], measures=[_AMOUNT, _COUNT]),
        )
    ]
    return _generated(
        session, actor, f"Pipeline: {plan.title}", FilterBar(plan=plan_id, region=region), extra
    )
