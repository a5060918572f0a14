"""What waits for the signed-in user on the home page: tasks due, approvals, invitations and
lead nominations, each read through its own domain service as the user (the gate decides).

- Tasks: mine (I own them, my company's), not done, overdue first, then by due date, those
  without a due date last (`workflows.tasks.list_tasks`); each with its record's title, read
  through the gate (`gate.visible`).
- Approvals: those my role may decide now (`workflows.inbox`), with stage names, not keys.
- Invitations: partnership invitations to my company (`network.partnerships`), record
  invitations (`records.participants.my_invitations`, leads aside: those are nominations),
  proposals that a company join a record my company admits to (`records.admission`), and lead
  nominations still waiting (`cosell.pipeline.leads.nominations`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.activity.notification_text import record_url
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz import workflows as workflow_access
from coterie.cosell.pipeline import leads
from coterie.cosell.pipeline.schemas import DecisionStatus, NominationOut
from coterie.fields.kinds import KINDS, Kind
from coterie.models.workflow import WorkflowDefinition
from coterie.records import admission, participants
from coterie.records.schemas import ProposalOut, RecordInvitationOut
from coterie.workflows import inbox, tasks
from coterie.workflows.stages import infos

SHOWN = 6  # items per section; the rest is behind the section's "see all" link
TASKS_READ = 200  # my open tasks read to order them by due date (a person's open tasks)


def kind_label(kind: str) -> str:
    try:
        return KINDS[Kind(kind)].label
    except ValueError:
        return kind.capitalize()


@dataclass(frozen=True)
class DueTask:
    id: uuid.UUID
    title: str
    due_date: date | None
    overdue: bool
    record_title: str
    record_url: str | None


@dataclass(frozen=True)
class Tasks:
    shown: list[DueTask]
    total: int
    overdue: int


def tasks_due(session: Session, actor: Actor, today: date) -> Tasks:
    """My open tasks: overdue first, then by due date; undated last."""
    mine, _ = tasks.list_tasks(
        session, actor, mine=True, due_before=None, done=False, limit=TASKS_READ, cursor=None
    )
    mine.sort(key=lambda t: (t.due_date is None, t.due_date or date.max, t.title.casefold()))
    shown = mine[:SHOWN]
    titles = gate.visible_titles(
        session, actor.principal, {(t.record_kind, t.record_id) for t in shown}
    )
    return Tasks(
        shown=[
            DueTask(
                id=t.id,
                title=t.title,
                due_date=t.due_date,
                overdue=t.due_date is not None and t.due_date < today,
                record_title=titles.get(t.record_id, kind_label(t.record_kind)),
                record_url=record_url(t.record_kind, t.record_id),
            )
            for t in shown
        ],
        total=len(mine),
        overdue=sum(1 for t in mine if t.due_date is not None and t.due_date < today),
    )


@dataclass(frozen=True)
class WaitingApproval:
    record_title: str
    record_url: str | None
    from_stage: str | None
    to_stage: str
    workflow_name: str
    requested_by: str
    requested_at: datetime


@dataclass(frozen=True)
class Approvals:
    shown: list[WaitingApproval]
    total: int


def _stage_names(
    session: Session, actor: Actor, ids: set[uuid.UUID]
) -> dict[uuid.UUID, dict[str, str]]:
    if not ids:
        return {}
    definitions = session.scalars(
        select(WorkflowDefinition)
        .where(WorkflowDefinition.id.in_(ids), workflow_access.visible_condition(actor.principal))
        .execution_options(**rls.as_company(actor.company_id))
    )
    return {d.id: {s.key: s.name for s in infos(d.stages)} for d in definitions}


def approvals_waiting(session: Session, actor: Actor) -> Approvals:
    """Approvals my company is asked for that my role may decide now, oldest request first."""
    items = inbox.inbox(session, actor)
    shown = items[:SHOWN]
    names = _stage_names(session, actor, {i.workflow_id for i in shown})
    out: list[WaitingApproval] = []
    for item in shown:
        stages = names.get(item.workflow_id, {})
        who = item.requested_by_name or "Someone"
        if item.requested_by_company_name:
            who = f"{who} ({item.requested_by_company_name})"
        out.append(
            WaitingApproval(
                record_title=item.record_title,
                record_url=record_url(item.record_kind, item.record_id),
                from_stage=stages.get(item.from_stage, item.from_stage)
                if item.from_stage
                else None,
                to_stage=stages.get(item.to_stage, item.to_stage),
                workflow_name=item.workflow_name,
                requested_by=who,
                requested_at=item.requested_at,
            )
        )
    return Approvals(shown=out, total=len(items))


@dataclass(frozen=True)
class Invitations:
    records: list[RecordInvitationOut]
    proposals: list[ProposalOut]
    nominations: list[NominationOut]
    more_nominations: bool

    @property
    def count(self) -> int:
        return len(self.records) + len(self.proposals) + len(self.nominations)


def invitations_waiting(session: Session, actor: Actor) -> Invitations:
    """Record invitations, join proposals to decide and lead nominations, newest first (the
    partnership invitations come with the partnerships, `home.workspace`)."""
    nominated, next_cursor = leads.nominations(
        session, actor, status=DecisionStatus.PENDING, limit=SHOWN, cursor=None
    )
    nominated_ids = {n.record_id for n in nominated}
    records = [
        i
        for i in participants.my_invitations(session, actor)
        if not (i.kind == Kind.LEAD.value and i.record_id in nominated_ids)
    ]
    records.sort(key=lambda i: i.invited_at, reverse=True)
    proposals = admission.awaiting_my_decision(session, actor)
    nominated.sort(key=lambda n: n.nominated_at, reverse=True)
    return Invitations(
        records=records[:SHOWN],
        proposals=proposals[:SHOWN],
        nominations=nominated,
        more_nominations=next_cursor is not None,
    )
