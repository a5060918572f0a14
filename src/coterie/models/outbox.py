"""The outbox: every side effect that leaves the process, written in the business transaction.

A row is the durable intent to deliver one message (an e-mail today; webhooks and CRM writes
later) on a `channel`. It is written in the same transaction as the change it reports, so a
rolled-back change never sends anything and a committed one is never lost; the worker delivers
it (`coterie.worker.delivery`) at least once, with exponential backoff and jitter between
attempts, until it is `sent` or, after too many attempts or a permanent refusal, `dead`.

- `status`: `pending` (waiting for `next_attempt_at`), `sending` (claimed by a worker until
  `lease_until`: a worker killed mid-delivery leaves a row the sweeper takes back after the
  lease), `sent`, `dead`. A pending row with `last_error` is a failed attempt awaiting retry.
- `idempotency_key`: unique; the same business fact queued twice gives one row.
- `topic`: what the message is for (`notification`, `digest`, `password_reset`...), which
  decides what is marked delivered once it is sent and what admins see on the deliveries page.
- `company_id`: the company whose admins see the delivery (the recipient's, or the sender's for
  a recipient outside the network). Admins see the topic, recipient and status, never the body.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"
STATUSES = (PENDING, SENDING, SENT, DEAD)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_messages_company_status", "company_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    recipient: Mapped[str] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
