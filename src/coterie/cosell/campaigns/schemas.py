"""Request and response bodies of campaign attribution and solution links."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Relation(StrEnum):
    CAMPAIGN = "campaign"  # a lead or opportunity attributed to a campaign
    SOLUTION = "solution"  # an opportunity, lead, plan or campaign linked to a joint solution


class LinkRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: uuid.UUID = Field(description="The lead, opportunity, plan or campaign to link.")


class CampaignChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: uuid.UUID | None = Field(
        description="The campaign my company attributes this record to; null clears it."
    )


class RecordLinkOut(BaseModel):
    """One link as the caller sees it: both ends are records it may see."""

    record_id: uuid.UUID = Field(description="The record at the other end of the link.")
    kind: str
    title: str
    relation: Relation
    linked_by_company_id: uuid.UUID
    linked_by_company_name: str
    linked_at: datetime
    can_unlink: bool


class RecordLinkList(BaseModel):
    items: list[RecordLinkOut]


class AmountOut(BaseModel):
    currency: str
    amount: Decimal


class InfluenceOut(BaseModel):
    """What a campaign or solution influenced, counted over records the caller may see."""

    record_id: uuid.UUID
    leads: int
    opportunities: int
    pipeline: list[AmountOut] = Field(description="Open opportunities' amounts, per currency.")
    revenue: list[AmountOut] = Field(description="Won opportunities' amounts, per currency.")
