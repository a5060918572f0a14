"""Who decides who joins a shared record (DESIGN.md must 8: the owner decides).

- The owner company, or a participant it delegated the right to on that record (`can_admit`),
  *admits*: its call invites the company, which then accepts or declines
  (`records.participants`).
- Any other participant that may edit the record *proposes*: a `Proposal` the owner (or a
  delegate) accepts, which invites the company, or declines. The proposed company sees nothing
  of it. Auto-share rules of a non-owner propose the same way (`authz.rules`), and so does a deal
  registration to a company that is not on the opportunity (`cosell.pipeline.registrations`).
- Every decision claims its row in SQL (`kit.conditional.claim_status`), so of two racing
  decisions exactly one applies.

Reads go through the gate; nothing here commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields.kinds import KINDS, ProposalStatus
from coterie.kit import conditional
from coterie.kit.problems import Problem, conflict, forbidden, invalid, not_found
from coterie.models import Company, Participant, Proposal, Record
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names
from coterie.records import hooks, participants
from coterie.records.schemas import ProposalOut

PENDING = ProposalStatus.PENDING.value


@dataclass(frozen=True)
class Admission:
    """What asking for a company did: it is invited (`participant`), or proposed to the owner
    (`proposal`)."""

    participant: Participant | None = None
    proposal: Proposal | None = None

    @property
    def proposed(self) -> bool:
        return self.proposal is not None


# -- who may admit ------------------------------------------------------------------------------


def may_admit(record: Record, mine: Participant | None) -> bool:
    """The owner company, or an active participant the owner delegated the right to."""
    if mine is None:
        return False
    if record.owner_company_id == mine.company_id:
        return True
    return mine.status == participants.ACTIVE and mine.can_admit


def admits(session: Session, principal: Principal, record: Record) -> bool:
    """Whether the principal's company may admit companies to `record` (a record it sees)."""
    return may_admit(record, participants.mine(session, principal, record.id))


# -- invite or propose --------------------------------------------------------------------------


def invite(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    company_id: uuid.UUID,
    *,
    note: str = "",
    source: str = "manual",
    notice: str = "invitation",
) -> Admission:
    """Ask for `company_id` on the record: an invitation when my company may admit, otherwise
    a proposal to the owner. 409 when the company is already invited or active. The invited
    company's admins and managers are told (`notice`: the event, e.g. `nomination` for a lead
    nominated to it); they see the invitation view only until their company accepts."""
    principal = actor.principal
    record = gate.require_edit(session, principal, kind, record_id)
    if session.get(Company, company_id) is None:
        raise invalid("body.company_id", "is not a company on the network", "unknown-company")
    if company_id == actor.company_id:
        raise invalid("body.company_id", "is your own company")
    existing = participants.of_company(session, principal, record_id, company_id)
    if existing is not None and existing.status in participants.ON_RECORD:
        raise conflict(
            "already-participant", f"That company is already {existing.status} on this record."
        )
    if may_admit(record, participants.mine(session, principal, record_id)):
        return Admission(
            participant=_admit(session, actor, record, company_id, existing, notice=notice)
        )
    return Admission(proposal=_propose(session, actor, record, company_id, note, source))


