"""A company's deliveries: the e-mail Coterie could not deliver to its people, for its admins.

Admins see failed deliveries (waiting for a retry) and dead ones (given up), newest first, with
what each was (a password reset, an invitation...), to whom, how many attempts and the last
error; and send one again now. They never see a message's subject or body: a notification
e-mail names a record that the admin may not be allowed to see.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.kit import jobs
from coterie.kit.problems import not_found
from coterie.models.outbox import DEAD, PENDING, OutboxMessage
from coterie.models.vocabulary import Role
from coterie.outbox import claims
from coterie.outbox.store import DELIVER_TASK

Trouble = Literal["failed", "dead"]
LIMIT = 200
TOPIC_LABELS = {
    "password_reset": "Password reset",
    "invitation": "Invitation to join the company",
    "network_invite": "Invitation to join Coterie",
    "notification": "Notification",
    "digest": "Daily digest",
}


# what an admin reads for the errors seen most, instead of the mail library's wording
REASONS = (
    ("ConnectionRefusedError", "The mail server refused the connection: it may be down."),
    ("TimeoutError", "The mail server did not answer in time."),
    ("SMTPServerDisconnected", "The mail server closed the connection."),
    ("cannot be built", "The message could not be built: the address is malformed."),
    ("recipient refused", "The mail server refused this address."),
    ("SMTPAuthenticationError", "Coterie could not sign in to the mail server."),
)


def reason(error: str | None) -> str | None:
    """The last error as an admin can read it (the raw error stays in `last_error`)."""
    if error is None:
        return None
    for marker, text in REASONS:
        if marker in error:
            return text
    return "The mail server could not take the message."


class DeliveryOut(BaseModel):
    id: uuid.UUID
    topic: str
    what: str
    recipient: str
    state: Trouble
    attempts: int
    reason: str | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime


def _state(row: OutboxMessage) -> Trouble:
    return "dead" if row.status == DEAD else "failed"


def out(row: OutboxMessage) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        topic=row.topic,
        what=TOPIC_LABELS.get(row.topic, row.topic.replace("_", " ").capitalize()),
        recipient=row.recipient,
        state=_state(row),
        attempts=row.attempts,
        reason=reason(row.last_error),
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at if row.status == PENDING else None,
        created_at=row.created_at,
    )


def troubled(session: Session, actor: Actor, state: Trouble | None = None) -> list[DeliveryOut]:
    """The company's failed and dead deliveries (or only those in `state`), newest first."""
    actor.require_role(Role.ADMIN, "see the company's deliveries")
    failed = and_(OutboxMessage.status == PENDING, OutboxMessage.last_error.is_not(None))
    dead = OutboxMessage.status == DEAD
    wanted = {"failed": failed, "dead": dead}.get(state or "", or_(failed, dead))
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.company_id == actor.company_id, wanted)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(LIMIT)
    )
    return [out(row) for row in rows]


def retry(session: Session, actor: Actor, delivery_id: uuid.UUID) -> None:
    """Send a failed or dead delivery of the company again, now."""
    actor.require_role(Role.ADMIN, "retry a delivery")
    if not claims.retry(session, delivery_id, actor.company_id, utcnow()):
        raise not_found("delivery")
    jobs.after_commit(session, DELIVER_TASK, str(delivery_id))
