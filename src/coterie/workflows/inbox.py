"""The approvals inbox: approvals asked of my company, on records I may see."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate, rls, workflows
from coterie.fields.kinds import Kind
from coterie.models import Company, Record, User
from coterie.models.workflow import WorkflowApproval, WorkflowDefinition, WorkflowMove
from coterie.workflows.applicability import PENDING
from coterie.workflows.approvals import _RANK
from coterie.workflows.labels import names_of, stage_label
from coterie.workflows.presenters import _approval_out, _names
from coterie.workflows.schemas import InboxItem

INBOX_LIMIT = 500


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
        names = names_of(definition.stages)
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
                from_stage_name=stage_label(names, moved.from_stage) if moved.from_stage else None,
                to_stage_name=stage_label(names, moved.to_stage),
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
