"""Which workflows apply to a record for a viewer, and where the record stands on each: its state
row, its stage, and the transitions open from there.

Which workflows apply to a record, for a principal who may see it (`applicable`):
- the principal's own company's active company workflow for the record's kind: it drives that
  company's space `stage`; no other company ever sees it or its state;
- active program workflows for the kind that the record is attached to (it has a state row on
  them) or whose program has a plan, visible to the principal, that links the record: they
  drive the shared `records.joint_stage`.

Every read starts from `gate.check` of the record (404 when hidden) and carries
`rls.as_company`. Nothing here commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, not_, or_, select
from sqlalchemy.orm import Session

from coterie.authz import gate, rls, workflows
from coterie.authz.principal import Principal
from coterie.fields import templates
from coterie.kit.problems import Problem, not_found
from coterie.models import Record, Space
from coterie.models.cosell import PlanDetails, PlanRecord
from coterie.models.workflow import RecordWorkflow, WorkflowDefinition, WorkflowMove
from coterie.workflows.definitions import ANY_OPEN
from coterie.workflows.schemas import StageOut, WorkflowSummary
from coterie.workflows.stages import (
    StageCategory,
    StageInfo,
    category_in,
    company_definition,
    default_stages,
    infos,
)

DONE, PENDING, REJECTED, CANCELED, WAITING, APPROVED = (
    "done",
    "pending",
    "rejected",
    "canceled",
    "waiting",
    "approved",
)


def is_joint(definition: WorkflowDefinition) -> bool:
    return definition.program_id is not None


def summary(definition: WorkflowDefinition | None, kind: str) -> WorkflowSummary:
    """What a viewer of a record or board is told about a workflow (None: the built-in one)."""
    if definition is None:
        return WorkflowSummary(
            id=None,
            name="Default stages",
            scope="default",
            kind=kind,
            program_id=None,
            drives="mine.stage",
            stages=[_stage_out(s) for s in default_stages(kind)],
        )
    return WorkflowSummary(
        id=definition.id,
        name=definition.name,
        scope="program" if is_joint(definition) else "company",
        kind=definition.kind,
        program_id=definition.program_id,
        drives="joint_stage" if is_joint(definition) else "mine.stage",
        stages=[_stage_out(s) for s in infos(definition.stages)],
    )


def _stage_out(info: StageInfo) -> StageOut:
    return StageOut(key=info.key, name=info.name, category=info.category.value)


def _linked_programs(
    session: Session, principal: Principal, record_id: uuid.UUID
) -> set[uuid.UUID]:
    """Programs of the plans (visible to the principal) that link the record."""
    statement = (
        select(PlanDetails.program_id)
        .join(PlanRecord, PlanRecord.plan_id == PlanDetails.record_id)
        .where(
            PlanRecord.record_id == record_id,
            PlanRecord.plan_id.in_(gate.visible_ids(principal, "plan")),
            PlanDetails.program_id.is_not(None),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )
    return {row for row in session.scalars(statement) if row is not None}


def _attached(session: Session, principal: Principal, record_id: uuid.UUID) -> set[uuid.UUID]:
    statement = (
        select(RecordWorkflow.workflow_id)
        .where(RecordWorkflow.record_id == record_id)
        .execution_options(**rls.as_company(principal.company_id))
    )
    return set(session.scalars(statement))


def _program_workflows(
    session: Session, principal: Principal, record: Record
) -> Select[WorkflowDefinition] | None:
    """Active program workflows of the record's kind that the record is attached to or whose
    program has a plan (visible to the principal) linking it, whoever may see them (None:
    certainly none)."""
    attached = _attached(session, principal, record.id)
    programs = _linked_programs(session, principal, record.id)
    if not attached and not programs:
        return None
    return (
        select(WorkflowDefinition)
        .where(
            WorkflowDefinition.program_id.is_not(None),
            WorkflowDefinition.kind == record.kind,
            WorkflowDefinition.active.is_(True),
            or_(
                WorkflowDefinition.id.in_(attached),
                WorkflowDefinition.program_id.in_(programs),
            ),
        )
        .order_by(WorkflowDefinition.created_at)
        .execution_options(**rls.as_company(principal.company_id))
    )


def applicable(session: Session, principal: Principal, record: Record) -> list[WorkflowDefinition]:
    """The workflows of `record` the principal sees (the record already passed the gate): a
    program workflow only when the principal sees the program (`authz.workflows`)."""
    found: list[WorkflowDefinition] = []
    own = company_definition(session, principal.company_id, record.kind)
    if own is not None:
        found.append(own)
    statement = _program_workflows(session, principal, record)
    if statement is not None:
        found += session.scalars(statement.where(workflows.visible_condition(principal)))
    return found


def drives_unseen_joint_stage(session: Session, principal: Principal, record: Record) -> bool:
    """Whether a program workflow the principal may not see drives the record's joint stage."""
    statement = _program_workflows(session, principal, record)
    if statement is None:
        return False
    unseen = statement.where(not_(workflows.visible_condition(principal))).limit(1)
    return session.scalars(unseen).first() is not None


