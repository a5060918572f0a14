"""One benchmark run: prepare (or reuse) the data set, check it, measure, report."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from coterie.authz.rls import RLS_TABLES
from coterie.bench import database, report, verify
from coterie.bench.dataset import TABLES
from coterie.bench.report import RunResult
from coterie.bench.scales import SCALES, ScaleName
from coterie.bench.suite import Figure, Suite
from coterie.bench.timing import Statement
from coterie.db import make_engine

EXPLAIN_REPETITIONS = 15


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def environment(engine: Engine) -> dict[str, Any]:
    """What the figures were measured on (machine, versions, database settings)."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg": psycopg.__version__,
    }
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            settings = {
                name: connection.execute(text(f"SHOW {name}")).scalar()
                for name in ("server_version", "shared_buffers", "work_mem", "jit")
            }
            info["server"] = (
                f"PostgreSQL {settings['server_version']} (shared_buffers "
                f"{settings['shared_buffers']}, work_mem {settings['work_mem']}, "
                f"jit {settings['jit']})"
            )
            info["postgresql"] = settings
            role = connection.execute(
                text(
                    "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            ).one()
            owns = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_class c WHERE c.relname = ANY(:tables) "
                    "AND pg_has_role(current_user, c.relowner, 'USAGE')"
                ),
                {"tables": list(RLS_TABLES)},
            )
            bypassed = bool(role.rolsuper or role.rolbypassrls or owns)
            info["role"] = role.name
            info["rls"] = "bypassed (superuser or table owner)" if bypassed else "enforced"
        else:
            info["server"] = f"SQLite {sqlite3.sqlite_version}"
            info["rls"] = "none (SQLite)"
    return info


def explain_seconds(session: Session, statements: list[Statement]) -> float:
    """The server's own execution time of the SELECTs among `statements` (EXPLAIN ANALYZE with
    TIMING OFF, so per-node instrumentation does not inflate it; median of several runs each,
    summed): what the design's reference figures measure, without driver, ORM and network."""
    total = 0.0
    connection = session.connection()
    for statement, parameters in statements:
        if not statement.lstrip().upper().startswith("SELECT") or "set_config(" in statement:
            continue
        times = []
        for _ in range(EXPLAIN_REPETITIONS):
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + statement, parameters
            ).scalar()
            times.append(float(plan[0]["Execution Time"]) / 1000)  # type: ignore[index]
        total += statistics.median(times)
    session.rollback()
    return total


def run(
    scale_name: ScaleName,
    url: str,
    *,
    seed: int,
    regenerate: bool,
    results_dir: Path,
    console: Console,
) -> tuple[RunResult, tuple[Path, Path]]:
    scale = SCALES[scale_name]
    started_at = _now()
    prepared = database.prepare(url, scale, seed, regenerate=regenerate, console=console)
    engine = make_engine(url)
    try:
        factory = database.session_factory(engine)
        env = environment(engine)
        console.print(
            f"Checking the data set against the gate, the grants and the templates "
            f"({'every company' if scale_name == 'smoke' else 'the viewers and a sample'})..."
        )
        checks = verify.verify(factory, prepared.landmarks, every_company=scale_name == "smoke")
        figures_done: list[Figure] = []
        suite = Suite(
            factory,
            scale,
            prepared.landmarks,
            server_time=explain_seconds if engine.dialect.name == "postgresql" else None,
            on_figure=figures_done.append,
        )
        with database.progress_bar(console) as progress:
            steps = suite.steps()
            task = progress.add_task("benchmarks", total=len(steps))
            for name, step in steps:
                progress.update(task, description=f"benchmarks: {name}")
                step()
                progress.advance(task)
            progress.update(task, description="benchmarks")
        notes = [
            f"Row-level security: {env['rls']}"
            + ("; the gate alone decides what is read." if env["rls"] != "enforced" else "."),
            "Each repetition is one transaction, rolled back; subject and baseline alternate.",
            "search_entries is not generated: the write figure indexes into a small table.",
        ]
        result = RunResult(
            scale=scale_name,
            seed=seed,
            dialect=engine.dialect.name,
            database=database.display_url(url),
            started_at=started_at,
            finished_at=_now(),
            environment=env,
            dataset={
                "generated": prepared.generated,
                "generation_seconds": prepared.generation_seconds,
                "generated_at": prepared.generated_at,
                "rows": {t: prepared.landmarks.rows.get(t, 0) for t in TABLES},
                "large_visible": prepared.landmarks.large_visible,
                "small_visible": prepared.landmarks.small_visible,
                "rule_matches": prepared.landmarks.rule_matches,
            },
            checks=checks,
            figures=suite.figures,
            notes=notes,
        )
    finally:
        engine.dispose()
    paths = report.write(result, results_dir)
    console.print(report.table(result))
    console.print(f"Results: {paths[0]} and {paths[1]}")
    return result, paths
