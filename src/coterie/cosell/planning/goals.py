"""Goals of a joint sales plan, and their progress computed live for each viewer.

A goal has a metric (pipeline value, closed revenue, number of opportunities, number of leads),
a target for a period, belongs to one participant company (a company goal, edited by that
company) or to the plan (a joint goal, edited by the plan's owner), and may be one slice of a
breakdown (region, industry, product or quarter). Every active participant of the plan sees
every goal.

Progress is never stored. It runs over the plan's pipeline links whose records the *viewer* may
see (the gate), and reads each record's *measured space* through `gate.spaces`, masked for the
viewer: the goal's company's space for a company goal, the record owner's space for a joint
goal. A record that might count but whose needed values (amount, stage, close date, breakdown
field) are not visible to the viewer counts in `hidden_count`, and its values appear nowhere.
Which fields are visible is decided from the templates (the owner's shares and the viewer's own
"hide private fields"), never from values. Amounts are converted into the viewer's currency
with the viewer's dated rates on the record's close date; amounts with no rate are reported
apart per currency. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import fields, gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.planning import common, plans, programs
from coterie.cosell.schemas import (
    VALUE_METRICS,
    Dimension,
    GoalIn,
    GoalOut,
    GoalPatch,
    Metric,
    Progress,
    RateUsed,
    Role,
    Unconverted,
)
from coterie.db import utcnow
from coterie.kit import conditional, quarters
from coterie.kit.problems import forbidden, invalid, not_found
from coterie.kit.quarters import Quarter
from coterie.models import Record
from coterie.models.cosell import PlanGoal, PlanRecord
from coterie.models.vocabulary import Industry, Region
from coterie.network.companies import names as company_names
from coterie.network.currency import Converter
from coterie.workflows.stages import StageCategory

PLAN = "plan"
CENT = Decimal("0.01")
METRIC_KIND = {
    Metric.PIPELINE_VALUE: "opportunity",
    Metric.CLOSED_REVENUE: "opportunity",
    Metric.OPPORTUNITY_COUNT: "opportunity",
    Metric.LEAD_COUNT: "lead",
}
WANTED_CATEGORY = {
    Metric.PIPELINE_VALUE: StageCategory.OPEN,
    Metric.CLOSED_REVENUE: StageCategory.WON,
}


# -- validation --------------------------------------------------------------------------------


def quarter_bounds(value: str) -> tuple[date, date] | None:
    """`2026-Q3` as its first and last day, or None when it is not a supported quarter."""
    try:
        quarter = Quarter.parse(value)
    except ValueError:
        return None
    return quarter.first_day, quarter.last_day


def _check_slice(dimension: Dimension, value: str, path: str) -> None:
    allowed: tuple[str, ...] = ()
    if dimension == Dimension.REGION:
        allowed = tuple(r.value for r in Region)
    elif dimension == Dimension.INDUSTRY:
        allowed = tuple(i.value for i in Industry)
    elif dimension == Dimension.QUARTER:
        quarters.parse(value, path)
        return
    if allowed and value not in allowed:
        raise invalid(path, f"must be one of {', '.join(allowed)}")


def _check_target(metric: Metric, target: Decimal, path: str) -> None:
    if metric not in VALUE_METRICS and target != target.to_integral_value():
        raise invalid(path, "must be a whole number for a count")


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise invalid("body.period_end", "must be on or after period_start")


# -- goals -------------------------------------------------------------------------------------


def _goals(session: Session, principal: Principal, plan_id: uuid.UUID) -> list[PlanGoal]:
    """The plan's goals (the caller already passed the gate on the plan)."""
    return list(
        session.scalars(
            select(PlanGoal)
            .where(PlanGoal.plan_id == plan_id)
            .order_by(PlanGoal.company_id.is_not(None), PlanGoal.created_at, PlanGoal.id)
            .execution_options(**rls.as_company(principal.company_id))
        )
    )


def _goal(
    session: Session, principal: Principal, plan_id: uuid.UUID, goal_id: uuid.UUID
) -> PlanGoal:
    found = session.scalars(
        select(PlanGoal)
        .where(PlanGoal.plan_id == plan_id, PlanGoal.id == goal_id)
        .execution_options(**rls.as_company(principal.company_id))
    ).first()
    if found is None:
        raise not_found("goal")
    return found


def _may_edit(goal_company: uuid.UUID | None, plan: Record, company_id: uuid.UUID) -> bool:
    if goal_company is None:
        return plan.owner_company_id == company_id
    return goal_company == company_id


