"""Workflow moves on a record's timeline: which a principal reads as moves, which only as the
change they made to a field, and which it does not read at all.

- A move on a workflow the principal sees (`authz.workflows`) reads as a move, with the
  workflow's name and stage names; on its own company's workflow only while its own `stage`
  shows.
- A completed move on a workflow it does not see (another company's own workflow, a program it
  is not on) reads as the change of the field the workflow drives, when the principal sees that
  field: the shared joint stage, or the company's `stage` while shared with the principal. Nothing
  of the workflow goes with it: no name, no stage names, no pending or refused moves.
- A move made by editing the field (PATCH of a space's stage, or of the joint stage) is already
  in the change log, so such a move shown as a change would repeat it (`echoes`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.activity.schemas import MoveOut, PersonRef, TimelineItem
from coterie.authz import rls, workflows
from coterie.authz.principal import Principal
from coterie.models.activity import RecordChange
from coterie.models.workflow import WorkflowDefinition, WorkflowMove

DONE = "done"  # a move's status once its stage applied


@dataclass(frozen=True)
class Moved:
    move: WorkflowMove
    definition: WorkflowDefinition
    as_change: bool  # on a workflow the principal does not see: read as its field's change


def shown_as_move(principal: Principal, own_keys: frozenset[str]) -> ColumnElement[bool]:
    """Moves read as moves (`own_keys`: the principal's own fields that show)."""
    own_stage_shows = "stage" in own_keys
    return and_(
        WorkflowDefinition.id.in_(workflows.visible_ids(principal)),
        or_(WorkflowDefinition.program_id.is_not(None), true() if own_stage_shows else false()),
    )


def shown_as_change(
    principal: Principal, company_shares_stage: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Completed moves on workflows the principal does not see, read as the change of the joint
    stage (a program's workflow) or of the company's stage (`company_shares_stage`: the
    workflow's company is on the record and shares its `stage` with the principal now)."""
    return and_(
        WorkflowMove.status == DONE,
        WorkflowDefinition.id.not_in(workflows.visible_ids(principal)),
        or_(WorkflowDefinition.program_id.is_not(None), company_shares_stage),
    )


def driven_field(definition: WorkflowDefinition) -> tuple[uuid.UUID | None, str]:
    """The (space's company, field) a workflow's moves write: the joint stage, or its stage."""
    if definition.program_id is not None:
        return None, "joint_stage"
    return definition.company_id, "stage"


def echoes(session: Session, principal: Principal, record_id: uuid.UUID) -> set[uuid.UUID]:
    """Completed moves on workflows the principal does not see that an edit of the field made:
    that edit logged the change just before, in the same request, so the change is the field's
    event right before the move, by the same user, to the same stage."""
    options = rls.as_company(principal.company_id)
    moves = list(
        session.execute(
            select(WorkflowMove, WorkflowDefinition)
            .join(WorkflowDefinition, WorkflowDefinition.id == WorkflowMove.workflow_id)
            .where(
                WorkflowMove.record_id == record_id,
                WorkflowMove.status == DONE,
                WorkflowDefinition.id.not_in(workflows.visible_ids(principal)),
            )
            .execution_options(**options)
        )
    )
    if not moves:
        return set()
    changes = session.scalars(
        select(RecordChange)
        .where(
            RecordChange.record_id == record_id,
            RecordChange.field_key.in_(["stage", "joint_stage"]),
        )
        .execution_options(**options)
    )
    events: dict[tuple[uuid.UUID | None, str], list[tuple[datetime, int, Any]]] = {}
    for change in changes:
        events.setdefault((change.company_id, change.field_key), []).append((change.at, 0, change))
    for move, definition in moves:
        at = move.completed_at or move.requested_at
        events.setdefault(driven_field(definition), []).append((at, 1, move))
    found: set[uuid.UUID] = set()
    for sequence in events.values():
        sequence.sort(key=lambda event: (event[0], event[1]))  # a change before its move
        for (_, _, previous), (_, _, event) in pairwise(sequence):
            if (
                isinstance(event, WorkflowMove)
                and isinstance(previous, RecordChange)
                and previous.actor_user_id == event.requested_by_user_id
                and previous.new_value == event.to_stage
            ):
                found.add(event.id)
    return found


def move_item(moved: Moved, at: datetime, actor: PersonRef | None, who: str) -> TimelineItem:
    """A move on a workflow the principal sees, named with the workflow's stage names."""
    move, definition = moved.move, moved.definition
    names = {
        str(s.get("key")): str(s.get("name") or s.get("key"))
        for s in definition.stages or []
        if isinstance(s, dict)
    }
    to_name = names.get(move.to_stage, move.to_stage)
    from_name = names.get(move.from_stage, move.from_stage) if move.from_stage else None
    status = "" if move.status == DONE else f" ({move.status})"
    return TimelineItem(
        id=move.id,
        type="move",
        at=at,
        actor=actor,
        text=f"{who} moved it to {to_name} on {definition.name}{status}",
        move=MoveOut(
            workflow_name=definition.name,
            from_stage=from_name,
            to_stage=to_name,
            status=move.status,
        ),
    )
