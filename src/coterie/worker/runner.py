"""Running the worker: `coterie worker` (the Huey consumer with the periodic tasks), and the one
`coterie serve --with-worker` starts beside the web server (what `make run` uses).

The consumer's threads run the tasks; its scheduler queues the periodic tasks at their cron
times and the delayed wake-ups (retries) at theirs. SIGTERM (what `systemctl stop` sends) and
SIGINT (Ctrl-C) both stop it gracefully: the tasks running finish, nothing new starts. A
delivery cut short anyway (kill -9) is picked up by another worker once its lease ends.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine

from coterie.authz import guard, rls
from coterie.config import Settings
from coterie.db import make_engine, make_session_factory
from coterie.worker import delivery
from coterie.worker.queue import Jobs

log = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 30


class QueueUnavailableError(Exception):
    """The job queue (Redis, or the SQLite queue file) does not answer."""


def open_jobs(settings: Settings) -> tuple[Jobs, Engine]:
    """The jobs of a worker process: its own engine and session factory, set up like the app's
    (the guard, row-level security, wake-ups sent after commit)."""
    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    guard.install(factory)
    rls.install(factory)
    jobs = Jobs(settings, factory)
    jobs.install()
    return jobs, engine


def run(settings: Settings, threads: int | None = None) -> None:
    """Run the consumer until SIGTERM or SIGINT."""
    # logging is the caller's (`coterie worker` calls observability.logs.configure_logging)
    jobs, engine = open_jobs(settings)
    try:
        try:
            jobs.ping()
        except Exception as exc:  # the queue's client library's own errors: redis, sqlite3
            raise QueueUnavailableError(str(exc) or type(exc).__name__) from exc
        # what waited while no worker ran: every due row, their wake-ups may be long gone
        swept = delivery.sweep_count(jobs, grace=timedelta(0))
        if swept:
            log.info("worker start: %d outbox message(s) queued for delivery", swept)
        consumer = jobs.huey.create_consumer(
            workers=threads or settings.worker_threads,
            worker_type="thread",
            periodic=True,
            scheduler_interval=1,
            graceful_signal="TERM",
        )
        consumer.run()
    finally:
        engine.dispose()


@contextmanager
def beside(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A `coterie worker` process for as long as the block runs (the web server): stopped
    gracefully at the end, killed if it does not stop in time."""
    command = [sys.executable, "-m", "coterie.cli", "worker"]
    process = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603 (our own command)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
