"""The workflow engine: which workflows apply to a record for a viewer, where the record stands,
moves (entry criteria, transitions, approvals), history, and the tasks a stage's steps create.

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
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.activity import notifications
from coterie.auth.principal import Actor
from coterie.authz import gate, grants, rls, workflows
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields import templates
from coterie.fields.kinds import KINDS, Kind, ParticipantStatus
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict, forbidden, invalid, not_found
from coterie.models import Company, Record, Space, User
from coterie.models.cosell import PlanDetails, PlanRecord
from coterie.models.vocabulary import Role
from coterie.models.workflow import (
    RecordTask,
    RecordWorkflow,
    WorkflowApproval,
    WorkflowDefinition,
    WorkflowMove,
)
from coterie.records import search
from coterie.records.schemas import check_joint_stage
from coterie.workflows import definitions
from coterie.workflows.definitions import ANY_OPEN
from coterie.workflows.schemas import (
    ApprovalOut,
    InboxItem,
    MoveIn,
    MoveOut,
    RecordWorkflowOut,
    StageOut,
    WorkflowSummary,
)
from coterie.workflows.stages import (
    StageCategory,
    StageInfo,
    category_in,
    company_definition,
    default_stages,
    infos,
)

INBOX_LIMIT = 500
_RANK = {Role.MEMBER.value: 0, Role.MANAGER.value: 1, Role.ADMIN.value: 2}
DONE, PENDING, REJECTED, CANCELED, WAITING, APPROVED = (
    "done",
    "pending",
    "rejected",
    "canceled",
    "waiting",
    "approved",
)


# -- applicability and state ------------------------------------------------------------------


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


def state_out(
    session: Session,
    principal: Principal,
    record: Record,
    definition: WorkflowDefinition,
    *,
    can_edit: bool | None = None,
) -> RecordWorkflowOut:
    stages = infos(definition.stages)
    state = _state(session, principal, record.id, definition.id)
    current = _known(stages, raw_stage(session, principal, record, definition))
    pending = _pending(session, principal, record.id, definition.id)
    if can_edit is None:
        can_edit = _may_edit(session, principal, record)
    hidden = _stage_hidden(session, principal, definition)
    key = current.key if current is not None else None
    return RecordWorkflowOut(
        workflow=summary(definition, definition.kind),
        stage=None if hidden or current is None else _stage_out(current),
        entered_at=state.entered_at if state is not None and not hidden else None,
        version=state.version if state is not None else 0,
        pending_move=moves_out(session, principal, [pending])[0] if pending else None,
        allowed_moves=[] if hidden else allowed_moves(definition, key),
        can_move=can_edit and not hidden and pending is None,
    )


def _may_edit(session: Session, principal: Principal, record: Record) -> bool:
    try:
        gate.require_edit(session, principal, record.kind, record.id)
    except Problem:
        return False
    return True


def record_states(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID
) -> list[RecordWorkflowOut]:
    principal = actor.principal
    record = gate.check(session, principal, kind, record_id)
    can_edit = _may_edit(session, principal, record)
    return [
        state_out(session, principal, record, d, can_edit=can_edit)
        for d in applicable(session, principal, record)
    ]


# -- moves ------------------------------------------------------------------------------------


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def missing_fields(
    session: Session,
    principal: Principal,
    record: Record,
    stage: dict[str, Any],
    space: Space | None,
) -> list[str]:
    """The entry criteria of `stage` that the record does not meet: core fields, and fields of
    `space` (the mover's own space) for `mine.<key>`."""
    missing: list[str] = []
    template = templates.load(session, principal.company_id, record.kind)
    for path in stage.get("required_fields") or []:
        prefix, dot, key = str(path).partition(".")
        if not dot:
            value = getattr(record, prefix, None)
        elif space is None or key not in template.by_key:
            value = None
        elif template.by_key[key].is_standard:
            column = {"owner": "owner_user_id"}.get(key, key)
            value = getattr(space, column, None)
        else:
            value = (space.custom or {}).get(key)
        if not _filled(value):
            missing.append(str(path))
    return missing


def criteria_problem(stage: dict[str, Any], missing: list[str]) -> Problem:
    name = stage.get("name") or stage.get("key")
    message = f"is required to enter {name}"
    return Problem(
        422,
        "entry-criteria",
        "Entry criteria not met",
        f"Fill {', '.join(missing)} before moving to {name}.",
        errors=[{"path": path, "message": message, "type": "entry-criteria"} for path in missing],
        missing_fields=missing,
    )


def _participants(session: Session, principal: Principal, record: Record) -> list[uuid.UUID]:
    return [
        p.company_id
        for p in gate.participants(session, principal, record.kind, [record.id])
        if p.status == ParticipantStatus.ACTIVE.value
    ]


def _expand_approvals(
    session: Session,
    principal: Principal,
    record: Record,
    definition: WorkflowDefinition,
    rule: Transition,
) -> list[tuple[uuid.UUID, str]]:
    """The (company, role) pairs a move needs, in order; 409 when a named company is not an
    active participant of the record or may not see the workflow ("partners" are the
    companies on the record that see it: a company on the record but not on the program is
    never asked, which would show it the workflow)."""
    if not rule.approvals:
        return []
    active = _participants(session, principal, record)
    sees = definitions.audience(session, principal, definition)
    pairs: list[tuple[uuid.UUID, str]] = []
    for item in rule.approvals:
        company = str(item["company"])
        role = str(item.get("role") or Role.MANAGER.value)
        if company == "owner":
            targets = [record.owner_company_id]
        elif company == "host":
            targets = [definition.company_id]
        elif company == "mover":
            targets = [principal.company_id]
        elif company == "partners":
            targets = [c for c in active if c != definition.company_id and c in sees]
        else:
            targets = [uuid.UUID(company)]
        for target in targets:
            if target not in active:
                raise conflict(
                    "approver-not-on-record",
                    "This move needs an approval from a company that is not an active "
                    "participant of the record.",
                )
            if target not in sees:
                raise conflict(
                    "approver-not-on-program",
                    "This move needs an approval from a company that does not take part in "
                    "the workflow's program.",
                )
            if (target, role) not in pairs:
                pairs.append((target, role))
    return pairs


STATE = "record's state on this workflow"


def _options(principal: Principal) -> dict[str, Any]:
    return rls.as_company(principal.company_id)


def _claim_state(
    session: Session,
    principal: Principal,
    record_id: uuid.UUID,
    workflow_id: uuid.UUID,
    expected: int,
) -> RecordWorkflow:
    """Take the record's state on the workflow at version `expected` (the mover's If-Match; 0
    before the first move): of racing moves, the one conditional UPDATE (or, for the first
    move, the INSERT) that succeeds decides; the others get 412 having written nothing."""
    state = _state(session, principal, record_id, workflow_id)
    if state is None:
        if expected != 0:
            raise conditional.stale(STATE, 0, expected)
        first = RecordWorkflow(
            record_id=record_id, workflow_id=workflow_id, stage_key=None, version=1
        )
        state = conditional.create_once(session, first, STATE, _options(principal))
    else:
        conditional.claim_version(session, state, expected, STATE, _options(principal))
    return state


def _advance_state(
    session: Session, principal: Principal, record_id: uuid.UUID, workflow_id: uuid.UUID
) -> RecordWorkflow:
    """The state one version on, for a change a client did not name a version for (a decision,
    a withdrawal, a stage edited through the space): a mover's If-Match read before it goes
    stale."""
    state = _state(session, principal, record_id, workflow_id)
    if state is None:
        first = RecordWorkflow(
            record_id=record_id, workflow_id=workflow_id, stage_key=None, version=1
        )
        state = conditional.create_once(session, first, STATE, _options(principal))
    else:
        conditional.bump_version(session, state, _options(principal))
    return state


def _lock_stage_holder(
    session: Session, principal: Principal, record: Record, definition: WorkflowDefinition
) -> None:
    """Lock (and re-read) the row that holds the stage, before the state: a stage edited through
    the space or the core locks that row first too, so the two never wait on each other in
    opposite orders (PostgreSQL; SQLite runs one writer at a time)."""
    holder: Select[Any]
    if is_joint(definition):
        holder = select(Record).where(Record.id == record.id)
    else:
        holder = select(Space).where(
            Space.record_id == record.id, Space.company_id == principal.company_id
        )
    session.execute(
        holder.with_for_update().execution_options(populate_existing=True, **_options(principal))
    )


def _lock_move(session: Session, principal: Principal, move_id: uuid.UUID) -> WorkflowMove:
    """The move, locked and re-read: its deciders and its requester take turns on it."""
    return session.scalars(
        select(WorkflowMove)
        .where(WorkflowMove.id == move_id)
        .with_for_update()
        .execution_options(populate_existing=True, **_options(principal))
    ).one()


def move(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    workflow_id: uuid.UUID,
    data: MoveIn,
    expected: int,
) -> WorkflowMove:
    """Move a record to another stage: at once, or pending the transition's approvals. The
    record's state on the workflow is claimed at version `expected` (If-Match) first: of two
    moves from the same stage exactly one happens, and at most one move is ever pending."""
    principal = actor.principal
    record = gate.check(session, principal, kind, record_id)
    definition = find(session, principal, record, workflow_id)
    gate.require_edit(session, principal, kind, record_id)
    if _stage_hidden(session, principal, definition):
        raise conflict(
            "stage-hidden",
            "Your stage is a private field and private fields are hidden: show them to move.",
        )
    _lock_stage_holder(session, principal, record, definition)
    state = _claim_state(session, principal, record_id, workflow_id, expected)
    stages = infos(definition.stages)
    target = _known(stages, data.to)
    if target is None:
        raise invalid(
            "body.to",
            f"is not a stage of {definition.name}: one of {', '.join(s.key for s in stages)}",
        )
    current = raw_stage(session, principal, record, definition)
    current = current if _known(stages, current) else None
    if current == data.to:
        raise conflict("already-in-stage", f"The record is already in {target.name}.")
    if is_joint(definition):  # a lead is converted by converting it, and stays converted
        check_joint_stage(kind, record.joint_stage, data.to, path="body.to")
    if _pending(session, principal, record_id, workflow_id) is not None:
        raise conflict(
            "move-pending",
            "A move of this record is waiting for approvals: it must be decided or canceled first.",
        )
    rule = transition(definition, current, data.to)
    if rule is None:
        allowed = ", ".join(allowed_moves(definition, current)) or "none"
        raise conflict(
            "transition-not-allowed",
            f"{definition.name} does not allow a move from {current or 'no stage'} to "
            f"{data.to}; allowed: {allowed}.",
        )
    stage = _stage_def(definition, data.to)
    missing = missing_fields(
        session, principal, record, stage, own_space(session, principal, record_id)
    )
    if missing:
        raise criteria_problem(stage, missing)
    approvals = _expand_approvals(session, principal, record, definition, rule)
    now = utcnow()
    moved = WorkflowMove(
        record_id=record_id,
        workflow_id=workflow_id,
        from_stage=current,
        to_stage=data.to,
        status=PENDING if approvals else DONE,
        requested_by_user_id=actor.user_id,
        requested_by_company_id=actor.company_id,
        requested_at=now,
        note=data.note,
    )
    session.add(moved)
    session.flush()
    if approvals:
        asked = [
            WorkflowApproval(
                move_id=moved.id,
                record_id=record_id,
                position=position,
                company_id=company_id,
                role=role,
                status=PENDING if position == 0 or rule.mode == "parallel" else WAITING,
                comment="",
            )
            for position, (company_id, role) in enumerate(approvals)
        ]
        session.add_all(asked)
        audit.record(
            session,
            actor,
            "workflow.move_requested",
            record.kind,
            record.id,
            **_moved(definition, moved),
        )
        session.flush()
        _notify_approvers(session, actor, record, moved, asked)
    else:
        _complete(session, principal, actor, record, definition, moved, state)
        audit.record(
            session, actor, "workflow.moved", record.kind, record.id, **_moved(definition, moved)
        )
    session.flush()
    return moved


def _complete(
    session: Session,
    principal: Principal,
    actor: Actor,
    record: Record,
    definition: WorkflowDefinition,
    moved: WorkflowMove,
    state: RecordWorkflow,
    *,
    apply_stage: bool = True,
) -> None:
    """The move is done: the stage applies, the state (claimed or advanced by the caller) is
    at the new stage, the stage's steps become tasks."""
    now = utcnow()
    moved.status = DONE
    moved.completed_at = now
    if apply_stage:
        _apply_stage(session, principal, actor, record, definition, moved.to_stage)
    state.stage_key = moved.to_stage
    state.entered_at = now
    _create_step_tasks(session, principal, record, definition, moved)


def _apply_stage(
    session: Session,
    principal: Principal,
    actor: Actor,
    record: Record,
    definition: WorkflowDefinition,
    stage: str,
) -> None:
    now = utcnow()
    if is_joint(definition):
        conditional.bump_version(session, record, _options(principal))
        record.joint_stage = stage
        record.updated_at = now
        search.index_core(session, record)
        grants.after_write(session, record.id, record.kind, acting_user_id=actor.user_id)
        return
    space = own_space(session, principal, record.id)  # the approver's company is the owner
    if space is None:
        raise conflict("no-space", "Your company has no space on this record.")
    conditional.bump_version(session, space, _options(principal))
    space.stage = stage
    space.updated_at = now
    space.updated_by_user_id = actor.user_id
    search.index_space(session, record.kind, space, ["stage"])
    grants.after_write(
        session,
        record.id,
        record.kind,
        rule_companies={principal.company_id},
        acting_user_id=actor.user_id,
    )


def _create_step_tasks(
    session: Session,
    principal: Principal,
    record: Record,
    definition: WorkflowDefinition,
    moved: WorkflowMove,
) -> None:
    """One task per step of the entered stage. A company workflow's tasks are the company's; a
    program workflow's are the mover's company's and shared with every participant. "record
    owner" is the owner in that company's own space (read only by that company: a move another
    company completes assigns such steps to the mover)."""
    steps = _stage_def(definition, moved.to_stage).get("steps") or []
    if not steps:
        return
    joint = is_joint(definition)
    task_company = moved.requested_by_company_id if joint else definition.company_id
    if task_company is None:
        return
    record_owner: uuid.UUID | None = None
    if task_company == principal.company_id:
        space = own_space(session, principal, record.id)
        record_owner = space.owner_user_id if space is not None else None
    today = utcnow().date()
    for step in steps:
        owner_spec = str(step.get("owner") or "record_owner")
        if owner_spec == "mover":
            owner = moved.requested_by_user_id
        elif owner_spec == "record_owner":
            owner = record_owner or moved.requested_by_user_id
        else:
            owner = uuid.UUID(owner_spec)
        days = step.get("due_in_days")
        session.add(
            RecordTask(
                record_id=record.id,
                kind=record.kind,
                company_id=task_company,
                workflow_id=definition.id,
                stage_key=moved.to_stage,
                title=str(step["title"]),
                owner_user_id=owner,
                due_date=today + timedelta(days=int(days)) if days is not None else None,
                shared=joint,
                created_by_user_id=moved.requested_by_user_id,
            )
        )


def cancel(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    workflow_id: uuid.UUID,
    move_id: uuid.UUID,
) -> WorkflowMove:
    """The requesting company withdraws a pending move (claimed: pending -> canceled in SQL, so
    a decision racing it finds it no longer pending)."""
    principal = actor.principal
    record = gate.check(session, principal, kind, record_id)
    definition = find(session, principal, record, workflow_id)
    pending = _pending(session, principal, record_id, workflow_id)
    if pending is None or pending.id != move_id:
        raise conflict("not-pending", "That move is not waiting for approvals.")
    if pending.requested_by_company_id != actor.company_id:
        raise forbidden("Only the company that asked for a move withdraws it.")
    gate.require_edit(session, principal, kind, record_id)
    pending = _lock_move(session, principal, move_id)
    if pending.status != PENDING:
        raise conflict("not-pending", f"That move is no longer pending: it was {pending.status}.")
    _close(session, principal, pending, CANCELED)
    _advance_state(session, principal, record_id, workflow_id)
    audit.record(
        session,
        actor,
        "workflow.move_canceled",
        record.kind,
        record.id,
        **_moved(definition, pending),
    )
    return pending


def _approvals_of(
    session: Session, principal: Principal, move_ids: list[uuid.UUID], *, fresh: bool = False
) -> list[WorkflowApproval]:
    """The approvals of the moves; `fresh` re-reads rows this session holds already (under the
    move's lock, to decide what comes next)."""
    if not move_ids:
        return []
    statement = (
        select(WorkflowApproval)
        .where(WorkflowApproval.move_id.in_(move_ids))
        .order_by(WorkflowApproval.move_id, WorkflowApproval.position)
        .execution_options(populate_existing=fresh, **rls.as_company(principal.company_id))
    )
    return list(session.scalars(statement))


def _close(session: Session, principal: Principal, moved: WorkflowMove, status: str) -> None:
    """End a pending move (its row locked by the caller) and the approvals it still waits for."""
    moved.status = status
    moved.completed_at = utcnow()
    for approval in _approvals_of(session, principal, [moved.id], fresh=True):
        if approval.status in (PENDING, WAITING):
            approval.status = CANCELED


def decide(
    session: Session, actor: Actor, approval_id: uuid.UUID, *, approve: bool, comment: str
) -> WorkflowMove:
    """Approve or reject an approval asked of my company (a user with the role or above)."""
    principal = actor.principal
    approval = session.scalars(
        select(WorkflowApproval)
        .where(WorkflowApproval.id == approval_id)
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if approval is None:
        raise not_found("approval")
    moved = session.scalars(
        select(WorkflowMove)
        .where(WorkflowMove.id == approval.move_id)
        .execution_options(**rls.as_company(actor.company_id))
    ).one()
    definition = session.get(WorkflowDefinition, moved.workflow_id)
    if definition is None:  # pragma: no cover (cascade deletes approvals with definitions)
        raise not_found("approval")
    try:
        record = gate.check(session, principal, definition.kind, approval.record_id)
        find(session, principal, record, definition.id)
    except Problem as exc:
        raise not_found("approval") from exc
    if approval.company_id != actor.company_id:
        raise forbidden("This approval is asked of another company.")
    if _RANK[actor.role.value] < _RANK[approval.role]:
        raise forbidden(f"This approval needs a {approval.role} or above of your company.")
    if approval.status == WAITING:
        raise conflict("not-your-turn", "Earlier approvals of this move come first.")
    if approval.status != PENDING:
        raise conflict("already-decided", f"This approval is already {approval.status}.")
    # the move first (its requester withdraws it under the same lock), then the approval
    moved = _lock_move(session, principal, moved.id)
    if moved.status != PENDING:
        raise conflict("already-decided", f"This move is no longer pending: it was {moved.status}.")
    now = utcnow()
    decided = conditional.claim_status(
        session,
        approval,
        [PENDING],
        {
            "status": APPROVED if approve else REJECTED,
            "decided_by_user_id": actor.user_id,
            "decided_at": now,
            "comment": comment,
        },
        _options(principal),
    )
    if not decided:
        status = conditional.current_status(session, approval, _options(principal))
        if status == WAITING:
            raise conflict("not-your-turn", "Earlier approvals of this move come first.")
        raise conflict("already-decided", f"This approval is already {status}.")
    if not approve:
        _close(session, principal, moved, REJECTED)
        _advance_state(session, principal, record.id, definition.id)
        audit.record(
            session,
            actor,
            "workflow.move_rejected",
            record.kind,
            record.id,
            **_moved(definition, moved),
        )
        _notify_requester(session, actor, record, moved)
        return moved
    audit.record(
        session, actor, "workflow.approved", record.kind, record.id, **_moved(definition, moved)
    )
    rest = [
        a
        for a in _approvals_of(session, principal, [moved.id], fresh=True)
        if a.status in (PENDING, WAITING)
    ]
    if any(a.status == PENDING for a in rest):
        return moved
    if rest:
        rest[0].status = PENDING  # sequential: the next in order
        _advance_state(session, principal, record.id, definition.id)
        session.flush()
        _notify_approvers(session, actor, record, moved, rest[:1])
        return moved
    _lock_stage_holder(session, principal, record, definition)
    state = _advance_state(session, principal, record.id, definition.id)
    _complete(session, principal, actor, record, definition, moved, state)
    audit.record(
        session, actor, "workflow.moved", record.kind, record.id, **_moved(definition, moved)
    )
    session.flush()
    _notify_requester(session, actor, record, moved)
    return moved


def _notify_approvers(
    session: Session,
    actor: Actor,
    record: Record,
    moved: WorkflowMove,
    approvals: list[WorkflowApproval],
) -> None:
    """Tell the users who may decide the now-pending ones of `approvals` (the role or above in
    the asked company); `notify` re-checks that each of them may see the record."""
    recipients: list[uuid.UUID] = []
    for approval in approvals:
        if approval.status != PENDING:
            continue
        roles = [role for role, rank in _RANK.items() if rank >= _RANK[approval.role]]
        recipients += session.scalars(
            select(User.id).where(
                User.company_id == approval.company_id,
                User.is_active.is_(True),
                User.role.in_(roles),
            )
        )
    notifications.notify(
        session,
        user_ids=recipients,
        event="approval_requested",
        record_id=record.id,
        kind=record.kind,
        actor=actor,
        subject_id=moved.id,
    )


def _notify_requester(session: Session, actor: Actor, record: Record, moved: WorkflowMove) -> None:
    """Tell whoever asked for the move that it was decided (completed or rejected)."""
    if moved.requested_by_user_id is None:
        return
    notifications.notify(
        session,
        user_ids=[moved.requested_by_user_id],
        event="approval_decided",
        record_id=record.id,
        kind=record.kind,
        actor=actor,
        subject_id=moved.id,
    )


# -- presenting moves and approvals -------------------------------------------------------------


def _names(
    session: Session, model: type[User] | type[Company], ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {
        row[0]: row[1]
        for row in session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    }


def _can_decide(actor_company: uuid.UUID, role: Role, approval: WorkflowApproval) -> bool:
    return (
        approval.status == PENDING
        and approval.company_id == actor_company
        and _RANK[role.value] >= _RANK[approval.role]
    )


def moves_out(
    session: Session,
    principal: Principal,
    moves: list[WorkflowMove],
    role: Role | None = None,
) -> list[MoveOut]:
    approvals = _approvals_of(session, principal, [m.id for m in moves])
    users = _names(
        session,
        User,
        {m.requested_by_user_id for m in moves if m.requested_by_user_id}
        | {a.decided_by_user_id for a in approvals if a.decided_by_user_id},
    )
    companies = _names(
        session,
        Company,
        {m.requested_by_company_id for m in moves if m.requested_by_company_id}
        | {a.company_id for a in approvals},
    )
    role = role or _role_of(session, principal)
    by_move: dict[uuid.UUID, list[ApprovalOut]] = {m.id: [] for m in moves}
    for a in approvals:
        by_move[a.move_id].append(_approval_out(a, users, companies, principal.company_id, role))
    return [
        MoveOut(
            id=m.id,
            record_id=m.record_id,
            workflow_id=m.workflow_id,
            from_stage=m.from_stage,
            to_stage=m.to_stage,
            status=m.status,
            requested_by_user_id=m.requested_by_user_id,
            requested_by_name=users.get(m.requested_by_user_id) if m.requested_by_user_id else None,
            requested_by_company_id=m.requested_by_company_id,
            requested_by_company_name=companies.get(m.requested_by_company_id)
            if m.requested_by_company_id
            else None,
            requested_at=m.requested_at,
            completed_at=m.completed_at,
            note=m.note,
            approvals=by_move[m.id],
        )
        for m in moves
    ]


def _role_of(session: Session, principal: Principal) -> Role:
    user = session.get(User, principal.user_id)
    return Role(user.role) if user is not None else Role.MEMBER


def _approval_out(
    a: WorkflowApproval,
    users: dict[uuid.UUID, str],
    companies: dict[uuid.UUID, str],
    company_id: uuid.UUID,
    role: Role,
) -> ApprovalOut:
    return ApprovalOut(
        id=a.id,
        move_id=a.move_id,
        record_id=a.record_id,
        position=a.position,
        company_id=a.company_id,
        company_name=companies.get(a.company_id, ""),
        role=a.role,
        status=a.status,
        decided_by_user_id=a.decided_by_user_id,
        decided_by_name=users.get(a.decided_by_user_id) if a.decided_by_user_id else None,
        decided_at=a.decided_at,
        comment=a.comment,
        can_decide=_can_decide(company_id, role, a),
    )


def history(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, workflow_id: uuid.UUID
) -> list[MoveOut]:
    """Every move of the record on the workflow, newest first, with its approvals."""
    principal = actor.principal
    record = gate.check(session, principal, kind, record_id)
    find(session, principal, record, workflow_id)
    statement = (
        select(WorkflowMove)
        .where(WorkflowMove.record_id == record_id, WorkflowMove.workflow_id == workflow_id)
        .order_by(WorkflowMove.requested_at.desc(), WorkflowMove.id.desc())
        .execution_options(**rls.as_company(principal.company_id))
    )
    return moves_out(session, principal, list(session.scalars(statement)), actor.role)


def inbox(session: Session, actor: Actor, status: str = PENDING) -> list[InboxItem]:
    """Approvals asked of my company in `status` on records I may see (pending: those I may
    decide now, i.e. my role suffices)."""
    principal = actor.principal
    items: list[InboxItem] = []
    on_visible = [
        and_(
            WorkflowDefinition.kind == kind.value,
            WorkflowApproval.record_id.in_(gate.visible_ids(principal, kind.value)),
        )
        for kind in Kind
    ]
    statement = (
        select(WorkflowApproval, WorkflowMove, WorkflowDefinition, Record)
        .join(WorkflowMove, WorkflowMove.id == WorkflowApproval.move_id)
        .join(WorkflowDefinition, WorkflowDefinition.id == WorkflowMove.workflow_id)
        .join(Record, Record.id == WorkflowApproval.record_id)
        .where(
            WorkflowApproval.company_id == actor.company_id,
            WorkflowApproval.status == status,
            or_(*on_visible),
            workflows.visible_condition(principal),
        )
        .order_by(WorkflowMove.requested_at, WorkflowApproval.position)
        .limit(INBOX_LIMIT)
        .execution_options(**rls.as_company(actor.company_id))
    )
    rows = list(session.execute(statement))
    users = _names(
        session,
        User,
        {m.requested_by_user_id for _, m, _, _ in rows if m.requested_by_user_id}
        | {a.decided_by_user_id for a, _, _, _ in rows if a.decided_by_user_id},
    )
    companies = _names(
        session,
        Company,
        {a.company_id for a, _, _, _ in rows}
        | {m.requested_by_company_id for _, m, _, _ in rows if m.requested_by_company_id},
    )
    for approval, moved, definition, record in rows:
        if status == PENDING and _RANK[actor.role.value] < _RANK[approval.role]:
            continue
        items.append(
            InboxItem(
                approval=_approval_out(approval, users, companies, actor.company_id, actor.role),
                record_id=record.id,
                record_kind=record.kind,
                record_title=record.title,
                workflow_id=definition.id,
                workflow_name=definition.name,
                from_stage=moved.from_stage,
                to_stage=moved.to_stage,
                requested_by_name=users.get(moved.requested_by_user_id)
                if moved.requested_by_user_id
                else None,
                requested_by_company_name=companies.get(moved.requested_by_company_id)
                if moved.requested_by_company_id
                else None,
                requested_at=moved.requested_at,
                note=moved.note,
            )
        )
    return items


def attach(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, workflow_id: uuid.UUID
) -> WorkflowDefinition:
    """Put a record on a program workflow (of a program I see) without a plan link."""
    principal = actor.principal
    record = gate.require_edit(session, principal, kind, record_id)
    definition = session.get(WorkflowDefinition, workflow_id)
    if (
        definition is None
        or definition.program_id is None
        or not definition.active
        or definition.kind != kind
    ):
        raise not_found("program workflow for this kind")
    try:
        gate.check(session, principal, "program", definition.program_id)
    except Problem as exc:
        raise not_found("program workflow for this kind") from exc
    if _state(session, principal, record_id, workflow_id) is None:
        stages = infos(definition.stages)
        known = _known(stages, record.joint_stage)
        session.add(
            RecordWorkflow(
                record_id=record_id,
                workflow_id=workflow_id,
                stage_key=known.key if known else None,
                version=1,
            )
        )
        audit.record(
            session, actor, "workflow.attached", record.kind, record.id, **_moved(definition, None)
        )
        session.flush()
    return definition


# -- guards used by the record core (PATCH of my space's stage, or the joint stage) -----------


def guard_stage_edit(
    session: Session,
    actor: Actor,
    record: Record,
    definition: WorkflowDefinition,
    before: str | None,
    after: str | None,
    space: Space | None,
    path: str,
) -> None:
    """A stage edited outside the move route: 422 if not a stage of the workflow, 409 when the
    move would need approvals, skip a transition or skip entry criteria; otherwise recorded as
    a move (history, state, steps)."""
    principal = actor.principal
    stages = infos(definition.stages)
    keys = ", ".join(s.key for s in stages)
    if after is None or _known(stages, after) is None:
        raise invalid(path, f"must be a stage of the workflow {definition.name}: one of {keys}")
    route = f"POST /api/v1/{_plural(record.kind)}/{record.id}/workflows/{definition.id}/moves"
    current = before if _known(stages, before) else None
    if _pending(session, principal, record.id, definition.id) is not None:
        raise conflict("move-pending", f"A move is waiting for approvals; see {route}.")
    rule = transition(definition, current, after)
    if rule is None:
        raise conflict(
            "transition-not-allowed",
            f"{definition.name} does not allow a move from {current or 'no stage'} to {after}.",
        )
    if rule.approvals:
        raise Problem(
            409,
            "approval-required",
            "Conflict",
            f"Moving to {after} needs approvals: request the move with {route}.",
            move_route=route,
        )
    stage = _stage_def(definition, after)
    missing = missing_fields(session, principal, record, stage, space)
    if missing:
        raise Problem(
            409,
            "entry-criteria",
            "Conflict",
            f"Entering {after} needs {', '.join(missing)}: fill them, then move with {route}.",
            move_route=route,
            missing_fields=missing,
        )
    state = _advance_state(session, principal, record.id, definition.id)
    moved = WorkflowMove(
        record_id=record.id,
        workflow_id=definition.id,
        from_stage=current,
        to_stage=after,
        status=DONE,
        requested_by_user_id=actor.user_id,
        requested_by_company_id=actor.company_id,
        requested_at=utcnow(),
        note="",
    )
    session.add(moved)
    _complete(session, principal, actor, record, definition, moved, state, apply_stage=False)
    audit.record(
        session, actor, "workflow.moved", record.kind, record.id, **_moved(definition, moved)
    )


def _plural(kind: str) -> str:
    return KINDS[Kind(kind)].plural


def _moved(definition: WorkflowDefinition, moved: WorkflowMove | None) -> dict[str, Any]:
    """The audit data of a workflow action: the workflow, and the move it made or asked for."""
    data: dict[str, Any] = {"workflow_id": str(definition.id)}
    if moved is not None:
        data |= {"move_id": str(moved.id), "from": moved.from_stage, "to": moved.to_stage}
    return data
