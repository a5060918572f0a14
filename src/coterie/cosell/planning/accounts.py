"""Accounts in co-selling: the joint account plan (objectives, owners, next steps) and the
account-to-opportunity roll-up.

The account plan (`account_plans`) is one shared document per account record that every
active participant reads and edits (optimistic `version`). Owners are each participant
company's owner of the account (its space's `owner`, where visible). Next steps are kept in the
plan as a list of {id, title, owner_user_id, owner_company_id, due_date, done}; an owner must be
an active user of a company actively on the account.

The roll-up runs over the opportunities whose `account_id` is this account and that the caller
may see (the gate), with every amount masked for the caller and converted into its currency.
Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.planning import common
from coterie.cosell.schemas import (
    AccountPlanIn,
    AccountPlanOut,
    Bucket,
    NextStepOut,
    PartnerTotal,
    Rollup,
    Unconverted,
)
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.problems import invalid
from coterie.models import Record, User
from coterie.models.cosell import AccountPlan
from coterie.network.companies import names as company_names
from coterie.network.currency import CENT, Converter

ACCOUNT = "account"
OPPORTUNITY = "opportunity"


def _row(session: Session, principal: Principal, account_id: uuid.UUID) -> AccountPlan | None:
    return session.scalars(
        select(AccountPlan)
        .where(AccountPlan.record_id == account_id)
        .execution_options(**rls.as_company(principal.company_id))
    ).first()


def _date(value: Any) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def read_plan(session: Session, actor: Actor, account_id: uuid.UUID) -> AccountPlanOut:
    principal = actor.principal
    gate.check(session, principal, ACCOUNT, account_id)
    row = _row(session, principal, account_id)
    steps: list[dict[str, Any]] = list(row.next_steps or []) if row else []
    pairs = []
    for step in steps:
        if step.get("owner_user_id") and step.get("owner_company_id"):
            pairs.append((uuid.UUID(step["owner_company_id"]), uuid.UUID(step["owner_user_id"])))
    names = common.user_names(session, pairs)
    return AccountPlanOut(
        account_id=account_id,
        objectives=row.objectives if row else "",
        next_steps=[
            NextStepOut(
                id=uuid.UUID(step["id"]),
                title=step["title"],
                owner_user_id=uuid.UUID(step["owner_user_id"])
                if step.get("owner_user_id")
                else None,
                owner_company_id=uuid.UUID(step["owner_company_id"])
                if step.get("owner_company_id")
                else None,
                owner_name=names.get(uuid.UUID(step["owner_user_id"]))
                if step.get("owner_user_id")
                else None,
                due_date=_date(step.get("due_date")),
                done=bool(step.get("done")),
            )
            for step in steps
        ],
        owners=common.owners(session, principal, ACCOUNT, account_id),
        version=row.version if row else 0,
        updated_at=row.updated_at if row else None,
        updated_by_company_id=row.updated_by_company_id if row else None,
    )


def save_plan(
    session: Session,
    actor: Actor,
    account_id: uuid.UUID,
    data: AccountPlanIn,
    expected: int,
) -> None:
    """Any active participant of the account replaces the plan's objectives and next steps, at
    version `expected` (If-Match; 0 when there is no plan yet)."""
    principal = actor.principal
    gate.require_edit(session, principal, ACCOUNT, account_id)
    row = conditional.claim_singleton(
        session,
        _row(session, principal, account_id),
        expected,
        "account plan",
        lambda: AccountPlan(record_id=account_id, version=1),
        rls.as_company(actor.company_id),
    )
    on_account = common.active_companies(session, principal, ACCOUNT, account_id)
    steps: list[dict[str, Any]] = []
    seen_ids: set[uuid.UUID] = set()
    for i, step in enumerate(data.next_steps):
        owner_company: uuid.UUID | None = None
        if step.owner_user_id is not None:
            user = session.get(User, step.owner_user_id)
            if user is None or not user.is_active or user.company_id not in on_account:
                raise invalid(
                    f"body.next_steps.{i}.owner_user_id",
                    "is not an active user of a company on this account",
                )
            owner_company = user.company_id
        step_id = step.id if step.id is not None and step.id not in seen_ids else uuid.uuid4()
        seen_ids.add(step_id)
        steps.append(
            {
                "id": str(step_id),
                "title": step.title,
                "owner_user_id": str(step.owner_user_id) if step.owner_user_id else None,
                "owner_company_id": str(owner_company) if owner_company else None,
                "due_date": step.due_date.isoformat() if step.due_date else None,
                "done": step.done,
            }
        )
    row.objectives = data.objectives
    row.next_steps = steps
    row.updated_at = utcnow()
    row.updated_by_user_id = actor.user_id
    row.updated_by_company_id = actor.company_id
    session.flush()
    audit.record(session, actor, "account.plan_saved", ACCOUNT, account_id, version=row.version)


# -- roll-up -----------------------------------------------------------------------------------


@dataclass
class _Sum:
    count: int = 0
    total: Decimal = Decimal(0)
    hidden: int = 0
    unconverted: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, converter: Converter, money: Any, on: date) -> None:
        if not isinstance(money, dict):
            return
        amount = Decimal(str(money["value"]))
        currency = str(money.get("currency") or converter.currency)
        rate = converter.rate(currency, on)
        if rate is None:
            entry = self.unconverted.setdefault(currency, [Decimal(0), 0])
            entry[0] += amount
            entry[1] += 1
        else:
            self.total += (amount * rate[0]).quantize(CENT)

    def unconverted_out(self) -> list[Unconverted]:
        return [
            Unconverted(currency=c, amount=v[0], count=v[1])
            for c, v in sorted(self.unconverted.items())
        ]


def rollup(session: Session, actor: Actor, account_id: uuid.UUID) -> Rollup:
    principal = actor.principal
    gate.check(session, principal, ACCOUNT, account_id)
    converter = Converter.for_company(session, actor.company_id)
    today = utcnow().date()
    opportunities = list(
        session.scalars(
            gate.visible(principal, OPPORTUNITY)
            .where(Record.account_id == account_id)
            .order_by(Record.id)
        )
    )
    ids = [r.id for r in opportunities]
    policy = common.own_policy(session, principal, OPPORTUNITY)
    spaces = gate.spaces(session, principal, OPPORTUNITY, ids, policy)
    mine = {s.record_id: s for s in spaces if s.is_mine}
    sees_amount = "amount" in policy.visible_standard
    sees_stage = "stage" in policy.visible_standard
    by_stage: dict[str | None, _Sum] = defaultdict(_Sum)
    by_category: dict[str | None, _Sum] = defaultdict(_Sum)
    total = _Sum()
    counts = {"open": 0, "won": 0, "lost": 0}
    for record in opportunities:
        space = mine.get(record.id)
        values = space.standard if space else {}
        on = _date(values.get("close_date")) or today
        category: str | None = None
        if sees_stage and space is not None:
            category = common.stage_category(
                session, actor.company_id, OPPORTUNITY, values.get("stage")
            ).value
            counts[category] += 1
        for bucket in (by_stage[record.joint_stage], by_category[category], total):
            bucket.count += 1
            if sees_amount and space is not None:
                bucket.add(converter, values.get("amount"), on)
            else:
                bucket.hidden += 1
    partner_sums: dict[uuid.UUID, _Sum] = defaultdict(_Sum)
    for space in spaces:
        if space.is_mine or "amount" not in space.standard:
            continue
        partner = partner_sums[space.company_id]
        partner.count += 1
        partner.add(
            converter, space.standard["amount"], _date(space.standard.get("close_date")) or today
        )
    names = company_names(session, partner_sums)

    def buckets(source: dict[str | None, _Sum]) -> list[Bucket]:
        return [
            Bucket(key=key, count=s.count, my_amount=s.total, my_hidden_count=s.hidden)
            for key, s in sorted(source.items(), key=lambda i: (i[0] is None, i[0] or ""))
        ]

    return Rollup(
        account_id=account_id,
        currency=converter.currency,
        count=len(opportunities),
        open_count=counts["open"],
        won_count=counts["won"],
        lost_count=counts["lost"],
        by_joint_stage=buckets(by_stage),
        by_my_category=buckets(by_category),
        my_total=total.total,
        my_hidden_count=total.hidden,
        my_unconverted=total.unconverted_out(),
        partners=sorted(
            (
                PartnerTotal(
                    company_id=company_id,
                    company_name=names.get(company_id, ""),
                    count=s.count,
                    total=s.total,
                    unconverted=s.unconverted_out(),
                )
                for company_id, s in partner_sums.items()
            ),
            key=lambda p: p.company_name,
        ),
    )
