"""The outbox's state changes under real concurrency: separate connections released at once on
SQLite and PostgreSQL. One worker per attempt, one row per idempotency key, and the backoff
between attempts grows, spreads and is capped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from coterie.db import utcnow, writing_session
from coterie.mail.delivery import OutgoingMail, queue
from coterie.models.outbox import OutboxMessage
from coterie.outbox import backoff, claims

N = 12
T = TypeVar("T")


def race(app: FastAPI, action: Callable[[object], T]) -> list[T]:
    """`action(session)` in N threads, each on its own connection, released together."""
    barrier = threading.Barrier(N)

    def one(_: int) -> T:
        with writing_session(app.state.session_factory) as session:
            barrier.wait()
            result = action(session)
            session.commit()
            return result

    with ThreadPoolExecutor(max_workers=N) as pool:
        return list(pool.map(one, range(N)))


def _queued(app: FastAPI, key: str | None = None) -> object:
    with writing_session(app.state.session_factory) as session:
        row_id = queue(
            session,
            OutgoingMail(to="race@claims.example", subject="Race", text="x"),
            topic="test",
            company_id=None,
            key=key,
        )
        # due only in an hour: the delivery woken at commit leaves it to the test's claims
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(next_attempt_at=utcnow() + timedelta(hours=1))
        )
        session.commit()
        return row_id


def test_of_workers_racing_for_a_row_exactly_one_gets_the_attempt(
    app: FastAPI, client: TestClient
) -> None:
    row_id = _queued(app)
    now = utcnow() + timedelta(hours=2)

    claimed = race(app, lambda s: claims.claim(s, row_id, now, timedelta(minutes=1)))  # type: ignore[arg-type]

    winners = [row for row in claimed if row is not None]
    assert len(winners) == 1
    assert (winners[0].status, winners[0].attempts) == ("sending", 1)
    # the lease still runs: nobody else may take it; once over, one other worker may
    with writing_session(app.state.session_factory) as session:
        assert claims.claim(session, row_id, now, timedelta(minutes=1)) is None  # type: ignore[arg-type]
    later = now + timedelta(minutes=2)
    again = race(app, lambda s: claims.claim(s, row_id, later, timedelta(minutes=1)))  # type: ignore[arg-type]
    assert [r.attempts for r in again if r is not None] == [2]


def test_the_same_fact_queued_at_once_by_many_is_one_row(app: FastAPI, client: TestClient) -> None:
    def queue_digest(session: object) -> object:
        return queue(
            session,  # type: ignore[arg-type]
            OutgoingMail(to="once@claims.example", subject="Digest", text="x"),
            topic="digest",
            company_id=None,
            key="digest:racing",
        )

    ids = race(app, queue_digest)

    assert len(set(ids)) == 1  # every caller got the one row's id
    with app.state.session_factory() as session:
        count = session.scalar(
            select(func.count()).where(OutboxMessage.idempotency_key == "digest:racing")
        )
    assert count == 1


def test_the_wait_between_attempts_doubles_with_jitter_up_to_the_cap() -> None:
    waits = {
        n: [backoff.delay(n, 30, 3600).total_seconds() for _ in range(200)] for n in (1, 4, 20)
    }

    assert all(15 <= w <= 30 for w in waits[1])
    assert all(120 <= w <= 240 for w in waits[4])
    assert all(1800 <= w <= 3600 for w in waits[20])  # capped
    assert len({round(w, 3) for w in waits[4]}) > 100  # spread: retries do not arrive together
