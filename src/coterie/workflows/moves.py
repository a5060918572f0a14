"""Moving a record on a workflow: a move (at once, or pending its transition's approvals), its
withdrawal by the requesting company, and attaching a record to a program workflow.
Nothing here commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.db import utcnow
from coterie.kit.problems import Problem, conflict, forbidden, invalid, not_found
from coterie.models.workflow import (
    RecordWorkflow,
    WorkflowApproval,
    WorkflowDefinition,
    WorkflowMove,
)
from coterie.records.schemas import check_joint_stage
from coterie.workflows.applicability import (
    CANCELED,
    DONE,
    PENDING,
    WAITING,
    _known,
    _pending,
    _stage_def,
    _stage_hidden,
    _state,
    allowed_moves,
    find,
    is_joint,
    own_space,
    raw_stage,
    transition,
)
from coterie.workflows.approvals import _close, _expand_approvals, _notify_approvers
from coterie.workflows.schemas import MoveIn
from coterie.workflows.stage_changes import (
    _advance_state,
    _claim_state,
    _complete,
    _lock_move,
    _lock_stage_holder,
    _moved,
    criteria_problem,
    missing_fields,
)
from coterie.workflows.stages import infos


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
