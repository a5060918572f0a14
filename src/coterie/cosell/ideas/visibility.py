"""Who may see an idea: a user of a company that is an active participant of the idea's
program (the gate admits the program to them) and, by the program host's rule
(`ProgramIdeaSettings.visibility`): every such company, the proposer's company and the host, or
the host alone. The host and the person who proposed an idea always see it, while their company
is in the program. A company that leaves a program stops seeing its ideas at once.

Everything is one SQL condition over the gate's `visible_ids`, so lists, counts and single
reads answer alike; every statement carries the principal's company for row-level security.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.ideas.schemas import Visibility
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.kit.problems import not_found
from coterie.models import Participant, Record
from coterie.models.ideas import Idea, ProgramIdeaSettings

PROGRAM = Kind.PROGRAM.value


def programs_i_am_in(principal: Principal) -> Select[uuid.UUID]:
    """Programs the principal sees and its company actively takes part in."""
    return (
        select(Participant.record_id)
        .where(
            Participant.company_id == principal.company_id,
            Participant.status == ParticipantStatus.ACTIVE.value,
            Participant.record_id.in_(gate.visible_ids(principal, PROGRAM)),
        )
        .execution_options(**rls.as_company(principal.company_id))
    )


def _rule_allows(principal: Principal) -> ColumnElement[bool]:
    rule = func.coalesce(
        select(ProgramIdeaSettings.visibility)
        .where(ProgramIdeaSettings.program_id == Idea.program_id)
        .correlate(Idea)
        .scalar_subquery(),
        Visibility.PROGRAM.value,
    )
    host = (
        select(Record.owner_company_id)
        .where(Record.id == Idea.program_id)
        .correlate(Idea)
        .scalar_subquery()
    )
    mine = Idea.proposer_company_id == principal.company_id
    return or_(
        host == principal.company_id,
        and_(mine, Idea.proposer_user_id == principal.user_id),
        rule == Visibility.PROGRAM.value,
        and_(rule == Visibility.PROPOSER_COMPANY.value, mine),
    )


def visible_ideas(principal: Principal) -> Select[Idea]:
    """Every idea the principal may see."""
    return (
        select(Idea)
        .where(Idea.program_id.in_(programs_i_am_in(principal)), _rule_allows(principal))
        .execution_options(**rls.as_company(principal.company_id))
    )


def check(session: Session, principal: Principal, idea_id: uuid.UUID) -> Idea:
    """The idea if the principal may see it; 404 as if it did not exist otherwise."""
    idea = session.scalars(visible_ideas(principal).where(Idea.id == idea_id)).first()
    if idea is None:
        raise not_found("idea")
    return idea


def program_in(session: Session, principal: Principal, program_id: uuid.UUID) -> Record:
    """The program if the principal sees it and its company actively takes part; 404 else."""
    program = gate.check(session, principal, PROGRAM, program_id)
    inside = session.scalar(programs_i_am_in(principal).where(Participant.record_id == program_id))
    if inside is None:
        raise not_found(PROGRAM)
    return program


def rule_of(
    session: Session, principal: Principal, program_id: uuid.UUID
) -> ProgramIdeaSettings | None:
    """The host's rule row of a program the gate admitted (None: the default)."""
    return session.scalars(
        select(ProgramIdeaSettings)
        .where(ProgramIdeaSettings.program_id == program_id)
        .execution_options(**rls.as_company(principal.company_id))
    ).first()
