"""Leads before the pipeline: nomination to partners, their decisions, duplicates, conversion.

- **Nominate**: a company on a lead (owner or active participant) nominates it to accepted
  partners. Each receiver is invited onto the lead (the record core's invitation: it sees the
  title, the customer and who nominated it, nothing more) and gets a `lead_decisions` row.
- **Decide**: the receiver accepts with an owner (a user of its own company; it becomes an active
  participant and the owner goes into its own space) or rejects with a reason code and text (its
  participation becomes `declined`). A decision is visible to the nominating company and to the
  deciding company, never to the other receivers.
- **Convert**: any active participant turns the lead into an opportunity that keeps where it
  came from (`source_company` = the lead's owner company, `source_record_id` = the lead), its
  participants (active stay active, invited stay invited), its plan links, and the campaign
  attributions and solution links the converting company sees (`cosell.campaigns.links`). The
  lead's joint stage becomes `converted`; converting again is 409.

Every read starts at the gate (`gate.check`, `gate.require_edit`, `gate.my_participation`);
statements on `lead_decisions` and `plan_records` carry `rls.as_company`. Nothing commits here.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, grants, rls
from coterie.authz.partners import partner_ids
from coterie.authz.principal import Principal
from coterie.cosell.campaigns import links as campaign_links
from coterie.cosell.pipeline import duplicates
from coterie.cosell.pipeline.schemas import (
    ConvertIn,
    DecisionOut,
    DecisionStatus,
    DuplicateOut,
    NominationOut,
    RejectReason,
)
from coterie.db import utcnow
from coterie.fields import templates
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.kit import conditional
from coterie.kit.pagination import SortKey, paginate
from coterie.kit.problems import Problem, conflict, forbidden, invalid, not_found
from coterie.models import Company, Participant, Record, RecordAccess, Space, User
from coterie.models.cosell import PlanRecord
from coterie.models.pipeline import LeadDecision
from coterie.network.companies import names as _names
from coterie.records import admission, participants, search, values
from coterie.records import service as records
from coterie.records.schemas import LEAD_CONVERTED, RecordCreate

LEAD = Kind.LEAD.value
OPPORTUNITY = Kind.OPPORTUNITY.value
CONVERTED = LEAD_CONVERTED
INVITED = ParticipantStatus.INVITED.value
ACTIVE = ParticipantStatus.ACTIVE.value
GONE = (ParticipantStatus.REMOVED.value, ParticipantStatus.LEFT.value)


def effective_status(decision: LeadDecision, participant_status: str | None) -> DecisionStatus:
    """The decision as it stands: a receiver may also have answered through the record's own
    invitation routes, or the nominator withdrawn the invitation, before any decision."""
    if decision.status != DecisionStatus.PENDING.value:
        return DecisionStatus(decision.status)
    if participant_status == ACTIVE:
        return DecisionStatus.ACCEPTED
    if participant_status == ParticipantStatus.DECLINED.value:
        return DecisionStatus.REJECTED
    if participant_status in GONE:
        return DecisionStatus.WITHDRAWN
    return DecisionStatus.PENDING


def _status_filter(status: DecisionStatus) -> ColumnElement[bool]:
    """SQL for `effective_status(...) == status` over LeadDecision joined to Participant."""
    pending = LeadDecision.status == DecisionStatus.PENDING.value
    if status == DecisionStatus.PENDING:
        return and_(pending, Participant.status == INVITED)
    if status == DecisionStatus.WITHDRAWN:
        return and_(pending, Participant.status.in_(GONE))
    participant = ACTIVE if status == DecisionStatus.ACCEPTED else ParticipantStatus.DECLINED.value
    return or_(
        LeadDecision.status == status.value, and_(pending, Participant.status == participant)
    )


def _decision_rows(session: Session, company_id: uuid.UUID, *where: Any) -> Any:
    statement = (
        select(LeadDecision, Participant.status)
        .outerjoin(
            Participant,
            and_(
                Participant.record_id == LeadDecision.record_id,
                Participant.company_id == LeadDecision.company_id,
            ),
        )
        .where(*where)
        .order_by(LeadDecision.nominated_at, LeadDecision.id)
        .execution_options(**rls.as_company(company_id))
    )
    return session.execute(statement).all()


def _decision_out(
    decision: LeadDecision, participant_status: str | None, names: dict[uuid.UUID, str]
) -> DecisionOut:
    nominator = decision.nominated_by_company_id
    return DecisionOut(
        id=decision.id,
        record_id=decision.record_id,
        company_id=decision.company_id,
        company_name=names.get(decision.company_id, ""),
        nominated_by_company_id=nominator,
        nominated_by_company_name=names.get(nominator) if nominator else None,
        note=decision.note,
        status=effective_status(decision, participant_status),
        participant_status=participant_status,
        reason_code=RejectReason(decision.reason_code) if decision.reason_code else None,
        reason=decision.reason,
        owner_user_id=decision.owner_user_id,
        nominated_at=decision.nominated_at,
        decided_at=decision.decided_at,
    )


# -- nominate ---------------------------------------------------------------------------------


def nominate(
    session: Session, actor: Actor, lead_id: uuid.UUID, company_ids: list[uuid.UUID], note: str
) -> list[DecisionOut]:
    principal = actor.principal
    lead = gate.require_edit(session, principal, LEAD, lead_id)
    if lead.joint_stage == CONVERTED:
        raise conflict("lead-converted", "This lead was converted; nominate the opportunity.")
    if not admission.admits(session, principal, lead):
        raise forbidden(
            "Only the lead's owner (or a company it lets admit others) nominates partners; "
            "propose the company on the lead instead."
        )
    partners = partner_ids(session, actor.company_id)
    seen: set[uuid.UUID] = set()
    for index, company_id in enumerate(company_ids):
        path = f"body.company_ids[{index}]"
        if company_id == actor.company_id:
            raise invalid(path, "is your own company")
        if company_id in seen:
            raise invalid(path, "is listed twice")
        if company_id not in partners:
            raise invalid(path, "is not an accepted partner of your company", "not-a-partner")
        seen.add(company_id)
    existing = {
        d.company_id: d
        for d in session.scalars(
            select(LeadDecision)
            .where(LeadDecision.record_id == lead_id, LeadDecision.company_id.in_(company_ids))
            .execution_options(**rls.as_company(actor.company_id))
        )
    }
    now = utcnow()
    for company_id in company_ids:
        # 409 when already on it; the partner's admins and managers are told of the nomination
        admission.invite(session, actor, LEAD, lead_id, company_id, notice="nomination")
        decision = existing.get(company_id)
        if decision is None:
            decision = LeadDecision(record_id=lead_id, company_id=company_id)
            session.add(decision)
        decision.nominated_by_company_id = actor.company_id
        decision.nominated_by_user_id = actor.user_id
        decision.note = note
        decision.status = DecisionStatus.PENDING.value
        decision.reason_code = None
        decision.reason = ""
        decision.owner_user_id = None
        decision.decided_by_user_id = None
        decision.decided_at = None
        decision.nominated_at = now
    audit.record(
        session,
        actor,
        "lead.nominated",
        LEAD,
        lead_id,
        companies=[str(c) for c in company_ids],
    )
    session.flush()
    return decisions(session, actor, lead_id, only=set(company_ids))


# -- decide -----------------------------------------------------------------------------------


def _my_pending_decision(session: Session, actor: Actor, lead_id: uuid.UUID) -> LeadDecision:
    principal = actor.principal
    gate.my_participation(session, principal, LEAD, lead_id)  # 404 when never invited
    decision = session.scalars(
        select(LeadDecision)
        .where(LeadDecision.record_id == lead_id, LeadDecision.company_id == actor.company_id)
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if decision is None:
        raise not_found("nomination")
    if decision.status != DecisionStatus.PENDING.value:
        raise conflict(
            "already-decided", f"Your company already {decision.status} this nomination."
        )
    return decision


def _decide(session: Session, actor: Actor, decision: LeadDecision, **values: Any) -> None:
    """pending -> accepted | rejected in one conditional UPDATE: of two racing answers exactly
    one applies; the other is 409 already-decided."""
    options = rls.as_company(actor.company_id)
    values |= {"decided_by_user_id": actor.user_id, "decided_at": utcnow()}
    if not conditional.claim_status(
        session, decision, [DecisionStatus.PENDING.value], values, options
    ):
        status = conditional.current_status(session, decision, options)
        raise conflict("already-decided", f"Your company already {status} this nomination.")


def accept(
    session: Session, actor: Actor, lead_id: uuid.UUID, owner_user_id: uuid.UUID
) -> LeadDecision:
    decision = _my_pending_decision(session, actor, lead_id)
    owner = session.scalar(
        select(User).where(User.id == owner_user_id, User.company_id == actor.company_id)
    )
    if owner is None or not owner.is_active:
        raise invalid("body.owner_user_id", "is not an active user of your company")
    _decide(session, actor, decision, status=DecisionStatus.ACCEPTED.value, owner_user_id=owner.id)
    participants.accept(session, actor, LEAD, lead_id, actor.company_id)  # 409 unless invited
    space = gate.own_space_for_write(session, actor.principal, LEAD, lead_id)
    records.update_my_space(session, actor, LEAD, lead_id, {"owner": str(owner.id)}, space.version)
    audit.record(
        session,
        actor,
        "lead.accepted",
        LEAD,
        lead_id,
        owner=str(owner.id),
    )
    return decision


def reject(
    session: Session, actor: Actor, lead_id: uuid.UUID, reason_code: RejectReason, reason: str
) -> LeadDecision:
    decision = _my_pending_decision(session, actor, lead_id)
    _decide(
        session,
        actor,
        decision,
        status=DecisionStatus.REJECTED.value,
        reason_code=reason_code.value,
        reason=reason,
    )
    # 409 unless invited
    participants.decline(session, actor, LEAD, lead_id, actor.company_id, reason)
    audit.record(
        session,
        actor,
        "lead.rejected",
        LEAD,
        lead_id,
        reason_code=reason_code.value,
    )
    return decision


# -- read -------------------------------------------------------------------------------------


def decisions(
    session: Session, actor: Actor, lead_id: uuid.UUID, *, only: set[uuid.UUID] | None = None
) -> list[DecisionOut]:
    """The decisions on a lead the caller sees: those its company nominated, and its own."""
    principal = actor.principal
    gate.check(session, principal, LEAD, lead_id)
    where: list[Any] = [
        LeadDecision.record_id == lead_id,
        or_(
            LeadDecision.nominated_by_company_id == actor.company_id,
            LeadDecision.company_id == actor.company_id,
        ),
    ]
    if only is not None:
        where.append(LeadDecision.company_id.in_(only))
    rows = _decision_rows(session, actor.company_id, *where)
    names = _names(
        session, {d.company_id for d, _ in rows} | {d.nominated_by_company_id for d, _ in rows}
    )
    return [_decision_out(d, status, names) for d, status in rows]


def my_decision(session: Session, actor: Actor, lead_id: uuid.UUID) -> DecisionOut:
    """My company's own decision on a lead nominated to it (also after it rejected)."""
    gate.my_participation(session, actor.principal, LEAD, lead_id)
    rows = _decision_rows(
        session,
        actor.company_id,
        LeadDecision.record_id == lead_id,
        LeadDecision.company_id == actor.company_id,
    )
    if not rows:
        raise not_found("nomination")
    decision, status = rows[0]
    names = _names(session, {decision.company_id, decision.nominated_by_company_id})
    return _decision_out(decision, status, names)


