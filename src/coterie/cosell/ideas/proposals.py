"""Proposing an idea to a program, and reading ideas as the viewer may see them.

Any user of a company actively in the program proposes (members included); the wanted partners
must be companies actively in the program. The host's admins and managers are told. Nothing here
commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie import audit
from coterie.activity import notifications
from coterie.auth.principal import Actor
from coterie.cosell.ideas import visibility
from coterie.cosell.ideas.presenting import present
from coterie.cosell.ideas.schemas import IdeaIn, IdeaList, IdeaOut, IdeaStatus
from coterie.cosell.planning import common
from coterie.db import new_id, utcnow
from coterie.kit.pagination import SortKey, check_limit, decode_cursor, encode_cursor
from coterie.kit.problems import invalid
from coterie.models import Record
from coterie.models.ideas import Idea
from coterie.records import participants

PROGRAM = visibility.PROGRAM
NEWEST_FIRST = [SortKey(Idea.id, is_uuid=True)]  # the cursor's key (ids are time-ordered)


def propose(session: Session, actor: Actor, program_id: uuid.UUID, data: IdeaIn) -> Idea:
    principal = actor.principal
    program = visibility.program_in(session, principal, program_id)  # 404 when not in it
    in_program = common.active_companies(session, principal, PROGRAM, program_id)
    wanted: list[str] = []
    for n, company_id in enumerate(data.partner_company_ids):
        if company_id not in in_program or company_id == actor.company_id:
            raise invalid(
                f"body.partner_company_ids.{n}",
                "is not another company taking part in this program",
            )
        if str(company_id) not in wanted:
            wanted.append(str(company_id))
    idea = Idea(
        id=new_id(),
        program_id=program.id,
        kind=data.kind.value,
        title=data.title,
        problem=data.problem,
        target_customers=data.target_customers,
        partner_company_ids=wanted,
        expected_pipeline=data.expected_pipeline,
        currency=actor.company.currency,
        proposer_company_id=actor.company_id,
        proposer_user_id=actor.user_id,
        status=IdeaStatus.OPEN.value,
        created_at=utcnow(),
    )
    session.add(idea)
    session.flush()
    audit.record(session, actor, "idea.proposed", PROGRAM, program.id, idea=str(idea.id))
    notifications.notify(
        session,
        user_ids=participants.managers_of(session, {program.owner_company_id}),
        event="idea_proposed",
        record_id=program.id,
        kind=PROGRAM,
        actor=actor,
        subject_id=idea.id,
    )
    return idea


def read(session: Session, actor: Actor, idea_id: uuid.UUID) -> IdeaOut:
    return present(session, actor, [visibility.check(session, actor.principal, idea_id)])[0]


def list_visible(
    session: Session,
    actor: Actor,
    *,
    program_id: uuid.UUID | None = None,
    status: IdeaStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> IdeaList:
    """The ideas the actor may see, newest first (ids are time-ordered), one page."""
    check_limit(limit)
    if program_id is not None:
        visibility.program_in(session, actor.principal, program_id)  # 404 when not in it
    return _page(session, actor, program_id, status, limit, cursor)


def in_program(session: Session, actor: Actor, program: Record, limit: int) -> IdeaList:
    """The first page of the ideas the actor may see of a program `visibility.program_in`
    has just admitted (not read again)."""
    return _page(session, actor, program.id, None, limit, None)


def _page(
    session: Session,
    actor: Actor,
    program_id: uuid.UUID | None,
    status: IdeaStatus | None,
    limit: int,
    cursor: str | None,
) -> IdeaList:
    statement = visibility.visible_ideas(actor.principal)
    if program_id is not None:
        statement = statement.where(Idea.program_id == program_id)
    if status is not None:
        statement = statement.where(Idea.status == status.value)
    if cursor:
        statement = statement.where(Idea.id < decode_cursor(cursor, NEWEST_FIRST)[0])
    rows = list(session.scalars(statement.order_by(Idea.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].id])
    return IdeaList(items=present(session, actor, rows), next_cursor=next_cursor)
