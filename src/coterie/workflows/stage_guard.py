"""The guard the record core calls when a stage is edited outside the move route (PATCH of my
space's `stage`, or of the joint stage): refused when it would need approvals, skip a
transition or skip entry criteria; otherwise recorded as a move (history, state, steps). And
the entry of a new record without a stage into its workflow's first stage.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.fields.kinds import KINDS, Kind
from coterie.kit.problems import Problem, conflict, invalid
from coterie.models import Record, Space
from coterie.models.workflow import WorkflowDefinition, WorkflowMove
from coterie.workflows.applicability import DONE, _known, _pending, _stage_def, transition
from coterie.workflows.stage_changes import _advance_state, _complete, _moved, missing_fields
from coterie.workflows.stages import infos


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


def first_stage(
    session: Session, actor: Actor, record: Record, definition: WorkflowDefinition, space: Space
) -> str | None:
    """Where a record created without a stage starts: the workflow's first stage, when the
    record meets its entry criteria (None otherwise: it stays without a stage)."""
    stages = infos(definition.stages)
    if not stages:
        return None
    first = stages[0].key
    if missing_fields(session, actor.principal, record, _stage_def(definition, first), space):
        return None
    return first


def record_entry(
    session: Session, actor: Actor, record: Record, definition: WorkflowDefinition, stage: str
) -> None:
    """A new record placed in `stage` (its space already says so, its grants are written):
    recorded as a move from no stage, with the state and the stage's steps as tasks."""
    state = _advance_state(session, actor.principal, record.id, definition.id)
    entered = WorkflowMove(
        record_id=record.id,
        workflow_id=definition.id,
        from_stage=None,
        to_stage=stage,
        status=DONE,
        requested_by_user_id=actor.user_id,
        requested_by_company_id=actor.company_id,
        requested_at=utcnow(),
        note="",
    )
    session.add(entered)
    _complete(
        session, actor.principal, actor, record, definition, entered, state, apply_stage=False
    )
    audit.record(
        session, actor, "workflow.moved", record.kind, record.id, **_moved(definition, entered)
    )


def _plural(kind: str) -> str:
    return KINDS[Kind(kind)].plural
