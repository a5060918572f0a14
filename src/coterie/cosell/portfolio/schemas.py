"""Pydantic shapes of the solutions portfolio."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from coterie.cosell.schemas import Owner


class CompanyRef(BaseModel):
    company_id: uuid.UUID
    company_name: str


class ProgramRef(BaseModel):
    program_id: uuid.UUID
    title: str


class LinkedAmount(BaseModel):
    currency: str
    amount: Decimal


class LinkedPipeline(BaseModel):
    """What the records linked to a solution drive, counted over what the viewer may see
    (`cosell.campaigns.solution_influence`): linked leads and opportunities, the open ones'
    amounts (pipeline) and the won ones' (revenue), per currency, never converted."""

    leads: int = 0
    opportunities: int = 0
    pipeline: list[LinkedAmount] = Field(default_factory=list)
    revenue: list[LinkedAmount] = Field(default_factory=list)


class PortfolioRow(BaseModel):
    id: uuid.UUID
    title: str
    customer_name: str
    program: ProgramRef | None = Field(description="The program whose workflow drives it")
    stage: str | None = Field(description="The joint stage's key on the program's workflow")
    stage_label: str
    companies: list[CompanyRef] = Field(description="Every company actively on the solution")
    owners: list[Owner]
    next_step: str | None
    next_step_due: date | None
    next_step_overdue: bool
    linked_pipeline: LinkedPipeline | None = Field(
        default=None, description="Pipeline and revenue of the linked opportunities I may see"
    )


class StageCount(BaseModel):
    key: str | None
    label: str
    count: int


class PortfolioOut(BaseModel):
    items: list[PortfolioRow]
    next_cursor: str | None
    total: int
    stages: list[StageCount] = Field(description="Counts per stage over the filtered solutions")
