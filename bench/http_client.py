"""The HTTP load client of the benchmarks: an `httpx.AsyncClient` (HTTP/1.1, keep-alive, one
connection per concurrent client) driving a server in another process.

`closed_loop` runs `concurrency` clients, each sending its next request as soon as the previous
answer is read, for a fixed duration (after an untimed warm-up of the same kind), and returns
every latency and every status. Latency is from sending the request to having read the whole
body, on the client's clock (`time.perf_counter`).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import psutil

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion on a fresh event loop in a thread of its own, so the
    benchmark works whether or not the calling thread already runs a loop (a test process that
    also drives a browser through Playwright's sync API does)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-client") as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    expect: int = 200


@dataclass(frozen=True)
class Latency:
    """Latency percentiles (seconds) and throughput (requests per second) of one cell."""

    requests: int
    errors: int
    p50: float
    p95: float
    p99: float
    mean: float
    throughput: float
    seconds: float
    statuses: dict[str, int]
    client_cpu: float = 0.0  # CPU seconds the client process used while timed
    server_cpu: float = 0.0  # CPU seconds the server's processes used while timed
    database_cpu: float = 0.0  # CPU seconds the server's PostgreSQL backends used while timed

    @property
    def server_cpu_per_request(self) -> float:
        return self.server_cpu / self.requests if self.requests else 0.0

    @property
    def database_cpu_per_request(self) -> float:
        return self.database_cpu / self.requests if self.requests else 0.0

    @property
    def client_cpu_per_request(self) -> float:
        return self.client_cpu / self.requests if self.requests else 0.0

    @classmethod
    def of(
        cls,
        latencies: list[float],
        statuses: Counter[str],
        seconds: float,
        errors: int,
        *,
        client_cpu: float = 0.0,
        server_cpu: float = 0.0,
        database_cpu: float = 0.0,
    ) -> Latency:
        ordered = sorted(latencies)
        return cls(
            requests=len(ordered),
            errors=errors,
            p50=percentile(ordered, 0.50),
            p95=percentile(ordered, 0.95),
            p99=percentile(ordered, 0.99),
            mean=statistics.fmean(ordered) if ordered else 0.0,
            throughput=len(ordered) / seconds if seconds > 0 else 0.0,
            seconds=seconds,
            statuses=dict(sorted(statuses.items())),
            client_cpu=client_cpu,
            server_cpu=server_cpu,
            database_cpu=database_cpu,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "p50_ms": round(self.p50 * 1000, 3),
            "p95_ms": round(self.p95 * 1000, 3),
            "p99_ms": round(self.p99 * 1000, 3),
            "mean_ms": round(self.mean * 1000, 3),
            "throughput_rps": round(self.throughput, 1),
            "seconds": round(self.seconds, 2),
            "statuses": self.statuses,
            "server_cpu_ms_per_request": round(self.server_cpu_per_request * 1000, 3),
            "database_cpu_ms_per_request": round(self.database_cpu_per_request * 1000, 3),
            "client_cpu_ms_per_request": round(self.client_cpu_per_request * 1000, 3),
        }


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted samples (0.0 when there are none)."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far, by pid (gone ones left out)."""
    found: dict[int, float] = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        found[process.pid] = times.user + times.system
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two `cpu_seconds` samples: processes that ended meanwhile are
    left out (an undercount), processes that started meanwhile count whole."""
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def make_client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=60
    )
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120.0)


async def send(client: httpx.AsyncClient, call: Call) -> tuple[float, int]:
    """(seconds, status) of one call; status 0 when the connection failed."""
    started = time.perf_counter()
    try:
        answer = await client.request(call.method, call.path, headers=call.headers, json=call.json)
        status = answer.status_code
    except httpx.HTTPError:
        status = 0
    return time.perf_counter() - started, status


async def _loop(
    client: httpx.AsyncClient,
    calls: Callable[[int, int], Call],
    concurrency: int,
    seconds: float,
) -> tuple[list[float], Counter[str], float, int]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds
    last_done = started

    async def user(number: int) -> None:
        nonlocal errors, last_done
        i = 0
        while time.perf_counter() < deadline:
            call = calls(number, i)
            elapsed, status = await send(client, call)
            latencies.append(elapsed)
            statuses[str(status)] += 1
            if status != call.expect:
                errors += 1
            last_done = time.perf_counter()
            i += 1

    await asyncio.gather(*(user(n) for n in range(concurrency)))
    return latencies, statuses, last_done - started, errors


async def closed_loop(
    base_url: str,
    calls: Callable[[int, int], Call],
    *,
    concurrency: int,
    seconds: float,
    warmup: float,
    server: list[psutil.Process] | None = None,
    database: Callable[[], list[psutil.Process]] | None = None,
) -> Latency:
    """`concurrency` clients sending `calls(client_number, i)` back to back for `seconds`,
    after `warmup` seconds of the same, untimed; with the CPU time the client, the `server`
    processes and the `database` backends (found before and after) used while timed."""
    async with make_client(base_url, concurrency) as client:
        if warmup > 0:
            await _loop(client, calls, concurrency, warmup)
        servers = server or []
        client_started, server_started = time.process_time(), cpu_seconds(servers)
        database_started = cpu_seconds(database() if database is not None else [])
        latencies, statuses, elapsed, errors = await _loop(client, calls, concurrency, seconds)
        client_cpu = time.process_time() - client_started
        server_cpu = cpu_used(server_started, cpu_seconds(servers))
        database_ended = cpu_seconds(database() if database is not None else [])
        database_cpu = cpu_used(database_started, database_ended)
    return Latency.of(
        latencies,
        statuses,
        elapsed,
        errors,
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        database_cpu=database_cpu,
    )
