"""Ideas as a viewer sees them (`IdeaOut`), for a whole page in a fixed number of statements:
program titles and hosts through the gate, the program's active companies (partners and
endorsers whose company has left the program are not shown), endorsements, people's names,
and the record an accepted idea became (only when the viewer may see that record).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.cosell.ideas.schemas import (
    CompanyRef,
    Endorser,
    IdeaKind,
    IdeaOut,
    IdeaStatus,
    Money,
)
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.models import Record, User
from coterie.models.ideas import Idea, IdeaEndorsement
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names


def may_triage(actor: Actor, host_company_id: uuid.UUID) -> bool:
    """Admins and managers of the program's host triage its ideas."""
    return actor.company_id == host_company_id and actor.has_role(Role.MANAGER)


def present(session: Session, actor: Actor, ideas: Sequence[Idea]) -> list[IdeaOut]:
    if not ideas:
        return []
    principal = actor.principal
    program_ids = sorted({i.program_id for i in ideas})
    programs = {
        row[0]: (row[1], row[2])
        for row in session.execute(
            gate.visible(principal, Kind.PROGRAM.value)
            .with_only_columns(Record.id, Record.title, Record.owner_company_id)
            .where(Record.id.in_(program_ids))
        )
    }
    active: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for p in gate.participants(session, principal, Kind.PROGRAM.value, program_ids):
        if p.status == ParticipantStatus.ACTIVE.value:
            active[p.record_id].add(p.company_id)
    endorsements: dict[uuid.UUID, list[IdeaEndorsement]] = defaultdict(list)
    for e in session.scalars(
        select(IdeaEndorsement)
        .where(IdeaEndorsement.idea_id.in_([i.id for i in ideas]))
        .order_by(IdeaEndorsement.created_at, IdeaEndorsement.user_id)
        .execution_options(**rls.as_company(principal.company_id))
    ):
        if e.company_id in active[e.program_id]:
            endorsements[e.idea_id].append(e)
    user_ids = {i.proposer_user_id for i in ideas if i.proposer_user_id} | {
        e.user_id for found in endorsements.values() for e in found
    }
    users = (
        {
            row[0]: (row[1], row[2])
            for row in session.execute(
                select(User.id, User.name, User.company_id).where(User.id.in_(user_ids))
            )
        }
        if user_ids
        else {}
    )
    companies = {c for ids in active.values() for c in ids} | {i.proposer_company_id for i in ideas}
    names = company_names(session, companies)
    titles = gate.visible_titles(  # reads nothing when no idea became a record
        session, principal, [(i.kind, i.record_id) for i in ideas if i.record_id is not None]
    )

    def person(user_id: uuid.UUID | None, company_id: uuid.UUID) -> Endorser | None:
        if user_id is None or user_id not in users or users[user_id][1] != company_id:
            return None
        return Endorser(
            user_id=user_id,
            name=users[user_id][0],
            company_id=company_id,
            company_name=names.get(company_id, ""),
        )

    out: list[IdeaOut] = []
    for idea in ideas:
        title, host = programs.get(idea.program_id, ("", None))
        in_program = active[idea.program_id]
        endorsers = [
            found
            for e in endorsements[idea.id]
            if (found := person(e.user_id, e.company_id)) is not None
        ]
        sees_reason = actor.company_id in (host, idea.proposer_company_id)
        out.append(
            IdeaOut(
                id=idea.id,
                program_id=idea.program_id,
                program_title=title,
                kind=IdeaKind(idea.kind),
                title=idea.title,
                problem=idea.problem,
                target_customers=idea.target_customers,
                partners=[
                    CompanyRef(company_id=c, company_name=names.get(c, ""))
                    for c in (uuid.UUID(raw) for raw in idea.partner_company_ids)
                    if c in in_program
                ],
                expected_pipeline=_money(idea.expected_pipeline, idea.currency),
                proposer=person(idea.proposer_user_id, idea.proposer_company_id),
                proposer_company=CompanyRef(
                    company_id=idea.proposer_company_id,
                    company_name=names.get(idea.proposer_company_id, ""),
                ),
                status=IdeaStatus(idea.status),
                decline_reason=idea.decline_reason if sees_reason else None,
                decided_at=idea.decided_at,
                record_id=idea.record_id if idea.record_id in titles else None,
                endorsements=len(endorsers),
                endorsers=endorsers,
                endorsed_by_me=any(e.user_id == actor.user_id for e in endorsers),
                can_triage=idea.status == IdeaStatus.OPEN.value
                and host is not None
                and may_triage(actor, host),
                created_at=idea.created_at,
            )
        )
    return out


def _money(value: Decimal | None, currency: str) -> Money | None:
    return None if value is None else Money(value=f"{value:.2f}", currency=currency)
