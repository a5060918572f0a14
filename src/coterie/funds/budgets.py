"""Budgets and allocations: created and changed by the funding company's admins and managers,
read by it and (masked) by the partners it allotted a share to. Nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.db import utcnow
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.funds import access, periods
from coterie.funds.money import amount, from_cents, to_cents
from coterie.funds.schemas import AllocationIn, AllocationOut, BudgetIn, BudgetOut, BudgetPatch
from coterie.kit import conditional
from coterie.kit.problems import conflict, invalid
from coterie.models.funds import FundAllocation, FundBudget
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names

PROGRAM = Kind.PROGRAM.value


def require_manager(actor: Actor, to: str) -> None:
    actor.require_role(Role.MANAGER, to)


def create(session: Session, actor: Actor, data: BudgetIn) -> FundBudget:
    require_manager(actor, "create a budget")
    gate.check(session, actor.principal, PROGRAM, data.program_id)  # 404 unless I see it
    if data.period_end < data.period_start:
        raise invalid("body.period_end", "must be on or after the period's start")
    budget = FundBudget(
        id=uuid.uuid4(),
        company_id=actor.company_id,
        program_id=data.program_id,
        name=data.name,
        period_name=data.period_name,
        period_start=data.period_start,
        period_end=data.period_end,
        currency=data.currency,
        total_cents=to_cents(data.total),
        committed_cents=0,
        paid_cents=0,
        total_shared=data.total_shared,
        created_at=utcnow(),
        created_by_user_id=actor.user_id,
    )
    session.add(budget)
    session.flush()
    audit.record(session, actor, "fund_budget.created", "fund_budget", budget.id)
    return budget


def mine_to_manage(session: Session, actor: Actor, budget_id: uuid.UUID) -> FundBudget:
    """The budget, when my company funds it and I am one of its admins or managers: 404 when
    I may not see it, 403 when I only read it."""
    budget = access.budget(session, actor.principal, budget_id)
    if budget.company_id != actor.company_id:
        raise conflict("not-the-funder", "Only the funding company manages this budget.")
    require_manager(actor, "manage budgets")
    return budget


def change(
    session: Session, actor: Actor, budget_id: uuid.UUID, data: BudgetPatch, expected: int
) -> FundBudget:
    budget = mine_to_manage(session, actor, budget_id)
    values: dict[str, object] = {}
    if data.name is not None:
        values["name"] = data.name
    if data.total_shared is not None:
        values["total_shared"] = data.total_shared
    if data.closed is not None:
        values["closed_at"] = utcnow() if data.closed else None
    where = [FundBudget.id == budget.id, FundBudget.version == expected]
    if data.total is not None:
        values["total_cents"] = to_cents(data.total)
        # never below what approvals already committed, decided by the same statement
        where.append(FundBudget.committed_cents <= to_cents(data.total))
    values["version"] = expected + 1
    done = session.execute(
        update(access.table(FundBudget))
        .where(*where)
        .values(**values)
        .execution_options(**rls.as_company(actor.company_id))
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        access.reload(session, actor.principal, budget)
        if budget.version != expected:
            raise conditional.stale("budget", budget.version, expected)
        raise conflict(
            "below-committed",
            f"The total cannot go below what approvals committed "
            f"({from_cents(budget.committed_cents)} {budget.currency}).",
        )
    access.reload(session, actor.principal, budget)
    audit.record(session, actor, "fund_budget.changed", "fund_budget", budget.id)
    return budget


def present(session: Session, principal: Principal, rows: Sequence[FundBudget]) -> list[BudgetOut]:
    names = company_names(session, [b.company_id for b in rows])
    titles = gate.visible_titles(session, principal, [(PROGRAM, b.program_id) for b in rows])
    out = []
    for b in rows:
        mine = b.company_id == principal.company_id
        shows = mine or b.total_shared
        out.append(
            BudgetOut(
                id=b.id,
                company_id=b.company_id,
                company_name=names.get(b.company_id, ""),
                program_id=b.program_id,
                program_title=titles.get(b.program_id),
                name=b.name,
                period_name=b.period_name,
                period_start=b.period_start,
                period_end=b.period_end,
                currency=b.currency,
                closed=periods.is_closed(b),
                mine=mine,
                total_shared=b.total_shared,
                total=from_cents(b.total_cents) if shows else None,
                committed=from_cents(b.committed_cents) if shows else None,
                paid=from_cents(b.paid_cents) if shows else None,
                remaining=from_cents(b.total_cents - b.committed_cents) if shows else None,
                version=b.version,
            )
        )
    return out


# -- allocations -----------------------------------------------------------------------------


def program_partners(
    session: Session, principal: Principal, program_id: uuid.UUID
) -> set[uuid.UUID]:
    """Companies actively taking part in the program, other than mine (as I may see them)."""
    return {
        p.company_id
        for p in gate.participants(session, principal, PROGRAM, [program_id])
        if p.status == ParticipantStatus.ACTIVE.value and p.company_id != principal.company_id
    }


def allot(
    session: Session, actor: Actor, budget_id: uuid.UUID, data: AllocationIn
) -> FundAllocation:
    """Give a partner of the program a share of the budget (or change its cap)."""
    budget = mine_to_manage(session, actor, budget_id)
    principal = actor.principal
    if data.partner_company_id not in program_partners(session, principal, budget.program_id):
        raise invalid(
            "body.partner_company_id", "must be a company taking part in the budget's program"
        )
    cap = to_cents(data.cap) if data.cap is not None else None
    existing = access.allocation_of(session, principal, budget.id, data.partner_company_id)
    if existing is None:
        row = FundAllocation(
            id=uuid.uuid4(),
            budget_id=budget.id,
            partner_company_id=data.partner_company_id,
            funder_company_id=budget.company_id,
            cap_cents=cap,
            committed_cents=0,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
    else:
        where = [FundAllocation.id == existing.id]
        if cap is not None:
            where.append(FundAllocation.committed_cents <= cap)
        done = session.execute(
            update(access.table(FundAllocation))
            .where(*where)
            .values(cap_cents=cap, version=FundAllocation.version + 1)
            .execution_options(**rls.as_company(principal.company_id))
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            raise conflict(
                "below-committed",
                "The cap cannot go below what approvals already committed for this partner.",
            )
        access.reload(session, principal, existing)
        row = existing
    audit.record(session, actor, "fund_allocation.saved", "fund_budget", budget.id)
    return row


def present_allocations(session: Session, rows: Sequence[FundAllocation]) -> list[AllocationOut]:
    names = company_names(session, [a.partner_company_id for a in rows])
    return [
        AllocationOut(
            id=a.id,
            budget_id=a.budget_id,
            partner_company_id=a.partner_company_id,
            partner_name=names.get(a.partner_company_id, ""),
            cap=from_cents(a.cap_cents),
            committed=amount(a.committed_cents),
            version=a.version,
        )
        for a in rows
    ]
