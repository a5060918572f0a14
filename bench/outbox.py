"""The outbox benchmark: delivery throughput, and what queuing an e-mail adds to a request.

1. Throughput: N e-mails (default 10,000) queued in the outbox of a fresh database, then one
   `coterie worker` process (T threads) delivers them to a local SMTP server (aiosmtpd) that
   counts them: messages per second from the worker's start to the last one marked sent.
2. Added latency: `POST /api/v1/auth/password-reset` for a known account (one outbox row and a
   wake-up to the queue) against the same request once the account's hourly limit is reached
   (the same work without the mail), alternated in process: the median difference, target under
   1 ms. Also against an unknown address's request (what remains for timing enumeration).

Both run on SQLite (a temporary file) or on the PostgreSQL database given, with the job queue
in Redis when COTERIE_BENCH_REDIS_URL (default the local server) answers, else a SQLite queue.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from coterie import migrate
from coterie.app import create_app
from coterie.config import Settings
from coterie.db import make_engine, make_session_factory, writing_session
from coterie.mail.delivery import OutgoingMail, queue
from coterie.models.outbox import SENT, OutboxMessage
from coterie.worker.queue import Jobs

REDIS_URL = os.environ.get("COTERIE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BATCH = 500
PASSWORD = "correct horse battery staple"  # noqa: S105 (a benchmark account)


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


@dataclass
class OutboxResult:
    started_at: str
    database: str
    queue: str
    messages: int
    worker_threads: int
    enqueue_per_second: float
    deliver_seconds: float
    delivered_per_second: float
    latency_requests: int
    with_mail_median_ms: float
    without_mail_median_ms: float
    added_median_ms: float
    with_mail_p95_ms: float
    without_mail_p95_ms: float
    unknown_median_ms: float
    unknown_p95_ms: float
    known_minus_unknown_ms: float

    def markdown(self) -> str:
        return "\n".join(
            [
                f"# Outbox benchmark, {self.started_at}",
                "",
                f"Database: {self.database}; queue: {self.queue}.",
                "",
                "| figure | value |",
                "|---|---|",
                f"| e-mails queued (transactions of {BATCH}) | {self.messages:,} at "
                f"{self.enqueue_per_second:,.0f}/s |",
                f"| delivered to the local SMTP server by 1 worker, {self.worker_threads} "
                f"threads | {self.delivered_per_second:,.0f}/s ({self.deliver_seconds:.1f} s) |",
                f"| password reset, known account (queues a mail): median / p95 | "
                f"{self.with_mail_median_ms:.2f} / {self.with_mail_p95_ms:.2f} ms |",
                f"| the same request over the hourly limit (no mail): median / p95 | "
                f"{self.without_mail_median_ms:.2f} / {self.without_mail_p95_ms:.2f} ms |",
                f"| **added by queuing the mail** (median; target < 1 ms) | "
                f"**{self.added_median_ms:.2f} ms** |",
                f"| password reset, unknown address: median / p95 | "
                f"{self.unknown_median_ms:.2f} / {self.unknown_p95_ms:.2f} ms |",
                f"| known account (with its mail) minus unknown address (median) | "
                f"{self.known_minus_unknown_ms:.2f} ms |",
                "",
                f"{self.latency_requests} requests of each kind, alternated, in process.",
            ]
        )


def _queue_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return ""
    return REDIS_URL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _smtp() -> Iterator[tuple[int, _Counter]]:
    counter = _Counter()
    port = _free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, counter
    finally:
        controller.stop()


def _settings(url: str, data_dir: Path, smtp_port: int, queue_url: str) -> Settings:
    return Settings(
        env="production",
        database_url=url,
        data_dir=data_dir,
        secret_key="bench-" + secrets.token_hex(16),
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        redis_url=queue_url,
        jobs_queue_name="bench-" + secrets.token_hex(4),
        password_reset_mails_per_hour=10**9,  # every known-account request queues its mail
    )


def _env(settings: Settings, threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COTERIE_")}
    env |= {
        "COTERIE_ENV": settings.env,
        "COTERIE_DATABASE_URL": settings.resolved_database_url,
        "COTERIE_DATA_DIR": str(settings.data_dir),
        "COTERIE_SECRET_KEY": settings.secret(),
        "COTERIE_SMTP_HOST": settings.smtp_host,
        "COTERIE_SMTP_PORT": str(settings.smtp_port),
        "COTERIE_REDIS_URL": settings.redis_url,
        "COTERIE_JOBS_QUEUE_NAME": settings.jobs_queue_name,
        "COTERIE_WORKER_THREADS": str(threads),
    }
    return env


def _throughput(
    settings: Settings, messages: int, threads: int, counter: _Counter
) -> dict[str, float]:
    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    jobs = Jobs(settings, factory)
    jobs.install()
    started = time.perf_counter()
    for first in range(0, messages, BATCH):
        with writing_session(factory) as session:
            for n in range(first, min(first + BATCH, messages)):
                mail = OutgoingMail(to=f"user{n}@bench.example", subject="Bench", text="x" * 400)
                queue(session, mail, topic="bench", company_id=None)
            session.commit()
    enqueue_seconds = time.perf_counter() - started
    worker = subprocess.Popen(
        [sys.executable, "-m", "coterie.cli", "worker"],
        env=_env(settings, threads),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    try:
        while True:
            with factory() as session:
                sent = session.scalar(select(func.count()).where(OutboxMessage.status == SENT))
            if (sent or 0) >= messages:
                break
            if worker.poll() is not None:
                raise RuntimeError("the worker exited during the benchmark")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        jobs.huey.flush()
        engine.dispose()
    if counter.count < messages:
        raise RuntimeError(f"the SMTP server counted {counter.count} of {messages} messages")
    return {
        "enqueue_per_second": messages / enqueue_seconds,
        "deliver_seconds": seconds,
        "delivered_per_second": messages / seconds,
    }


def _latency(settings: Settings, requests: int) -> dict[str, float]:
    """Three requests alternated: a known account's reset that queues its mail, the same request
    when the account's hourly limit is reached (all the same work but the mail: signing the
    link, composing, the outbox row, the wake-up), and an unknown address's."""
    app = create_app(settings)
    kinds: dict[str, list[float]] = {"mail": [], "no_mail": [], "unknown": []}
    queue_all = settings.password_reset_mails_per_hour
    with TestClient(app) as client:
        signup = client.post(
            "/api/v1/signup",
            json={
                "company": {"name": "Bench Mail Co", "domain": "benchmail.example"},
                "user": {"name": "Bench", "email": "admin@benchmail.example", "password": PASSWORD},
            },
        )
        signup.raise_for_status()
        for n in range(requests + 50):
            for kind in kinds:
                email = f"nobody{n}@x.example" if kind == "unknown" else "admin@benchmail.example"
                # over the limit, the request counts the hour's requests, records its own, and
                # sends nothing
                app.state.settings.password_reset_mails_per_hour = (
                    0 if kind == "no_mail" else queue_all
                )
                started = time.perf_counter()
                response = client.post("/api/v1/auth/password-reset", json={"email": email})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 202:
                    raise RuntimeError(f"password reset answered {response.status_code}")
                if n >= 50:  # after a warm-up
                    kinds[kind].append(elapsed)
    app.state.settings.password_reset_mails_per_hour = queue_all
    app.state.jobs.huey.flush()
    app.state.engine.dispose()

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    median = {kind: statistics.median(values) for kind, values in kinds.items()}
    return {
        "latency_requests": float(requests),
        "with_mail_median_ms": median["mail"],
        "without_mail_median_ms": median["no_mail"],
        "unknown_median_ms": median["unknown"],
        "added_median_ms": median["mail"] - median["no_mail"],
        "known_minus_unknown_ms": median["mail"] - median["unknown"],
        "with_mail_p95_ms": p95(kinds["mail"]),
        "without_mail_p95_ms": p95(kinds["no_mail"]),
        "unknown_p95_ms": p95(kinds["unknown"]),
    }


