"""Triage of an idea by its program's host (admins and managers): accept it into the program's
workflow, or decline it with a reason. Each claims the idea's row in the UPDATE that decides it
(`WHERE status = 'open'`): of two hosts triaging at once exactly one wins, the other gets 409
and has written nothing.

Accepting creates a record of the idea's kind owned by the host: the host triages, runs the
program's workflow (its approvals name the host) and, as the owner, is the one company that may
admit others under the normal admission rules. So the proposer's company and the wanted
partners still in the program are invited onto it (each accepts like any invitation), and the
record is put in the first stage of the host's active workflow of that kind on the program, if
there is one. The proposer is notified either way; a decline carries its reason. Nothing here
commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.activity import notifications
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.cosell.ideas import visibility
from coterie.cosell.ideas.presenting import may_triage
from coterie.cosell.ideas.schemas import IdeaStatus
from coterie.cosell.planning import common
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.problems import conflict, forbidden
from coterie.models import Record
from coterie.models.ideas import Idea
from coterie.models.workflow import WorkflowDefinition
from coterie.records import admission
from coterie.records import service as records
from coterie.records.schemas import RecordCreate
from coterie.workflows import moves
from coterie.workflows.schemas import MoveIn
from coterie.workflows.stages import infos

PROGRAM = visibility.PROGRAM
CUSTOMER_NAME_LENGTH = 200


def _claim(
    session: Session, actor: Actor, idea_id: uuid.UUID, values: dict[str, Any]
) -> tuple[Idea, Record]:
    principal = actor.principal
    idea = visibility.check(session, principal, idea_id)  # 404 when hidden
    program = gate.check(session, principal, PROGRAM, idea.program_id)
    if not may_triage(actor, program.owner_company_id):
        raise forbidden("Only admins and managers of the program's host triage its ideas.")
    won = conditional.claim_status(
        session,
        idea,
        [IdeaStatus.OPEN.value],
        {"decided_by_user_id": actor.user_id, "decided_at": utcnow(), **values},
        rls.as_company(actor.company_id),
    )
    if not won:
        raise conflict("idea-decided", "This idea was just triaged by someone else; reload.")
    return idea, program


def _program_workflow(session: Session, program: Record, kind: str) -> WorkflowDefinition | None:
    """The host's active workflow of `kind` on the program (None: the record stays unstaged)."""
    return session.scalars(
        select(WorkflowDefinition).where(
            WorkflowDefinition.program_id == program.id,
            WorkflowDefinition.company_id == program.owner_company_id,
            WorkflowDefinition.kind == kind,
            WorkflowDefinition.active.is_(True),
        )
    ).first()


def _tell_proposer(session: Session, actor: Actor, idea: Idea, event: str) -> None:
    if idea.proposer_user_id is None:
        return
    notifications.notify(
        session,
        user_ids=[idea.proposer_user_id],
        event=event,
        record_id=idea.program_id,
        kind=PROGRAM,
        actor=actor,
        subject_id=idea.id,
    )


def accept(session: Session, actor: Actor, idea_id: uuid.UUID) -> Idea:
    idea, program = _claim(session, actor, idea_id, {"status": IdeaStatus.ACCEPTED.value})
    principal = actor.principal
    record = records.create(
        session,
        actor,
        idea.kind,
        RecordCreate(
            title=idea.title,
            customer_name=idea.target_customers[:CUSTOMER_NAME_LENGTH].strip(),
            description=f"{idea.problem}\n\nTarget customers: {idea.target_customers}",
        ),
    )
    idea.record_id = record.id
    in_program = common.active_companies(session, principal, PROGRAM, program.id)
    invited = [
        company_id
        for company_id in dict.fromkeys(
            [idea.proposer_company_id, *(uuid.UUID(c) for c in idea.partner_company_ids)]
        )
        if company_id != actor.company_id and company_id in in_program
    ]
    for company_id in invited:
        admission.invite(session, actor, idea.kind, record.id, company_id)
    definition = _program_workflow(session, program, idea.kind)
    if definition is not None and (stages := infos(definition.stages)):
        moves.attach(session, actor, idea.kind, record.id, definition.id)
        moves.move(session, actor, idea.kind, record.id, definition.id, MoveIn(to=stages[0].key), 1)
    session.flush()
    audit.record(
        session,
        actor,
        "idea.accepted",
        PROGRAM,
        program.id,
        idea=str(idea.id),
        record=str(record.id),
    )
    _tell_proposer(session, actor, idea, "idea_accepted")
    return idea


def decline(session: Session, actor: Actor, idea_id: uuid.UUID, reason: str) -> Idea:
    idea, program = _claim(
        session,
        actor,
        idea_id,
        {"status": IdeaStatus.DECLINED.value, "decline_reason": reason},
    )
    audit.record(session, actor, "idea.declined", PROGRAM, program.id, idea=str(idea.id))
    _tell_proposer(session, actor, idea, "idea_declined")
    return idea
