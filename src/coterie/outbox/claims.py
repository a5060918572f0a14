"""The state changes of a delivery, each one conditional `UPDATE` so racing workers agree.

- `claim()` takes a due row (pending and due, or sending with an expired lease: its worker
  died) for one attempt; of two workers racing for a row, exactly one gets it.
- `sent()` and `failed()` end the attempt that `claim()` started, only while the row is still
  that attempt's (same `attempts`, still `sending`): a worker whose lease ran out and whose row
  was taken over does not overwrite the newer attempt.
- `retry()` lets an admin send a failed or dead row again now.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from coterie.models.outbox import DEAD, PENDING, SENDING, SENT, OutboxMessage

ERROR_LENGTH = 2000


def _due(now: datetime) -> object:
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    )


def claim(
    session: Session, message_id: uuid.UUID, now: datetime, lease: timedelta
) -> OutboxMessage | None:
    """Take the row for one attempt until `now + lease`; None when it is not due or another
    worker took it. The caller commits at once, so the claim is visible to the others."""
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due(now))  # type: ignore[arg-type]
        .values(
            status=SENDING,
            attempts=OutboxMessage.attempts + 1,
            lease_until=now + lease,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.expire_all()
    return session.get(OutboxMessage, message_id)


def _ours(message: OutboxMessage) -> object:
    return and_(
        OutboxMessage.id == message.id,
        OutboxMessage.status == SENDING,
        OutboxMessage.attempts == message.attempts,
    )


def sent(session: Session, message: OutboxMessage, now: datetime) -> bool:
    """Mark the attempt delivered; False when the row was no longer this attempt's."""
    result = session.execute(
        update(OutboxMessage)
        .where(_ours(message))  # type: ignore[arg-type]
        .values(status=SENT, sent_at=now, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def failed(
    session: Session,
    message: OutboxMessage,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """End the attempt with `error`: pending again until `retry_at`, or dead when None."""
    values: dict[str, object] = {"last_error": error[:ERROR_LENGTH], "lease_until": None}
    if retry_at is None:
        values["status"] = DEAD
    else:
        values |= {"status": PENDING, "next_attempt_at": retry_at}
    result = session.execute(
        update(OutboxMessage)
        .where(_ours(message))  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def due_ids(
    session: Session, now: datetime, limit: int, grace: timedelta = timedelta(0)
) -> list[uuid.UUID]:
    """Rows a worker should attempt now, oldest first: sending ones whose lease ended (their
    worker died), and pending ones due for at least `grace` (a younger one has its own wake-up
    in flight)."""
    lost = or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now - grace),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    )
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(lost)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def retry(session: Session, message_id: uuid.UUID, company_id: uuid.UUID, now: datetime) -> bool:
    """Send a failed (pending with an error) or dead row of `company_id` again now, its attempts
    counted afresh; False when there is no such row."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.company_id == company_id,
            or_(
                OutboxMessage.status == DEAD,
                and_(OutboxMessage.status == PENDING, OutboxMessage.last_error.is_not(None)),
            ),
        )
        .values(status=PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def prune_sent(session: Session, before: datetime) -> int:
    """Forget messages delivered before `before` (their notifications keep `emailed_at`)."""
    result = session.execute(
        delete(OutboxMessage).where(OutboxMessage.status == SENT, OutboxMessage.sent_at < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
