"""What the integrations API takes and gives: connections (never their secrets), object
mappings with their field maps, runs, and the result of testing credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coterie.sync.mapping import FieldMap, OnCoterieDelete, OnCrmDelete

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Credentials = dict[
    Annotated[str, StringConstraints(max_length=60)],
    Annotated[str, StringConstraints(max_length=4000)],
]


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="The connector: a kind of `GET /sync/connectors`, e.g. `tryton`"
    )
    name: Name = Field(description="What your admins call this connection")
    credentials: Credentials = Field(
        description="The connector's `credential_fields` by name (secrets are never shown again)"
    )


class CredentialsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credentials: Credentials = Field(
        description="A secret left out (or empty) keeps the one saved on the connection"
    )


class ConnectionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    run_as_user_id: uuid.UUID | None = Field(
        default=None, description="An active admin of my company the sync reads and writes as"
    )
    paused: bool | None = Field(default=None, description="true pauses the sync, false resumes")
    poll_seconds: int | None = Field(
        default=None, ge=60, le=86400, description="How often the CRM is asked for changes"
    )
    overlap_seconds: int | None = Field(
        default=None, ge=0, le=3600,
        description="How far back each run re-reads the change feed (late commits, clock skew)",
    )  # fmt: skip
    daily_budget: int | None = Field(
        default=None, ge=0, le=100_000_000,
        description="API calls a day the sync may spend (0: no budget of ours, only the CRM's)",
    )  # fmt: skip


class CredentialFieldOut(BaseModel):
    name: str
    label: str
    secret: bool
    placeholder: str
    help: str
    required: bool


class ConnectorOut(BaseModel):
    kind: str
    label: str
    webhooks: bool
    credential_fields: list[CredentialFieldOut]


class ConnectionOut(BaseModel):
    id: uuid.UUID
    kind: str
    label: str
    name: str
    status: str = Field(description="active, paused (by an admin) or error (reconnect)")
    status_text: str
    paused_until: datetime | None = Field(description="The CRM asked us to wait until then")
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    linked: int
    waiting: int = Field(description="CRM records waiting for a person to pick their match")
    open_conflicts: int
    queued: int = Field(description="Pushes to the CRM waiting in the outbox")
    dead: int = Field(description="Pushes given up on: retry them with retry-dead")
    run_as_user_id: uuid.UUID | None
    settings: dict[str, str] = Field(description="The credentials that are not secret")
    webhook_url: str | None = Field(description="Where the CRM pushes its events, if it does")
    version: int
    created_at: datetime


class TestOut(BaseModel):
    ok: bool
    message: str = Field(description="The connector's sentence, or what is wrong")


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    remote_object: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    enabled: bool = True
    create_in_coterie: bool = True
    create_in_crm: bool = True
    on_crm_delete: OnCrmDelete = OnCrmDelete.UNLINK
    on_coterie_delete: OnCoterieDelete = OnCoterieDelete.UNLINK
    fields: list[FieldMap] = Field(max_length=200)


class MappingOut(MappingIn):
    id: uuid.UUID
    connection_id: uuid.UUID
    kind: str
    version: int
    updated_at: datetime


class RunOut(BaseModel):
    id: uuid.UUID
    started_at: datetime
    finished_at: datetime | None
    pulled: int
    pushed: int
    created_local: int
    created_remote: int
    conflicts: int
    errors: int
    error: str | None


class RetriedOut(BaseModel):
    retried: int = Field(description="Dead pushes queued again")