def create(session: Session, actor: Actor, plan_id: uuid.UUID, data: GoalIn) -> list[PlanGoal]:
    """One goal, or one per slice when `breakdown` is given."""
    principal = actor.principal
    plan = gate.require_edit(session, principal, PLAN, plan_id)
    if data.company_id is not None and data.company_id != actor.company_id:
        raise invalid(
            "body.company_id",
            "must be your own company (a company goal) or null (a joint goal, plan owner only)",
        )
    if not _may_edit(data.company_id, plan, actor.company_id):
        raise forbidden("Only the plan's owner sets joint goals; set a goal for your company.")
    value_metric = data.metric in VALUE_METRICS
    if data.currency is not None and not value_metric:
        raise invalid("body.currency", "only value metrics have a currency")
    details = programs.plan_details(session, principal, plan_id)
    start = data.period_start or (details.period_start if details else None)
    end = data.period_end or (details.period_end if details else None)
    _check_period(start, end)
    slices: list[tuple[str | None, str | None, Decimal, str]] = []
    if data.breakdown is not None:
        if data.target is not None or data.breakdown_dimension or data.breakdown_value:
            raise invalid(
                "body.breakdown", "give either breakdown (targets per slice) or one target"
            )
        dimension = data.breakdown.dimension
        for key, target in data.breakdown.targets.items():
            path = f"body.breakdown.targets.{key}"
            _check_slice(dimension, key, path)
            slices.append((dimension.value, key, target, path))
    else:
        if data.target is None:
            raise invalid("body.target", "is required (or give breakdown)")
        if (data.breakdown_dimension is None) != (data.breakdown_value is None):
            raise invalid(
                "body.breakdown_value", "breakdown_dimension and breakdown_value go together"
            )
        if data.breakdown_dimension is not None and data.breakdown_value is not None:
            _check_slice(data.breakdown_dimension, data.breakdown_value, "body.breakdown_value")
        slices.append(
            (
                data.breakdown_dimension.value if data.breakdown_dimension else None,
                data.breakdown_value,
                data.target,
                "body.target",
            )
        )
    now = utcnow()
    created = []
    for dimension_key, value, target, path in slices:
        _check_target(data.metric, target, path)
        goal = PlanGoal(
            plan_id=plan_id,
            metric=data.metric.value,
            target=target.quantize(CENT),
            currency=(data.currency or actor.company.currency) if value_metric else None,
            period_start=start,
            period_end=end,
            company_id=data.company_id,
            breakdown_dimension=dimension_key,
            breakdown_value=value,
            created_by_company_id=actor.company_id,
            created_by_user_id=actor.user_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        session.add(goal)
        created.append(goal)
    session.flush()
    for goal in created:
        audit.record(
            session,
            actor,
            "plan.goal_created",
            PLAN,
            plan_id,
            goal=str(goal.id),
            metric=goal.metric,
            company=str(goal.company_id) if goal.company_id else "joint",
        )
    return created


def _editable_goal(
    session: Session, actor: Actor, plan_id: uuid.UUID, goal_id: uuid.UUID
) -> PlanGoal:
    principal = actor.principal
    plan = gate.require_edit(session, principal, PLAN, plan_id)
    goal = _goal(session, principal, plan_id, goal_id)
    if not _may_edit(goal.company_id, plan, actor.company_id):
        raise forbidden(
            "A company goal is edited by that company; a joint goal by the plan's owner."
        )
    return goal


def _claim(session: Session, actor: Actor, goal: PlanGoal, expected: int) -> None:
    conditional.claim_version(session, goal, expected, "goal", rls.as_company(actor.company_id))


def update(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    patch: GoalPatch,
    expected: int,
) -> PlanGoal:
    goal = _editable_goal(session, actor, plan_id, goal_id)
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        conditional.check_version(goal, expected, "goal")
        return goal
    _claim(session, actor, goal, expected)
    metric = Metric(goal.metric)
    if "target" in changes:
        if patch.target is None:
            raise invalid("body.target", "cannot be null")
        _check_target(metric, patch.target, "body.target")
        goal.target = patch.target.quantize(CENT)
    if "currency" in changes:
        if metric not in VALUE_METRICS:
            raise invalid("body.currency", "only value metrics have a currency")
        if patch.currency is None:
            raise invalid("body.currency", "cannot be null")
        goal.currency = patch.currency
    if "period_start" in changes:
        goal.period_start = patch.period_start
    if "period_end" in changes:
        goal.period_end = patch.period_end
    _check_period(goal.period_start, goal.period_end)
    goal.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "plan.goal_updated",
        PLAN,
        plan_id,
        goal=str(goal.id),
        fields=sorted(changes),
    )
    session.flush()
    return goal


def delete(
    session: Session, actor: Actor, plan_id: uuid.UUID, goal_id: uuid.UUID, expected: int
) -> None:
    goal = _editable_goal(session, actor, plan_id, goal_id)
    _claim(session, actor, goal, expected)
    session.delete(goal)
    session.flush()
    audit.record(session, actor, "plan.goal_deleted", PLAN, plan_id, goal=str(goal_id))


