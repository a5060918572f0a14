"""The truth of CRM sync, kept in our database: connections, object mappings, links, per-field
shadows, cursors, the webhook inbox, conflicts and the runs shown on the status page.

- `SyncConnection`: one company's connection to one CRM. Credentials are encrypted at rest
  (`coterie.sync.secrets`); the sync reads and writes as `run_as_user_id`, a user of the
  company, through the gate (no system mode). `version` guards edits (conditional UPDATE);
  `lease_until` makes one run at a time per connection; `paused_until` honours a CRM's rate
  limit or spent daily budget.
- `SyncMapping`: per connection and Coterie record kind, the CRM object and the field map
  (`fields`: a list validated by `coterie.sync.mapping.FieldMap`, edited in forms, never typed).
- `SyncLink`: a Coterie record <-> a CRM record on one connection; unique both ways, so neither
  side is ever linked twice. `state`: candidate (waits for a person to choose among
  `candidates`), linked, unlinked, tombstoned (deleted in the CRM, kept to recognise a restore).
- `SyncShadow`: per link and mapped field, the Coterie value and the CRM value at the last
  point both sides agreed: the base of the three-way merge and of echo suppression.
- `SyncCursor`: per connection and CRM object, where the change feed stands.
- `SyncInboxEvent`: webhook events, unique per (connection, event id): a duplicate is dropped.
- `SyncConflict`: a field both sides changed since the shadow; the owner side won and the
  loser's value is kept here until someone confirms or picks the other side.
- `SyncRun`: one run's counts and error, for the status page and `coterie sync status`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by an admin
    ERROR = "error"  # credentials refused or expired: reconnect


class LinkState(StrEnum):
    CANDIDATE = "candidate"
    LINKED = "linked"
    UNLINKED = "unlinked"
    TOMBSTONED = "tombstoned"


class SyncConnection(Base):
    __tablename__ = "sync_connections"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default=ConnectionStatus.ACTIVE.value)
    credentials: Mapped[str] = mapped_column(Text)  # encrypted (coterie.sync.secrets)
    webhook_secret: Mapped[str | None] = mapped_column(Text)  # encrypted
    run_as_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    poll_seconds: Mapped[int] = mapped_column(Integer, default=300)
    overlap_seconds: Mapped[int] = mapped_column(Integer, default=120)
    daily_budget: Mapped[int | None] = mapped_column(Integer)  # API calls a day we may spend
    budget_day: Mapped[str | None] = mapped_column(String(10))
    budget_used: Mapped[int] = mapped_column(Integer, default=0)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncMapping(Base):
    __tablename__ = "sync_mappings"
    __table_args__ = (UniqueConstraint("connection_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_connections.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    remote_object: Mapped[str] = mapped_column(String(80))
    enabled: Mapped[bool] = mapped_column(default=True)
    create_in_coterie: Mapped[bool] = mapped_column(default=True)
    create_in_crm: Mapped[bool] = mapped_column(default=True)
    on_crm_delete: Mapped[str] = mapped_column(String(20), default="unlink")
    on_coterie_delete: Mapped[str] = mapped_column(String(20), default="unlink")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncLink(Base):
    __tablename__ = "sync_links"
    __table_args__ = (
        UniqueConstraint("connection_id", "record_id"),
        UniqueConstraint("connection_id", "remote_object", "remote_id"),
        Index("ix_sync_links_connection_state", "connection_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_connections.id", ondelete="CASCADE")
    )
    # None only for a CRM record waiting for a person to choose among Coterie `candidates`
    record_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    remote_object: Mapped[str] = mapped_column(String(80))
    remote_id: Mapped[str | None] = mapped_column(String(120))
    remote_version: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20), default=LinkState.LINKED.value)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    last_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # one worker at a time merges or pushes a record (claimed by a conditional UPDATE)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncShadow(Base):
    __tablename__ = "sync_shadows"

    link_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_links.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(120), primary_key=True)  # the local field ref
    local_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    remote_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    remote_version: Mapped[str | None] = mapped_column(String(120))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncCursor(Base):
    __tablename__ = "sync_cursors"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_connections.id", ondelete="CASCADE"), primary_key=True
    )
    remote_object: Mapped[str] = mapped_column(String(80), primary_key=True)
    position: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncInboxEvent(Base):
    __tablename__ = "sync_inbox"
    __table_args__ = (
        UniqueConstraint("connection_id", "event_id"),
        Index("ix_sync_inbox_pending", "connection_id", "processed_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_connections.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(200))
    remote_object: Mapped[str] = mapped_column(String(80))
    remote_id: Mapped[str] = mapped_column(String(120))
    deleted: Mapped[bool] = mapped_column(default=False)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncConflict(Base):
    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_connection_status", "connection_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_connections.id", ondelete="CASCADE")
    )
    link_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_links.id", ondelete="CASCADE"))
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(120))
    base_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    coterie_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    crm_value: Mapped[Any] = mapped_column(JSON, nullable=True)  # in Coterie's terms
    winner: Mapped[str] = mapped_column(String(10))  # "coterie" | "crm"
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    resolution: Mapped[str | None] = mapped_column(String(10))  # kept | switched
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_connection_started", "connection_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_connections.id", ondelete="CASCADE")
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pulled: Mapped[int] = mapped_column(Integer, default=0)  # Coterie records changed from the CRM
    pushed: Mapped[int] = mapped_column(Integer, default=0)  # CRM records written
    created_local: Mapped[int] = mapped_column(Integer, default=0)
    created_remote: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
