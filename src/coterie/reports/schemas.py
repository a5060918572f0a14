"""Report definitions and results (`POST /api/v1/reports/run`; saved reports reuse them).

A definition names a record kind, group-by dimensions, measures and filters. Dimension names:
`partner`, `product`, `industry`, `region`, `stage`, `owner`, `account`, `joint_stage`,
`motion`, `source_company`, `close_quarter`, `campaign`, `solution` (the campaigns a record is
attributed to and the joint solutions it is linked to, those the viewer may see; a record in two
groups counts once in the totals), `mine.<custom enum key>` and
`<partner company id>.<key>` (a partner's field, only when that partner shares it with the
viewer's company). Measures: `count`; `sum`/`avg`/`min`/`max` of `mine.amount` or
`<partner company id>.amount`; `weighted_pipeline`; `win_rate`; `avg_cycle_days`;
`goal_attainment` (optionally of one goal metric: `pipeline_value`, `closed_revenue`,
`opportunity_count`, `lead_count`), only in a report scoped to one plan with `plan_id`: the
plan's goals' live progress over their targets, as the viewer sees it (`coterie.reports.
attainment`). Money values are strings with two decimals, in `currency` (the viewer's company
currency). Rows come in the groups' order: stages as the workflow orders them, enum options
as the template does, other values by name; the empty group ("Not set", "No stage") last
(`coterie.reports.ordering`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from coterie.kit.quarters import QuarterText

MeasureOp = Literal[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "weighted_pipeline",
    "win_rate",
    "avg_cycle_days",
    "goal_attainment",
]
AMOUNT_OPS: frozenset[str] = frozenset({"sum", "avg", "min", "max"})
MAX_GROUP_BY = 3
MAX_MEASURES = 10

# A measure's value: an int (count), a Decimal (money with 2 decimals, win rate 0..1 and goal
# attainment (1 = the target met) with 4, days with 1), or None (no value: an empty group,
# nothing visible to aggregate, no goal for the group).
Value = Decimal | int | None


class Measure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: MeasureOp = Field(
        description="`count`; `sum`/`avg`/`min`/`max` of an amount; `weighted_pipeline`; "
        "`win_rate` (0..1); `avg_cycle_days`; `goal_attainment` (0..1 and above: the plan's "
        "goals' live progress over target, as you see it; needs `plan_id`, not with `compare`)."
    )
    field: str | None = Field(
        default=None,
        max_length=80,
        description="For sum/avg/min/max: `mine.amount` or `<partner company id>.amount`. "
        "For goal_attainment (optional): the goal metric, `pipeline_value`, `closed_revenue`, "
        "`opportunity_count` or `lead_count`; without it, the one metric the plan has goals "
        "for in the report's kind.",
    )

    @property
    def name(self) -> str:
        """The measure's key in `rows[].measures` and `totals.measures`."""
        return f"{self.op}({self.field})" if self.field else self.op


class ReportIn(BaseModel):
    """A report: records of `kind` you may see, grouped and measured over masked values.

    `goal_attainment` reads the goals of the plan named by `plan_id`: achieved over target
    (4 decimals), for the goals of one metric (the measure's `field`, or the plan's only
    metric for the kind): the joint goals, or your company's when the plan has no joint one.
    Totals: the goals without a breakdown; rows: when grouped by exactly one of `region`,
    `industry`, `product`, `close_quarter`, the slice goal of each group (None without one).
    `hidden` counts records that may count but whose values you may not see."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(default="opportunity", max_length=20)
    group_by: list[str] = Field(default_factory=list, max_length=MAX_GROUP_BY)
    measures: list[Measure] = Field(
        default_factory=lambda: [Measure(op="count")], min_length=1, max_length=MAX_MEASURES
    )
    filters: list[dict[str, Any]] | dict[str, Any] | None = Field(
        default=None,
        description="The records filter language: one condition object, or a list of "
        "conditions (ANDed). A top-level leaf may also name the field `partner` (op `eq`, `ne`, "
        "`in` or `not_in`, value partner company id(s)): records that company takes part in "
        "(an active participant), or that none of them does; or `campaign` / `solution` (same "
        "ops, campaign or solution id(s)): records attributed or linked to one of them.",
    )
    quarter: QuarterText | None = Field(
        default=None,
        pattern=r"^\d{4}-Q[1-4]$",
        description="Only records whose own close date falls in this quarter ('2026-Q3', a "
        "year from 1900 to 2999). With `compare` and no quarter: the current quarter.",
    )
    plan_id: uuid.UUID | None = Field(
        default=None,
        description="Scope the report to one joint sales plan the viewer may see: only the "
        "records linked to it (that the viewer may see) are reported on, and `goal_attainment` "
        "measures the plan's goals. A plan the viewer cannot see is refused (422 `body.plan_id`).",
    )
    compare: Literal["previous_quarter"] | None = Field(
        default=None,
        description="Also report the previous quarter, with deltas (not with `goal_attainment`: "
        "goals are live progress over their own periods).",
    )
    hide_private: bool = Field(
        default=False,
        description="Treat the viewer's own private fields as not visible (also on while the "
        "user's 'hide private fields' preference is on).",
    )


class GroupValue(BaseModel):
    value: str | None  # the raw key (an id, a stage key, "2026-Q3"); None: empty
    label: str  # what to show: a name, an option's label, "Not set", "No stage", "Not visible"


class Unconverted(BaseModel):
    """Amounts with no exchange rate to the viewer's currency: never guessed, reported apart."""

    currency: str
    count: int
    sum: Decimal


class ReportRow(BaseModel):
    group: dict[str, GroupValue] = Field(default_factory=dict)  # dimension -> value
    measures: dict[str, Value] = Field(default_factory=dict)  # Measure.name -> value
    # Measure.name -> how many records of the group have that amount hidden from the viewer
    hidden: dict[str, int] = Field(default_factory=dict)
    # Measure.name -> amounts left out for want of a rate, per currency
    unconverted: dict[str, list[Unconverted]] = Field(default_factory=dict)
    # with `compare`: this period minus the previous one (None when either side has no value)
    delta: dict[str, Value] | None = None


class PeriodResult(BaseModel):
    period: str  # "2026-Q2"
    rows: list[ReportRow]
    totals: ReportRow


class ReportOut(BaseModel):
    kind: str
    group_by: list[str]
    measures: list[str]  # Measure.name, in the order asked
    currency: str  # the viewer's company currency: every money value is in it
    rate_date: str  # the conversion policy, in words
    period: str | None  # the quarter reported on, if any
    rows: list[ReportRow]
    totals: ReportRow  # every visible record counted once (even across partner groups)
    previous: PeriodResult | None = None
    notes: list[str] = Field(default_factory=list)
