"""Pydantic shapes of programs, plans, plan links, goals and their progress, account plans,
roll-ups and exchange rates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from coterie.kit.money import clean_currency
from coterie.models.vocabulary import Region
from coterie.records.schemas import ParticipantOut, RecordOut

Currency = Annotated[str, AfterValidator(clean_currency)]
MAX_TARGET = Decimal("1e15")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProgramType(StrEnum):
    CO_SELL = "co-sell"
    RESELL = "resell"
    OEM = "oem"
    MARKETPLACE = "marketplace"
    SERVICES = "services"


class Status(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class Role(StrEnum):
    PIPELINE = "pipeline"
    TARGET_ACCOUNT = "target_account"


class Metric(StrEnum):
    PIPELINE_VALUE = "pipeline_value"
    CLOSED_REVENUE = "closed_revenue"
    OPPORTUNITY_COUNT = "opportunity_count"
    LEAD_COUNT = "lead_count"


VALUE_METRICS = frozenset({Metric.PIPELINE_VALUE, Metric.CLOSED_REVENUE})


class Dimension(StrEnum):
    REGION = "region"
    INDUSTRY = "industry"
    PRODUCT = "product"
    QUARTER = "quarter"


# -- programs ----------------------------------------------------------------------------------


class ProgramProfileIn(Strict):
    program_type: ProgramType = ProgramType.CO_SELL
    region: Region | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    status: Status = Status.DRAFT


class ProgramProfileOut(BaseModel):
    program_id: uuid.UUID
    title: str
    description: str
    host_company_id: uuid.UUID
    host_company_name: str
    program_type: str
    region: str | None
    starts_on: date | None
    ends_on: date | None
    status: str
    version: int = Field(description="0 until the host first saves the profile; send as If-Match")
    can_edit: bool


class PlanSummary(BaseModel):
    id: uuid.UUID
    title: str
    owner_company_id: uuid.UUID
    owner_company_name: str
    status: str
    period_start: date | None
    period_end: date | None


class ProgramOverview(BaseModel):
    profile: ProgramProfileOut
    plans: list[PlanSummary]
    participants: list[ParticipantOut]


# -- plans -------------------------------------------------------------------------------------


class PlanProfileIn(Strict):
    program_id: uuid.UUID | None = None
    period_start: date | None = None
    period_end: date | None = None
    status: Status = Status.DRAFT


class Owner(BaseModel):
    """A participant company's owner of the record (its space's `owner`), where visible."""

    company_id: uuid.UUID
    company_name: str
    user_id: uuid.UUID | None
    user_name: str | None


class PlanProfileOut(BaseModel):
    plan_id: uuid.UUID
    title: str
    owner_company_id: uuid.UUID
    owner_company_name: str
    program_id: uuid.UUID | None = Field(description="Shown only when you may see the program")
    program_title: str | None
    period_start: date | None
    period_end: date | None
    status: str
    version: int
    can_edit: bool
    owners: list[Owner]


class LinkIn(Strict):
    record_id: uuid.UUID
    role: Role = Role.PIPELINE


class TargetAccountIn(Strict):
    account_id: uuid.UUID


class LinkOut(BaseModel):
    record_id: uuid.UUID
    kind: str
    role: str
    linked_by_company_id: uuid.UUID | None
    linked_by_company_name: str | None
    linked_at: datetime
    can_unlink: bool
    record: RecordOut


class LinkList(BaseModel):
    items: list[LinkOut]


# -- goals -------------------------------------------------------------------------------------

Target = Annotated[Decimal, Field(ge=0, lt=MAX_TARGET, max_digits=17, decimal_places=2)]
SliceValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class BreakdownIn(Strict):
    """One goal per slice: `targets` maps each slice value to its target."""

    dimension: Dimension
    targets: dict[SliceValue, Target] = Field(min_length=1, max_length=50)


class GoalIn(Strict):
    metric: Metric
    target: Target | None = Field(
        default=None, description="Required unless `breakdown` gives one target per slice"
    )
    currency: Currency | None = Field(
        default=None, description="Value metrics only; default your company's currency"
    )
    period_start: date | None = Field(default=None, description="Default: the plan's period")
    period_end: date | None = None
    company_id: uuid.UUID | None = Field(
        default=None, description="Your company (a company goal) or null (joint, plan owner)"
    )
    breakdown_dimension: Dimension | None = None
    breakdown_value: SliceValue | None = None
    breakdown: BreakdownIn | None = Field(
        default=None, description="Create a set of goals, one per slice"
    )


class GoalPatch(Strict):
    target: Target | None = None
    currency: Currency | None = None
    period_start: date | None = None
    period_end: date | None = None


class RateUsed(BaseModel):
    currency: str
    rate: Decimal
    valid_from: date | None


class Unconverted(BaseModel):
    currency: str
    amount: Decimal
    count: int


class Progress(BaseModel):
    """A goal's progress as the viewer sees it: only records it may see, amounts it may see,
    in its own currency."""

    currency: str | None = Field(description="The viewer's currency (value metrics)")
    target: Decimal | None = Field(description="The target in the viewer's currency (or count)")
    target_rate: RateUsed | None
    achieved: Decimal
    percent: float | None
    count: int = Field(description="Records counted")
    hidden_count: int = Field(
        description="Records that may count but whose needed values are not shared with you"
    )
    unconverted: list[Unconverted]
    rates_used: list[RateUsed]


class GoalOut(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    metric: str
    target: Decimal
    currency: str | None
    period_start: date | None
    period_end: date | None
    company_id: uuid.UUID | None
    company_name: str | None = Field(description="null: a joint goal")
    breakdown_dimension: str | None
    breakdown_value: str | None
    created_by_company_id: uuid.UUID
    version: int
    can_edit: bool
    progress: Progress


class GoalList(BaseModel):
    items: list[GoalOut]


class PlanProgress(BaseModel):
    plan_id: uuid.UUID
    currency: str
    goals: list[GoalOut]


# -- accounts ----------------------------------------------------------------------------------

Objectives = Annotated[str, StringConstraints(max_length=20000)]
StepTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class NextStepIn(Strict):
    id: uuid.UUID | None = None
    title: StepTitle
    owner_user_id: uuid.UUID | None = None
    due_date: date | None = None
    done: bool = False


class AccountPlanIn(Strict):
    objectives: Objectives = ""
    next_steps: list[NextStepIn] = Field(default_factory=list, max_length=100)


class NextStepOut(BaseModel):
    id: uuid.UUID
    title: str
    owner_user_id: uuid.UUID | None
    owner_company_id: uuid.UUID | None
    owner_name: str | None
    due_date: date | None
    done: bool


class AccountPlanOut(BaseModel):
    account_id: uuid.UUID
    objectives: str
    next_steps: list[NextStepOut]
    owners: list[Owner]
    version: int = Field(description="0 until someone first saves the plan; send as If-Match")
    updated_at: datetime | None
    updated_by_company_id: uuid.UUID | None


class Bucket(BaseModel):
    key: str | None
    count: int
    my_amount: Decimal
    my_hidden_count: int


class PartnerTotal(BaseModel):
    company_id: uuid.UUID
    company_name: str
    count: int = Field(description="Opportunities where the partner shares its amount with you")
    total: Decimal = Field(description="In your currency")
    unconverted: list[Unconverted]


class Rollup(BaseModel):
    account_id: uuid.UUID
    currency: str
    count: int
    open_count: int
    won_count: int
    lost_count: int
    by_joint_stage: list[Bucket]
    by_my_category: list[Bucket]
    my_total: Decimal
    my_hidden_count: int = Field(description="Opportunities whose amount you may not see")
    my_unconverted: list[Unconverted]
    partners: list[PartnerTotal]


# -- exchange rates ----------------------------------------------------------------------------


class RateIn(Strict):
    currency: Currency
    rate: Annotated[Decimal, Field(gt=0, lt=Decimal("1e10"), decimal_places=10)]
    valid_from: date


class RateOut(BaseModel):
    id: uuid.UUID
    currency: str
    rate: Decimal
    valid_from: date
    updated_at: datetime


class RateList(BaseModel):
    currency: str = Field(description="My company's own currency")
    items: list[RateOut]
