"""Whether a plan's goal is on track, at risk or behind, on a given day.

The rule compares attainment with the share of the goal's period that has elapsed: by the
middle of the period, half the target is expected. A goal at or above that pace (or already
at its target) is on track; one at three quarters of the pace or more is at risk; below that
it is behind. A goal without a period, or whose progress cannot be measured (no target in the
viewer's currency), has no standing. A plan stands as its worst goal. `today` is always given
by the caller (pages pass the current day; tests a fixed one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

AT_RISK_SHARE = 0.75  # of the expected attainment: below it a goal is behind


class Standing(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"


LABELS = {
    Standing.ON_TRACK: "On track",
    Standing.AT_RISK: "At risk",
    Standing.BEHIND: "Behind",
}
_ORDER = (Standing.ON_TRACK, Standing.AT_RISK, Standing.BEHIND)


def elapsed_share(start: date | None, end: date | None, today: date) -> float | None:
    """How much of the period has passed on `today` (0 before it starts, 1 once it ended);
    None when the period has no start or no end."""
    if start is None or end is None or end < start:
        return None
    if today < start:
        return 0.0
    if today >= end:
        return 1.0
    return ((today - start).days + 1) / ((end - start).days + 1)


def goal_standing(
    percent: float | None, start: date | None, end: date | None, today: date
) -> Standing | None:
    if percent is None:
        return None
    if percent >= 100:
        return Standing.ON_TRACK
    share = elapsed_share(start, end, today)
    if share is None:
        return None
    expected = share * 100
    if percent >= expected:
        return Standing.ON_TRACK
    if percent >= expected * AT_RISK_SHARE:
        return Standing.AT_RISK
    return Standing.BEHIND


def worst(standings: Iterable[Standing | None]) -> Standing | None:
    """A plan's standing: its worst goal's (None when no goal has one)."""
    known = [s for s in standings if s is not None]
    return max(known, key=_ORDER.index) if known else None
