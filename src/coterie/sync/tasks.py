"""The sync's work on the worker: a run per connection (`sync.run`, woken by a webhook, a
"sync now" button or the poll) and the poll itself, which the worker's scheduler calls every
minute (`COTERIE_SYNC_POLL_CRON`) and which wakes each connection whose own interval is due.
No external cron is involved."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from coterie.config import Settings
from coterie.sync import runs

if TYPE_CHECKING:
    from datetime import datetime

log = logging.getLogger(__name__)

RUN_TASK = "sync.run"


class JobsLike(Protocol):
    settings: Settings
    session_factory: sessionmaker[Session]

    def enqueue(self, name: str, args: tuple[str, ...], eta: datetime | None = None) -> None: ...


def run_task(jobs: JobsLike, connection_id: str) -> None:
    try:
        target = uuid.UUID(connection_id)
    except ValueError:
        log.warning("ignored a sync wake-up for %r, which is no connection id", connection_id)
        return
    summary = runs.run(jobs.session_factory, jobs.settings, target)
    if summary is not None:
        log.info(
            "sync run of %s: %d pulled, %d pushed, %d created here, %d created in the CRM, "
            "%d conflicts, error: %s",
            connection_id,
            summary.pulled,
            summary.pushed,
            summary.created_local,
            summary.created_remote,
            summary.conflicts,
            summary.error,
        )


def poll(jobs: JobsLike) -> None:
    """Wake a run for every connection whose poll interval is due."""
    with jobs.session_factory() as session:
        due = runs.due(session)
    for connection_id in due:
        jobs.enqueue(RUN_TASK, (str(connection_id),))
