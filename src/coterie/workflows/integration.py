"""What the workflow engine checks when a record's stage is edited outside the move route
(called on the record core's hooks by `workflows.subscriptions`).

- Creating a record without a stage while my company has an active workflow for the kind: it
  enters the workflow's first stage (when it meets its entry criteria): a move in its history,
  recorded once the record is written, and the stage's steps become tasks.
- My space's `stage` (PATCH .../spaces/mine, or creating a record) while my company has an
  active workflow for the kind: a stage the workflow does not have is 422; a change that would
  skip entry criteria or an approval-gated (or absent) transition is 409 pointing at the move
  route; an allowed change is recorded as a move (history, state, the stage's steps).
- The shared `joint_stage` (PATCH of the core) of a record on a program workflow: the same; a
  company that does not see the program workflow (not on the program) may not change it (403,
  naming nothing of the workflow), or it would step around the program's transitions and
  approvals.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.kit.problems import forbidden, invalid
from coterie.models import Record, Space
from coterie.workflows import applicability, stage_guard
from coterie.workflows.stages import company_definition, infos


def space_stage_changed(
    session: Session, actor: Actor, kind: str, space: Space, before: str | None
) -> None:
    """Call after my space's stage changed in memory (before the write is flushed)."""
    if space.stage == before:
        return
    definition = company_definition(session, actor.company_id, kind)
    if definition is None:
        return
    principal = actor.principal
    record = gate.check(session, principal, kind, space.record_id)
    stage_guard.guard_stage_edit(
        session, actor, record, definition, before, space.stage, space, "body.fields.stage"
    )


_ENTERING = "workflows.entering"  # session.info: record id -> (workflow id, stage), in between


def new_space_stage(
    session: Session, actor: Actor, kind: str, space: Space, record: Record
) -> None:
    """A record created with a stage: it must be one of my company's workflow's stages. Created
    without one: it is placed in the workflow's first stage (`stage_guard.first_stage`), and
    the entry is recorded once the record is written (`new_record_written`)."""
    definition = company_definition(session, actor.company_id, kind)
    if definition is None:
        return
    stage = space.stage
    if stage is None:
        first = stage_guard.first_stage(session, actor, record, definition, space)
        if first is not None:
            space.stage = first
            session.info.setdefault(_ENTERING, {})[record.id] = (definition.id, first)
        return
    keys = [s.key for s in infos(definition.stages)]
    if stage not in keys:
        raise invalid(
            "body.fields.stage",
            f"must be a stage of the workflow {definition.name}: one of {', '.join(keys)}",
        )


def new_record_written(session: Session, actor: Actor, record: Record) -> None:
    """A new record placed in its workflow's first stage: its entry goes into the history, with
    the state and the stage's steps as tasks (now that the record's grants are written, which
    the state's row-level security needs)."""
    entering: dict[uuid.UUID, tuple[uuid.UUID, str]] = session.info.get(_ENTERING, {})
    placed = entering.pop(record.id, None)
    if placed is None:
        return
    definition = company_definition(session, actor.company_id, record.kind)
    if definition is None or definition.id != placed[0]:
        return
    stage_guard.record_entry(session, actor, record, definition, placed[1])


def joint_stage_changed(session: Session, actor: Actor, record: Record, before: str | None) -> None:
    """Call after the record's joint stage changed in memory (before the write is flushed)."""
    if record.joint_stage == before:
        return
    principal = actor.principal
    if applicability.drives_unseen_joint_stage(session, principal, record):
        raise forbidden(
            "The joint stage of this record follows a workflow your company does not take part "
            "in: one of its participants moves it."
        )
    for definition in applicability.applicable(session, principal, record):
        if not applicability.is_joint(definition):
            continue
        space = applicability.own_space(session, principal, record.id)
        stage_guard.guard_stage_edit(
            session,
            actor,
            record,
            definition,
            before,
            record.joint_stage,
            space,
            "body.joint_stage",
        )