def _admit(
    session: Session,
    actor: Actor,
    record: Record,
    company_id: uuid.UUID,
    existing: Participant | None,
    *,
    notice: str = "invitation",
) -> Participant:
    """Invite the company (my company may admit). A row in a closed status is claimed back to
    `invited` in SQL; a new row's primary key decides between two racing invitations."""
    now = utcnow()
    invitation = {
        "status": participants.INVITED,
        "source": "manual",
        "invited_by_company_id": actor.company_id,
        "invited_by_user_id": actor.user_id,
        "invited_at": now,
        "responded_at": None,
    }
    if existing is not None:
        participant_before: str | None = existing.status
        won = conditional.claim_status(
            session, existing, [existing.status], invitation, rls.as_company(actor.company_id)
        )
        if not won:
            raise conflict("participant-changed", "That company's status just changed; reload.")
        participant = existing
    else:
        participant = Participant(record_id=record.id, company_id=company_id, **invitation)
        session.add(participant)
        session.flush()
        participant_before = None
    hooks.participant_status.announce(
        hooks.ParticipantStatus(
            session,
            actor,
            record.kind,
            record.id,
            company_id,
            participant_before,
            participants.INVITED,
        )
    )
    _close_proposals(session, actor, record.id, company_id)
    audit.record(
        session,
        actor,
        "participant.invited",
        record.kind,
        record.id,
        company=str(company_id),
    )
    hooks.notice.announce(
        hooks.Notice(
            session=session,
            actor=actor,
            user_ids=participants.managers_of(session, {company_id}),
            event=notice,
            kind=record.kind,
            record_id=record.id,
        )
    )
    return participant