def nominations(
    session: Session,
    actor: Actor,
    *,
    status: DecisionStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[NominationOut], str | None]:
    """Leads nominated to my company, newest first: what the invitation shows and my answer.

    The core comes from my own participation (any status), as the record invitation inbox
    does (`gate.my_participation`); nothing beyond title and customer is read."""
    principal = actor.principal
    statement = (
        select(LeadDecision)
        .join(
            Participant,
            and_(
                Participant.record_id == LeadDecision.record_id,
                Participant.company_id == LeadDecision.company_id,
            ),
        )
        .where(LeadDecision.company_id == actor.company_id)
        .execution_options(**rls.as_company(actor.company_id))
    )
    if status is not None:
        statement = statement.where(_status_filter(status))
    keys = (SortKey(LeadDecision.id, is_uuid=True),)
    found, next_cursor = paginate(
        session, statement, keys, limit=limit, cursor=cursor, key_of=lambda d: (d.id,)
    )
    names = _names(session, {d.nominated_by_company_id for d in found})
    items: list[NominationOut] = []
    for decision in found:
        record, participant = gate.my_participation(session, principal, LEAD, decision.record_id)
        items.append(
            NominationOut(
                decision_id=decision.id,
                record_id=record.id,
                title=record.title,
                customer_name=record.customer_name,
                customer_domain=record.customer_domain,
                nominated_by_company_id=decision.nominated_by_company_id,
                nominated_by_company_name=names.get(decision.nominated_by_company_id)
                if decision.nominated_by_company_id
                else None,
                note=decision.note,
                status=effective_status(decision, participant.status),
                reason_code=RejectReason(decision.reason_code) if decision.reason_code else None,
                reason=decision.reason,
                owner_user_id=decision.owner_user_id,
                nominated_at=decision.nominated_at,
                decided_at=decision.decided_at,
            )
        )
    return items, next_cursor


