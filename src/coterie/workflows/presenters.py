"""What a viewer reads of workflows on a record: each applicable workflow's state (stage, allowed
moves, pending move) and the history of moves with their approvals, as the viewer may see them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.models import Company, Record, User
from coterie.models.vocabulary import Role
from coterie.models.workflow import WorkflowApproval, WorkflowDefinition, WorkflowMove
from coterie.workflows.applicability import (
    PENDING,
    _known,
    _may_edit,
    _pending,
    _stage_hidden,
    _stage_out,
    _state,
    allowed_moves,
    applicable,
    find,
    raw_stage,
    summary,
)
from coterie.workflows.approvals import _RANK, _approvals_of
from coterie.workflows.schemas import ApprovalOut, MoveOut, RecordWorkflowOut
from coterie.workflows.stages import infos


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