# -- progress ----------------------------------------------------------------------------------


@dataclass
class Measured:
    """One linked record of a kind, as the viewer sees it: core and masked spaces."""

    record: Record
    active: set[uuid.UUID]
    spaces: dict[uuid.UUID, gate.MaskedSpace]


@dataclass
class Visibility:
    """Which standard fields of whose spaces the viewer may see (from templates, not values)."""

    own: frozenset[str]
    partners: dict[uuid.UUID, frozenset[str]]
    viewer: uuid.UUID

    def sees(self, company_id: uuid.UUID, key: str) -> bool:
        if company_id == self.viewer:
            return key in self.own
        return key in self.partners.get(company_id, frozenset())


@dataclass
class Tally:
    achieved: Decimal = Decimal(0)
    count: int = 0
    hidden: int = 0
    unconverted: dict[str, list[Any]] = field(default_factory=dict)  # currency -> [sum, n]
    rates: dict[tuple[str, date | None], Decimal] = field(default_factory=dict)


class Context:
    """What progress needs for one viewer and one plan, loaded once."""

    def __init__(self, session: Session, principal: Principal, plan_id: uuid.UUID):
        self.session = session
        self.principal = principal
        self.converter = Converter.for_company(session, principal.company_id)
        self.today = utcnow().date()
        links = list(
            session.scalars(
                plans.visible_links(principal, plan_id, ("opportunity", "lead")).where(
                    PlanRecord.role == Role.PIPELINE.value
                )
            )
        )
        self.records: dict[str, list[Measured]] = {}
        self.visibility: dict[str, Visibility] = {}
        for kind in ("opportunity", "lead"):
            ids = [link.record_id for link in links if link.kind == kind]
            self.records[kind] = self._load(kind, ids)
            self.visibility[kind] = Visibility(
                own=common.own_policy(session, principal, kind).visible_standard,
                partners=dict(fields.shares_with(session, principal, kind)),
                viewer=principal.company_id,
            )
        self._categories: dict[tuple[uuid.UUID, str | None], StageCategory] = {}

    def _load(self, kind: str, ids: list[uuid.UUID]) -> list[Measured]:
        if not ids:
            return []
        found = list(
            self.session.scalars(gate.visible(self.principal, kind).where(Record.id.in_(ids)))
        )
        ids = [r.id for r in found]
        active: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for p in gate.participants(self.session, self.principal, kind, ids):
            if p.status == "active":
                active[p.record_id].add(p.company_id)
        spaces: dict[uuid.UUID, dict[uuid.UUID, gate.MaskedSpace]] = defaultdict(dict)
        policy = common.own_policy(self.session, self.principal, kind)
        for space in gate.spaces(self.session, self.principal, kind, ids, policy):
            spaces[space.record_id][space.company_id] = space
        return [Measured(r, active[r.id], spaces[r.id]) for r in found]

    def category(self, company_id: uuid.UUID, stage: str | None) -> StageCategory:
        key = (company_id, stage)
        if key not in self._categories:
            self._categories[key] = common.stage_category(
                self.session, company_id, "opportunity", stage
            )
        return self._categories[key]


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _period(goal: PlanGoal) -> tuple[date | None, date | None]:
    start, end = goal.period_start, goal.period_end
    if goal.breakdown_dimension == Dimension.QUARTER.value and goal.breakdown_value:
        bounds = quarter_bounds(goal.breakdown_value)
        if bounds is not None:
            start = max(start, bounds[0]) if start else bounds[0]
            end = min(end, bounds[1]) if end else bounds[1]
    return start, end


def _measure(context: Context, goal: PlanGoal, item: Measured, tally: Tally) -> None:
    """Count one record towards a goal, or as hidden, or not at all."""
    metric = Metric(goal.metric)
    kind = METRIC_KIND[metric]
    company = goal.company_id or item.record.owner_company_id
    if company != context.principal.company_id and company not in item.active:
        return  # that company is not (or no longer) on the record: nothing of it to count
    space = item.spaces.get(company)
    if space is None:
        return
    sees = context.visibility[kind]
    values = space.standard
    hidden = False
    start, end = _period(goal)
    # the period: the close date of opportunities, the creation day of leads (core, visible)
    if metric == Metric.LEAD_COUNT:
        if not common.in_period(item.record.created_at.date(), start, end):
            return
    elif sees.sees(company, "close_date"):
        if (start or end) and not common.in_period(_as_date(values.get("close_date")), start, end):
            return
    elif start or end:
        hidden = True
    dimension = goal.breakdown_dimension
    if dimension in ("region", "industry", "product"):
        if sees.sees(company, dimension):
            if values.get(dimension) != goal.breakdown_value:
                return
        else:
            hidden = True
    wanted = WANTED_CATEGORY.get(metric)
    if wanted is not None:
        if sees.sees(company, "stage"):
            if context.category(company, values.get("stage")) != wanted:
                return
        else:
            hidden = True
        if not sees.sees(company, "amount"):
            hidden = True
    if hidden:
        tally.hidden += 1
        return
    tally.count += 1
    if wanted is None:
        tally.achieved += 1
        return
    money = values.get("amount")
    if not isinstance(money, dict):
        return  # no amount entered: counted, adds nothing
    amount = Decimal(str(money["value"]))
    currency = str(money.get("currency") or context.converter.currency)
    on = _as_date(values.get("close_date")) or context.today
    rate = context.converter.rate(currency, on)
    if rate is None:
        entry = tally.unconverted.setdefault(currency, [Decimal(0), 0])
        entry[0] += amount
        entry[1] += 1
        return
    tally.achieved += (amount * rate[0]).quantize(CENT)
    if rate[1] is not None:
        tally.rates[(currency, rate[1])] = rate[0]


