"""Board data: the records of a kind grouped by the stage a workflow drives, with counts and
totals per stage (the chevron bar) and the first cards of each column.

Everything starts from the gate through `records.query` (the list query: visible records,
masked values), narrowed to one scope (a plan, a program, a saved filter or a filter), so counts
and totals cover exactly the records the viewer could list. Grouping uses the masked stage (my
space's `stage` for a company workflow or the default stages, the shared `joint_stage` for a
program workflow): grouping on my own private stage while "hide private fields" is on is refused
(400), like filtering on it. Totals add the viewer's own space amounts converted to the viewer's
currency with its own dated rates (today's); amounts in a currency without a rate are listed
apart per currency, never guessed. Cards carry masked data only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, cast, func, null, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields import templates
from coterie.fields.kinds import ParticipantStatus
from coterie.kit.problems import Problem, invalid, not_found
from coterie.models import Record, RecordAccess, User
from coterie.models.cosell import PlanDetails, PlanRecord
from coterie.models.workflow import RecordWorkflow, WorkflowDefinition
from coterie.network.companies import names as company_names
from coterie.network.currency import CENT, Converter
from coterie.records import query, saved_filters
from coterie.workflows import definitions, tasks
from coterie.workflows.applicability import is_joint, summary
from coterie.workflows.labels import NOT_STAGED, names_of, stage_label
from coterie.workflows.schemas import BoardOut, BoardStage, Card, Money
from coterie.workflows.stages import StageInfo, company_definition, default_stages, infos

UNSTAGED = "_unstaged"
CARDS_PER_STAGE = 20
MAX_COLUMN_PAGE = 100


@dataclass(frozen=True)
class Scope:
    plan_id: uuid.UUID | None = None
    program_id: uuid.UUID | None = None
    saved_filter_id: uuid.UUID | None = None
    filter_text: str | None = None

    def given(self) -> list[str]:
        names = {
            "plan_id": self.plan_id,
            "program_id": self.program_id,
            "saved_filter_id": self.saved_filter_id,
            "filter": self.filter_text,
        }
        return [name for name, value in names.items() if value]


def _workflow(
    session: Session, actor: Actor, principal: Principal, kind: str, workflow_id: uuid.UUID | None
) -> WorkflowDefinition | None:
    if workflow_id is None:
        return company_definition(session, actor.company_id, kind)
    definition = session.get(WorkflowDefinition, workflow_id)
    if definition is None or not definitions.readable(session, principal, definition):
        raise not_found("workflow")
    if definition.kind != kind:
        raise invalid("query.workflow_id", f"is a workflow of {definition.kind}, not {kind}")
    return definition


def _applies_to(session: Session, principal: Principal, definition: WorkflowDefinition) -> int:
    """How many records of its kind that the principal sees a program workflow applies to:
    attached to it (a state row), or linked by a visible plan of its program."""
    attached = select(RecordWorkflow.record_id).where(RecordWorkflow.workflow_id == definition.id)
    linked = (
        select(PlanRecord.record_id)
        .join(PlanDetails, PlanDetails.record_id == PlanRecord.plan_id)
        .where(
            PlanDetails.program_id == definition.program_id,
            PlanRecord.plan_id.in_(gate.visible_ids(principal, "plan")),
        )
    )
    statement = (
        gate.visible_ids(principal, definition.kind)
        .where(or_(RecordAccess.record_id.in_(attached), RecordAccess.record_id.in_(linked)))
        .with_only_columns(func.count(RecordAccess.record_id))
    )
    return int(session.scalar(statement) or 0)


def preferred_workflow(session: Session, actor: Actor, kind: str) -> WorkflowDefinition | None:
    """The workflow a board of `kind` opens on: the one that applies to most of the records
    the viewer sees (a program workflow applies to the records attached to it or in its
    program's plans; the company's own to every record), the company's own on a tie or when
    no program workflow applies (None: the built-in stages)."""
    own = company_definition(session, actor.company_id, kind)
    if own is not None:
        return own  # it applies to every record I see: a program's can at most tie, nothing counted
    best, best_count = None, 0
    for definition in definitions.list_readable(session, actor, kind=kind, include_inactive=False):
        if definition.program_id is None:
            continue
        count = _applies_to(session, actor.principal, definition)
        if count > best_count:
            best, best_count = definition, count
    return best


def _scope_condition(
    session: Session, actor: Actor, principal: Principal, kind: str, scope: Scope
) -> tuple[ColumnElement[bool] | None, str | None, dict[str, Any]]:
    """The scope as a condition on the record id, the filter text to apply, and its summary."""
    given = scope.given()
    if len(given) > 1:
        raise invalid(
            f"query.{given[1]}", "give one scope: plan_id, program_id, saved_filter_id or filter"
        )
    record_id = RecordAccess.record_id
    if scope.plan_id is not None:
        plan = gate.check(session, principal, "plan", scope.plan_id)
        linked = select(PlanRecord.record_id).where(PlanRecord.plan_id == plan.id)
        return record_id.in_(linked), None, {"type": "plan", "id": str(plan.id), "name": plan.title}
    if scope.program_id is not None:
        program = gate.check(session, principal, "program", scope.program_id)
        in_plans = (
            select(PlanRecord.record_id)
            .join(PlanDetails, PlanDetails.record_id == PlanRecord.plan_id)
            .where(
                PlanDetails.program_id == program.id,
                PlanRecord.plan_id.in_(gate.visible_ids(principal, "plan")),
            )
        )
        attached = (
            select(RecordWorkflow.record_id)
            .join(WorkflowDefinition, WorkflowDefinition.id == RecordWorkflow.workflow_id)
            .where(WorkflowDefinition.program_id == program.id)
        )
        summary_ = {"type": "program", "id": str(program.id), "name": program.title}
        return or_(record_id.in_(in_plans), record_id.in_(attached)), None, summary_
    if scope.saved_filter_id is not None:
        saved = saved_filters.get(session, actor, scope.saved_filter_id)
        if saved.kind != kind:
            raise invalid("query.saved_filter_id", f"is a filter of {saved.kind}, not {kind}")
        summary_ = {"type": "saved_filter", "id": str(saved.id), "name": saved.name}
        return None, saved_filters.text_of(saved), summary_
    if scope.filter_text:
        return None, scope.filter_text, {"type": "filter", "filter": scope.filter_text}
    return None, None, {"type": "all"}


def _and(*conditions: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return and_(*present) if len(present) > 1 else present[0]


def build(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    workflow_id: uuid.UUID | None = None,
    scope: Scope | None = None,
    stage: str | None = None,
    limit: int = CARDS_PER_STAGE,
    cursor: str | None = None,
) -> BoardOut:
    principal = actor.principal
    scope = scope or Scope()
    definition = _workflow(session, actor, principal, kind, workflow_id)
    stages: tuple[StageInfo, ...] = infos(definition.stages) if definition else default_stages(kind)
    condition, filter_text, scope_summary = _scope_condition(session, actor, principal, kind, scope)
    resolver = query.FieldResolver(session, principal, kind)
    where = _and(query.parse_filter(resolver, filter_text), condition)
    joint = definition is not None and is_joint(definition)
    stage_value: ColumnElement[Any] = (
        Record.joint_stage.expression
        if joint
        else resolver.resolve("mine.stage", "query.workflow_id").filter_value
    )
    amounts_hidden = False
    amount: ColumnElement[Any] | None = None
    currency: ColumnElement[Any] | None = None
    try:
        field = resolver.resolve("mine.amount", "query")
        amount, currency = field.filter_value, field.currency_value
    except Problem:
        amounts_hidden = True
    try:
        sort = query.parse_sort(resolver, "mine.close_date")
    except Problem:
        sort = query.parse_sort(resolver, "-updated_at")
    keys = [s.key for s in stages]

    def in_column(key: str) -> ColumnElement[bool]:
        if key == UNSTAGED:
            return or_(stage_value.is_(None), stage_value.not_in(keys))
        return stage_value == key

    joint_names = _joint_names(session, actor, kind)
    base = query.ListQuery(resolver, where, sort)
    converter = Converter.for_company(session, principal.company_id)
    counts, totals, unconverted = _aggregate(
        session, base, stage_value, amount, currency, keys, converter
    )

    def column(info: StageInfo | None, page_limit: int, page_cursor: str | None) -> BoardStage:
        key = info.key if info is not None else UNSTAGED
        listing = query.ListQuery(resolver, _and(where, in_column(key)), sort)
        rows, next_cursor = listing.page(session, limit=page_limit, cursor=page_cursor)
        records = [row[0] for row in rows]
        return BoardStage(
            key=info.key if info is not None else None,
            name=info.name if info is not None else NOT_STAGED,
            category=info.category.value if info is not None else None,
            count=counts.get(key, 0),
            total=None
            if amounts_hidden
            else Money(
                amount=f"{totals.get(key, Decimal(0)).quantize(CENT)}", currency=converter.currency
            ),
            unconverted=[
                Money(amount=f"{value.quantize(CENT)}", currency=code)
                for code, value in sorted(unconverted.get(key, {}).items())
            ],
            cards=_cards(session, principal, kind, definition, records, joint_names),
            next_cursor=next_cursor,
        )

    if stage is not None:
        if stage != UNSTAGED and stage not in keys:
            raise invalid(
                "query.stage",
                f"is not a stage of this board: one of {', '.join(keys)}, or {UNSTAGED}",
            )
        info = next((s for s in stages if s.key == stage), None)
        page_limit = max(1, min(limit, MAX_COLUMN_PAGE))
        columns = [column(info, page_limit, cursor)]
        unstaged = None
        if info is None:
            columns, unstaged = [], columns[0]
    else:
        columns = [column(info, CARDS_PER_STAGE, None) for info in stages]
        unstaged = column(None, CARDS_PER_STAGE, None)
    return BoardOut(
        workflow=summary(definition, kind),
        scope=scope_summary,
        currency=converter.currency,
        amounts_hidden=amounts_hidden,
        stages=columns,
        unstaged=unstaged,
    )


def _aggregate(
    session: Session,
    base: query.ListQuery,
    stage_value: ColumnElement[Any],
    amount: ColumnElement[Any] | None,
    currency: ColumnElement[Any] | None,
    keys: list[str],
    converter: Converter,
) -> tuple[dict[str, int], dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """Counts per column, converted totals per column, unconverted sums per column and currency."""
    has_amount = amount is not None and currency is not None
    currency_value: ColumnElement[Any] = currency if currency is not None else null()
    # typed: an untyped NULL is text to PostgreSQL, and sum(text) does not exist
    amount_value: ColumnElement[Any] = amount if amount is not None else cast(null(), Numeric)
    per_record = base.statement(
        RecordAccess.record_id,
        stage_value.label("stage"),
        currency_value.label("currency"),
        amount_value.label("amount"),
    ).subquery("board_rows")
    # grouped outside: the masked expressions carry bound parameters
    statement = (
        select(
            per_record.c.stage,
            func.count(per_record.c.record_id),
            per_record.c.currency,
            func.sum(per_record.c.amount),
        )
        .group_by(per_record.c.stage, per_record.c.currency)
        .execution_options(**rls.as_company(base.principal.company_id))
    )
    counts: dict[str, int] = defaultdict(int)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    unconverted: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    today = utcnow().date()
    for row in session.execute(statement):
        key = row[0] if row[0] in keys else UNSTAGED
        counts[key] += int(row[1])
        if not has_amount or row[3] is None:
            continue
        value = Decimal(row[3])
        code = row[2] or converter.currency
        converted = converter.convert(value, code, today)
        if converted is None:
            unconverted[key][code] += value
        else:
            totals[key] += converted
    return counts, totals, unconverted


def _joint_names(session: Session, actor: Actor, kind: str) -> dict[str, str]:
    """Joint stage key → name, from the program workflows of the kind the actor sees (an
    active one's name first, then the newest's)."""
    programs = [
        d for d in definitions.list_readable(session, actor, kind=kind) if d.program_id is not None
    ]
    names: dict[str, str] = {}
    for definition in sorted(programs, key=lambda d: (d.active, d.created_at), reverse=True):
        for key, name in names_of(definition.stages).items():
            names.setdefault(key, name)
    return names


def _user_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _cards(
    session: Session,
    principal: Principal,
    kind: str,
    definition: WorkflowDefinition | None,
    records: list[Record],
    joint_names: dict[str, str],
) -> list[Card]:
    if not records:
        return []
    ids = [r.id for r in records]
    policy = templates.load(session, principal.company_id, kind).own_policy(principal.hide_private)
    mine = {s.record_id: s for s in gate.spaces(session, principal, kind, ids, policy) if s.is_mine}
    people = gate.participants(session, principal, kind, ids)
    company_ids = {p.company_id for p in people}
    names = company_names(session, company_ids)
    by_record: dict[uuid.UUID, list[str]] = defaultdict(list)
    for p in people:
        if p.status == ParticipantStatus.ACTIVE.value:
            by_record[p.record_id].append(names.get(p.company_id, ""))
    versions: dict[uuid.UUID, int] = {}
    if definition is not None:
        statement = (
            select(RecordWorkflow.record_id, RecordWorkflow.version)
            .where(RecordWorkflow.workflow_id == definition.id, RecordWorkflow.record_id.in_(ids))
            .execution_options(**rls.as_company(principal.company_id))
        )
        versions = {row[0]: row[1] for row in session.execute(statement)}
    owners = {r.id: _as_uuid(mine[r.id].standard.get("owner")) for r in records if r.id in mine}
    owner_names = _user_names(session, {o for o in owners.values() if o is not None})
    steps = tasks.next_open(session, principal, ids)
    today = utcnow().date()
    cards = []
    for r in records:
        space = mine.get(r.id)
        standard = space.standard if space is not None else {}
        owner = owners.get(r.id)
        step = steps.get(r.id)
        due = step.due_date if step is not None else None
        cards.append(
            Card(
                id=r.id,
                kind=r.kind,
                title=r.title,
                customer_name=r.customer_name,
                amount=standard.get("amount"),
                close_date=standard.get("close_date"),
                stage=standard.get("stage"),
                joint_stage=r.joint_stage,
                joint_stage_name=stage_label(joint_names, r.joint_stage, "")
                if r.joint_stage
                else None,
                participants=sorted(by_record.get(r.id, [])),
                state_version=versions.get(r.id, 0),
                owner_name=owner_names.get(owner) if owner is not None else None,
                next_step=step.title if step is not None else None,
                next_step_due=due,
                next_step_overdue=due is not None and due < today,
            )
        )
    return cards
