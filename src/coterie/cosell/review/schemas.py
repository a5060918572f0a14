"""What the weekly pipeline review answers."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field


class Movement(StrEnum):
    NEW = "new"
    ADVANCED = "advanced"
    SLIPPED = "slipped"
    PULLED_IN = "pulled_in"
    REGRESSED = "regressed"
    WON = "won"
    LOST = "lost"
    VALUE_CHANGED = "value_changed"


class ReviewItem(BaseModel):
    record_id: uuid.UUID
    title: str
    customer_name: str
    stage_before: str | None
    stage_after: str | None
    close_date_before: date | None
    close_date_after: date | None
    amount_before: dict[str, str] | None = Field(description='{"value", "currency"} as stored')
    amount_after: dict[str, str] | None
    value_before: Decimal | None = Field(description="Converted into the viewer's currency")
    value_after: Decimal | None
    delta: Decimal | None = Field(
        description="value_after - value_before (all of value_after for a new opportunity)"
    )
    unconverted: list[str] = Field(description="Currencies with no rate in the viewer's view")


class SectionTotal(BaseModel):
    count: int
    delta: Decimal


class ReviewSection(BaseModel):
    movement: Movement
    items: list[ReviewItem]
    total: SectionTotal


class ReviewCompany(BaseModel):
    company_id: uuid.UUID
    company_name: str
    is_mine: bool
    fields: list[str] = Field(description="The tracked fields of this company the viewer sees")
    open_pipeline_before: Decimal | None
    open_pipeline_after: Decimal | None
    sections: list[ReviewSection]


class ReviewOut(BaseModel):
    plan_id: uuid.UUID
    start: date
    end: date
    currency: str
    rate_date: date
    opportunities: int = Field(description="Pipeline opportunities of the plan that you see")
    companies: list[ReviewCompany]
