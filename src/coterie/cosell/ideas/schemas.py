"""Pydantic shapes of the ideas API."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class IdeaKind(StrEnum):
    SOLUTION = "solution"
    CAMPAIGN = "campaign"


class IdeaStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Visibility(StrEnum):
    """Who sees a program's ideas, besides the host (always) and the person who proposed one."""

    PROGRAM = "program"  # every company in the program
    PROPOSER_COMPANY = "proposer_company"  # the proposer's company and the host
    HOST = "host"  # the host only (and the proposer)


VISIBILITY_LABELS = {
    Visibility.PROGRAM: "Every company in the program",
    Visibility.PROPOSER_COMPANY: "The proposer's company and the host",
    Visibility.HOST: "The host only (and the person who proposed it)",
}
KIND_LABELS = {IdeaKind.SOLUTION: "Joint solution", IdeaKind.CAMPAIGN: "Campaign"}
STATUS_LABELS = {
    IdeaStatus.OPEN: "Open",
    IdeaStatus.ACCEPTED: "Accepted",
    IdeaStatus.DECLINED: "Declined",
}

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdeaIn(Strict):
    kind: IdeaKind
    title: Title
    problem: Text = Field(description="The customer problem the idea solves")
    target_customers: Text = Field(description="Who would buy it")
    partner_company_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=20,
        description="Companies of the program wanted as partners on it",
    )
    expected_pipeline: Decimal | None = Field(
        default=None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="Expected pipeline in the proposer's company currency",
    )


class DeclineIn(Strict):
    reason: Reason


class VisibilityIn(Strict):
    visibility: Visibility


class VisibilityOut(BaseModel):
    program_id: uuid.UUID
    visibility: Visibility
    label: str
    version: int
    can_edit: bool


class CompanyRef(BaseModel):
    company_id: uuid.UUID
    company_name: str


class Endorser(BaseModel):
    user_id: uuid.UUID
    name: str
    company_id: uuid.UUID
    company_name: str


class Money(BaseModel):
    value: str
    currency: str


class IdeaOut(BaseModel):
    id: uuid.UUID
    program_id: uuid.UUID
    program_title: str
    kind: IdeaKind
    title: str
    problem: str
    target_customers: str
    partners: list[CompanyRef]
    expected_pipeline: Money | None
    proposer: Endorser | None
    proposer_company: CompanyRef
    status: IdeaStatus
    decline_reason: str | None
    decided_at: datetime | None
    record_id: uuid.UUID | None = Field(
        description="The record the idea became when accepted (null while you may not see it)"
    )
    endorsements: int
    endorsers: list[Endorser]
    endorsed_by_me: bool
    can_triage: bool
    created_at: datetime


class IdeaList(BaseModel):
    items: list[IdeaOut]
    next_cursor: str | None
