"""The Huey queue for the settings, and `Jobs`: what the app and the worker hold.

`Jobs` registers one Huey task per entry of `tasks.TASKS` (its name is the Huey task name, the
same in every process), and one periodic task per entry of `tasks.PERIODIC` with its cron
schedule from settings. It is the `coterie.kit.jobs.Dispatcher` installed on session factories,
and the context every task receives (settings, session factory, and itself to queue more).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from sqlalchemy.orm import Session, sessionmaker

from coterie.config import Settings
from coterie.kit import jobs as kit_jobs
from coterie.worker import tasks


def make_huey(settings: Settings) -> Huey:
    name = settings.jobs_queue_name
    if settings.jobs_immediate:
        return MemoryHuey(name, immediate=True, results=False, utc=True)
    if settings.redis_url:
        return RedisHuey(name, url=settings.redis_url, results=False, utc=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = (settings.data_dir / "jobs.sqlite3").resolve()
    return SqliteHuey(name, filename=str(path), results=False, utc=True)


def schedule_of(cron: str) -> Callable[[datetime], bool]:
    """Huey's test for a five-field cron string (validated by `Settings`)."""
    minute, hour, day, month, day_of_week = cron.split()
    test: Callable[[datetime], bool] = crontab(minute, hour, day, month, day_of_week, strict=True)
    return test


class Jobs:
    """The queue with Coterie's tasks registered; the context each task runs with."""

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.huey = make_huey(settings)
        self._tasks: dict[str, TaskWrapper] = {}
        for name, function in tasks.TASKS.items():
            self._tasks[name] = self.huey.task(name=name)(self._bound(function))
        for name, (function, cron_of) in tasks.PERIODIC.items():
            self.huey.periodic_task(schedule_of(cron_of(settings)), name=name)(
                self._bound(function)
            )

    def _bound(self, function: Callable[..., None]) -> Callable[..., None]:
        def run(*args: str) -> None:
            function(self, *args)

        run.__doc__ = function.__doc__
        return run

    def install(self) -> None:
        """Send the wake-ups asked for in sessions of this factory (`coterie.kit.jobs`)."""
        kit_jobs.install(self.session_factory, self)

    # -- coterie.kit.jobs.Dispatcher --------------------------------------------------------

    def enqueue(self, name: str, args: tuple[str, ...], eta: datetime | None = None) -> None:
        if eta is None:
            self._tasks[name](*args)
        else:
            self._tasks[name].schedule(args=args, eta=eta)

    def ping(self) -> None:
        self.huey.pending_count()

    def pending(self) -> int:
        count: Any = self.huey.pending_count()
        return int(count)
