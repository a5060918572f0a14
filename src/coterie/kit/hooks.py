"""In-process hooks: a lower package announces what happened, higher packages subscribe.

A `Hook[E]` carries events of one type `E`. Subscribers are plain functions registered at
start-up (`coterie.wiring.install`); `announce` calls them synchronously, in the order they
subscribed, in the caller's session and transaction: a subscriber that raises aborts the write
exactly as a direct call would. Subscribing the same function twice keeps one entry, so start-up
may run more than once (the app factory, the CLI, the tests).

A hook is fail-loud: announcing an event that nobody subscribed to raises, so a process that
forgot to install its subscribers cannot silently skip the change log or a workflow check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

E = TypeVar("E")


class HooksNotInstalledError(RuntimeError):
    """An event was announced before any subscriber was installed."""


class Hook(Generic[E]):
    """One kind of event and its subscribers, called in subscription order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Callable[[E], None]] = []

    def subscribe(self, subscriber: Callable[[E], None]) -> None:
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)

    @property
    def subscribers(self) -> tuple[Callable[[E], None], ...]:
        return tuple(self._subscribers)

    def announce(self, event: E) -> None:
        if not self._subscribers:
            raise HooksNotInstalledError(
                f"no subscriber for the hook {self.name}: call coterie.wiring.install() at start-up"
            )
        for subscriber in self._subscribers:
            subscriber(event)
