"""Benchmark results: one Rich table on the terminal, and the same as JSON and Markdown files
under bench/results/ (`<scale>-<date>.json` / `.md`; `-sqlite` is added for SQLite runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from bench.figure import Figure, display
from bench.timing import Stats
from bench.verify import Check

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FORMAT_VERSION = 1


@dataclass
class Section:
    """A part of a run beyond the figures table (HTTP figures, load test, growth curves)."""

    key: str
    title: str
    data: dict[str, Any]
    markdown: str


@dataclass
class RunResult:
    scale: str
    seed: int
    dialect: str
    database: str
    started_at: str
    finished_at: str
    environment: dict[str, Any]
    dataset: dict[str, Any]
    checks: list[Check]
    figures: list[Figure]
    notes: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    @property
    def stem(self) -> str:
        suffix = "" if self.dialect == "postgresql" else f"-{self.dialect}"
        return f"{self.scale}-{self.started_at[:10]}{suffix}"


def _scaled(value: float, unit: str) -> str:
    return display(value, unit)


def _verdict(figure: Figure) -> str:
    if figure.passed is None:
        return "-"
    return "yes" if figure.passed else "NO"


def _server(figure: Figure) -> str:
    server = figure.details.get("server_ms")
    plain = figure.details.get("baseline_server_ms")
    if server is None or plain is None:
        return ""
    return f"{server:.3f} / {plain:.3f} ms"


def _statements(figure: Figure) -> str:
    mine = figure.details.get("statements")
    plain = figure.details.get("baseline_statements")
    return "" if mine is None or plain is None else f"{mine} / {plain}"


def rows(result: RunResult) -> list[list[str]]:
    """Figure, median, p95, baseline (median and what it is), ratio, target, met, statements,
    SQL server time."""
    return [
        [
            figure.label,
            _scaled(figure.subject.median, figure.unit),
            _scaled(figure.subject.p95, figure.unit),
            f"{_scaled(figure.baseline.median, figure.unit)} ({figure.baseline_label})",
            f"{figure.ratio:.2f}x",
            figure.target,
            _verdict(figure),
            _statements(figure),
            _server(figure),
        ]
        for figure in result.figures
    ]


HEADERS = [
    "Figure",
    "Median",
    "p95",
    "Baseline median",
    "Ratio",
    "Target",
    "Met",
    "Statements, gate / baseline",
    "SQL server time, gate / baseline",
]


def table(result: RunResult) -> Table:
    """The terminal view: figure keys (see the Markdown file for the long labels)."""
    title = (
        f"Coterie bench, scale {result.scale}, {result.dialect}, "
        f"{result.environment.get('cpus', '?')} CPUs ({result.started_at})"
    )
    view = Table(title=title, box=box.SIMPLE_HEAD)
    view.add_column("Figure", no_wrap=True)
    for header in ("Median", "p95", "Baseline", "Ratio"):
        view.add_column(header, justify="right", no_wrap=True)
    view.add_column("Target", no_wrap=True)
    view.add_column("Met", no_wrap=True)
    view.add_column("Stmts", justify="right", no_wrap=True)
    view.add_column("SQL server", justify="right", no_wrap=True)
    for figure in result.figures:
        view.add_row(
            figure.key,
            _scaled(figure.subject.median, figure.unit),
            _scaled(figure.subject.p95, figure.unit),
            _scaled(figure.baseline.median, figure.unit),
            f"{figure.ratio:.2f}x",
            figure.target,
            _verdict(figure),
            _statements(figure),
            _server(figure),
            style="red" if figure.passed is False else None,
        )
    return view


def _stats(stats: Stats) -> dict[str, Any]:
    return {"median_s": stats.median, "p95_s": stats.p95, "n": stats.n}


def to_json(result: RunResult) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "scale": result.scale,
        "seed": result.seed,
        "dialect": result.dialect,
        "database": result.database,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "environment": result.environment,
        "dataset": result.dataset,
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in result.checks],
        "figures": [
            {
                "key": f.key,
                "group": f.group,
                "label": f.label,
                "unit": f.unit,
                "subject": _stats(f.subject),
                "baseline_label": f.baseline_label,
                "baseline": _stats(f.baseline),
                "ratio": f.ratio,
                "target": f.target,
                "target_met": f.passed,
                "details": f.details,
            }
            for f in result.figures
        ],
        "notes": result.notes,
        **{section.key: section.data for section in result.sections},
    }


def to_markdown(result: RunResult) -> str:
    env = result.environment
    data = result.dataset
    lines = [
        f"# Coterie bench: {result.scale} scale on {result.dialect}",
        "",
        f"Run {result.started_at} to {result.finished_at}, seed {result.seed}, "
        f"database `{result.database}`.",
        "",
        f"Machine: {env.get('cpu', '?')}, {env.get('cpus', '?')} CPUs, "
        f"{env.get('memory_gb', '?')} GB RAM, load average at start {env.get('load_average')}; "
        f"Python {env.get('python')}, SQLAlchemy {env.get('sqlalchemy')}, "
        f"psycopg {env.get('psycopg')}; {env.get('server', '')}.",
        "",
        f"Data set: {', '.join(f'{t} {n:,}' for t, n in data.get('rows', {}).items())}; "
        f"{'generated in this run' if data.get('generated') else 'reused'}, generation took "
        f"{data.get('generation_seconds', 0):.1f} s"
        + (
            f" (generator peak memory {data['generator_memory']['peak_rss_mb']:.0f} MB)."
            if data.get("generator_memory", {}).get("peak_rss_mb")
            else "."
        ),
        "",
        "| " + " | ".join(HEADERS) + " |",
        "| " + " | ".join("---" for _ in HEADERS) + " |",
    ]
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows(result)
    ]
    lines += ["", "Checks of the data set:", ""]
    lines += [f"- {'ok' if c.ok else 'FAILED'}: {c.name} ({c.detail})" for c in result.checks]
    if result.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {note}" for note in result.notes]
    for section in result.sections:
        lines += ["", f"## {section.title}", "", section.markdown.rstrip("\n")]
    return "\n".join(lines) + "\n"


def write(result: RunResult, directory: Path) -> tuple[Path, Path]:
    """Write `<stem>.json` and `<stem>.md` (through a .tmp file each); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{result.stem}.json"
    markdown_path = directory / f"{result.stem}.md"
    for path, content in (
        (json_path, json.dumps(to_json(result), indent=2, default=str) + "\n"),
        (markdown_path, to_markdown(result)),
    ):
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(content, encoding="utf-8")
        partial.replace(path)
    return json_path, markdown_path
