"""Who is on a shared record: the invited company accepts or declines, a participant leaves,
the owner removes; and the inbox of invitations. Who may bring a company in is
`records.admission` (the owner decides: DESIGN.md must 8).

Every status change claims its row in SQL (`kit.conditional.claim_status`: `UPDATE ... WHERE
status IN (:expected)`), so of two racing requests exactly one wins and the other is told the
state moved on (409). When a company joins, every other participant company's admins and
managers are notified, and the change log records it for the timeline.

Reads go through the gate; nothing here commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, grants, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields import templates
from coterie.fields.kinds import ParticipantStatus
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict, forbidden
from coterie.models import Participant, Record, Space, User
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names
from coterie.records import hooks, search, values
from coterie.records.schemas import RecordInvitationOut

INVITED = ParticipantStatus.INVITED.value
ACTIVE = ParticipantStatus.ACTIVE.value
ON_RECORD = (INVITED, ACTIVE)


def of_company(
    session: Session, principal: Principal, record_id: uuid.UUID, company_id: uuid.UUID
) -> Participant | None:
    return session.scalars(
        select(Participant)
        .where(Participant.record_id == record_id, Participant.company_id == company_id)
        .execution_options(**rls.as_company(principal.company_id))
    ).first()


def mine(session: Session, principal: Principal, record_id: uuid.UUID) -> Participant | None:
    return session.scalars(
        select(Participant)
        .where(Participant.record_id == record_id, Participant.company_id == principal.company_id)
        .execution_options(**rls.as_company(principal.company_id))
    ).first()


def managers_of(session: Session, company_ids: set[uuid.UUID]) -> list[uuid.UUID]:
    if not company_ids:
        return []
    return list(
        session.scalars(
            select(User.id)
            .where(
                User.company_id.in_(company_ids),
                User.is_active.is_(True),
                User.role.in_([Role.ADMIN.value, Role.MANAGER.value]),
            )
            .order_by(User.id)
        )
    )


# -- the invited company answers; leave; remove -------------------------------------------------


def accept(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, company_id: uuid.UUID
) -> Record:
    if company_id != actor.company_id:
        raise forbidden("Only the invited company accepts its own invitation.")
    principal = actor.principal
    record, participant = gate.my_participation(session, principal, kind, record_id)
    _answer(session, actor, kind, record_id, participant, ACTIVE)
    has_space = session.scalars(
        select(Space.record_id)
        .where(Space.record_id == record_id, Space.company_id == actor.company_id)
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if has_space is None:
        space = Space(
            record_id=record_id,
            company_id=actor.company_id,
            custom={},
            updated_by_user_id=actor.user_id,
        )
        template = templates.load(session, actor.company_id, kind)
        values.apply(
            session, space, template, {}, default_currency=actor.company.currency, creating=False
        )
        session.add(space)
        search.index_space(session, kind, space)
    grants.after_write(
        session, record_id, kind, rule_companies={actor.company_id}, acting_user_id=actor.user_id
    )
    audit.record(session, actor, "participant.accepted", record.kind, record.id)
    inviter = _tell_inviter(session, actor, record.kind, record.id, participant, "accepted")
    _tell_participants_it_joined(session, actor, record, told=inviter)
    return record


def _answer(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    participant: Participant,
    status: str,
) -> None:
    """invited -> `status`, claimed in SQL: of two racing answers exactly one applies."""
    answer: dict[str, Any] = {"status": status, "responded_at": utcnow()}
    if status != ACTIVE:
        answer["source"] = "manual"
    won = conditional.claim_status(
        session, participant, [INVITED], answer, rls.as_company(actor.company_id)
    )
    if not won:
        raise conflict(
            "not-invited", f"Your company is {participant.status} on this record, not invited."
        )
    hooks.participant_status.announce(
        hooks.ParticipantStatus(session, actor, kind, record_id, actor.company_id, INVITED, status)
    )


def _tell_inviter(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    participant: Participant,
    answer: str,
) -> uuid.UUID | None:
    """The person who invited my company hears its answer (`accepted` or `declined`); returns
    who was told (`notify` keeps them only while they may see the record)."""
    inviter = participant.invited_by_user_id
    if inviter is None:
        return None
    hooks.notice.announce(
        hooks.Notice(
            session=session,
            actor=actor,
            user_ids=[inviter],
            event=f"invitation_{answer}",
            kind=kind,
            record_id=record_id,
        )
    )
    return inviter


def _tell_participants_it_joined(
    session: Session, actor: Actor, record: Record, *, told: uuid.UUID | None = None
) -> None:
    """Every other active participant company's admins and managers hear that a company
    joined (it holds a grant now, so it reads the participants through the gate); `told`: the
    inviter, who heard it already."""
    others = {
        p.company_id
        for p in gate.participants(session, actor.principal, record.kind, [record.id])
        if p.status == ACTIVE and p.company_id != actor.company_id
    }
    hooks.notice.announce(
        hooks.Notice(
            session=session,
            actor=actor,
            user_ids=[u for u in managers_of(session, others) if u != told],
            event="joined",
            kind=record.kind,
            record_id=record.id,
        )
    )


def decline(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    company_id: uuid.UUID,
    reason: str = "",
) -> Participant:
    """The invited company says no: invited -> declined. It never held a grant, so it sees
    nothing more than the invitation showed, and the invitation leaves its inbox. The reason is
    kept in the declining company's audit trail. A person decided: rules never invite it again."""
    if company_id != actor.company_id:
        raise forbidden("Only the invited company declines its own invitation.")
    principal = actor.principal
    _record, participant = gate.my_participation(session, principal, kind, record_id)
    _answer(session, actor, kind, record_id, participant, ParticipantStatus.DECLINED.value)
    _tell_inviter(session, actor, kind, record_id, participant, "declined")
    audit.record(
        session,
        actor,
        "participant.declined",
        kind,
        record_id,
        reason=reason,
    )
    return participant