def _propose(
    session: Session, actor: Actor, record: Record, company_id: uuid.UUID, note: str, source: str
) -> Proposal:
    """A proposal to the owner; re-opens my company's earlier proposal of the same company."""
    mine = session.scalars(
        select(Proposal)
        .where(
            Proposal.record_id == record.id,
            Proposal.company_id == company_id,
            Proposal.proposed_by_company_id == actor.company_id,
        )
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    now = utcnow()
    fields = {
        "status": PENDING,
        "source": source,
        "note": note,
        "reason": "",
        "proposed_by_user_id": actor.user_id,
        "proposed_at": now,
        "decided_at": None,
        "decided_by_user_id": None,
    }
    if mine is not None:
        if mine.status == PENDING:
            raise conflict(
                "already-proposed", "Your company already proposed that company for this record."
            )
        won = conditional.claim_status(
            session, mine, [mine.status], fields, rls.as_company(actor.company_id)
        )
        if not won:
            raise conflict("proposal-changed", "That proposal just changed; reload.")
        proposal = mine
    else:
        proposal = Proposal(
            record_id=record.id,
            kind=record.kind,
            company_id=company_id,
            proposed_by_company_id=actor.company_id,
            **fields,
        )
        session.add(proposal)
        session.flush()
    audit.record(
        session,
        actor,
        "participant.proposed",
        record.kind,
        record.id,
        company=str(company_id),
        source=source,
    )
    hooks.notice.announce(
        hooks.Notice(
            session=session,
            actor=actor,
            user_ids=_deciders(session, actor, record),
            event="proposal",
            kind=record.kind,
            record_id=record.id,
            subject_id=proposal.id,
        )
    )
    return proposal


def _deciders(session: Session, actor: Actor, record: Record) -> list[uuid.UUID]:
    """Who decides proposals: the owner's and the delegates' admins and managers (`notify`
    keeps those who may see the record)."""
    delegates = set(
        session.scalars(
            select(Participant.company_id)
            .where(
                Participant.record_id == record.id,
                Participant.status == participants.ACTIVE,
                Participant.can_admit.is_(True),
            )
            .execution_options(**rls.as_company(actor.company_id))
        )
    )
    return participants.managers_of(session, {record.owner_company_id} | delegates)


def _close_proposals(
    session: Session, actor: Actor, record_id: uuid.UUID, company_id: uuid.UUID
) -> None:
    """The company is invited: every pending proposal of it on the record is accepted."""
    session.execute(
        update(Proposal)
        .where(
            Proposal.record_id == record_id,
            Proposal.company_id == company_id,
            Proposal.status == PENDING,
        )
        .values(
            status=ProposalStatus.ACCEPTED.value,
            decided_at=utcnow(),
            decided_by_user_id=actor.user_id,
        )
        .execution_options(**rls.as_company(actor.company_id), synchronize_session=False)
    )


# -- proposals: the owner decides, the proposer may withdraw ------------------------------------


def _visible_proposals(principal: Principal, kind: str, admitting: bool) -> Select[Proposal]:
    statement = (
        select(Proposal)
        .where(Proposal.kind == kind, Proposal.record_id.in_(gate.visible_ids(principal, kind)))
        .execution_options(**rls.as_company(principal.company_id))
    )
    if not admitting:
        statement = statement.where(Proposal.proposed_by_company_id == principal.company_id)
    return statement


@dataclass(frozen=True)
class Panel:
    """What the record page shows of admission: whether my company admits, and the proposals
    I may see (all of them when it admits, else my company's own)."""

    admits: bool
    proposals: list[ProposalOut]


def panel(session: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> Panel:
    principal = actor.principal
    record = gate.check(session, principal, kind, record_id)
    admitting = may_admit(record, participants.mine(session, principal, record_id))
    found = session.scalars(
        _visible_proposals(principal, kind, admitting)
        .where(Proposal.record_id == record_id)
        .order_by(Proposal.proposed_at.desc(), Proposal.id)
    ).all()
    return Panel(admitting, present(session, list(found), {record_id: record}))


def proposals(session: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> list[ProposalOut]:
    """The record's proposals I may see: all of them when my company may admit, else my own."""
    return panel(session, actor, kind, record_id).proposals


def awaiting_my_decision(session: Session, actor: Actor) -> list[ProposalOut]:
    """Pending proposals on records my company may admit to, every kind, newest first."""
    principal = actor.principal
    found: list[Proposal] = []
    records: dict[uuid.UUID, Record] = {}
    for info in KINDS.values():
        kind = info.kind.value
        rows = session.execute(
            select(Proposal, Record)
            .join(Record, Record.id == Proposal.record_id)
            .join(
                Participant,
                and_(
                    Participant.record_id == Proposal.record_id,
                    Participant.company_id == principal.company_id,
                ),
            )
            .where(
                Proposal.kind == kind,
                Proposal.status == PENDING,
                Proposal.record_id.in_(gate.visible_ids(principal, kind)),
                _admits(principal.company_id),
            )
            .order_by(Proposal.proposed_at.desc())
            .limit(200)
            .execution_options(**rls.as_company(principal.company_id))
        ).all()
        for proposal, record in rows:
            found.append(proposal)
            records[record.id] = record
    found.sort(key=lambda p: p.proposed_at, reverse=True)
    return present(session, found, records)


def _admits(company_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(
        Record.owner_company_id == company_id,
        and_(Participant.status == participants.ACTIVE, Participant.can_admit.is_(True)),
    )


def present(
    session: Session, found: list[Proposal], records: dict[uuid.UUID, Record]
) -> list[ProposalOut]:
    names = company_names(
        session, {p.company_id for p in found} | {p.proposed_by_company_id for p in found}
    )
    return [
        ProposalOut(
            id=p.id,
            record_id=p.record_id,
            kind=p.kind,
            record_title=records[p.record_id].title if p.record_id in records else "",
            company_id=p.company_id,
            company_name=names.get(p.company_id, ""),
            proposed_by_company_id=p.proposed_by_company_id,
            proposed_by_company_name=names.get(p.proposed_by_company_id, ""),
            source="rule" if p.source not in ("manual", "registration") else p.source,
            status=p.status,
            note=p.note,
            reason=p.reason,
            proposed_at=p.proposed_at,
            decided_at=p.decided_at,
        )
        for p in found
    ]


def _proposal_for(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID, proposal_id: uuid.UUID
) -> Proposal:
    proposal = session.scalars(
        _visible_proposals(principal, kind, admitting=True).where(
            Proposal.id == proposal_id, Proposal.record_id == record_id
        )
    ).first()
    if proposal is None:
        raise not_found("proposal")
    return proposal


def decide(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    proposal_id: uuid.UUID,
    *,
    accept: bool,
    reason: str = "",
) -> Proposal:
    """The owner (or a delegate) accepts a proposal, which invites the company, or declines it."""
    principal = actor.principal
    record = gate.require_edit(session, principal, kind, record_id)
    mine = participants.mine(session, principal, record_id)
    proposal = _proposal_for(session, principal, kind, record_id, proposal_id)
    if not may_admit(record, mine):
        if proposal.proposed_by_company_id == actor.company_id:
            raise forbidden(
                "Only the record's owner (or a company it lets admit others) decides a proposal."
            )
        raise not_found("proposal")
    if proposal.status != PENDING:
        raise conflict("proposal-decided", f"This proposal is {proposal.status} already.")
    target = participants.of_company(session, principal, record_id, proposal.company_id)
    if accept and target is not None and target.status in participants.ON_RECORD:
        raise conflict(
            "already-participant", f"That company is already {target.status} on this record."
        )
    decided = ProposalStatus.ACCEPTED.value if accept else ProposalStatus.DECLINED.value
    won = conditional.claim_status(
        session,
        proposal,
        [PENDING],
        {
            "status": decided,
            "reason": "" if accept else reason,
            "decided_at": utcnow(),
            "decided_by_user_id": actor.user_id,
        },
        rls.as_company(actor.company_id),
    )
    if not won:
        raise conflict("proposal-decided", "This proposal was decided meanwhile; reload.")
    if accept:  # invites the company (and accepts other companies' proposals of it)
        _admit(session, actor, record, proposal.company_id, target)
    audit.record(
        session,
        actor,
        "proposal.accepted" if accept else "proposal.declined",
        kind,
        record_id,
        company=str(proposal.company_id),
        proposed_by=str(proposal.proposed_by_company_id),
        reason=reason,
    )
    if proposal.proposed_by_user_id is not None:
        hooks.notice.announce(
            hooks.Notice(
                session=session,
                actor=actor,
                user_ids=[proposal.proposed_by_user_id],
                event="proposal_decided",
                kind=kind,
                record_id=record_id,
                subject_id=proposal.id,
            )
        )
    return proposal


def withdraw(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, proposal_id: uuid.UUID
) -> None:
    """My company takes its pending proposal back."""
    principal = actor.principal
    gate.require_edit(session, principal, kind, record_id)
    proposal = session.scalars(
        _visible_proposals(principal, kind, admitting=False).where(
            Proposal.id == proposal_id, Proposal.record_id == record_id
        )
    ).first()
    if proposal is None:
        raise not_found("proposal")
    won = conditional.claim_status(
        session,
        proposal,
        [PENDING],
        {"status": ProposalStatus.WITHDRAWN.value, "decided_at": utcnow()},
        rls.as_company(actor.company_id),
    )
    if not won:
        raise conflict("proposal-decided", f"This proposal is {proposal.status} already.")
    audit.record(
        session,
        actor,
        "proposal.withdrawn",
        kind,
        record_id,
        company=str(proposal.company_id),
    )


# -- delegation ---------------------------------------------------------------------------------


def set_admit_right(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    company_id: uuid.UUID,
    can_admit: bool,
) -> Participant:
    """The owner company lets an active participant admit companies too, or stops it."""
    principal = actor.principal
    record = gate.require_edit(session, principal, kind, record_id)
    if record.owner_company_id != actor.company_id:
        raise forbidden("Only the owner company decides who may admit companies to its record.")
    actor.require_role(Role.MANAGER, "let a partner admit companies")
    if company_id == actor.company_id:
        raise invalid("path.company_id", "is the owner company, which always admits")
    target = participants.of_company(session, principal, record_id, company_id)
    if target is None or target.status != participants.ACTIVE:
        raise Problem(404, "not-found", "Not found", "That company is not active on this record.")
    if target.can_admit != can_admit:
        won = conditional.claim_status(
            session,
            target,
            [participants.ACTIVE],
            {"can_admit": can_admit},
            rls.as_company(actor.company_id),
        )
        if not won:
            raise conflict("participant-changed", "That company's status just changed; reload.")
        audit.record(
            session,
            actor,
            "participant.admit_right_granted" if can_admit else "participant.admit_right_revoked",
            kind,
            record_id,
            company=str(company_id),
        )
    return target
