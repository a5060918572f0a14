"""Pydantic shapes of lead nomination, decisions, duplicates, conversion and deal registration."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from coterie.fields.kinds import Kind, Motion
from coterie.kit.schemas import StrictModel
from coterie.network.schemas import Domain
from coterie.records.schemas import FieldValues, ShortText, Title

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
RequiredReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
]


class DecisionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # read-only: the nominator withdrew the invitation before an answer


class RejectReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    DUPLICATE = "duplicate"
    NOT_A_FIT = "not_a_fit"
    ALREADY_ENGAGED = "already_engaged"
    OTHER = "other"


REJECT_REASON_LABELS = {
    RejectReason.NO_CAPACITY.value: "No capacity",
    RejectReason.DUPLICATE.value: "Duplicate of a lead we have",
    RejectReason.NOT_A_FIT.value: "Not a fit",
    RejectReason.ALREADY_ENGAGED.value: "Already engaged with the customer",
    RejectReason.OTHER.value: "Other",
}


class NominateIn(StrictModel):
    company_ids: list[uuid.UUID] = Field(min_length=1, max_length=50)
    note: Note = ""


class AcceptLeadIn(StrictModel):
    owner_user_id: uuid.UUID = Field(description="An active user of my company: the lead's owner")


class RejectLeadIn(StrictModel):
    reason_code: RejectReason
    reason: Reason = ""


class DecisionOut(BaseModel):
    """One receiving company's answer to a nomination (seen by the nominator and the receiver)."""

    id: uuid.UUID
    record_id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    nominated_by_company_id: uuid.UUID | None
    nominated_by_company_name: str | None
    note: str
    status: DecisionStatus
    participant_status: str | None
    reason_code: RejectReason | None
    reason: str
    owner_user_id: uuid.UUID | None
    nominated_at: datetime
    decided_at: datetime | None


class NominationOut(BaseModel):
    """A lead nominated to my company: only what an invitation shows (title, customer, who)."""

    decision_id: uuid.UUID
    record_id: uuid.UUID
    title: str
    customer_name: str
    customer_domain: str | None
    nominated_by_company_id: uuid.UUID | None
    nominated_by_company_name: str | None
    note: str
    status: DecisionStatus
    reason_code: RejectReason | None
    reason: str
    owner_user_id: uuid.UUID | None
    nominated_at: datetime
    decided_at: datetime | None


class DuplicateQuery(StrictModel):
    customer_name: ShortText = ""
    customer_domain: Annotated[str, StringConstraints(max_length=500)] | None = None
    kind: Literal[Kind.LEAD, Kind.OPPORTUNITY, Kind.ACCOUNT] | None = Field(
        default=None, description="Search one kind only; default leads, opportunities, accounts"
    )


class MatchReason(StrEnum):
    DOMAIN = "domain"
    NAME = "name"
    SIMILAR_NAME = "similar_name"


class DuplicateOut(BaseModel):
    record_id: uuid.UUID
    kind: str
    title: str
    customer_name: str
    customer_domain: str | None
    match: MatchReason
    score: float = Field(description="1.0 for the same domain or name, else the name similarity")


class ConvertIn(StrictModel):
    title: Title | None = None
    motion: Motion | None = Field(default=None, description="Default: the lead's motion")
    account_id: uuid.UUID | None = None
    customer_domain: Domain | None = None
    fields: FieldValues = Field(default_factory=dict, description="My space on the opportunity")


# -- deal registration ------------------------------------------------------------------------


class RegistrationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class RegistrationIn(StrictModel):
    registered_to_company_id: uuid.UUID
    notes: Note = ""


class ApproveIn(StrictModel):
    reason: Reason = ""


class RejectRegistrationIn(StrictModel):
    reason: RequiredReason


class RegistrationConflict(BaseModel):
    """Another registration at my company on a record with the same customer domain."""

    id: uuid.UUID
    record_id: uuid.UUID
    title: str
    registering_company_name: str
    status: RegistrationStatus
    expires_on: date | None


class RegistrationOut(BaseModel):
    id: uuid.UUID
    record_id: uuid.UUID
    record_title: str
    customer_name: str
    customer_domain: str | None
    registering_company_id: uuid.UUID
    registering_company_name: str
    registered_to_company_id: uuid.UUID
    registered_to_company_name: str
    status: RegistrationStatus
    notes: str
    reason: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    approved_at: datetime | None
    expires_on: date | None
    renewal_count: int
    renewals_left: int
    version: int
    conflicts: list[RegistrationConflict] = Field(
        default_factory=list, description="For the approving company only"
    )


class RegistrationSettingsIn(StrictModel):
    expiry_days: int = Field(ge=1, le=3650)
    renewal_days: int = Field(ge=1, le=3650)
    max_renewals: int = Field(ge=0, le=20)


class RegistrationSettingsOut(BaseModel):
    expiry_days: int
    renewal_days: int
    max_renewals: int
    version: int


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
