"""What every change of a record's stage on a workflow shares (a move, a decision, a withdrawal,
a stage edited through the record): the stage's entry criteria, the record's state row taken at
a version (claimed at the caller's If-Match, or advanced), the row locks taken in one order,
completing a move (the stage applies, its steps become tasks), and the audit data of a move.
Nothing here commits.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import grants, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields import templates
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict
from coterie.models import Record, Space
from coterie.models.workflow import RecordTask, RecordWorkflow, WorkflowDefinition, WorkflowMove
from coterie.records import search
from coterie.workflows.applicability import DONE, _stage_def, _state, is_joint, own_space


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


def _moved(definition: WorkflowDefinition, moved: WorkflowMove | None) -> dict[str, Any]:
    """The audit data of a workflow action: the workflow, and the move it made or asked for."""
    data: dict[str, Any] = {"workflow_id": str(definition.id)}
    if moved is not None:
        data |= {"move_id": str(moved.id), "from": moved.from_stage, "to": moved.to_stage}
    return data
