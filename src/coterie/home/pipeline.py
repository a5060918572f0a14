"""The home page's numbers: my open pipeline with partners, its top deals, and partner health.

Everything is read as the signed-in user through the reports engine and the records list
(`reports.engine.run`, `records.service.list_visible`), both of which start from the gate and
aggregate masked values: a partner's amount never counts unless it is shared, my own private
values disappear while "hide private fields" is on. Amounts are my company's own (`mine.amount`)
in my company's currency, as every report shows them.

"Open" is my own stage: not one of my workflow's won or lost stages (an empty or unknown stage
counts as open, as the board counts it). When my stage is hidden from me (private while "hide
private fields" is on) every deal counts and the page says so; when my amount is hidden, no
money is shown.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields import templates
from coterie.fields.kinds import Kind
from coterie.records import service as records
from coterie.records.presenters import humanize
from coterie.records.schemas import RecordOut
from coterie.reports import engine
from coterie.reports.schemas import Measure, ReportIn, ReportOut
from coterie.workflows.stages import StageCategory, default_stages, stages_for

OPPORTUNITY = Kind.OPPORTUNITY.value
TOP_DEALS = 5
AMOUNT = "sum(mine.amount)"


def money_text(value: Decimal | int | None, currency: str) -> str:
    """`EUR 120,000` (whole units: a glance, not a ledger); an em dash for no value."""
    if value is None:
        return "—"
    return f"{currency} {Decimal(value):,.0f}"


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class PartnerPipeline:
    partner_id: uuid.UUID | None  # None: deals not shared with any partner yet
    name: str
    deals: int
    amount: str


@dataclass(frozen=True)
class Deal:
    id: uuid.UUID
    title: str
    customer: str | None
    url: str
    amount: str
    stage: str | None
    partners: list[str]


@dataclass
class Pipeline:
    """My open opportunities: totals, the same by partner, and the biggest few."""

    currency: str
    deals: int
    amount: str
    amount_visible: bool
    stage_visible: bool
    by_partner: list[PartnerPipeline] = field(default_factory=list)
    top: list[Deal] = field(default_factory=list)

    @property
    def with_partners(self) -> list[PartnerPipeline]:
        return [p for p in self.by_partner if p.partner_id is not None]


@dataclass(frozen=True)
class PartnerHealth:
    """One active partner at a glance."""

    partner_id: uuid.UUID
    name: str
    since: datetime | None
    open_deals: int
    open_amount: str
    won_this_quarter: int | None  # None: my stage or close date is hidden from me
    joint_plans: int


@dataclass(frozen=True)
class _Visibility:
    amount: bool
    stage: bool
    close_date: bool


def _visibility(session: Session, actor: Actor) -> _Visibility:
    principal = actor.principal
    policy = templates.load(session, actor.company_id, OPPORTUNITY).own_policy(
        principal.hide_private
    )
    visible = policy.visible_standard | policy.visible_custom
    return _Visibility("amount" in visible, "stage" in visible, "close_date" in visible)


def _stage_keys(session: Session, actor: Actor, *categories: StageCategory) -> list[str]:
    stages = stages_for(session, actor.company_id, OPPORTUNITY)
    return [s.key for s in stages if s.category in categories]


def _open_filter(closed: list[str]) -> dict[str, Any] | None:
    if not closed:
        return None
    return {
        "any": [
            {"field": "mine.stage", "op": "not_in", "value": closed},
            {"field": "mine.stage", "op": "is_null"},
        ]
    }


def _partner_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _top_deals(
    session: Session, actor: Actor, seen: _Visibility, open_filter: dict[str, Any] | None
) -> list[Deal]:
    # a stage kept from before the company's workflow changed is named as the built-in
    # pipeline names it, or humanized: a label, never a key
    names = {s.key: s.name for s in default_stages(OPPORTUNITY)}
    names |= {s.key: s.name for s in stages_for(session, actor.company_id, OPPORTUNITY)}
    found, _ = records.list_visible(
        session,
        actor,
        OPPORTUNITY,
        limit=TOP_DEALS,
        cursor=None,
        filter_text=json.dumps(open_filter) if open_filter else None,
        sort_text="-mine.amount" if seen.amount else "-updated_at",
    )
    return [_deal(record, actor.company_id, names) for record in found]


def _deal(record: RecordOut, me: uuid.UUID, stage_names: dict[str, str]) -> Deal:
    mine = next((s for s in record.spaces if s.is_mine), None)
    fields = mine.fields if mine is not None else {}
    amount = fields.get("amount")
    stage = fields.get("stage")
    return Deal(
        id=record.id,
        title=record.title,
        customer=record.customer_name,
        url=f"/opportunities/{record.id}",
        amount=money_text(Decimal(str(amount["value"])), str(amount["currency"]))
        if isinstance(amount, dict) and amount.get("value") is not None
        else "—",
        stage=stage_names.get(str(stage)) or humanize(str(stage)) if stage else None,
        partners=[
            p.company_name
            for p in record.participants
            if p.company_id != me and p.status == "active"
        ],
    )


def _run(session: Session, actor: Actor, report: ReportIn) -> ReportOut:
    return engine.run(session, actor, report)


def open_pipeline(session: Session, actor: Actor) -> Pipeline:
    """My open opportunities as I may see them: totals, by partner, and the top deals."""
    seen = _visibility(session, actor)
    closed = (
        _stage_keys(session, actor, StageCategory.WON, StageCategory.LOST) if seen.stage else []
    )
    open_filter = _open_filter(closed)
    measures = [Measure(op="count")]
    if seen.amount:
        measures.append(Measure(op="sum", field="mine.amount"))
    report = _run(
        session,
        actor,
        ReportIn(kind=OPPORTUNITY, group_by=["partner"], measures=measures, filters=open_filter),
    )
    currency = report.currency
    by_partner = [
        PartnerPipeline(
            partner_id=_partner_id(row.group["partner"].value),
            name=row.group["partner"].label,
            deals=int(row.measures.get("count") or 0),
            amount=money_text(row.measures.get(AMOUNT), currency) if seen.amount else "—",
        )
        for row in report.rows
    ]
    by_partner.sort(key=lambda p: (p.partner_id is None, -p.deals, p.name.casefold()))
    return Pipeline(
        currency=currency,
        deals=int(report.totals.measures.get("count") or 0),
        amount=money_text(report.totals.measures.get(AMOUNT), currency) if seen.amount else "—",
        amount_visible=seen.amount,
        stage_visible=seen.stage,
        by_partner=by_partner,
        top=_top_deals(session, actor, seen, open_filter),
    )


def _counts_by_partner(report: ReportOut) -> dict[uuid.UUID, int]:
    counts: dict[uuid.UUID, int] = {}
    for row in report.rows:
        partner = _partner_id(row.group["partner"].value)
        if partner is not None:
            counts[partner] = int(row.measures.get("count") or 0)
    return counts


def partner_health(
    session: Session,
    actor: Actor,
    partners: list[tuple[uuid.UUID, str, datetime | None]],
    pipeline: Pipeline,
    today: date,
) -> list[PartnerHealth]:
    """Each active partner (id, name, partners since): the open deals we share and my amount on
    them, my deals with them won this quarter (my won stages, my close date in the quarter of
    `today`), and the joint plans we share."""
    if not partners:
        return []
    seen = _visibility(session, actor)
    won: dict[uuid.UUID, int] | None = None
    won_keys = _stage_keys(session, actor, StageCategory.WON)
    if seen.stage and seen.close_date and won_keys:
        won = _counts_by_partner(
            _run(
                session,
                actor,
                ReportIn(
                    kind=OPPORTUNITY,
                    group_by=["partner"],
                    filters={"field": "mine.stage", "op": "in", "value": won_keys},
                    quarter=quarter_of(today),
                ),
            )
        )
    plans = _counts_by_partner(
        _run(session, actor, ReportIn(kind=Kind.PLAN.value, group_by=["partner"]))
    )
    pipeline_of = {p.partner_id: p for p in pipeline.with_partners}
    rows: list[PartnerHealth] = []
    for partner_id, name, since in partners:
        shared = pipeline_of.get(partner_id)
        rows.append(
            PartnerHealth(
                partner_id=partner_id,
                name=name,
                since=since,
                open_deals=shared.deals if shared else 0,
                open_amount=shared.amount if shared else money_text(None, pipeline.currency),
                won_this_quarter=won.get(partner_id, 0) if won is not None else None,
                joint_plans=plans.get(partner_id, 0),
            )
        )
    rows.sort(key=lambda r: (-r.open_deals, r.name.casefold()))
    return rows
