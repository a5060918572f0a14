"""The standing of a plan's goal on a given day: attainment against the elapsed share of its
period (never the wall clock: every case names its day)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from coterie.cosell.planning.standing import Standing, elapsed_share, goal_standing, worst

START = date(2027, 1, 1)
END = date(2027, 12, 31)
MIDYEAR = date(2027, 7, 1)  # 182 of 365 days passed: just under half


def test_elapsed_share_runs_from_zero_to_one_over_the_period() -> None:
    assert elapsed_share(START, END, START - timedelta(days=1)) == 0.0
    assert elapsed_share(START, END, END) == 1.0
    assert elapsed_share(START, END, END + timedelta(days=30)) == 1.0
    assert elapsed_share(START, END, MIDYEAR) == pytest.approx(0.5, abs=0.01)
    assert elapsed_share(None, END, MIDYEAR) is None
    assert elapsed_share(START, None, MIDYEAR) is None


@pytest.mark.parametrize(
    ("percent", "today", "expected"),
    [
        (0.0, START - timedelta(days=3), Standing.ON_TRACK),  # nothing expected yet
        (50.0, MIDYEAR, Standing.ON_TRACK),  # at pace
        (40.0, MIDYEAR, Standing.AT_RISK),  # 80% of the pace
        (30.0, MIDYEAR, Standing.BEHIND),  # 60% of the pace
        (99.0, END + timedelta(days=1), Standing.AT_RISK),
        (0.0, END + timedelta(days=1), Standing.BEHIND),
        (120.0, START, Standing.ON_TRACK),  # past the target
    ],
)
def test_goal_standing_compares_attainment_with_the_pace(
    percent: float, today: date, expected: Standing
) -> None:
    assert goal_standing(percent, START, END, today) == expected


def test_a_goal_without_a_period_or_a_measure_has_no_standing() -> None:
    assert goal_standing(10.0, None, None, MIDYEAR) is None
    assert goal_standing(None, START, END, MIDYEAR) is None
    assert goal_standing(100.0, None, None, MIDYEAR) == Standing.ON_TRACK


def test_a_plan_stands_as_its_worst_goal() -> None:
    assert worst([Standing.ON_TRACK, Standing.BEHIND, Standing.AT_RISK]) == Standing.BEHIND
    assert worst([Standing.ON_TRACK, None]) == Standing.ON_TRACK
    assert worst([None]) is None
    assert worst([]) is None
