"""Events a CRM pushes to `POST /api/v1/sync/webhooks/{connection_id}`: verified, kept, acted on
by the next run.

No session or token authenticates the caller: the connector verifies the signature with the
connection's own webhook secret (unsealed here, never shown to the caller). A bad signature is
a 401 and nothing is kept; a good one adds each event to the inbox, where a duplicate event id
is dropped by the database (`ON CONFLICT DO NOTHING` on (connection, event id)), and wakes a
run once the transaction commits. Whatever the body holds, the answer is a problem, never a
500: the run fetches the CRM's current state anyway, so an event carries no values we trust.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.db import new_id, utcnow
from coterie.kit import jobs
from coterie.kit.problems import Problem
from coterie.models.sync import SyncConnection, SyncInboxEvent
from coterie.sync import secrets as sealing
from coterie.sync.connectors.base import BadSignature, WebhookEvent
from coterie.sync.connectors.registry import UnknownConnector, connector_class
from coterie.sync.service import WEBHOOK_SECRET
from coterie.sync.tasks import RUN_TASK

log = logging.getLogger(__name__)
MAX_EVENTS = 1000


@dataclass(frozen=True)
class Received:
    events: int
    kept: int  # the others were duplicates


def _unknown() -> Problem:
    return Problem(404, "not-found", "Not found", "No connection takes events at this address.")


def _refused(detail: str) -> Problem:
    return Problem(401, "bad-signature", "Signature refused", detail)


def _parse(
    connection: SyncConnection, settings: Settings, headers: Mapping[str, str], body: bytes
) -> list[WebhookEvent]:
    try:
        cls = connector_class(connection.kind)
    except UnknownConnector:
        raise _unknown() from None
    if not cls.capabilities.webhooks or connection.webhook_secret is None:
        raise _unknown()
    try:
        secret = sealing.unseal(settings, connection.webhook_secret)[WEBHOOK_SECRET]
        connector = cls(sealing.unseal(settings, connection.credentials))
    except (sealing.UnreadableSecretError, KeyError):
        raise _refused("This connection's webhook secret cannot be read: reconnect it.") from None
    try:
        return list(connector.parse_webhook(headers, body, secret))
    except BadSignature:
        raise _refused("The signature does not verify with this connection's secret.") from None
    except Exception as exc:  # a garbled body: the connector's parser says so its own way
        log.info("webhook for %s refused: %r", connection.id, exc)
        raise Problem(
            400, "bad-webhook", "Unreadable event", "The event could not be read."
        ) from None
    finally:
        connector.close()


def _keep(session: Session, connection_id: uuid.UUID, event: WebhookEvent) -> bool:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SyncInboxEvent)
        .values(
            id=new_id(),
            connection_id=connection_id,
            event_id=event.event_id[:200],
            remote_object=event.object[:80],
            remote_id=event.remote_id[:120],
            deleted=event.deleted,
            occurred_at=event.occurred_at,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["connection_id", "event_id"])
        .returning(SyncInboxEvent.id)
    )
    return session.execute(statement).first() is not None


def receive(
    session: Session,
    settings: Settings,
    connection_id: uuid.UUID,
    headers: Mapping[str, str],
    body: bytes,
) -> Received:
    """Verify and keep the pushed events; the caller commits (which wakes the run)."""
    connection = session.get(SyncConnection, connection_id)
    if connection is None:
        raise _unknown()
    events = _parse(connection, settings, headers, body)
    if len(events) > MAX_EVENTS:
        raise Problem(
            413, "too-many-events", "Too many events", f"Send at most {MAX_EVENTS} at once."
        )
    kept = sum(_keep(session, connection.id, event) for event in events)
    if kept:
        jobs.after_commit(session, RUN_TASK, str(connection.id))
    return Received(events=len(events), kept=kept)