def progress(context: Context, goal: PlanGoal) -> Progress:
    metric = Metric(goal.metric)
    tally = Tally()
    for item in context.records[METRIC_KIND[metric]]:
        _measure(context, goal, item, tally)
    value_metric = metric in VALUE_METRICS
    target: Decimal | None = Decimal(goal.target)
    target_rate = None
    if value_metric:
        on = goal.period_end or context.today
        found = context.converter.rate(goal.currency or context.converter.currency, on)
        if found is None:
            target = None
        else:
            target = (Decimal(goal.target) * found[0]).quantize(CENT)
            if found[1] is not None:
                target_rate = RateUsed(
                    currency=goal.currency or "", rate=found[0], valid_from=found[1]
                )
    else:
        target = Decimal(goal.target).to_integral_value()
    percent = None
    if target is not None and target > 0:
        percent = round(float(tally.achieved / target * 100), 1)
    return Progress(
        currency=context.converter.currency if value_metric else None,
        target=target,
        target_rate=target_rate,
        achieved=tally.achieved if value_metric else tally.achieved.to_integral_value(),
        percent=percent,
        count=tally.count,
        hidden_count=tally.hidden,
        unconverted=[
            Unconverted(currency=c, amount=v[0], count=v[1])
            for c, v in sorted(tally.unconverted.items())
        ],
        rates_used=[
            RateUsed(currency=c, rate=r, valid_from=d)
            for (c, d), r in sorted(
                tally.rates.items(), key=lambda i: (i[0][0], i[0][1] or date.min)
            )
        ],
    )


def present(
    session: Session, actor: Actor, plan: Record, goals: Iterable[PlanGoal], context: Context
) -> list[GoalOut]:
    goals = list(goals)
    names = company_names(session, [g.company_id for g in goals])
    return [
        GoalOut(
            id=g.id,
            plan_id=g.plan_id,
            metric=g.metric,
            target=Decimal(g.target),
            currency=g.currency,
            period_start=g.period_start,
            period_end=g.period_end,
            company_id=g.company_id,
            company_name=names.get(g.company_id) if g.company_id else None,
            breakdown_dimension=g.breakdown_dimension,
            breakdown_value=g.breakdown_value,
            created_by_company_id=g.created_by_company_id,
            version=g.version,
            can_edit=_may_edit(g.company_id, plan, actor.company_id),
            progress=progress(context, g),
        )
        for g in goals
    ]


def list_goals(
    session: Session, actor: Actor, plan_id: uuid.UUID, only: set[uuid.UUID] | None = None
) -> list[GoalOut]:
    """The plan's goals with live progress as the caller sees it (404 when the plan is hidden)."""
    principal = actor.principal
    plan = gate.check(session, principal, PLAN, plan_id)
    goals = [g for g in _goals(session, principal, plan_id) if only is None or g.id in only]
    if only is not None and not goals:
        raise not_found("goal")
    context = Context(session, principal, plan_id)
    return present(session, actor, plan, goals, context)


def live_progress(
    session: Session, principal: Principal, plan_id: uuid.UUID
) -> list[tuple[PlanGoal, Progress]]:
    """Every goal of the plan with its live progress for the principal (404 when the plan is
    hidden): what the goals API shows, for other read paths such as reports."""
    gate.check(session, principal, PLAN, plan_id)
    context = Context(session, principal, plan_id)
    return [(g, progress(context, g)) for g in _goals(session, principal, plan_id)]


def read_goal(session: Session, actor: Actor, plan_id: uuid.UUID, goal_id: uuid.UUID) -> GoalOut:
    return list_goals(session, actor, plan_id, {goal_id})[0]


def viewer_currency(session: Session, actor: Actor) -> str:
    return Converter.for_company(session, actor.company_id).currency
