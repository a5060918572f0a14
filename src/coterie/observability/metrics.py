"""The metrics one app records, and the registry a scrape reads them from.

Single process (`coterie serve`, one worker; the tests): the metrics live in a registry of the
app's own (an app built twice in one process, as the tests do, never collides), beside
prometheus_client's process, platform and garbage-collector collectors.

Several worker processes (`coterie serve --workers N`): prometheus_client's multiprocess mode.
`coterie serve` points `PROMETHEUS_MULTIPROC_DIR` at an emptied directory before the workers
start (or keeps the operator's); each worker then writes its samples to memory-mapped files there
and the worker that answers a scrape reads them all, so counters and histograms are the sum over
the workers. Gauges that describe one worker (its connection pool, its process) carry a `pid`
label and are refreshed at the end of each of its requests (process figures at most once a
second) and when it answers a scrape; those of a worker that exited cleanly are removed.
prometheus_client's process collector only sees the process it runs in, so in this mode its
figures are copied into such per-worker gauges, under the same names.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    multiprocess,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from coterie.observability.multiprocess import multiprocess_directory

UNMATCHED_ROUTE = "unmatched"
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# seconds: from a cached page (a few ms) to a large export or report (10 s and more)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PROCESS_REFRESH_SECONDS = 1.0
PerWorker = Literal["liveall"]
PER_WORKER: PerWorker = "liveall"  # one series per live worker (`pid` label)


def method_label(method: str) -> str:
    """The request method, or `other` for any method outside HTTP's usual few (a client can
    send any token there, and each would be a new series)."""
    return method if method in METHODS else OTHER_METHOD


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.duration = Histogram(
            "coterie_http_request_duration_seconds",
            "Time from receiving a request to the end of its response, by route template.",
            ["method", "route"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            "coterie_http_requests",
            "Requests answered, by route template, method and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "coterie_http_requests_in_flight",
            "Requests being answered now (all workers).",
            multiprocess_mode="livesum",
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.duration.labels(method, route).observe(seconds)
        self.requests.labels(method, route, str(status)).inc()


class PoolGauges:
    """The SQLAlchemy connection pool of this process's engine."""

    def __init__(self, engine: Engine, registry: CollectorRegistry | None) -> None:
        self.engine = engine

        def gauge(name: str, documentation: str) -> Gauge:
            return Gauge(name, documentation, multiprocess_mode=PER_WORKER, registry=registry)

        self.size = gauge("coterie_db_pool_size", "Connections the pool keeps (pool_size).")
        self.checked_out = gauge(
            "coterie_db_pool_checked_out", "Connections lent to requests or jobs right now."
        )
        self.checked_in = gauge(
            "coterie_db_pool_checked_in", "Open connections idle in the pool right now."
        )
        self.overflow = gauge(
            "coterie_db_pool_overflow",
            "Connections open beyond pool_size right now (up to max_overflow).",
        )

    def refresh(self) -> None:
        pool = self.engine.pool
        if not isinstance(pool, QueuePool):  # SQLite in memory and the like: no pool to speak of
            return
        self.size.set(pool.size())
        self.checked_out.set(pool.checkedout())
        self.checked_in.set(pool.checkedin())
        self.overflow.set(max(0, pool.overflow()))  # negative while the pool is not yet full


class WorkerProcessGauges:
    """prometheus_client's process figures of this worker, written where other workers' scrapes
    read them (multiprocess mode only): memory, open files and start time as per-worker gauges;
    CPU seconds as a counter, so the scrape gives the total of every worker, past ones included."""

    def __init__(self) -> None:
        self.source = ProcessCollector(registry=None)
        self.gauges: dict[str, Gauge] = {}
        self.counters: dict[str, tuple[Counter, float]] = {}  # with the value already counted
        self.refreshed = -PROCESS_REFRESH_SECONDS

    def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.refreshed < PROCESS_REFRESH_SECONDS:
            return
        self.refreshed = now
        for family in self.source.collect():
            for sample in family.samples:
                if family.type == "counter":
                    self._count(family.name, family.documentation, sample.value)
                else:
                    self._gauge(sample.name, family.documentation).set(sample.value)

    def _gauge(self, name: str, documentation: str) -> Gauge:
        gauge = self.gauges.get(name)
        if gauge is None:
            gauge = Gauge(name, documentation, multiprocess_mode=PER_WORKER, registry=None)
            self.gauges[name] = gauge
        return gauge

    def _count(self, name: str, documentation: str, total: float) -> None:
        counter, counted = self.counters.get(name) or (
            Counter(name, documentation, registry=None),
            0.0,
        )
        if total > counted:
            counter.inc(total - counted)
            counted = total
        self.counters[name] = (counter, counted)


class Metrics:
    """What one app records, and the registry a scrape of it reads.

    `scrape_collectors` are read at scrape time and answer for the whole service, not for one
    worker (the job queue, the outbox: `coterie.observability.backlog`).
    """

    def __init__(self, engine: Engine, scrape_collectors: Iterable[Collector] = ()) -> None:
        self.directory = multiprocess_directory()
        self.registry = CollectorRegistry()
        own: CollectorRegistry | None = self.registry
        self.process: WorkerProcessGauges | None = None
        if self.directory is None:
            standard: tuple[Collector, ...] = (
                ProcessCollector(registry=None),
                PLATFORM_COLLECTOR,
                GC_COLLECTOR,
            )
            for collector in standard:
                self.registry.register(collector)
        else:
            own = None  # samples go to the shared files; a scrape reads them from there
            multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
                self.registry, path=str(self.directory)
            )
            self.process = WorkerProcessGauges()
            _remove_worker_gauges_at_exit(self.directory)
        for collector in scrape_collectors:
            self.registry.register(collector)
        self.http = HttpMetrics(own)
        self.pool = PoolGauges(engine, own)

    @property
    def multiprocess(self) -> bool:
        return self.directory is not None

    def after_request(self) -> None:
        """Publish this worker's gauges for the other workers' scrapes (multiprocess only)."""
        if self.process is not None:
            self.pool.refresh()
            self.process.refresh()

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The scrape's body and content type (text format, or OpenMetrics when asked for)."""
        self.pool.refresh()
        if self.process is not None:
            self.process.refresh(force=True)
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


_exit_hooked: set[Path] = set()


def _remove_worker_gauges_at_exit(directory: Path) -> None:
    """At this worker's exit, drop its per-worker gauges (its counters stay in the sums)."""
    if directory in _exit_hooked:
        return
    _exit_hooked.add(directory)
    pid = os.getpid()
    atexit.register(multiprocess.mark_process_dead, pid, str(directory))
