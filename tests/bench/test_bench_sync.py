"""`python -m bench sync` end to end at a tiny size, in its own process, on the Salesforce fake
(in process, and served over loopback HTTP by a process of its own): every figure is produced
and the result files are written. Never a timing."""

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
        "--peer",
        "salesforce-http",
        "--repeat",
        "2",
        "--results-dir",
        str(results),
    )
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    (written,) = results.glob("sync-*-sqlite.json")
    data = json.loads(written.read_text())
    assert data["records"] == 20
    in_process, served = data["peers"]
    assert "in process" in in_process["peer"]
    assert "loopback HTTP" in served["peer"]
    for peer in (in_process, served):
        assert peer["created_remote"] == 20
        assert peer["engine_per_second"] > 0
        assert peer["ratio"] > 0
        assert len(peer["bare"]) == 2
        assert len(peer["engine_samples"]) == len(peer["batch_samples"]) == 2
        assert peer["edits"] == 3
        assert peer["run_median_ms"] > 0
    report = written.with_suffix(".md").read_text()
    assert "initial load by the engine" in report
    assert "served over loopback HTTP" in report
    assert "Round trip" in report
