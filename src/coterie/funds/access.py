"""Who reads what of the fund tables: the one place that selects from them (the guard refuses
any other read), always as one company (`rls.as_company`).

- A budget: its funding company reads all of it; a partner with an allocation on it reads it
  too, but its total, committed, paid and remaining amounts only when the funder shares them
  (`FundBudget.total_shared`; `presenters` masks them).
- An allocation: the funder reads every allocation of its budgets; a partner only its own.
- A fund request and its claims: the requester company and the funding company, nobody else
  (another partner of the same budget never learns they exist).
- A note: the funding company that wrote it, never the requester.

On PostgreSQL the same rule is row-level security on the five tables (migration 0024), keyed
by the company each statement here binds (`rls.as_company`).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Select, Table, or_, select
from sqlalchemy.orm import Session

from coterie.authz import rls
from coterie.authz.principal import Principal
from coterie.kit.problems import not_found
from coterie.models.funds import FundAllocation, FundBudget, FundClaim, FundNote, FundRequest


def table(model: type[Any]) -> Table:
    """A model's table, for the claims written as one Core UPDATE."""
    return cast(Table, model.__table__)


def _options(principal: Principal) -> dict[str, Any]:
    return rls.as_company(principal.company_id)


def budgets(principal: Principal) -> Select[FundBudget]:
    mine = principal.company_id
    allotted = select(FundAllocation.budget_id).where(FundAllocation.partner_company_id == mine)
    return (
        select(FundBudget)
        .where(or_(FundBudget.company_id == mine, FundBudget.id.in_(allotted)))
        .execution_options(**_options(principal))
    )


def budget(session: Session, principal: Principal, budget_id: uuid.UUID) -> FundBudget:
    """The budget if the principal's company funds it or has an allocation on it; else 404."""
    found = session.scalars(budgets(principal).where(FundBudget.id == budget_id)).first()
    if found is None:
        raise not_found("budget")
    return found


def allocations(principal: Principal, budget_id: uuid.UUID) -> Select[FundAllocation]:
    mine = principal.company_id
    funded = select(FundBudget.id).where(FundBudget.company_id == mine)
    return (
        select(FundAllocation)
        .where(
            FundAllocation.budget_id == budget_id,
            or_(FundAllocation.budget_id.in_(funded), FundAllocation.partner_company_id == mine),
        )
        .order_by(FundAllocation.created_at, FundAllocation.id)
        .execution_options(**_options(principal))
    )


def allocation_of(
    session: Session, principal: Principal, budget_id: uuid.UUID, company_id: uuid.UUID
) -> FundAllocation | None:
    return session.scalars(
        allocations(principal, budget_id).where(FundAllocation.partner_company_id == company_id)
    ).first()


def requests(principal: Principal) -> Select[FundRequest]:
    mine = principal.company_id
    return (
        select(FundRequest)
        .where(or_(FundRequest.requester_company_id == mine, FundRequest.funder_company_id == mine))
        .execution_options(**_options(principal))
    )


def request(session: Session, principal: Principal, request_id: uuid.UUID) -> FundRequest:
    found = session.scalars(requests(principal).where(FundRequest.id == request_id)).first()
    if found is None:
        raise not_found("fund request")
    return found


def claims(principal: Principal) -> Select[FundClaim]:
    mine = principal.company_id
    return (
        select(FundClaim)
        .where(or_(FundClaim.requester_company_id == mine, FundClaim.funder_company_id == mine))
        .execution_options(**_options(principal))
    )


def claim(session: Session, principal: Principal, claim_id: uuid.UUID) -> FundClaim:
    found = session.scalars(claims(principal).where(FundClaim.id == claim_id)).first()
    if found is None:
        raise not_found("fund claim")
    return found


def notes(principal: Principal, request_id: uuid.UUID) -> Select[FundNote]:
    """The principal's company's own internal notes on a request it funds."""
    mine = principal.company_id
    funded = select(FundRequest.id).where(FundRequest.funder_company_id == mine)
    return (
        select(FundNote)
        .where(
            FundNote.request_id == request_id,
            FundNote.company_id == mine,
            FundNote.request_id.in_(funded),
        )
        .order_by(FundNote.created_at, FundNote.id)
        .execution_options(**_options(principal))
    )


def reload(session: Session, principal: Principal, row: Any) -> None:
    """Read a row this module already admitted again, after a claim changed it in SQL."""
    model = type(row)
    session.scalars(
        select(model)
        .where(model.id == row.id)
        .execution_options(populate_existing=True, **_options(principal))
    ).first()
