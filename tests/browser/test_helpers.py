"""The canary detector the journeys rely on: it must see an amount however it is written."""

from __future__ import annotations

import pytest

from tests.browser.helpers import Recorder, amount_patterns, canary_patterns

PATTERNS = [*amount_patterns("7373737"), *canary_patterns("CANARY-PRIVATE-NOTE")]


@pytest.mark.parametrize(
    "text",
    [
        '{"amount": "7373737.37"}',
        "<dd>USD 7,373,737.37</dd>",
        "7.373.737,37 EUR",
        "7\u202f373\u202f737,37",
        "title,amount\r\nHelios,7373737.37\r\n",
        "<p>canary-private-note</p>",
    ],
)
def test_a_canary_is_found_however_it_is_written(text: str) -> None:
    recorder = Recorder()
    recorder.add("page", text)
    assert recorder.leaks(PATTERNS)


@pytest.mark.parametrize("text", ["USD 250,000.00", "737,373.00", "73737.37", "CANARY-PUBLIC"])
def test_other_values_are_not_canaries(text: str) -> None:
    recorder = Recorder()
    recorder.add("page", text)
    assert not recorder.leaks(PATTERNS)