def find(
    session: Session, principal: Principal, record: Record, workflow_id: uuid.UUID
) -> WorkflowDefinition:
    for definition in applicable(session, principal, record):
        if definition.id == workflow_id:
            return definition
    raise not_found("workflow on this record")


def _state(
    session: Session, principal: Principal, record_id: uuid.UUID, workflow_id: uuid.UUID
) -> RecordWorkflow | None:
    statement = (
        select(RecordWorkflow)
        .where(RecordWorkflow.record_id == record_id, RecordWorkflow.workflow_id == workflow_id)
        .execution_options(**rls.as_company(principal.company_id))
    )
    state: RecordWorkflow | None = session.scalars(statement).first()
    return state


def own_space(session: Session, principal: Principal, record_id: uuid.UUID) -> Space | None:
    """My company's space on a record the gate admitted (None when my company has none)."""
    statement = (
        select(Space)
        .where(Space.record_id == record_id, Space.company_id == principal.company_id)
        .execution_options(**rls.as_company(principal.company_id))
    )
    return session.scalars(statement).first()


def raw_stage(
    session: Session, principal: Principal, record: Record, definition: WorkflowDefinition
) -> str | None:
    """The stored stage the workflow drives: my space's stage, or the record's joint stage."""
    if is_joint(definition):
        return record.joint_stage
    space = own_space(session, principal, record.id)
    return space.stage if space is not None else None


def _known(stages: tuple[StageInfo, ...], key: str | None) -> StageInfo | None:
    return next((s for s in stages if s.key == key), None)


def _stage_def(definition: WorkflowDefinition, key: str) -> dict[str, Any]:
    return next((s for s in definition.stages if s["key"] == key), {})


@dataclass(frozen=True)
class Transition:
    approvals: list[dict[str, Any]]
    mode: str


def transition(definition: WorkflowDefinition, current: str | None, to: str) -> Transition | None:
    """The transition a move from `current` to `to` takes, or None when it is not allowed.

    A definition without transitions allows every move, without approvals. Otherwise a move
    needs a transition from the current stage (or from "*": any open stage); a record with no
    stage (or one the definition does not know) may always enter the first stage."""
    stages = infos(definition.stages)
    if _known(stages, current) is None:
        current = None
    if current == to:
        return None
    if not definition.transitions:
        return Transition([], "sequential")
    is_open = category_in(stages, current) == StageCategory.OPEN
    for item in definition.transitions:
        if item["to"] != to:
            continue
        if item["from"] == current or (item["from"] == ANY_OPEN and is_open):
            return Transition(list(item.get("approvals") or []), item.get("mode", "sequential"))
    if current is None and stages and stages[0].key == to:
        return Transition([], "sequential")
    return None


def allowed_moves(definition: WorkflowDefinition, current: str | None) -> list[str]:
    return [
        s.key
        for s in infos(definition.stages)
        if transition(definition, current, s.key) is not None
    ]


def _pending(
    session: Session, principal: Principal, record_id: uuid.UUID, workflow_id: uuid.UUID
) -> WorkflowMove | None:
    statement = (
        select(WorkflowMove)
        .where(
            WorkflowMove.record_id == record_id,
            WorkflowMove.workflow_id == workflow_id,
            WorkflowMove.status == PENDING,
        )
        .execution_options(**rls.as_company(principal.company_id))
    )
    return session.scalars(statement).first()


def _stage_hidden(session: Session, principal: Principal, definition: WorkflowDefinition) -> bool:
    """My own private `stage` while "hide private fields" is on: the state is not shown."""
    if is_joint(definition) or not principal.hide_private:
        return False
    policy = templates.load(session, principal.company_id, definition.kind).own_policy(True)
    return "stage" not in policy.visible_standard


def _may_edit(session: Session, principal: Principal, record: Record) -> bool:
    try:
        gate.require_edit(session, principal, record.kind, record.id)
    except Problem:
        return False
    return True
