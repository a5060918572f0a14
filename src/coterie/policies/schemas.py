"""Pydantic shapes of the teams and rules API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coterie.fields.kinds import Kind

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamIn(Strict):
    name: Name
    members: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class TeamPatch(Strict):
    name: Name | None = None
    members: list[uuid.UUID] | None = Field(default=None, max_length=1000)


class TeamOut(BaseModel):
    id: uuid.UUID
    name: str
    members: list[uuid.UUID]


class Grantees(Strict):
    users: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    teams: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    companies: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class RuleIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: Kind
    type: Literal["visibility", "auto_share"]
    condition: dict[str, Any] = Field(description="The condition language; {} matches all")
    grantees: Grantees
    permission: Literal["view", "edit"] = "view"
    partnership_id: uuid.UUID | None = None
    enabled: bool = True


class RuleOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    type: str
    condition: dict[str, Any]
    grantees: Grantees
    permission: str
    partnership_id: uuid.UUID | None
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


class RulePreview(BaseModel):
    matching_records: int = Field(description="Records of the kind this rule matches now")
    cap: int
