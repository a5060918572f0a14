"""The background work waiting, read when Prometheus scrapes: the job queue and the outbox.

These describe the whole service, not one worker, so they are read once per scrape (by the worker
answering it) from the queue and the database, never recorded per process. A dependency that does
not answer does not fail the scrape: its figures are left out and `coterie_dependency_up` says 0.

The outbox (`coterie.models.outbox`) is read by `read_outbox`, in one grouped query over the
`(status, next_attempt_at)` index; `sent` rows are not counted, as they only grow and a count of
them would scan more of the table at every scrape (a delivery counter belongs to the worker).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from coterie.db import utcnow
from coterie.kit.jobs import Dispatcher
from coterie.models.outbox import DEAD, PENDING, SENDING, OutboxMessage

log = logging.getLogger(__name__)

UNSETTLED_STATUSES = (PENDING, SENDING, DEAD)
_outbox = OutboxMessage.__table__


@dataclass(frozen=True)
class OutboxCounts:
    by_status: Mapping[str, int] = field(default_factory=dict)
    oldest_pending_created_at: datetime | None = None
    failed_pending: int = 0  # pending again after a failed attempt (`last_error` set)


def read_outbox(connection: Connection) -> OutboxCounts:
    """The outbox rows not yet sent, by status; when the oldest pending one was written; how
    many pending ones already failed once."""
    status = _outbox.c.status
    rows = connection.execute(
        select(
            status,
            func.count(),
            func.min(_outbox.c.created_at),
            func.count(_outbox.c.last_error),
        )
        .where(status.in_(UNSETTLED_STATUSES))
        .group_by(status)
    ).all()
    by_status = dict.fromkeys(UNSETTLED_STATUSES, 0)
    oldest: datetime | None = None
    failed = 0
    for name, count, first_created, with_error in rows:
        by_status[name] = count
        if name == PENDING:
            oldest, failed = first_created, with_error
    return OutboxCounts(by_status, oldest, failed)


OutboxReader = Callable[[Connection], OutboxCounts]


class BacklogCollector:
    """A prometheus_client collector of the job queue's depth and the outbox's state.

    `jobs()` gives the queue's dispatcher (`app.state.jobs`), None where the app has none;
    `outbox` reads the outbox, None until the app has one.
    """

    def __init__(
        self,
        engine: Engine,
        jobs: Callable[[], Dispatcher | None],
        outbox: OutboxReader | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.jobs = jobs
        self.outbox = outbox
        self.clock = clock

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "coterie_dependency_up",
            "1 when the dependency answered this scrape's questions, 0 when it did not.",
            labels=["dependency"],
        )
        yield from self._queue(up)
        yield from self._outbox(up)
        yield up

    def _queue(self, up: GaugeMetricFamily) -> Iterable[Metric]:
        dispatcher = self.jobs()
        if dispatcher is None:
            return
        try:
            depth = dispatcher.pending()
        except Exception as exc:  # any client error: the queue is what is down, not the scrape
            log.warning("metrics: the job queue did not answer: %s", type(exc).__name__)
            up.add_metric(["job_queue"], 0)
            return
        up.add_metric(["job_queue"], 1)
        yield GaugeMetricFamily(
            "coterie_job_queue_depth", "Jobs waiting in the queue for a worker.", value=depth
        )

    def _outbox(self, up: GaugeMetricFamily) -> Iterable[Metric]:
        if self.outbox is None:
            return
        try:
            with self.engine.connect() as connection:
                counts = self.outbox(connection)
        except SQLAlchemyError as exc:
            log.warning("metrics: the outbox could not be read: %s", type(exc).__name__)
            up.add_metric(["database"], 0)
            return
        up.add_metric(["database"], 1)
        by_status = GaugeMetricFamily(
            "coterie_outbox_messages",
            "Outbox messages not yet delivered, by status (pending, sending, dead).",
            labels=["status"],
        )
        for status, count in sorted(counts.by_status.items()):
            by_status.add_metric([status], count)
        yield by_status
        oldest = counts.oldest_pending_created_at
        age = max(0.0, (self.clock() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "coterie_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending outbox message was written (0: none pending).",
            value=age,
        )
        yield GaugeMetricFamily(
            "coterie_outbox_failed_pending",
            "Pending outbox messages whose last delivery attempt failed (they will be retried).",
            value=counts.failed_pending,
        )
