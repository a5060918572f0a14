"""What the funds API reads and answers (Pydantic): amounts as decimals with two places."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from coterie.kit.money import clean_currency

Currency = Annotated[str, AfterValidator(clean_currency)]
Amount = Annotated[Decimal, Field(gt=0, lt=Decimal("1e13"), max_digits=15, decimal_places=2)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO = "more_info"
    APPROVED = "approved"
    REJECTED = "rejected"


class ClaimStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO = "more_info"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    DECLINED = "declined"


# -- budgets ---------------------------------------------------------------------------------


class BudgetIn(Strict):
    program_id: uuid.UUID = Field(description="The program record the budget funds")
    name: Name
    period_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)
    ]
    period_start: date
    period_end: date
    currency: Currency
    total: Amount
    total_shared: bool = Field(
        False, description="Partners with an allocation see the total, committed and paid"
    )


class BudgetPatch(Strict):
    name: Name | None = None
    total: Amount | None = None
    total_shared: bool | None = None
    closed: bool | None = Field(None, description="Close the period: no new requests")


class BudgetOut(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    program_id: uuid.UUID
    program_title: str | None
    name: str
    period_name: str
    period_start: date
    period_end: date
    currency: str
    closed: bool
    mine: bool = Field(description="My company funds this budget")
    total_shared: bool
    total: Decimal | None = Field(description="Absent unless my company funds it or it is shared")
    committed: Decimal | None
    paid: Decimal | None
    remaining: Decimal | None
    version: int


class AllocationIn(Strict):
    partner_company_id: uuid.UUID
    cap: Amount | None = None


class AllocationOut(BaseModel):
    id: uuid.UUID
    budget_id: uuid.UUID
    partner_company_id: uuid.UUID
    partner_name: str
    cap: Decimal | None
    committed: Decimal
    version: int


# -- requests --------------------------------------------------------------------------------


class RequestIn(Strict):
    budget_id: uuid.UUID
    activity: Name
    description: Text = ""
    campaign_id: uuid.UUID | None = Field(None, description="A campaign record I may see")
    requested_amount: Amount
    currency: Currency
    expected_pipeline: (
        Annotated[Decimal, Field(ge=0, lt=Decimal("1e13"), decimal_places=2)] | None
    ) = None
    contribution_pct: int = Field(0, ge=0, le=100, description="My company's share of the cost, %")
    starts_on: date
    ends_on: date
    claim_deadline: date
    submit: bool = Field(False, description="Submit at once instead of keeping a draft")


class RequestPatch(Strict):
    activity: Name | None = None
    description: Text | None = None
    requested_amount: Amount | None = None
    expected_pipeline: (
        Annotated[Decimal, Field(ge=0, lt=Decimal("1e13"), decimal_places=2)] | None
    ) = None
    contribution_pct: int | None = Field(None, ge=0, le=100)
    starts_on: date | None = None
    ends_on: date | None = None
    claim_deadline: date | None = None


class ApproveIn(Strict):
    approved_amount: Amount
    message: Text = Field("", description="Shown to the requester")
    internal_note: Text = Field("", description="Private to my company")


class DecisionIn(Strict):
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    internal_note: Text = Field("", description="Private to my company")


class NoteIn(Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class NoteOut(BaseModel):
    id: uuid.UUID
    body: str
    author_name: str | None
    created_at: datetime


class RequestOut(BaseModel):
    id: uuid.UUID
    budget_id: uuid.UUID
    budget_name: str
    requester_company_id: uuid.UUID
    requester_name: str
    funder_company_id: uuid.UUID
    funder_name: str
    activity: str
    description: str
    campaign_id: uuid.UUID | None = Field(description="Absent when I may not see the campaign")
    campaign_title: str | None
    requested_amount: Decimal
    currency: str
    expected_pipeline: Decimal | None
    contribution_pct: int
    starts_on: date
    ends_on: date
    claim_deadline: date
    effective_claim_deadline: date
    status: RequestStatus
    approved_amount: Decimal | None
    decision_message: str | None
    claimed: Decimal
    paid: Decimal
    extension_status: ExtensionStatus | None
    extension_deadline: date | None
    extension_reason: str | None
    submitted_at: datetime | None
    decided_at: datetime | None
    version: int


class ExtensionIn(Strict):
    new_deadline: date
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


# -- claims ----------------------------------------------------------------------------------


class ClaimIn(Strict):
    amount: Amount
    description: Text = ""
    submit: bool = Field(True, description="Submit at once (false: a draft to attach proof to)")


class ResubmitIn(Strict):
    description: Text


class PaymentIn(Strict):
    payment_reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    paid_on: date


class ClaimDecisionIn(Strict):
    message: Text = ""


class ClaimOut(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    activity: str
    requester_name: str
    funder_name: str
    amount: Decimal
    currency: str
    description: str
    status: ClaimStatus
    decision_message: str | None
    payment_reference: str | None
    paid_on: date | None
    submitted_at: datetime
    decided_at: datetime | None
    version: int


# -- return on funds -------------------------------------------------------------------------


class RoiOut(BaseModel):
    budget_id: uuid.UUID
    currency: str
    connected: bool = Field(description="Whether campaign attribution is wired in")
    paid: Decimal
    leads: int
    pipeline: Decimal
    revenue: Decimal
    leads_per_thousand: Decimal | None = Field(description="Leads per 1,000 units paid")
    pipeline_per_unit: Decimal | None
    revenue_per_unit: Decimal | None
    not_converted: list[str] = Field(
        default_factory=list,
        description="Currencies of influenced amounts left out: the funder has no exchange "
        "rate from them to the budget's currency",
    )