def remove(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, company_id: uuid.UUID
) -> None:
    """Leave (my own company), decline (my own invitation) or remove another company (owner)."""
    principal = actor.principal
    if company_id == actor.company_id:
        record, participant = gate.my_participation(session, principal, kind, record_id)
        if record.owner_company_id == actor.company_id:
            raise conflict("owner-cannot-leave", "The owner company cannot leave its own record.")
        target = participant
        status = ParticipantStatus.LEFT.value
        action = "participant.left"
    else:
        record = gate.require_edit(session, principal, kind, record_id)
        if record.owner_company_id != actor.company_id:
            raise forbidden("Only the owner company removes other companies from a record.")
        found = of_company(session, principal, record_id, company_id)
        if found is None or found.status not in ON_RECORD:
            raise Problem(404, "not-found", "Not found", "That company is not on this record.")
        target = found
        status = ParticipantStatus.REMOVED.value
        action = "participant.removed"
    before = target.status
    won = before in ON_RECORD and conditional.claim_status(
        session,
        target,
        [before],
        # a person decided: rules never invite it again; it loses any right to admit
        {"status": status, "source": "manual", "can_admit": False},
        rls.as_company(actor.company_id),
    )
    if not won:
        raise conflict("not-participant", f"That company is already {target.status}.")
    hooks.participant_status.announce(
        hooks.ParticipantStatus(session, actor, kind, record_id, company_id, before, status)
    )
    if before == INVITED and company_id == actor.company_id:  # my company said no
        _tell_inviter(session, actor, kind, record_id, target, "declined")
    grants.after_write(session, record_id, kind, rule_companies=set(), acting_user_id=actor.user_id)
    audit.record(
        session,
        actor,
        action,
        kind,
        record_id,
        company=str(company_id),
    )


def my_invitations(session: Session, actor: Actor) -> list[RecordInvitationOut]:
    rows = gate.invitations(session, actor.principal)
    names = company_names(
        session, {p.invited_by_company_id for _, p in rows if p.invited_by_company_id}
    )
    return [
        RecordInvitationOut(
            record_id=r.id,
            kind=r.kind,
            title=r.title,
            customer_name=r.customer_name,
            invited_by_company_id=p.invited_by_company_id,
            invited_by_company_name=names.get(p.invited_by_company_id)
            if p.invited_by_company_id
            else None,
            invited_at=p.invited_at,
        )
        for r, p in rows
    ]


def my_invitation(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID
) -> RecordInvitationOut | None:
    """The invitation view of one record my company is invited to (and has not answered):
    the title, the customer, who invited it and when; None when there is no such invitation."""
    found = gate.invitation(session, actor.principal, kind, record_id)
    if found is None:
        return None
    record, participant = found
    inviter_company = participant.invited_by_company_id
    names = company_names(session, {inviter_company} if inviter_company else set())
    inviter = (
        session.get(User, participant.invited_by_user_id)
        if participant.invited_by_user_id
        else None
    )
    return RecordInvitationOut(
        record_id=record.id,
        kind=record.kind,
        title=record.title,
        customer_name=record.customer_name,
        invited_by_company_id=inviter_company,
        invited_by_company_name=names.get(inviter_company) if inviter_company else None,
        invited_at=participant.invited_at,
        invited_by_user_name=inviter.name if inviter is not None else None,
    )