def lead_duplicates(session: Session, actor: Actor, lead_id: uuid.UUID) -> list[DuplicateOut]:
    """Records the caller sees with the lead's customer. A receiver still deciding knows only
    the customer from the invitation, and the search runs over its own visible records."""
    principal = actor.principal
    try:
        lead = gate.check(session, principal, LEAD, lead_id)
    except Problem as hidden:
        lead, participant = gate.my_participation(session, principal, LEAD, lead_id)
        if participant.status != INVITED:
            raise hidden from None
    return duplicates.find(
        session,
        principal,
        customer_name=lead.customer_name,
        customer_domain=lead.customer_domain,
        exclude=lead.id,
    )


def converted_to(session: Session, actor: Actor, lead_id: uuid.UUID) -> Record | None:
    """The opportunity the lead became, if the caller may see it."""
    principal = actor.principal
    statement = gate.visible(principal, OPPORTUNITY).where(Record.source_record_id == lead_id)
    return session.scalars(statement.limit(1)).first()


# -- convert ----------------------------------------------------------------------------------


def _carry_participants(
    session: Session,
    actor: Actor,
    principal: Principal,
    lead_id: uuid.UUID,
    opportunity_id: uuid.UUID,
    now: Any,
) -> list[str]:
    """Companies active on the lead become active on the opportunity (they already agreed to
    work this customer together), invited ones are invited. Returns the ids made active."""
    session.flush()
    current = {
        p.company_id: p
        for p in gate.participants(session, principal, OPPORTUNITY, [opportunity_id])
    }  # an auto-share rule of mine may have invited some already
    carried: list[str] = []
    for on_lead in gate.participants(session, principal, LEAD, [lead_id]):
        if on_lead.company_id == actor.company_id or on_lead.status not in (ACTIVE, INVITED):
            continue
        participant = current.get(on_lead.company_id)
        if participant is None:
            participant = Participant(
                record_id=opportunity_id,
                company_id=on_lead.company_id,
                status=on_lead.status,
                invited_by_company_id=actor.company_id,
                invited_by_user_id=actor.user_id,
                invited_at=now,
                responded_at=now if on_lead.status == ACTIVE else None,
            )
            session.add(participant)
        elif on_lead.status == ACTIVE and participant.status != ACTIVE:
            participant.status = ACTIVE
            participant.source = "manual"
            participant.responded_at = now
        else:
            continue
        if on_lead.status == ACTIVE:
            company = session.get(Company, on_lead.company_id)
            if company is not None:
                _add_space(session, actor, opportunity_id, company)
            carried.append(str(on_lead.company_id))
    return carried


