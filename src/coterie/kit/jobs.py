"""Wake-ups for the job queue: asked for inside a transaction, sent only once it commits.

Durable intent lives in our own tables (an outbox row, an export's row); the queue only runs
work. A domain that wrote such a row asks for the job that will act on it with
`after_commit(session, "outbox.deliver", str(row_id))`; nothing is sent when the transaction
rolls back, and nothing waits on the job. The sender (`Dispatcher`) is installed on the session
factory at start-up by the worker package (`coterie.worker.install`), which also names the tasks;
this module only carries the names, so a lower package never imports the worker.

A wake-up can still be lost (the process died right after the commit, the queue was down): every
job must therefore be idempotent and find its work again from the tables, and a sweeper in the
worker picks up what no wake-up reached. A savepoint rolled back keeps the wake-ups asked for
inside it: the job then finds no row, and does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

log = logging.getLogger(__name__)
_PENDING = "coterie.jobs.pending"


class Dispatcher(Protocol):
    """Sends wake-ups to the queue (`coterie.worker.queue.HueyDispatcher`)."""

    def enqueue(self, name: str, args: tuple[str, ...], eta: datetime | None = None) -> None:
        """Run the task `name` with `args` (at `eta`, or as soon as a worker is free)."""

    def ping(self) -> None:
        """Raise unless the queue answers."""

    def pending(self) -> int:
        """How many jobs wait in the queue."""


def after_commit(session: Session, name: str, *args: str, eta: datetime | None = None) -> None:
    """Ask for the task `name(*args)` once `session`'s transaction commits."""
    if not session.in_transaction():
        session.begin()  # else a rollback() before any query would not drop the wake-up
    session.info.setdefault(_PENDING, []).append((name, args, eta))


def install(factory: sessionmaker[Session], dispatcher: Dispatcher) -> None:
    """Send the wake-ups of each commit of sessions from `factory`; drop them on rollback."""

    def sent_after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # only a savepoint was released: the transaction may still roll back
        for name, args, eta in session.info.pop(_PENDING, []):
            try:
                dispatcher.enqueue(name, args, eta)
            except Exception:  # the data is committed; the sweeper will find the work
                log.warning(
                    "could not queue %s%r; the sweeper will pick it up", name, args, exc_info=True
                )

    def dropped_after_rollback(session: Session, transaction: SessionTransaction) -> None:
        if not transaction.nested:
            session.info.pop(_PENDING, None)

    event.listen(factory, "after_commit", sent_after_commit)
    event.listen(factory, "after_soft_rollback", dropped_after_rollback)