def run(
    database_url: str | None, messages: int, threads: int, requests: int, results_dir: Path
) -> OutboxResult:
    queue_url = _queue_url()
    with (
        tempfile.TemporaryDirectory(prefix="coterie-bench-outbox-") as tmp,
        _smtp() as (port, counter),
    ):
        data_dir = Path(tmp)
        url = database_url or f"sqlite:///{data_dir / 'outbox.sqlite3'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.begin() as connection:  # a fresh start: earlier runs' rows would skew it
            connection.execute(text("DELETE FROM notifications"))
            connection.execute(text("DELETE FROM outbox_messages"))
        engine.dispose()
        settings = _settings(url, data_dir, port, queue_url)
        delivered = _throughput(settings, messages, threads, counter)
        latency = _latency(settings, requests)
        result = OutboxResult(
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            database=make_engine(url).url.render_as_string(hide_password=True).split("@")[-1],
            queue=f"Redis ({queue_url})" if queue_url else "SQLite queue file",
            messages=messages,
            worker_threads=threads,
            enqueue_per_second=delivered["enqueue_per_second"],
            deliver_seconds=delivered["deliver_seconds"],
            delivered_per_second=delivered["delivered_per_second"],
            latency_requests=int(latency["latency_requests"]),
            with_mail_median_ms=latency["with_mail_median_ms"],
            without_mail_median_ms=latency["without_mail_median_ms"],
            added_median_ms=latency["added_median_ms"],
            with_mail_p95_ms=latency["with_mail_p95_ms"],
            without_mail_p95_ms=latency["without_mail_p95_ms"],
            unknown_median_ms=latency["unknown_median_ms"],
            unknown_p95_ms=latency["unknown_p95_ms"],
            known_minus_unknown_ms=latency["known_minus_unknown_ms"],
        )
    results_dir.mkdir(parents=True, exist_ok=True)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    stem = results_dir / f"outbox-{result.started_at[:10]}-{dialect}"
    stem.with_suffix(".json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    stem.with_suffix(".md").write_text(result.markdown() + "\n")
    return result
