"""The program page's plans: each plan of the program the viewer may see, with its partners,
period, profile status, every goal's target, attainment and standing (`standing`), and the
plan's standing as its worst goal. Reads go through the co-selling services (the gate): a plan
the viewer is not on does not appear, and goals count only what the viewer may see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.cosell.planning import goals, standing
from coterie.cosell.planning.labels import METRIC_LABELS
from coterie.cosell.schemas import GoalOut, PlanSummary
from coterie.fields.kinds import ParticipantStatus
from coterie.network.companies import names as company_names
from coterie.records import presenters


def money(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return "—"
    return presenters.money_text({"value": f"{value:.2f}", "currency": currency or ""})


def goal_view(goal: GoalOut, today: date | None = None) -> dict[str, Any]:
    """A goal as a page shows it: labels, formatted figures, the bar and (given `today`) its
    standing."""
    p = goal.progress
    value_metric = p.currency is not None
    found = (
        standing.goal_standing(p.percent, goal.period_start, goal.period_end, today)
        if today is not None
        else None
    )
    return {
        "goal": goal,
        "label": METRIC_LABELS.get(goal.metric, goal.metric),
        "scope": goal.company_name or "Joint",
        "slice": f"{goal.breakdown_dimension}: {goal.breakdown_value}"
        if goal.breakdown_dimension
        else "",
        "target": money(p.target, p.currency) if value_metric else f"{p.target or 0:,.0f}",
        "achieved": money(p.achieved, p.currency) if value_metric else f"{p.achieved:,.0f}",
        "bar": min(100.0, p.percent or 0.0),
        "unconverted": [money(u.amount, u.currency) for u in p.unconverted],
        "own_target": money(goal.target, goal.currency) if value_metric else "",
        "standing": found.value if found else None,
        "standing_label": standing.LABELS[found] if found else "No period",
    }


@dataclass(frozen=True)
class PlanRow:
    plan: PlanSummary
    partners: list[str]  # other companies on the plan by name, "… (invited)" until they accept
    goals: list[dict[str, Any]]
    standing: str | None
    standing_label: str


def plan_rows(
    session: Session, actor: Actor, plans: list[PlanSummary], today: date
) -> list[PlanRow]:
    """`plans` (the program's plans the viewer sees) with their partners and goals."""
    principal = actor.principal
    on_plan: dict[uuid.UUID, list[tuple[uuid.UUID, bool]]] = {}  # (company, still invited)
    for p in gate.participants(session, principal, "plan", [plan.id for plan in plans]):
        if p.status in (ParticipantStatus.ACTIVE.value, ParticipantStatus.INVITED.value):
            invited = p.status == ParticipantStatus.INVITED.value
            on_plan.setdefault(p.record_id, []).append((p.company_id, invited))
    names = company_names(session, [c for pairs in on_plan.values() for c, _ in pairs])
    rows = []
    for plan in plans:
        views = [goal_view(g, today) for g in goals.list_goals(session, actor, plan.id)]
        worst = standing.worst(
            standing.Standing(v["standing"]) for v in views if v["standing"] is not None
        )
        partners = sorted(
            names.get(c, "") + (" (invited)" if invited else "")
            for c, invited in on_plan.get(plan.id, [])
            if c != plan.owner_company_id and names.get(c)
        )
        rows.append(
            PlanRow(
                plan=plan,
                partners=partners,
                goals=views,
                standing=worst.value if worst else None,
                standing_label=standing.LABELS[worst] if worst else "No goals with a period",
            )
        )
    return rows
