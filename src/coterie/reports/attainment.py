"""The `goal_attainment` measure: a plan's goals' live progress over their targets, per viewer.

It needs a report scoped to one plan (`plan_id`) and reuses the goals' own live progress
(`coterie.cosell.planning.goals.live_progress`): the same records, masks, hidden counts and currency
conversion as the plan's goals page, computed for the viewer (with "hide private fields" when
the report asks for it). Nothing is re-implemented here; a record or value the viewer may not
see never contributes, it is counted under `hidden`.

Which goals (the *goal set*): the goals of one metric whose record kind is the report's kind
(`pipeline_value`, `closed_revenue`, `opportunity_count` for opportunities, `lead_count` for
leads), named by the measure's `field` or, without it, the one metric the plan has goals for
(several: 422, name one). Of those, the plan's joint goals; when the plan has no joint goal of
that metric, the viewer's own company goals. A partner's company goals are never mixed in: a
joint goal and company goals measure the same records, adding them would count twice.

The value is achieved / target, a ratio with four decimals (0.4250 is 42.5 %; above 1 the
target is beaten), None when the target is zero or cannot be converted to the viewer's
currency (a note says which). Money targets and progress are both in the viewer's currency.

- Totals: the goal set's goals without a breakdown slice (several: their progress added over
  their targets added). A plan whose goals of that metric are all slices has no overall goal:
  the totals show None and a note points at the slices, rather than adding slices up (a record
  whose breakdown field is hidden is hidden from every slice, so added slices would count it
  several times).
- Rows: when the report groups by exactly one dimension that is a breakdown of the goal set
  (`region`, `industry`, `product`, `close_quarter` for a `quarter` breakdown), a group's value
  is the progress of the slice goal(s) with that value over their targets; a group with no
  such goal shows None. Grouped any other way, rows show None and a note says why. Rows come
  from the report's records; a slice goal whose group has no record in the report has no row.
- `hidden` carries the goals' `hidden_count` (records that may count but whose needed values
  the viewer may not see); `unconverted` the amounts without a rate, per currency.
- A goal measures its own period: the report's `quarter` and `filters` do not narrow it, and
  `compare` is refused (a goal's live progress has no "previous quarter").
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from coterie.authz.principal import Principal
from coterie.cosell.planning import goals
from coterie.cosell.schemas import Metric, Progress
from coterie.kit.problems import invalid
from coterie.models.cosell import PlanGoal
from coterie.reports.schemas import Measure, ReportIn, ReportRow, Unconverted

OP = "goal_attainment"
RATIO_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")
# report dimension -> goal breakdown dimension
BREAKDOWNS = {
    "region": "region",
    "industry": "industry",
    "product": "product",
    "close_quarter": "quarter",
}
METRIC_WORDS = {
    Metric.PIPELINE_VALUE: "pipeline value",
    Metric.CLOSED_REVENUE: "closed revenue",
    Metric.OPPORTUNITY_COUNT: "number of opportunities",
    Metric.LEAD_COUNT: "number of leads",
}

Scored = tuple[PlanGoal, Progress]


@dataclass
class Cell:
    value: Decimal | None
    hidden: int
    unconverted: list[Unconverted]


@dataclass
class Attainment:
    """The measure's values for one report: its totals and, per group value, its rows."""

    name: str
    totals: Cell | None
    dimension: str | None = None  # the report dimension whose groups have slice goals
    slices: dict[str, Cell] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def apply(self, rows: list[ReportRow], totals: ReportRow) -> None:
        _put(totals, self.name, self.totals)
        for row in rows:
            found = None
            if self.dimension is not None and self.dimension in row.group:
                value = row.group[self.dimension].value
                found = self.slices.get(value) if value is not None else None
            _put(row, self.name, found)


def _put(row: ReportRow, name: str, cell: Cell | None) -> None:
    row.measures[name] = cell.value if cell is not None else None
    if cell is None:
        return
    row.hidden[name] = cell.hidden
    if cell.unconverted:
        row.unconverted[name] = cell.unconverted


def check(report: ReportIn, measure: Measure, index: int) -> uuid.UUID:
    """The plan the measure reads, after what can be refused before reading anything (422
    with the measure's path)."""
    path = f"body.measures.{index}"
    if report.plan_id is None:
        raise invalid(
            path,
            "goal attainment needs a report scoped to one plan: give plan_id, or open it on a "
            "dashboard filtered by a plan",
        )
    if report.compare is not None:
        raise invalid(
            path,
            "goal_attainment is each goal's live progress over its own period; it cannot be "
            "compared with the previous quarter (leave out compare)",
        )
    kinds = sorted({goals.METRIC_KIND[m] for m in Metric})
    if report.kind not in kinds:
        raise invalid(
            path, f"goals measure {' or '.join(kinds)}; this report is over {report.kind}"
        )
    if measure.field is not None:
        try:
            metric = Metric(measure.field)
        except ValueError:
            raise invalid(
                f"{path}.field", f"must be a goal metric: {', '.join(m.value for m in Metric)}"
            ) from None
        if goals.METRIC_KIND[metric] != report.kind:
            raise invalid(
                f"{path}.field",
                f"'{metric.value}' goals measure {goals.METRIC_KIND[metric]}s; this report is "
                f"over {report.kind}s",
            )
    return report.plan_id


