"""What the conflicts inbox and the record page's "In your CRM" panel read and send (JSON API
and pages alike): conflicts as a person decides them, and a record's links to CRM records."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_BULK = 500


class Choice(StrEnum):
    KEEP = "keep"  # confirm the side that won
    SWITCH = "switch"  # use the value that lost instead


class ValueShown(BaseModel):
    """The three values of a conflict as a person reads them (empty values say so)."""

    base: str
    coterie: str
    crm: str


class ConflictOut(BaseModel):
    id: uuid.UUID
    version: int
    connection_id: uuid.UUID
    crm: str = Field(description='The CRM\'s name, e.g. "Salesforce"')
    record_id: uuid.UUID
    kind: str
    record_title: str
    field: str = Field(description="The local field reference, e.g. `space.amount`")
    field_label: str
    base_value: Any = Field(description="The value both sides agreed on last (canonical form)")
    coterie_value: Any
    crm_value: Any = Field(description="The CRM's value, in Coterie's terms")
    shown: ValueShown
    hidden: bool = Field(
        description="True when the values are private and you hide private fields: the values "
        "are left out (null) until you show private fields again"
    )
    winner: str = Field(description='"coterie" or "crm": the side whose value the record holds')
    status: str
    resolution: str | None
    detected_at: datetime
    resolved_at: datetime | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: Choice


class KeepAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_BULK,
        description="The open conflicts you looked at: each keeps the side that won",
    )


class KeptOut(BaseModel):
    kept: int = Field(description="How many of them this request resolved")


class CandidateOut(BaseModel):
    """One record that may be the other side of a candidate link."""

    remote_id: str | None = Field(description="A CRM record (the record waits for a choice)")
    record_id: uuid.UUID | None = Field(description="A Coterie record (a CRM record waits)")
    name: str
    reason: str | None = None


class CrmLinkOut(BaseModel):
    id: uuid.UUID
    version: int
    state: str = Field(description="candidate, linked, unlinked or tombstoned")
    side: str = Field(
        description='"record": this record waits for a CRM record to be chosen (or is linked); '
        '"crm": a CRM record waits and this record is one of its candidates'
    )
    remote_object: str
    remote_id: str | None
    remote_url: str | None = Field(description="Opens the record in the CRM, when it can say")
    remote_name: str | None = Field(
        default=None, description="For a CRM record waiting for a choice: its name"
    )
    last_pushed_at: datetime | None
    last_pulled_at: datetime | None
    last_error: str | None
    candidates: list[CandidateOut]


class ConnectionLinksOut(BaseModel):
    """One of my company's connections that maps the record's kind, and the record's links."""

    connection_id: uuid.UUID
    connection_name: str
    crm: str
    status: str
    remote_object: str
    links: list[CrmLinkOut]


class ChooseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    remote_id: str | None = Field(
        default=None,
        max_length=120,
        description="For a link of this record: the CRM record to link it to, among the "
        "candidates. For a CRM record waiting for a choice, leave it out: this record is "
        "the choice.",
    )


class PushIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connection_id: uuid.UUID


class PushedOut(BaseModel):
    outbox_id: uuid.UUID
    connection_id: uuid.UUID
