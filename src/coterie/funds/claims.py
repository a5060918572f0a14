"""Claims against an approved fund request: the partner claims what it spent (never more than
the approved amount less what it already claimed), with proof of performance; the funding
company approves, asks for more information or rejects, then marks it paid. Nothing here
commits.

Submitting reserves the amount on the request in one UPDATE (`claimed + :amount <= approved`);
rejecting releases it. Payment adds to the request's and the budget's paid amounts in SQL.
A claim after the request's claim deadline is refused (422) unless the funder granted an
extension (which moves the deadline).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.funds import access, notices, periods, proof, transitions
from coterie.funds.money import amount, shown, to_cents
from coterie.funds.schemas import (
    ClaimDecisionIn,
    ClaimIn,
    ClaimOut,
    ClaimStatus,
    PaymentIn,
    RequestStatus,
    ResubmitIn,
)
from coterie.kit.problems import conflict, forbidden, invalid
from coterie.models.funds import FundBudget, FundClaim, FundRequest
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names

WHAT = "fund claim"


def _check_deadline(request: FundRequest) -> None:
    if periods.today() > request.claim_deadline:
        raise invalid(
            "claim_deadline",
            f"the claim deadline ({request.claim_deadline:%d %b %Y}) has passed: ask the funding "
            "company for an extension first",
        )


def _reserve(session: Session, principal: Principal, request: FundRequest, cents: int) -> None:
    table = access.table(FundRequest)
    done = session.execute(
        update(table)
        .where(
            table.c.id == request.id,
            table.c.status == RequestStatus.APPROVED.value,
            table.c.claimed_cents + cents <= table.c.approved_amount_cents,
        )
        .values(claimed_cents=table.c.claimed_cents + cents, version=table.c.version + 1)
        .execution_options(**rls.as_company(principal.company_id))
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        access.reload(session, principal, request)
        if request.status != RequestStatus.APPROVED.value:
            raise conflict("not-approved", "Only an approved fund request takes claims.")
        left = (request.approved_amount_cents or 0) - request.claimed_cents
        raise conflict(
            "over-approved",
            f"Claiming {shown(cents, request.currency)} would exceed the approved amount: "
            f"{shown(left, request.currency)} is left to claim.",
        )
    access.reload(session, principal, request)


def create(session: Session, actor: Actor, request_id: uuid.UUID, data: ClaimIn) -> FundClaim:
    principal = actor.principal
    request = access.request(session, principal, request_id)
    if request.requester_company_id != actor.company_id:
        raise forbidden("Only the company that received the funds claims them.")
    if request.status != RequestStatus.APPROVED.value or request.approved_amount_cents is None:
        raise conflict("not-approved", "Only an approved fund request takes claims.")
    cents = to_cents(data.amount)
    if cents > request.approved_amount_cents:
        raise invalid(
            "body.amount",
            f"must not exceed the approved amount, "
            f"{shown(request.approved_amount_cents, request.currency)}",
        )
    _check_deadline(request)
    claim = FundClaim(
        id=uuid.uuid4(),
        request_id=request.id,
        requester_company_id=request.requester_company_id,
        funder_company_id=request.funder_company_id,
        created_by_user_id=actor.user_id,
        amount_cents=cents,
        description=data.description,
        status=ClaimStatus.DRAFT.value,
        submitted_at=utcnow(),
    )
    session.add(claim)
    session.flush()
    audit.record(session, actor, "fund_claim.created", "fund_claim", claim.id)
    if data.submit:
        _submit(session, actor, request, claim, claim.version)
    return claim


def _submit(
    session: Session, actor: Actor, request: FundRequest, claim: FundClaim, expected: int
) -> None:
    principal = actor.principal
    _check_deadline(request)
    proof.check(session, principal, claim.id)
    transitions.move(
        session,
        principal,
        claim,
        expected,
        (ClaimStatus.DRAFT.value,),
        {"status": ClaimStatus.SUBMITTED.value, "submitted_at": utcnow()},
        what=WHAT,
    )
    _reserve(session, principal, request, claim.amount_cents)
    audit.record(session, actor, "fund_claim.submitted", "fund_claim", claim.id)
    notices.tell(session, actor, request.funder_company_id, "fund_claim_submitted", request.id)


def _as_requester(session: Session, actor: Actor, claim_id: uuid.UUID) -> FundClaim:
    claim = access.claim(session, actor.principal, claim_id)
    if claim.requester_company_id != actor.company_id:
        raise forbidden("Only the company that made the claim does that.")
    return claim


def _as_funder(session: Session, actor: Actor, claim_id: uuid.UUID) -> FundClaim:
    claim = access.claim(session, actor.principal, claim_id)
    if claim.funder_company_id != actor.company_id:
        raise forbidden("Only the funding company decides on this claim.")
    actor.require_role(Role.MANAGER, "decide on fund claims")
    return claim


def submit(session: Session, actor: Actor, claim_id: uuid.UUID, expected: int) -> FundClaim:
    claim = _as_requester(session, actor, claim_id)
    request = access.request(session, actor.principal, claim.request_id)
    _submit(session, actor, request, claim, expected)
    return claim


def resubmit(
    session: Session, actor: Actor, claim_id: uuid.UUID, data: ResubmitIn, expected: int
) -> FundClaim:
    """Answer a request for more information: the claim goes back to the funder."""
    claim = _as_requester(session, actor, claim_id)
    transitions.move(
        session,
        actor.principal,
        claim,
        expected,
        (ClaimStatus.MORE_INFO.value,),
        {"status": ClaimStatus.SUBMITTED.value, "description": data.description},
        what=WHAT,
    )
    notices.tell(session, actor, claim.funder_company_id, "fund_claim_submitted", claim.request_id)
    return claim


def _decided(session: Session, actor: Actor, claim: FundClaim, event: str) -> None:
    request = access.request(session, actor.principal, claim.request_id)
    audit.record(session, actor, f"fund_claim.{claim.status}", "fund_claim", claim.id)
    notices.tell(
        session, actor, claim.requester_company_id, event, request.id, also=claim.created_by_user_id
    )


def approve(
    session: Session, actor: Actor, claim_id: uuid.UUID, data: ClaimDecisionIn, expected: int
) -> FundClaim:
    claim = _as_funder(session, actor, claim_id)
    transitions.move(
        session,
        actor.principal,
        claim,
        expected,
        (ClaimStatus.SUBMITTED.value,),
        {
            "status": ClaimStatus.APPROVED.value,
            "decision_message": data.message or None,
            "decided_at": utcnow(),
        },
        what=WHAT,
    )
    _decided(session, actor, claim, "fund_claim_decided")
    return claim


def ask_for_information(
    session: Session, actor: Actor, claim_id: uuid.UUID, data: ClaimDecisionIn, expected: int
) -> FundClaim:
    if not data.message:
        raise invalid("body.message", "say what information you need")
    claim = _as_funder(session, actor, claim_id)
    transitions.move(
        session,
        actor.principal,
        claim,
        expected,
        (ClaimStatus.SUBMITTED.value,),
        {"status": ClaimStatus.MORE_INFO.value, "decision_message": data.message},
        what=WHAT,
    )
    _decided(session, actor, claim, "fund_claim_decided")
    return claim


def reject(
    session: Session, actor: Actor, claim_id: uuid.UUID, data: ClaimDecisionIn, expected: int
) -> FundClaim:
    if not data.message:
        raise invalid("body.message", "give the partner a reason")
    claim = _as_funder(session, actor, claim_id)
    principal = actor.principal
    transitions.move(
        session,
        principal,
        claim,
        expected,
        (ClaimStatus.SUBMITTED.value, ClaimStatus.MORE_INFO.value),
        {
            "status": ClaimStatus.REJECTED.value,
            "decision_message": data.message,
            "decided_at": utcnow(),
        },
        what=WHAT,
    )
    table = access.table(FundRequest)
    session.execute(  # the reserved amount may be claimed again
        update(table)
        .where(table.c.id == claim.request_id)
        .values(
            claimed_cents=table.c.claimed_cents - claim.amount_cents,
            version=table.c.version + 1,
        )
        .execution_options(**rls.as_company(principal.company_id))
    )
    _decided(session, actor, claim, "fund_claim_decided")
    return claim


def pay(
    session: Session, actor: Actor, claim_id: uuid.UUID, data: PaymentIn, expected: int
) -> FundClaim:
    claim = _as_funder(session, actor, claim_id)
    principal = actor.principal
    if data.paid_on > periods.today():
        raise invalid("body.paid_on", "must not be in the future")
    transitions.move(
        session,
        principal,
        claim,
        expected,
        (ClaimStatus.APPROVED.value,),
        {
            "status": ClaimStatus.PAID.value,
            "payment_reference": data.payment_reference,
            "paid_on": data.paid_on,
        },
        what=WHAT,
    )
    options = rls.as_company(principal.company_id)
    requests = access.table(FundRequest)
    session.execute(
        update(requests)
        .where(requests.c.id == claim.request_id)
        .values(
            paid_cents=requests.c.paid_cents + claim.amount_cents,
            version=requests.c.version + 1,
        )
        .execution_options(**options)
    )
    request = access.request(session, principal, claim.request_id)
    budgets = access.table(FundBudget)
    session.execute(
        update(budgets)
        .where(budgets.c.id == request.budget_id)
        .values(paid_cents=budgets.c.paid_cents + claim.amount_cents, version=budgets.c.version + 1)
        .execution_options(**options)
    )
    _decided(session, actor, claim, "fund_claim_paid")
    return claim


# -- reading ----------------------------------------------------------------------------------


def of_request(session: Session, principal: Principal, request_id: uuid.UUID) -> list[FundClaim]:
    return list(
        session.scalars(
            access.claims(principal)
            .where(FundClaim.request_id == request_id)
            .order_by(FundClaim.submitted_at, FundClaim.id)
        )
    )


def present(session: Session, principal: Principal, rows: Sequence[FundClaim]) -> list[ClaimOut]:
    names = company_names(
        session, [c for r in rows for c in (r.requester_company_id, r.funder_company_id)]
    )
    requests = {
        r.id: r
        for r in session.scalars(
            access.requests(principal).where(FundRequest.id.in_({c.request_id for c in rows}))
        )
    }
    out = []
    for c in rows:
        request = requests[c.request_id]
        out.append(
            ClaimOut(
                id=c.id,
                request_id=c.request_id,
                activity=request.activity,
                requester_name=names.get(c.requester_company_id, ""),
                funder_name=names.get(c.funder_company_id, ""),
                amount=amount(c.amount_cents),
                currency=request.currency,
                description=c.description,
                status=ClaimStatus(c.status),
                decision_message=c.decision_message,
                payment_reference=c.payment_reference,
                paid_on=c.paid_on,
                submitted_at=c.submitted_at,
                decided_at=c.decided_at,
                version=c.version,
            )
        )
    return out


def deadline_passed(request: FundRequest) -> bool:
    return periods.today() > request.claim_deadline
