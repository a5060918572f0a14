"""Writing outbox rows: in the caller's transaction, once per idempotency key, with a wake-up.

`add()` inserts the row with the dialect's `ON CONFLICT DO NOTHING` on the idempotency key, so
the same fact queued twice (a digest job run twice, two racing requests) leaves one row; it
returns that row's id either way. Once the transaction commits, the worker is woken for it
(`coterie.kit.jobs`); a lost wake-up is caught by the worker's sweeper.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from coterie.db import new_id, utcnow
from coterie.kit import jobs
from coterie.models.outbox import PENDING, OutboxMessage

DELIVER_TASK = "outbox.deliver"


@lru_cache(maxsize=4)
def _insert(dialect: str) -> ReturningInsert[tuple[uuid.UUID]]:
    """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, built once per dialect
    (the values are bound at execution)."""
    table = OutboxMessage.__table__
    assert isinstance(table, Table)  # noqa: S101 (a mapped class's table)
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(table.c.id)


def add(
    session: Session,
    *,
    channel: str,
    topic: str,
    recipient: str,
    payload: dict[str, Any],
    company_id: uuid.UUID | None,
    key: str | None = None,
) -> uuid.UUID:
    """Queue one message for delivery once the transaction commits; returns its row's id (the
    existing row's when `key` was queued before)."""
    row_id = new_id()
    now = utcnow()
    values = {
        "id": row_id,
        "channel": channel,
        "topic": topic,
        "idempotency_key": key or f"{topic}:{row_id}",
        "company_id": company_id,
        "recipient": recipient,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    inserted = session.execute(_insert(session.get_bind().dialect.name), values).scalar()
    if inserted is None:  # queued before: that row, committed or ours
        key_column = OutboxMessage.idempotency_key
        return session.scalars(
            select(OutboxMessage.id).where(key_column == values["idempotency_key"])
        ).one()
    jobs.after_commit(session, DELIVER_TASK, str(row_id))
    return row_id
