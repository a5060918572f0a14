"""Fund requests: a partner drafts and submits one against a budget it has an allocation on;
the funding company approves it with an amount (claiming budget), asks for more information,
or rejects it with a reason; the partner asks for a later claim deadline and the funder grants
or declines it. Nothing here commits.

Approval is one transaction of three claims, each decided by its own UPDATE's row count: the
request (`status = 'submitted'` at the version read), the budget (`committed + :amount <=
total`, period open) and the partner's allocation (`committed + :amount <= cap`). Any refusal
rolls back the whole, so a budget is never over-committed, whatever approvals race.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields.kinds import Kind
from coterie.funds import access, notices, periods, transitions
from coterie.funds.money import amount, from_cents, shown, to_cents
from coterie.funds.schemas import (
    ApproveIn,
    DecisionIn,
    ExtensionIn,
    ExtensionStatus,
    RequestIn,
    RequestOut,
    RequestPatch,
    RequestStatus,
)
from coterie.kit import conditional
from coterie.kit.problems import conflict, forbidden, invalid
from coterie.models import RecordAccess
from coterie.models.funds import FundAllocation, FundBudget, FundNote, FundRequest
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names

CAMPAIGN = Kind.CAMPAIGN.value
EDITABLE = (RequestStatus.DRAFT.value, RequestStatus.MORE_INFO.value)
SUBMITTED = (RequestStatus.SUBMITTED.value,)


def _open_budget(budget: FundBudget, path: str) -> None:
    if periods.is_closed(budget):
        raise invalid(
            path, f"the budget's period {budget.period_name} is closed: it takes no requests"
        )


def _check_dates(starts_on: date, ends_on: date, claim_deadline: date) -> None:
    if ends_on < starts_on:
        raise invalid("body.ends_on", "must be on or after the activity's start")
    if claim_deadline < ends_on:
        raise invalid("body.claim_deadline", "must be on or after the activity's end")


def _check_campaign(session: Session, principal: Principal, campaign_id: uuid.UUID) -> None:
    seen = session.scalars(
        gate.visible_ids(principal, CAMPAIGN).where(RecordAccess.record_id == campaign_id)
    ).first()
    if seen is None:
        raise invalid("body.campaign_id", "is not a campaign you can see")


def create(session: Session, actor: Actor, data: RequestIn) -> FundRequest:
    principal = actor.principal
    budget = access.budget(session, principal, data.budget_id)
    if budget.company_id == actor.company_id:
        raise invalid("body.budget_id", "is your own company's budget: partners request from it")
    _open_budget(budget, "body.budget_id")
    if data.currency != budget.currency:
        raise invalid("body.currency", f"must be the budget's currency, {budget.currency}")
    _check_dates(data.starts_on, data.ends_on, data.claim_deadline)
    if data.campaign_id is not None:
        _check_campaign(session, principal, data.campaign_id)
    now = utcnow()
    row = FundRequest(
        id=uuid.uuid4(),
        budget_id=budget.id,
        requester_company_id=actor.company_id,
        funder_company_id=budget.company_id,
        created_by_user_id=actor.user_id,
        activity=data.activity,
        description=data.description,
        campaign_id=data.campaign_id,
        requested_amount_cents=to_cents(data.requested_amount),
        currency=data.currency,
        expected_pipeline_cents=(
            to_cents(data.expected_pipeline) if data.expected_pipeline is not None else None
        ),
        contribution_pct=data.contribution_pct,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        claim_deadline=data.claim_deadline,
        status=RequestStatus.SUBMITTED.value if data.submit else RequestStatus.DRAFT.value,
        submitted_at=now if data.submit else None,
        claimed_cents=0,
        paid_cents=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "fund_request.created", "fund_request", row.id)
    if data.submit:
        notices.tell(session, actor, row.funder_company_id, "fund_request_submitted", row.id)
    return row


def _as_requester(session: Session, actor: Actor, request_id: uuid.UUID) -> FundRequest:
    row = access.request(session, actor.principal, request_id)
    if row.requester_company_id != actor.company_id:
        raise forbidden("Only the company that asked for these funds does that.")
    return row


def _as_funder(session: Session, actor: Actor, request_id: uuid.UUID) -> FundRequest:
    row = access.request(session, actor.principal, request_id)
    if row.funder_company_id != actor.company_id:
        raise forbidden("Only the funding company decides on this request.")
    actor.require_role(Role.MANAGER, "decide on fund requests")
    return row


def change(
    session: Session, actor: Actor, request_id: uuid.UUID, data: RequestPatch, expected: int
) -> FundRequest:
    """The requester edits its draft, or a request sent back for more information."""
    row = _as_requester(session, actor, request_id)
    options = rls.as_company(actor.company_id)
    conditional.claim_version(session, row, expected, "fund request", options)
    if row.status not in EDITABLE:  # the version is ours now: no one moves it meanwhile
        raise conflict(
            "wrong-status",
            f"The fund request is {transitions.STATUS_WORDS[row.status]}: it can no longer "
            "be edited.",
        )
    for name in ("activity", "description", "contribution_pct", "starts_on", "ends_on"):
        value = getattr(data, name)
        if value is not None:
            setattr(row, name, value)
    if data.claim_deadline is not None:
        row.claim_deadline = data.claim_deadline
    if data.requested_amount is not None:
        row.requested_amount_cents = to_cents(data.requested_amount)
    if data.expected_pipeline is not None:
        row.expected_pipeline_cents = to_cents(data.expected_pipeline)
    _check_dates(row.starts_on, row.ends_on, row.claim_deadline)
    session.flush()
    return row


def submit(session: Session, actor: Actor, request_id: uuid.UUID, expected: int) -> FundRequest:
    row = _as_requester(session, actor, request_id)
    budget = access.budget(session, actor.principal, row.budget_id)
    _open_budget(budget, "budget_id")
    transitions.move(
        session,
        actor.principal,
        row,
        expected,
        EDITABLE,
        {"status": RequestStatus.SUBMITTED.value, "submitted_at": utcnow()},
        what="fund request",
    )
    audit.record(session, actor, "fund_request.submitted", "fund_request", row.id)
    notices.tell(session, actor, row.funder_company_id, "fund_request_submitted", row.id)
    return row


def _note(session: Session, actor: Actor, row: FundRequest, body: str) -> None:
    if body:
        session.add(
            FundNote(
                id=uuid.uuid4(),
                request_id=row.id,
                company_id=actor.company_id,
                author_user_id=actor.user_id,
                body=body,
                created_at=utcnow(),
            )
        )
        session.flush()


def approve(
    session: Session, actor: Actor, request_id: uuid.UUID, data: ApproveIn, expected: int
) -> FundRequest:
    row = _as_funder(session, actor, request_id)
    principal = actor.principal
    cents = to_cents(data.approved_amount)
    if cents > row.requested_amount_cents:
        raise invalid(
            "body.approved_amount",
            "must not exceed the requested amount, "
            + shown(row.requested_amount_cents, row.currency),
        )
    options = rls.as_company(principal.company_id)
    transitions.move(
        session,
        principal,
        row,
        expected,
        SUBMITTED,
        {
            "status": RequestStatus.APPROVED.value,
            "approved_amount_cents": cents,
            "decision_message": data.message or None,
            "decided_at": utcnow(),
        },
        what="fund request",
    )
    budget_table = access.table(FundBudget)
    claimed = session.execute(
        update(budget_table)
        .where(
            budget_table.c.id == row.budget_id,
            budget_table.c.committed_cents + cents <= budget_table.c.total_cents,
            budget_table.c.closed_at.is_(None),
        )
        .values(
            committed_cents=budget_table.c.committed_cents + cents,
            version=budget_table.c.version + 1,
        )
        .execution_options(**options)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        budget = access.budget(session, principal, row.budget_id)
        access.reload(session, principal, budget)
        if budget.closed_at is not None:
            raise conflict("budget-closed", "The budget's period is closed: it approves nothing.")
        remaining = budget.total_cents - budget.committed_cents
        raise conflict(
            "over-budget",
            f"Approving {shown(cents, row.currency)} would over-commit the budget: "
            f"{shown(remaining, budget.currency)} remains.",
        )
    allocation_table = access.table(FundAllocation)
    allotted = session.execute(
        update(allocation_table)
        .where(
            allocation_table.c.budget_id == row.budget_id,
            allocation_table.c.partner_company_id == row.requester_company_id,
            or_(
                allocation_table.c.cap_cents.is_(None),
                allocation_table.c.committed_cents + cents <= allocation_table.c.cap_cents,
            ),
        )
        .values(
            committed_cents=allocation_table.c.committed_cents + cents,
            version=allocation_table.c.version + 1,
        )
        .execution_options(**options)
    )
    if allotted.rowcount == 0:  # type: ignore[attr-defined]
        allocation = access.allocation_of(
            session, principal, row.budget_id, row.requester_company_id
        )
        left = (
            None
            if allocation is None or allocation.cap_cents is None
            else allocation.cap_cents - allocation.committed_cents
        )
        raise conflict(
            "over-allocation",
            "Approving that would exceed the partner's allocation"
            + (f": {shown(left, row.currency)} remains of it." if left is not None else "."),
        )
    _note(session, actor, row, data.internal_note)
    audit.record(session, actor, "fund_request.approved", "fund_request", row.id)
    notices.tell(
        session,
        actor,
        row.requester_company_id,
        "fund_request_decided",
        row.id,
        also=row.created_by_user_id,
    )
    return row


def _decide(
    session: Session,
    actor: Actor,
    request_id: uuid.UUID,
    data: DecisionIn,
    expected: int,
    status: RequestStatus,
) -> FundRequest:
    row = _as_funder(session, actor, request_id)
    transitions.move(
        session,
        actor.principal,
        row,
        expected,
        SUBMITTED,
        {"status": status.value, "decision_message": data.message, "decided_at": utcnow()},
        what="fund request",
    )
    _note(session, actor, row, data.internal_note)
    audit.record(session, actor, f"fund_request.{status.value}", "fund_request", row.id)
    notices.tell(
        session,
        actor,
        row.requester_company_id,
        "fund_request_decided",
        row.id,
        also=row.created_by_user_id,
    )
    return row


def ask_for_information(
    session: Session, actor: Actor, request_id: uuid.UUID, data: DecisionIn, expected: int
) -> FundRequest:
    return _decide(session, actor, request_id, data, expected, RequestStatus.MORE_INFO)


def reject(
    session: Session, actor: Actor, request_id: uuid.UUID, data: DecisionIn, expected: int
) -> FundRequest:
    return _decide(session, actor, request_id, data, expected, RequestStatus.REJECTED)


# -- claim deadline extensions ----------------------------------------------------------------


def ask_extension(
    session: Session, actor: Actor, request_id: uuid.UUID, data: ExtensionIn, expected: int
) -> FundRequest:
    row = _as_requester(session, actor, request_id)
    if data.new_deadline <= row.claim_deadline:
        raise invalid(
            "body.new_deadline", f"must be after the current claim deadline, {row.claim_deadline}"
        )
    table = access.table(FundRequest)
    transitions.move(
        session,
        actor.principal,
        row,
        expected,
        (RequestStatus.APPROVED.value,),
        {
            "extension_status": ExtensionStatus.PENDING.value,
            "extension_deadline": data.new_deadline,
            "extension_reason": data.reason,
        },
        what="fund request",
        also=[
            or_(
                table.c.extension_status.is_(None),
                table.c.extension_status != ExtensionStatus.PENDING.value,
            )
        ],
    )
    audit.record(session, actor, "fund_request.extension_asked", "fund_request", row.id)
    notices.tell(session, actor, row.funder_company_id, "fund_extension_requested", row.id)
    return row


def decide_extension(
    session: Session, actor: Actor, request_id: uuid.UUID, grant: bool, expected: int
) -> FundRequest:
    row = _as_funder(session, actor, request_id)
    if row.extension_status != ExtensionStatus.PENDING.value or row.extension_deadline is None:
        raise conflict("no-extension-asked", "No extension of the claim deadline is pending.")
    values: dict[str, object] = {
        "extension_status": (ExtensionStatus.GRANTED if grant else ExtensionStatus.DECLINED).value
    }
    if grant:
        values["claim_deadline"] = row.extension_deadline
    table = access.table(FundRequest)
    transitions.move(
        session,
        actor.principal,
        row,
        expected,
        (RequestStatus.APPROVED.value,),
        values,
        what="fund request",
        also=[table.c.extension_status == ExtensionStatus.PENDING.value],
    )
    audit.record(session, actor, "fund_request.extension_decided", "fund_request", row.id)
    notices.tell(
        session,
        actor,
        row.requester_company_id,
        "fund_extension_decided",
        row.id,
        also=row.created_by_user_id,
    )
    return row


# -- reading ----------------------------------------------------------------------------------


def present(
    session: Session, principal: Principal, rows: Sequence[FundRequest]
) -> list[RequestOut]:
    names = company_names(
        session, [c for r in rows for c in (r.requester_company_id, r.funder_company_id)]
    )
    campaigns = gate.visible_titles(
        session, principal, [(CAMPAIGN, r.campaign_id) for r in rows if r.campaign_id]
    )
    budget_names = {
        b.id: b.name
        for b in session.scalars(
            access.budgets(principal).where(FundBudget.id.in_({r.budget_id for r in rows}))
        )
    }
    out = []
    for r in rows:
        campaign_id = r.campaign_id if r.campaign_id in campaigns else None
        out.append(
            RequestOut(
                id=r.id,
                budget_id=r.budget_id,
                budget_name=budget_names.get(r.budget_id, ""),
                requester_company_id=r.requester_company_id,
                requester_name=names.get(r.requester_company_id, ""),
                funder_company_id=r.funder_company_id,
                funder_name=names.get(r.funder_company_id, ""),
                activity=r.activity,
                description=r.description,
                campaign_id=campaign_id,
                campaign_title=campaigns.get(campaign_id) if campaign_id else None,
                requested_amount=amount(r.requested_amount_cents),
                currency=r.currency,
                expected_pipeline=from_cents(r.expected_pipeline_cents),
                contribution_pct=r.contribution_pct,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                claim_deadline=r.claim_deadline,
                effective_claim_deadline=r.claim_deadline,
                status=RequestStatus(r.status),
                approved_amount=from_cents(r.approved_amount_cents),
                decision_message=r.decision_message,
                claimed=amount(r.claimed_cents),
                paid=amount(r.paid_cents),
                extension_status=(
                    ExtensionStatus(r.extension_status) if r.extension_status else None
                ),
                extension_deadline=r.extension_deadline,
                extension_reason=r.extension_reason,
                submitted_at=r.submitted_at,
                decided_at=r.decided_at,
                version=r.version,
            )
        )
    return out


def of_budget(session: Session, principal: Principal, budget_id: uuid.UUID) -> list[FundRequest]:
    return list(
        session.scalars(
            access.requests(principal)
            .where(FundRequest.budget_id == budget_id)
            .order_by(FundRequest.created_at.desc(), FundRequest.id)
        )
    )


def awaiting_decision(session: Session, principal: Principal) -> list[FundRequest]:
    return list(
        session.scalars(
            access.requests(principal)
            .where(
                FundRequest.funder_company_id == principal.company_id,
                FundRequest.status == RequestStatus.SUBMITTED.value,
            )
            .order_by(FundRequest.submitted_at, FundRequest.id)
        )
    )


def mine(session: Session, principal: Principal) -> list[FundRequest]:
    """The requests my company asked for."""
    return list(
        session.scalars(
            access.requests(principal)
            .where(FundRequest.requester_company_id == principal.company_id)
            .order_by(FundRequest.created_at.desc(), FundRequest.id)
        )
    )


def notes(session: Session, principal: Principal, request_id: uuid.UUID) -> list[FundNote]:
    return list(session.scalars(access.notes(principal, request_id)))


def add_note(session: Session, actor: Actor, request_id: uuid.UUID, body: str) -> FundNote:
    row = _as_funder(session, actor, request_id)
    note = FundNote(
        id=uuid.uuid4(),
        request_id=row.id,
        company_id=actor.company_id,
        author_user_id=actor.user_id,
        body=body,
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    return note