def _add_space(session: Session, actor: Actor, record_id: uuid.UUID, company: Company) -> None:
    """An empty space of `company` on the new opportunity (unless it has one)."""
    session.flush()
    exists = session.scalars(
        select(Space.record_id)
        .where(Space.record_id == record_id, Space.company_id == company.id)
        .execution_options(**rls.as_company(actor.company_id))
    ).first()
    if exists is not None:
        return
    space = Space(record_id=record_id, company_id=company.id, custom={})
    template = templates.load(session, company.id, OPPORTUNITY)
    values.apply(session, space, template, {}, default_currency=company.currency, creating=False)
    session.add(space)
    search.index_space(session, OPPORTUNITY, space)


def convert(session: Session, actor: Actor, lead_id: uuid.UUID, data: ConvertIn) -> Record:
    principal = actor.principal
    lead = gate.require_edit(session, principal, LEAD, lead_id)
    motion = data.motion.value if data.motion is not None else lead.motion
    if motion is None:
        raise invalid("body.motion", "is required: the lead has no motion to carry over")
    account_id = data.account_id
    if account_id is None and lead.account_id is not None:
        visible = session.scalars(
            gate.visible_ids(principal, Kind.ACCOUNT.value).where(
                RecordAccess.record_id == lead.account_id
            )
        ).first()
        account_id = lead.account_id if visible is not None else None
    # claim the lead first: of two conversions racing, exactly one changes the row
    now = utcnow()
    claimed = session.execute(
        update(Record)
        .where(
            Record.id == lead_id,
            or_(Record.joint_stage.is_(None), Record.joint_stage != CONVERTED),
        )
        .values(joint_stage=CONVERTED, version=Record.version + 1, updated_at=now)
        .execution_options(synchronize_session="evaluate", **rls.as_company(actor.company_id))
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise conflict("lead-converted", "This lead was already converted to an opportunity.")
    opportunity = records.create(
        session,
        actor,
        OPPORTUNITY,
        RecordCreate.model_validate(
            {
                "title": data.title or lead.title,
                "customer_name": lead.customer_name,
                "customer_domain": data.customer_domain or lead.customer_domain,
                "account_id": account_id,
                "motion": motion,
                "description": lead.description,
                "fields": data.fields,
            }
        ),
    )
    opportunity.source_company_id = lead.owner_company_id
    opportunity.source_record_id = lead.id
    carried = _carry_participants(session, actor, principal, lead_id, opportunity.id, now)
    links = session.scalars(
        select(PlanRecord)
        .where(PlanRecord.record_id == lead_id)
        .execution_options(**rls.as_company(actor.company_id))
    ).all()
    for link in links:
        session.add(
            PlanRecord(
                plan_id=link.plan_id,
                record_id=opportunity.id,
                kind=OPPORTUNITY,
                role=link.role,
                linked_by_company_id=actor.company_id,
                linked_by_user_id=actor.user_id,
                linked_at=now,
            )
        )
    carried_links = campaign_links.carry_to(session, actor, lead_id, opportunity.id, OPPORTUNITY)
    session.flush()
    grants.after_write(session, opportunity.id, OPPORTUNITY, acting_user_id=actor.user_id)
    grants.after_write(session, lead_id, LEAD, acting_user_id=actor.user_id)
    audit.record(
        session,
        actor,
        "lead.converted",
        LEAD,
        lead_id,
        opportunity=str(opportunity.id),
        participants=carried,
        plans=[str(link.plan_id) for link in links],
        campaigns=[str(c.to_record_id) for c in carried_links if c.relation == "campaign"],
        solutions=[str(c.to_record_id) for c in carried_links if c.relation == "solution"],
    )
    return opportunity
