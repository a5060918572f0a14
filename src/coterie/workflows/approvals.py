"""Approvals of a move: the (company, role) pairs a transition asks, deciding one (approve or
reject, by a user of the asked company with the role or above), ending a move's open
approvals, and telling approvers and the requester. Nothing here commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.activity import notifications
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields.kinds import ParticipantStatus
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict, forbidden, not_found
from coterie.models import Record, User
from coterie.models.vocabulary import Role
from coterie.models.workflow import WorkflowApproval, WorkflowDefinition, WorkflowMove
from coterie.workflows import definitions
from coterie.workflows.applicability import (
    APPROVED,
    CANCELED,
    PENDING,
    REJECTED,
    WAITING,
    Transition,
    find,
)
from coterie.workflows.stage_changes import (
    _advance_state,
    _complete,
    _lock_move,
    _lock_stage_holder,
    _moved,
    _options,
)

_RANK = {Role.MEMBER.value: 0, Role.MANAGER.value: 1, Role.ADMIN.value: 2}


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
