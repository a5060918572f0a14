"""The outbox and job-queue metrics, read from the app's real database and queue when Prometheus
scrapes: messages waiting by status, how old the oldest pending one is, how many failed once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine

from coterie.db import make_engine, new_id, utcnow
from coterie.models.outbox import OutboxMessage
from coterie.observability.backlog import BacklogCollector, read_outbox
from coterie.worker.queue import Jobs
from tests.observability.conftest import Samples, jobs_on, parse, queue_jobs, scrape, value


def write(engine: Engine, *rows: tuple[str, datetime, str | None]) -> None:
    with engine.begin() as connection:
        connection.execute(
            OutboxMessage.__table__.insert(),
            [
                {
                    "id": new_id(),
                    "channel": "email",
                    "topic": "notification",
                    "idempotency_key": secrets.token_hex(8),
                    "recipient": "ada@example.com",
                    "payload": {},
                    "status": status,
                    "attempts": 1 if error else 0,
                    "next_attempt_at": created_at,
                    "created_at": created_at,
                    "last_error": error,
                }
                for status, created_at, error in rows
            ],
        )


def test_the_outbox_backlog_by_status_its_age_and_its_failures(
    engine: Engine, client: TestClient, scraper: TestClient
) -> None:
    now = utcnow()
    write(
        engine,
        ("pending", now - timedelta(seconds=95), "SMTP 451 try later"),
        ("pending", now - timedelta(seconds=5), None),
        ("sending", now - timedelta(seconds=200), None),  # older, but being delivered
        ("dead", now - timedelta(days=3), "SMTP 550 no such user"),
        *[("sent", now - timedelta(days=9), None)] * 3,
    )

    samples = scrape(scraper)

    assert value(samples, "coterie_outbox_messages", status="pending") == 2
    assert value(samples, "coterie_outbox_messages", status="sending") == 1
    assert value(samples, "coterie_outbox_messages", status="dead") == 1
    assert ("coterie_outbox_messages", frozenset({("status", "sent")})) not in samples
    age = value(samples, "coterie_outbox_oldest_pending_age_seconds")
    assert 95 <= age < 95 + 60  # however slowly the test ran
    assert value(samples, "coterie_outbox_failed_pending") == 1
    assert value(samples, "coterie_dependency_up", dependency="database") == 1


def test_an_empty_outbox_is_zero_everywhere(client: TestClient, scraper: TestClient) -> None:
    samples = scrape(scraper)

    for status in ("pending", "sending", "dead"):
        assert ("coterie_outbox_messages", frozenset({("status", status)})) in samples
        assert value(samples, "coterie_outbox_messages", status=status) == 0
    assert value(samples, "coterie_outbox_oldest_pending_age_seconds") == 0
    assert value(samples, "coterie_outbox_failed_pending") == 0


def collected(collector: BacklogCollector) -> Samples:
    registry = CollectorRegistry()
    registry.register(collector)
    return parse(generate_latest(registry).decode())


def test_an_unreadable_outbox_says_so_and_the_queue_is_still_measured(
    app: FastAPI, tmp_path: Path
) -> None:
    unreachable = make_engine(f"sqlite:///{tmp_path}")  # a directory: cannot be opened
    queue: Jobs = jobs_on(app, tmp_path)
    queue_jobs(queue, 3)
    try:
        samples = collected(BacklogCollector(unreachable, jobs=lambda: queue, outbox=read_outbox))
    finally:
        unreachable.dispose()

    assert value(samples, "coterie_dependency_up", dependency="database") == 0
    assert not any(name.startswith("coterie_outbox") for name, _ in samples)
    assert value(samples, "coterie_job_queue_depth") == 3
    assert value(samples, "coterie_dependency_up", dependency="job_queue") == 1


@pytest.mark.parametrize("seconds", [0, 3600])
def test_the_age_is_counted_from_the_clock_it_is_given(
    engine: Engine, client: TestClient, seconds: int
) -> None:
    created = utcnow()
    write(engine, ("pending", created, None))
    collector = BacklogCollector(
        engine,
        jobs=lambda: None,
        outbox=read_outbox,
        clock=lambda: created + timedelta(seconds=seconds),
    )

    assert value(collected(collector), "coterie_outbox_oldest_pending_age_seconds") == seconds
