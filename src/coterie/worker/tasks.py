"""Every task the worker runs, by name, and the periodic ones with their schedules.

A task is `function(jobs, *args)`: `jobs` (`coterie.worker.queue.Jobs`) gives the settings, a
session factory and the queue; `args` are strings (ids). Names are part of the queue's data:
renaming one strands the wake-ups queued under the old name (the sweepers find their work
again from the tables).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from coterie.activity.digest import queue_digests
from coterie.auth.service import prune_password_reset_requests
from coterie.company_export import builder as exports_builder
from coterie.company_export import service as exports
from coterie.config import Settings
from coterie.cosell.pipeline.registrations import expire_due
from coterie.db import session_scope, utcnow
from coterie.outbox import claims
from coterie.outbox.store import DELIVER_TASK
from coterie.sync import tasks as sync_tasks
from coterie.sync.imports import runner as imports
from coterie.worker import delivery

if TYPE_CHECKING:
    from coterie.worker.queue import Jobs

HOUSEKEEPING_CRON = "17 * * * *"  # hourly


def digests(jobs: Jobs) -> None:
    """Queue the daily digests due now (each delivered by the outbox)."""
    queue_digests(jobs.session_factory, utcnow(), jobs.settings)


def housekeeping(jobs: Jobs) -> None:
    """Forget what only served for a while: delivered outbox rows after
    `outbox_keep_sent_days`, password reset requests after a day."""
    keep = timedelta(days=jobs.settings.outbox_keep_sent_days)
    with session_scope(jobs.session_factory) as session:
        claims.prune_sent(session, utcnow() - keep)
        prune_password_reset_requests(session)


def exports_sweep(jobs: Jobs) -> None:
    """Queue again the company exports whose wake-up or worker was lost."""
    for export_id in exports.stuck(jobs.session_factory, utcnow()):
        jobs.enqueue(exports.BUILD_TASK, (str(export_id),))


def imports_sweep(jobs: Jobs) -> None:
    """Queue again the spreadsheet imports whose wake-up or worker was lost (they resume)."""
    for import_id in imports.stuck(jobs.session_factory, utcnow()):
        jobs.enqueue(imports.RUN_TASK, (str(import_id),))


def registrations_expire(jobs: Jobs) -> None:
    """Mark approved deal registrations past their expiry date as expired."""
    with session_scope(jobs.session_factory) as session:
        expire_due(session)


TASKS: dict[str, Callable[..., None]] = {
    DELIVER_TASK: delivery.deliver,
    exports.BUILD_TASK: exports_builder.build_task,
    sync_tasks.RUN_TASK: sync_tasks.run_task,
    imports.RUN_TASK: imports.run_task,
}

PERIODIC: dict[str, tuple[Callable[..., None], Callable[[Settings], str]]] = {
    "outbox.sweep": (delivery.sweep, lambda s: s.outbox_sweep_cron),
    "exports.sweep": (exports_sweep, lambda s: s.outbox_sweep_cron),
    "imports.sweep": (imports_sweep, lambda s: s.outbox_sweep_cron),
    "notifications.digest": (digests, lambda s: s.digest_cron),
    "registrations.expire": (registrations_expire, lambda s: s.registration_expiry_cron),
    "housekeeping": (housekeeping, lambda _settings: HOUSEKEEPING_CRON),
    "exports.cleanup": (exports.cleanup_task, lambda s: s.export_cleanup_cron),
    "sync.poll": (sync_tasks.poll, lambda s: s.sync_poll_cron),
}
