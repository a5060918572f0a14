"""Pydantic shapes of the solutions portfolio."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from coterie.cosell.schemas import Owner


class CompanyRef(BaseModel):
    company_id: uuid.UUID
    company_name: str


class ProgramRef(BaseModel):
    program_id: uuid.UUID
    title: str


class LinkedPipeline(BaseModel):
    """The pipeline linked to a solution (opportunities, plans, campaigns): filled in once the
    record links of issue 17 are merged; until then `None` on every row."""

    opportunities: int = 0


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
    linked_pipeline: LinkedPipeline | None = None


class StageCount(BaseModel):
    key: str | None
    label: str
    count: int


class PortfolioOut(BaseModel):
    items: list[PortfolioRow]
    next_cursor: str | None
    total: int
    stages: list[StageCount] = Field(description="Counts per stage over the filtered solutions")
