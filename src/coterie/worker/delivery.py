"""Delivering outbox rows: one attempt per wake-up, and the sweeper for lost wake-ups.

An attempt claims the row (a conditional UPDATE, committed at once: one worker per attempt),
sends it outside any transaction, then records the outcome only if the row is still that
attempt's. Sent: whatever the message carried is marked delivered in the same transaction
(`AFTER_DELIVERY`: the notifications of an e-mail). Failed: pending again after an exponential
backoff with jitter, with a wake-up at that time; dead after `outbox_max_attempts` or at once
when the server refused for good. A worker killed between SMTP accepting the message and the
commit leaves the row `sending`; once its lease ends the sweeper sends it again, under the same
Message-ID (at least once, recognisably).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from coterie.activity.notifications import DIGEST_TOPIC, IMMEDIATE_TOPIC, mark_delivered
from coterie.config import Settings
from coterie.db import utcnow, writing_session
from coterie.mail import delivery as mail
from coterie.models.outbox import OutboxMessage
from coterie.outbox import backoff, claims
from coterie.outbox.store import DELIVER_TASK
from coterie.sync import delivery as crm

if TYPE_CHECKING:
    from coterie.worker.queue import Jobs

log = logging.getLogger(__name__)

SWEEP_LIMIT = 1000


def _send_mail(jobs: Jobs, row: OutboxMessage) -> None:
    settings: Settings = jobs.settings
    mail.send(settings, mail.mail_of(row.payload), row.id)


def _push_to_crm(jobs: Jobs, row: OutboxMessage) -> None:
    factory: sessionmaker[Session] = jobs.session_factory
    settings: Settings = jobs.settings
    crm.deliver_row(factory, settings, row)


SENDERS: dict[str, Callable[[Jobs, OutboxMessage], None]] = {
    mail.CHANNEL: _send_mail,
    crm.CHANNEL: _push_to_crm,
}
AFTER_DELIVERY: dict[str, Callable[[Session, uuid.UUID, str, datetime], None]] = {
    IMMEDIATE_TOPIC: mark_delivered,
    DIGEST_TOPIC: mark_delivered,
}
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    mail.PermanentDeliveryError,
    *crm.PERMANENT_ERRORS,
)


def deliver(jobs: Jobs, outbox_id: str) -> None:
    """One attempt to deliver the outbox row `outbox_id`, if it is due."""
    settings = jobs.settings
    try:
        row_id = uuid.UUID(outbox_id)
    except ValueError:
        log.warning("ignored a delivery wake-up for %r, which is no outbox id", outbox_id)
        return
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    with writing_session(jobs.session_factory) as session:
        row = claims.claim(session, row_id, utcnow(), lease)
        session.commit()
    if row is None:
        return  # not due, delivered, or another worker has it
    try:
        SENDERS[row.channel](jobs, row)
    except Exception as exc:  # recorded on the row, retried or dead
        _record_failure(jobs, row, exc)
        return
    with writing_session(jobs.session_factory) as session:
        now = utcnow()
        if not claims.sent(session, row, now):
            log.warning("outbox row %s was sent after its lease ended", row.id)
        after = AFTER_DELIVERY.get(row.topic)
        if after is not None:
            after(session, row.id, row.topic, now)
        session.commit()


def _record_failure(jobs: Jobs, row: OutboxMessage, exc: Exception) -> None:
    settings = jobs.settings
    error = f"{type(exc).__name__}: {exc}"
    retry_at: datetime | None = None
    if isinstance(exc, crm.RetryLaterError) and row.attempts < settings.outbox_max_attempts:
        retry_at = exc.at  # the CRM's own wait (Retry-After, a spent daily budget)
    elif not isinstance(exc, PERMANENT_ERRORS) and row.attempts < settings.outbox_max_attempts:
        wait = backoff.delay(
            row.attempts, settings.outbox_retry_base_seconds, settings.outbox_retry_max_seconds
        )
        retry_at = utcnow() + wait
    with writing_session(jobs.session_factory) as session:
        recorded = claims.failed(session, row, error, retry_at)
        session.commit()
    outcome = f"retry at {retry_at:%Y-%m-%d %H:%M:%S} UTC" if retry_at else "dead"
    log.warning(
        "delivery of %s %s to %s failed (attempt %d): %s; %s",
        row.topic,
        row.id,
        row.recipient,
        row.attempts,
        error,
        outcome,
    )
    if recorded and retry_at is not None:
        jobs.enqueue(DELIVER_TASK, (str(row.id),), eta=retry_at)


def sweep(jobs: Jobs) -> None:
    """The periodic sweeper (see `sweep_count`)."""
    sweep_count(jobs)


def sweep_count(jobs: Jobs, *, grace: timedelta | None = None) -> int:
    """Wake a worker for each row that is due and lost its wake-up (the worker was down, the
    queue lost it, a worker died mid-delivery); returns how many. A row due for less than
    `grace` (default `outbox_sweep_grace_seconds`) is left to its own wake-up."""
    if grace is None:
        grace = timedelta(seconds=jobs.settings.outbox_sweep_grace_seconds)
    with jobs.session_factory() as session:
        due = claims.due_ids(session, utcnow(), SWEEP_LIMIT, grace)
    for row_id in due:
        jobs.enqueue(DELIVER_TASK, (str(row_id),))
    if due:
        log.info("swept %d outbox message(s) whose wake-up was lost", len(due))
    return len(due)


def deliver_due(jobs: Jobs, now: datetime | None = None) -> int:
    """Attempt every row due at `now`, here and now, one after the other (the CLI's `coterie
    outbox deliver`, for an install without a running worker); returns how many were tried."""
    with jobs.session_factory() as session:
        due = claims.due_ids(session, now or utcnow(), SWEEP_LIMIT)
    for row_id in due:
        deliver(jobs, str(row_id))
    return len(due)
