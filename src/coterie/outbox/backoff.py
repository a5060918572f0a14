"""When to try a failed delivery again: exponential backoff with jitter, capped.

Attempt n (1-based) that failed waits `base * 2**(n-1)` seconds, at most `cap`, times a random
factor in [0.5, 1.0] ("equal jitter"): retries after an outage spread out instead of arriving
all at once, and never come sooner than half the nominal delay.
"""

from __future__ import annotations

import random
from datetime import timedelta

_RANDOM = random.SystemRandom()


def delay(attempts: int, base_seconds: float, cap_seconds: float) -> timedelta:
    nominal = min(cap_seconds, base_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=nominal * _RANDOM.uniform(0.5, 1.0))
