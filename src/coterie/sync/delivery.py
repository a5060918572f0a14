"""The `crm` outbox channel as the worker sees it: a row names a connection and a record; the
push (`coterie.sync.push`) does the work. What is permanent (the CRM refused the values for
good, a mapped field left its schema) kills the row at once, shown with its reason and a retry
button on the status page; a paused or failing connection, a rate limit and a record held by
another worker come back later (`RetryLaterError`, with the time to retry).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from coterie.config import Settings
from coterie.db import utcnow
from coterie.models.outbox import OutboxMessage
from coterie.sync import push, queueing
from coterie.sync.connections import ConnectionUnusableError
from coterie.sync.connectors.base import PermanentError, UnknownField
from coterie.sync.push import RetryLaterError

log = logging.getLogger(__name__)

CHANNEL = queueing.CHANNEL
PERMANENT_ERRORS: tuple[type[Exception], ...] = (PermanentError, UnknownField)
WAIT_WHILE_UNUSABLE = timedelta(minutes=15)

__all__ = ["CHANNEL", "PERMANENT_ERRORS", "RetryLaterError", "deliver_row"]


def deliver_row(factory: sessionmaker[Session], settings: Settings, row: OutboxMessage) -> None:
    payload = row.payload
    try:
        outcome = push.deliver(
            factory,
            settings,
            uuid.UUID(payload["connection_id"]),
            payload["kind"],
            uuid.UUID(payload["record_id"]),
        )
    except ConnectionUnusableError as exc:
        raise RetryLaterError(str(exc), utcnow() + WAIT_WHILE_UNUSABLE) from exc
    log.info("crm push of %s on %s: %s", payload["record_id"], payload["connection_id"], outcome)
