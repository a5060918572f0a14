"""The outbox and job-queue metrics, read from a real database when Prometheus scrapes.

Until the outbox table is in the migration chain, the reader is checked against a table built to
its contract (`outbox_messages`: status pending/sending/sent/dead, created_at, last_error) in a
database of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Text

from coterie.db import UTCDateTime, make_engine, utcnow
from coterie.observability.backlog import BacklogCollector, read_outbox
from tests.observability.conftest import Queue, Samples, parse, value

metadata = MetaData()
outbox_messages = Table(
    "outbox_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
)


@pytest.fixture
def outbox_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def write(engine: Engine, *rows: tuple[str, datetime, str | None]) -> None:
    with engine.begin() as connection:
        connection.execute(
            outbox_messages.insert(),
            [{"status": s, "created_at": at, "last_error": error} for s, at, error in rows],
        )


def collected(collector: BacklogCollector) -> Samples:
    registry = CollectorRegistry()
    registry.register(collector)
    return parse(generate_latest(registry).decode())


def test_the_outbox_backlog_by_status_its_age_and_its_failures(outbox_engine: Engine) -> None:
    now = utcnow()
    write(
        outbox_engine,
        ("pending", now - timedelta(seconds=95), "SMTP 451 try later"),
        ("pending", now - timedelta(seconds=5), None),
        ("sending", now - timedelta(seconds=200), None),  # older, but being delivered
        ("dead", now - timedelta(days=3), "SMTP 550 no such user"),
        *[("sent", now - timedelta(days=9), None)] * 3,
    )
    collector = BacklogCollector(
        outbox_engine, jobs=lambda: None, outbox=read_outbox, clock=lambda: now
    )

    samples = collected(collector)

    assert value(samples, "coterie_outbox_messages", status="pending") == 2
    assert value(samples, "coterie_outbox_messages", status="sending") == 1
    assert value(samples, "coterie_outbox_messages", status="dead") == 1
    assert ("coterie_outbox_messages", frozenset({("status", "sent")})) not in samples
    assert value(samples, "coterie_outbox_oldest_pending_age_seconds") == pytest.approx(95)
    assert value(samples, "coterie_outbox_failed_pending") == 1
    assert value(samples, "coterie_dependency_up", dependency="database") == 1


def test_an_empty_outbox_is_zero_everywhere(outbox_engine: Engine) -> None:
    with outbox_engine.connect() as connection:
        counts = read_outbox(connection)

    assert dict(counts.by_status) == {"pending": 0, "sending": 0, "dead": 0}
    assert counts.oldest_pending_created_at is None
    samples = collected(BacklogCollector(outbox_engine, jobs=lambda: None, outbox=read_outbox))
    assert value(samples, "coterie_outbox_oldest_pending_age_seconds") == 0


def test_an_unreadable_outbox_says_so_and_the_queue_is_still_measured(tmp_path: Path) -> None:
    unreachable = make_engine(f"sqlite:///{tmp_path}")  # a directory: cannot be opened
    queue = Queue(waiting=3)
    try:
        samples = collected(BacklogCollector(unreachable, jobs=lambda: queue, outbox=read_outbox))
    finally:
        unreachable.dispose()

    assert value(samples, "coterie_dependency_up", dependency="database") == 0
    assert not any(name.startswith("coterie_outbox") for name, _ in samples)
    assert value(samples, "coterie_job_queue_depth") == 3
    assert value(samples, "coterie_dependency_up", dependency="job_queue") == 1