def _cell(scored: list[Scored], notes: list[str]) -> Cell | None:
    if not scored:
        return None
    hidden = sum(p.hidden_count for _, p in scored)
    unconverted: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for _, p in scored:
        for u in p.unconverted:
            unconverted[u.currency][0] += u.amount
            unconverted[u.currency][1] += u.count
    left_out = [
        Unconverted(currency=c, count=int(v[1]), sum=v[0].quantize(CENT, ROUND_HALF_UP))
        for c, v in sorted(unconverted.items())
    ]
    value: Decimal | None = None
    missing = sorted({g.currency or "" for g, p in scored if p.target is None})
    if missing:
        note = (
            f"goal_attainment: no exchange rate from {', '.join(missing)} (a goal's target "
            "currency) to yours on the goal's last day; that attainment is not shown."
        )
        if note not in notes:
            notes.append(note)
    else:
        target = sum((p.target or Decimal(0) for _, p in scored), Decimal(0))
        achieved = sum((p.achieved for _, p in scored), Decimal(0))
        if target > 0:
            value = (achieved / target).quantize(RATIO_PLACES, ROUND_HALF_UP)
    return Cell(value, hidden, left_out)


def compute(
    session: Session,
    principal: Principal,
    plan_id: uuid.UUID,
    report: ReportIn,
    measure: Measure,
    index: int,
) -> Attainment:
    """The measure over the plan's goals (the caller checked the plan and `check`ed it)."""
    kind = report.kind
    scored = [
        (g, p)
        for g, p in goals.live_progress(session, principal, plan_id)
        if goals.METRIC_KIND[Metric(g.metric)] == kind
    ]
    if measure.field is not None:
        scored = [(g, p) for g, p in scored if g.metric == measure.field]
    joint = [(g, p) for g, p in scored if g.company_id is None]
    own = [(g, p) for g, p in scored if g.company_id == principal.company_id]
    chosen, whose = (joint, "the plan's joint goals") if joint else (own, "your company's goals")
    metrics = sorted({g.metric for g, _ in chosen})
    if len(metrics) > 1:
        raise invalid(
            f"body.measures.{index}.field",
            f"the plan has {whose} for {', '.join(metrics)}: name one as the field",
        )
    if not metrics:
        what = f"'{measure.field}' goal" if measure.field else f"goal over {kind}s"
        return Attainment(
            measure.name,
            None,
            notes=[f"{measure.name}: the plan has no joint {what} and none of your company."],
        )
    metric = Metric(metrics[0])
    notes = [
        f"{measure.name}: {whose} for {METRIC_WORDS[metric]}, live progress over target "
        "(1 = met), as you may see it; each goal measures its own period, the report's "
        "quarter and filters do not narrow it."
    ]
    overall = [(g, p) for g, p in chosen if g.breakdown_dimension is None]
    sliced = sorted({g.breakdown_dimension for g, _ in chosen if g.breakdown_dimension})
    totals = _cell(overall, notes)
    if not overall:
        notes.append(
            f"{measure.name}: no overall goal, only goals per {', '.join(sliced)}; the "
            "totals show none (group by that dimension to see each slice)."
        )
    attainment = Attainment(measure.name, totals, notes=notes)
    groups = report.group_by
    if not groups:
        return attainment
    breakdown = BREAKDOWNS.get(groups[0]) if len(groups) == 1 else None
    if breakdown is None or breakdown not in sliced:
        by = ", ".join(sliced) if sliced else "nothing"
        notes.append(
            f"{measure.name}: the goals are broken down by {by}; grouped by "
            f"{', '.join(groups)}, the rows show no attainment."
        )
        return attainment
    per_value: dict[str, list[Scored]] = defaultdict(list)
    for g, p in chosen:
        if g.breakdown_dimension == breakdown and g.breakdown_value is not None:
            per_value[g.breakdown_value].append((g, p))
    attainment.dimension = groups[0]
    for value, found in per_value.items():
        cell = _cell(found, notes)
        if cell is not None:
            attainment.slices[value] = cell
    return attainment
