"""Pydantic shapes of the shared-record API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coterie.fields.kinds import Kind, Motion
from coterie.kit.problems import conflict, invalid
from coterie.network.schemas import Domain

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Stage = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
LongText = Annotated[str, StringConstraints(max_length=20000)]
FieldValues = Annotated[dict[str, Any], Field(max_length=200)]


LEAD_CONVERTED = "converted"
"""A lead's joint stage once converted to an opportunity (`coterie.cosell.pipeline.leads`)."""


def check_joint_stage(
    kind: str, current: str | None, requested: str | None, path: str = "body.joint_stage"
) -> None:
    """The joint stage a client may give a record of `kind` now at `current` (by a PATCH of the
    core, or a move on a program workflow: `path` names the field). Only converting a lead
    makes it `converted` (whatever the case), and a converted lead stays so: moved elsewhere,
    it could be converted into a second opportunity."""
    if kind != Kind.LEAD.value or requested == current:
        return
    if current == LEAD_CONVERTED:
        raise conflict("lead-converted", "This lead was converted; its joint stage stays.")
    if requested is not None and requested.casefold() == LEAD_CONVERTED:
        raise invalid(
            path,
            f"'{LEAD_CONVERTED}' is set by converting the lead (POST /api/v1/leads/{{id}}/convert)",
        )


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecordCreate(Strict):
    title: Title
    customer_name: ShortText = ""
    customer_domain: Domain | None = None
    account_id: uuid.UUID | None = None
    motion: Motion | None = None
    description: LongText = ""
    joint_stage: Stage | None = None
    fields: FieldValues = Field(default_factory=dict, description="Values for my own space")


class RecordPatch(Strict):
    title: Title | None = None
    customer_name: ShortText | None = None
    customer_domain: Domain | None = None
    account_id: uuid.UUID | None = None
    motion: Motion | None = None
    description: LongText | None = None
    joint_stage: Stage | None = None


class SpacePatch(Strict):
    fields: FieldValues


Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class ParticipantIn(Strict):
    company_id: uuid.UUID
    note: Reason = Field(
        default="",
        description="Why the company should join: shown to the owner when this is a proposal",
    )


class AdmitRightIn(Strict):
    can_admit: bool = Field(description="Whether this participant may admit companies too")


class DeclineIn(Strict):
    reason: Reason = ""


class CompanyRef(BaseModel):
    id: uuid.UUID
    name: str


class ParticipantOut(BaseModel):
    company_id: uuid.UUID
    company_name: str
    status: str
    invited_by_company_id: uuid.UUID | None
    invited_at: datetime
    responded_at: datetime | None
    can_admit: bool = Field(
        default=False, description="The owner lets this company admit companies to the record"
    )


class ProposalOut(BaseModel):
    """A participant's proposal that a company join a record; the owner decides."""

    id: uuid.UUID
    record_id: uuid.UUID
    kind: str
    record_title: str
    company_id: uuid.UUID
    company_name: str
    proposed_by_company_id: uuid.UUID
    proposed_by_company_name: str
    source: str = Field(description="manual, rule (an auto-share rule) or registration")
    status: str = Field(description="pending, accepted, declined or withdrawn")
    note: str
    reason: str = Field(description="The owner's reason when it declined")
    proposed_at: datetime
    decided_at: datetime | None


class SpaceOut(BaseModel):
    company_id: uuid.UUID
    company_name: str
    is_mine: bool
    version: int | None = Field(description="Mine only: send it as If-Match to PATCH spaces/mine")
    fields: dict[str, Any]
    labels: dict[str, str]


class RecordOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    customer_name: str
    customer_domain: str | None
    account_id: uuid.UUID | None
    owner_company_id: uuid.UUID
    motion: str | None
    description: str
    joint_stage: str | None
    source_company: CompanyRef | None = Field(
        default=None, description="The company the deal came from (partner-sourced leads)"
    )
    source_record_id: uuid.UUID | None = Field(
        default=None, description="The record (a lead) this one was converted from"
    )
    version: int
    created_at: datetime
    updated_at: datetime
    participants: list[ParticipantOut]
    spaces: list[SpaceOut]


class RecordInvitationOut(BaseModel):
    """What an invited company sees before it accepts: nothing beyond this."""

    record_id: uuid.UUID
    kind: str
    title: str
    customer_name: str
    invited_by_company_id: uuid.UUID | None
    invited_by_company_name: str | None
    invited_at: datetime
    invited_by_user_name: str | None = None


# -- saved filters (saved views of a record table) ----------------------------------------

FilterName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ColumnName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SavedFilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    name: FilterName
    filter: dict[str, Any] = Field(description="A condition in the list filter language")
    shared_with_company: bool = False
    columns: list[ColumnName] | None = Field(
        default=None,
        max_length=30,
        description="Table columns of the saved view (list field names, e.g. mine.amount)",
    )
    sort: str | None = Field(
        default=None, max_length=500, description="Sort of the saved view, e.g. -mine.amount"
    )


class SavedFilterOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    filter: dict[str, Any]
    shared_with_company: bool
    columns: list[str] | None = None
    sort: str | None = None
    user_id: uuid.UUID
    mine: bool
    version: int
    created_at: datetime
    updated_at: datetime
