"""`python -m bench sync` end to end at a tiny size, in its own process, on the Salesforce fake:
every figure is produced and the result files are written. Never a timing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.runner import run_bench

pytestmark = [pytest.mark.slow]


def test_the_sync_benchmark_loads_every_record_and_reports_its_figures(tmp_path: Path) -> None:
    results = tmp_path / "results"
    outcome = run_bench(
        "sync",
        "--records",
        "20",
        "--edits",
        "3",
        "--peer",
        "salesforce",
        "--results-dir",
        str(results),
    )
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    (written,) = results.glob("sync-*-sqlite.json")
    data = json.loads(written.read_text())
    assert data["records"] == 20
    [peer] = data["peers"]
    assert peer["created_remote"] == 20
    assert peer["engine_per_second"] > 0
    assert peer["ratio"] > 0
    assert len(peer["bare"]) == 2
    assert peer["edits"] == 3
    assert peer["run_median_ms"] > 0
    report = written.with_suffix(".md").read_text()
    assert "initial load by the engine" in report
    assert "Round trip" in report
