"""Timing: warm-up, then interleaved repetitions of a subject and its baseline, each in its own
transaction (rolled back afterwards, outside the timed region), with the garbage collector off
while timing; and tight loops for in-process microbenchmarks."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

Arm = Callable[[Session, int, Any], object]
Prepare = Callable[[Session, int], Any]
After = Callable[[Session, int, Any], None]


@dataclass(frozen=True)
class Stats:
    """Seconds."""

    median: float
    p95: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> Stats:
        if not samples:
            raise ValueError("no samples")
        ordered = sorted(samples)
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
        return cls(statistics.median(ordered), p95, len(ordered))


Statement = tuple[str, Any]  # SQL text and DBAPI parameters, as sent to the driver


@dataclass(frozen=True)
class Paired:
    subject: Stats
    baseline: Stats
    # what the last warm-up call of each arm sent to the database
    subject_sql: list[Statement]
    baseline_sql: list[Statement]


class _Recorder:
    """Records the statements an engine sends while `active`."""

    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine
        self.active = False
        self.statements: list[Statement] = []
        if engine is not None:
            event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _c: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if self.active:
            self.statements.append((statement, parameters))

    def take(self) -> list[Statement]:
        taken, self.statements = self.statements, []
        return taken

    def close(self) -> None:
        if self.engine is not None:
            event.remove(self.engine, "before_cursor_execute", self._record)


def warmup_count(repetitions: int) -> int:
    return max(2, repetitions // 10)


def paired(
    factory: sessionmaker[Session],
    subject: Arm,
    baseline: Arm,
    *,
    repetitions: int,
    warmup: int | None = None,
    prepare: Prepare | None = None,
    after_subject: After | None = None,
    after_baseline: After | None = None,
) -> Paired:
    """Time `subject` and `baseline` alternately (which goes first alternates too), each call in
    a fresh transaction of one session: `prepare(session, i)` runs first, untimed, and its result
    is passed to the arm; `after_*` runs untimed before the rollback (to inspect the effect).
    Warm-up calls also record the statements each arm sends (never while timing)."""
    warm = max(1, warmup_count(repetitions) if warmup is None else warmup)
    timings: dict[str, list[float]] = {"subject": [], "baseline": []}
    sent: dict[str, list[Statement]] = {"subject": [], "baseline": []}
    arms: list[tuple[str, Arm, After | None]] = [
        ("subject", subject, after_subject),
        ("baseline", baseline, after_baseline),
    ]
    bind = factory.kw.get("bind")
    recorder = _Recorder(bind if isinstance(bind, Engine) else None)
    enabled = gc.isenabled()
    with factory() as session:
        try:
            for i in range(warm + repetitions):
                order = arms if i % 2 == 0 else arms[::-1]
                for name, arm, after in order:
                    context = prepare(session, i) if prepare is not None else None
                    recorder.active = i < warm
                    gc.disable()
                    started = time.perf_counter()
                    arm(session, i, context)
                    elapsed = time.perf_counter() - started
                    if enabled:
                        gc.enable()
                    recorder.active = False
                    if i < warm:
                        sent[name] = recorder.take()
                    if after is not None:
                        after(session, i, context)
                    session.rollback()
                    if i >= warm:
                        timings[name].append(elapsed)
        finally:
            recorder.close()
            if enabled:
                gc.enable()
            session.rollback()
    return Paired(
        Stats.of(timings["subject"]),
        Stats.of(timings["baseline"]),
        sent["subject"],
        sent["baseline"],
    )


def loop(function: Callable[[], object], *, loops: int, repeats: int = 30) -> Stats:
    """Seconds per call of an in-process function: `repeats` timed runs of `loops` calls (after
    one untimed run); median and p95 over the runs' per-call averages."""
    enabled = gc.isenabled()
    samples: list[float] = []
    try:
        for run in range(repeats + 1):
            gc.disable()
            started = time.perf_counter()
            for _ in range(loops):
                function()
            elapsed = time.perf_counter() - started
            if enabled:
                gc.enable()
            if run > 0:
                samples.append(elapsed / loops)
    finally:
        if enabled:
            gc.enable()
    return Stats.of(samples)
