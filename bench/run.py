"""One benchmark run: prepare (or reuse) the data set, check it, measure, report."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from rich.console import Console
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from bench import curves, database, http, load, report, verify
from bench.dataset import TABLES, Landmarks
from bench.report import RunResult
from bench.scales import SCALES, ScaleName
from bench.suite import Suite
from bench.timing import Statement
from coterie.authz.rls import RLS_TABLES
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


CURVE_SCALES: tuple[ScaleName, ...] = ("small", "medium")
# the steps whose figures the growth curves plot (`curves.CURVES`)
CURVE_STEPS = frozenset(
    {
        "list pages, large viewer",
        "record page, large viewer",
        "write, large viewer",
        "grouped report, large viewer",
    }
)


def _notes(env: dict[str, Any], scale: ScaleName) -> list[str]:
    return [
        f"Row-level security: {env['rls']}"
        + ("; the gate alone decides what is read." if env["rls"] != "enforced" else "."),
        "Each repetition is one transaction, rolled back; subject and baseline alternate.",
        "Baselines read opportunities only (the data set also holds leads and plans).",
        "casbin.list: a Casbin ABAC model with one rule (`r.sub.company in r.obj.active`) "
        "enforced per row over opportunities read in id order until 50 pass, scan capped at "
        f"{SCALES[scale].casbin_scan_cap:,} rows; its baseline is the gate's page of ids.",
        "memory.export: peak resident-memory growth of a fresh process exporting the rows, "
        "against a tenth of them; the exporting company is the auto-share target (5 partners), "
        "not the large viewer, whose thousands of partners make an export thousands of "
        "columns wide.",
    ]


def measure(
    scale_name: ScaleName,
    url: str,
    *,
    seed: int,
    regenerate: bool,
    console: Console,
    only: frozenset[str] | None = None,
) -> tuple[RunResult, Landmarks]:
    """Prepare (or reuse) the data set at `url`, check it, and run the suite's steps (all of
    them, or those named in `only`)."""
    scale = SCALES[scale_name]
    started_at = _now()
    prepared = database.prepare(url, scale, seed, regenerate=regenerate, console=console)
    engine = make_engine(url)
    try:
        factory = database.session_factory(engine)
        env = environment(engine)
        console.print(
            f"Checking the {scale_name} data set against the gate, the grants and the templates "
            f"({'every company' if scale_name == 'smoke' else 'the viewers and a sample'})..."
        )
        checks = verify.verify(factory, prepared.landmarks, every_company=scale_name == "smoke")
        suite = Suite(
            factory,
            scale,
            prepared.landmarks,
            server_time=explain_seconds if engine.dialect.name == "postgresql" else None,
        )
        with database.progress_bar(console) as progress:
            steps = [(n, step) for n, step in suite.steps() if only is None or n in only]
            task = progress.add_task(f"benchmarks ({scale_name})", total=len(steps))
            for name, step in steps:
                progress.update(task, description=f"benchmarks ({scale_name}): {name}")
                step()
                progress.advance(task)
            progress.update(task, description=f"benchmarks ({scale_name})")
        measured = RunResult(
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
                "export_rows": prepared.landmarks.export_rows,
                "generator_memory": prepared.landmarks.memory,
            },
            checks=checks,
            figures=suite.figures,
            notes=_notes(env, scale_name),
        )
        return measured, prepared.landmarks
    finally:
        engine.dispose()


def sibling_url(url: str, scale_name: ScaleName, other: ScaleName) -> str:
    """The database of another scale beside `url`: the same URL with the scale's name replaced
    (`coterie_bench_large` -> `coterie_bench_medium`, also in a SQLite file name), else the
    default database of that scale."""
    mark = f"coterie_bench_{scale_name}"
    if mark in url:
        return url.replace(mark, f"coterie_bench_{other}")
    return database.default_url(other)


@dataclass(frozen=True)
class Plan:
    """What a run measures beyond the suite (each needs PostgreSQL but the curves)."""

    http: bool
    load_seconds: float  # 0: no load test
    curves: bool

    @classmethod
    def default(cls, scale_name: ScaleName, dialect: str) -> Plan:
        """medium and large on PostgreSQL: HTTP figures and the load test; large: the curves."""
        served = dialect == "postgresql" and scale_name in ("medium", "large")
        return cls(
            http=served,
            load_seconds=load.DURATION[scale_name] if served else 0.0,
            curves=scale_name == "large",
        )


def run(
    scale_name: ScaleName,
    url: str,
    *,
    seed: int,
    regenerate: bool,
    results_dir: Path,
    console: Console,
    plan: Plan | None = None,
) -> tuple[RunResult, tuple[Path, Path]]:
    """The whole benchmark: the suite at `scale_name`; then (by `plan`, defaults by scale) the
    end-to-end HTTP figures, the load test, and the growth curves (the curve figures measured
    again on the `small` and `medium` data sets, plotted with this scale's to a PNG)."""
    dialect = make_url(url).get_backend_name()
    plan = plan or Plan.default(scale_name, dialect)
    if (plan.http or plan.load_seconds) and dialect != "postgresql":
        raise database.BenchDatabaseError(
            "the HTTP figures and the load test need PostgreSQL (the app serves it over HTTP)"
        )
    result, landmarks = measure(scale_name, url, seed=seed, regenerate=regenerate, console=console)
    console.print(report.table(result))
    scale = SCALES[scale_name]
    if plan.http:
        served = http.measure(url, landmarks, scale, console)
        console.print(http.table(served))
        result.sections.append(
            report.Section("http", "End-to-end HTTP", served.to_json(), served.markdown())
        )
    if plan.load_seconds:
        loaded = load.run(url, landmarks, scale, console, plan.load_seconds)
        console.print(load.table(loaded))
        result.sections.append(
            report.Section("load", "Load test", loaded.to_json(), loaded.markdown())
        )
    if plan.curves:
        points = [
            measure(
                other,
                sibling_url(url, scale_name, other),
                seed=seed,
                regenerate=regenerate,
                console=console,
                only=CURVE_STEPS,
            )[0]
            for other in CURVE_SCALES
            if other != scale_name
        ]
        png = results_dir / f"growth-{result.started_at[:10]}.png"
        curves.plot([*points, result], png)
        table = curves.markdown([*points, result])
        result.sections.append(
            report.Section(
                "growth",
                "Growth curves",
                {
                    "png": str(png),
                    "points": {
                        key: [vars(p) for p in curve]
                        for key, curve in curves.points([*points, result]).items()
                    },
                },
                f"![Growth curves]({png.name})\n\n{table}",
            )
        )
        console.print(f"Growth curves: {png}")
    result.finished_at = _now()
    paths = report.write(result, results_dir)
    console.print(f"Results: {paths[0]} and {paths[1]}")
    return result, paths
