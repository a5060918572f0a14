"""What the status page and `coterie sync status` show of each connection: its CRM, status,
last run, how many records are linked or wait for a person, open conflicts, and the pushes
queued or dead in the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.db import utcnow
from coterie.models import Company
from coterie.models.outbox import DEAD, PENDING, SENDING, OutboxMessage
from coterie.models.sync import LinkState, SyncConflict, SyncConnection, SyncLink
from coterie.sync import secrets
from coterie.sync.connectors.registry import UnknownConnector, connector_class
from coterie.sync.queueing import CHANNEL


@dataclass(frozen=True)
class ConnectionStatusRow:
    id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    kind: str
    label: str
    name: str
    status: str
    paused_until: datetime | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    linked: int
    waiting: int
    open_conflicts: int
    queued: int
    dead: int

    @property
    def throttled(self) -> bool:
        """The CRM asked Coterie to slow down, until `paused_until`."""
        return self.paused_until is not None and self.paused_until > utcnow()

    @property
    def status_text(self) -> str:
        if self.throttled:
            return f"waiting for the CRM until {self.paused_until:%d %b %H:%M} UTC"
        return {"active": "active", "paused": "paused", "error": "needs reconnecting"}.get(
            self.status, self.status
        )

    @property
    def last_run_text(self) -> str:
        return f"{self.last_run_at:%d %b %Y %H:%M} UTC" if self.last_run_at else "never"


def _label(kind: str) -> str:
    try:
        return connector_class(kind).label
    except UnknownConnector:
        return f"{kind} (not installed)"


def overview(session: Session, company_id: uuid.UUID | None) -> list[ConnectionStatusRow]:
    query = select(SyncConnection, Company.name).join(
        Company, Company.id == SyncConnection.company_id
    )
    if company_id is not None:
        query = query.where(SyncConnection.company_id == company_id)
    pairs = session.execute(query.order_by(Company.name, SyncConnection.created_at)).all()
    ids = [c.id for c, _ in pairs]
    if not ids:
        return []
    links = {
        (row[0], row[1]): row[2]
        for row in session.execute(
            select(SyncLink.connection_id, SyncLink.state, func.count())
            .where(SyncLink.connection_id.in_(ids))
            .group_by(SyncLink.connection_id, SyncLink.state)
        )
    }
    conflicts = dict(
        session.execute(
            select(SyncConflict.connection_id, func.count())
            .where(SyncConflict.connection_id.in_(ids), SyncConflict.status == "open")
            .group_by(SyncConflict.connection_id)
        ).all()
    )
    outbox = {
        (row[0], row[1]): row[2]
        for row in session.execute(
            select(OutboxMessage.recipient, OutboxMessage.status, func.count())
            .where(
                OutboxMessage.channel == CHANNEL,
                OutboxMessage.recipient.in_([str(i) for i in ids]),
                OutboxMessage.status.in_((PENDING, SENDING, DEAD)),
            )
            .group_by(OutboxMessage.recipient, OutboxMessage.status)
        )
    }
    rows = []
    for connection, company_name in pairs:
        key = str(connection.id)
        rows.append(
            ConnectionStatusRow(
                id=connection.id,
                company_id=connection.company_id,
                company_name=company_name,
                kind=connection.kind,
                label=_label(connection.kind),
                name=connection.name,
                status=connection.status,
                paused_until=connection.paused_until,
                last_run_at=connection.last_run_at,
                last_success_at=connection.last_success_at,
                last_error=connection.last_error,
                linked=links.get((connection.id, LinkState.LINKED.value), 0),
                waiting=links.get((connection.id, LinkState.CANDIDATE.value), 0),
                open_conflicts=conflicts.get(connection.id, 0),
                queued=outbox.get((key, PENDING), 0) + outbox.get((key, SENDING), 0),
                dead=outbox.get((key, DEAD), 0),
            )
        )
    return rows


def reseal_all(session: Session, settings: Settings) -> int:
    count = 0
    for connection in session.scalars(select(SyncConnection)):
        connection.credentials = secrets.reseal(settings, connection.credentials)
        if connection.webhook_secret:
            connection.webhook_secret = secrets.reseal(settings, connection.webhook_secret)
        count += 1
    return count
