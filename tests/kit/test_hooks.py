"""In-process hooks: subscription order, idempotent install, fail-loud when nobody listens."""

from __future__ import annotations

import pytest

from coterie import wiring
from coterie.kit.hooks import Hook, HooksNotInstalledError
from coterie.records import hooks as record_hooks


def test_subscribers_run_in_subscription_order_once_each() -> None:
    hook: Hook[int] = Hook("test.numbers")
    seen: list[tuple[str, int]] = []

    def first(n: int) -> None:
        seen.append(("first", n))

    def second(n: int) -> None:
        seen.append(("second", n))

    hook.subscribe(first)
    hook.subscribe(second)
    hook.subscribe(first)  # a second start-up keeps one entry
    hook.announce(7)
    assert seen == [("first", 7), ("second", 7)]


def test_announcing_without_subscribers_fails_loudly() -> None:
    hook: Hook[int] = Hook("test.unheard")
    with pytest.raises(HooksNotInstalledError, match=r"test\.unheard"):
        hook.announce(1)


def test_a_subscriber_that_raises_stops_the_announcement() -> None:
    hook: Hook[int] = Hook("test.refused")
    seen: list[int] = []

    def refuse(n: int) -> None:
        raise ValueError(n)

    hook.subscribe(refuse)
    hook.subscribe(seen.append)
    with pytest.raises(ValueError, match="3"):
        hook.announce(3)
    assert seen == []


def test_wiring_gives_every_record_hook_a_subscriber() -> None:
    wiring.install()
    wiring.install()
    every = [value for value in vars(record_hooks).values() if isinstance(value, Hook)]
    assert len(every) == 8  # record_created (the first stage at creation) is the eighth
    for hook in every:
        assert len(hook.subscribers) >= 1, hook.name
        assert len(set(hook.subscribers)) == len(hook.subscribers), hook.name
