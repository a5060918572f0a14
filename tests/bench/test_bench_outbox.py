"""`python -m bench outbox` end to end, small, in its own process: queued e-mails all reach the
benchmark's SMTP server through a real worker, and the report names every figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.runner import run_bench
from tests.fixtures.worker import require_redis

pytestmark = [pytest.mark.slow]


def test_the_outbox_benchmark_delivers_every_message_and_reports_its_figures(
    tmp_path: Path,
) -> None:
    require_redis()
    results = tmp_path / "results"
    outcome = run_bench(
        "outbox", "--messages", "60", "--requests", "20", "--results-dir", str(results)
    )
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    (written,) = results.glob("outbox-*-sqlite.json")
    data = json.loads(written.read_text())
    assert data["messages"] == 60
    assert data["delivered_per_second"] > 0
    assert data["with_mail_median_ms"] > 0
    assert data["without_mail_median_ms"] > 0
    assert data["queue"].startswith("Redis")
    report = written.with_suffix(".md").read_text()
    assert "delivered to the local SMTP server" in report
    assert "added by queuing the mail" in report
