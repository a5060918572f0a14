"""`python -m bench run` end to end at the smoke scale, on SQLite and PostgreSQL, so the benchmark
suite never rots. These tests assert that every figure is produced, the data set checks pass and
the result files exist: never a timing (the machine may be busy; targets are for `make bench`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench import database
from bench.cli import app as bench_cli
from bench.dataset import Generator
from bench.scales import SCALES
from tests.bench.runner import run_bench
from tests.fixtures.databases import IN_CI, PG_ADMIN_URL
from tests.fixtures.databases import pg_available as _pg_available

EXPECTED_FIGURES = {
    *(
        f"list.{variant}.{page}.{viewer}"
        for variant in ("ids", "masked")
        for page in ("first", "deep")
        for viewer in ("small", "large")
    ),
    "check.evaluate",
    "check.database",
    "write.small",
    "write.large",
    "rule.auto_share",
    "report.grouped.large",
    *(f"record.get.{viewer}" for viewer in ("small", "large")),
    *(f"search.{viewer}" for viewer in ("small", "large")),
    *(f"casbin.list.{viewer}" for viewer in ("small", "large")),
    # peak memory growth of an export (bytes, unit "MB"): every opportunity the export company
    # sees vs a tenth of them, each in a fresh process
    *(f"memory.export.{export_format}" for export_format in ("csv", "xlsx")),
}
"""Every figure is produced on both databases (none is PostgreSQL-only)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def bench_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coterie_bench_smoke.sqlite3'}"
        return
    if not _pg_available():
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL is not reachable; set COTERIE_TEST_PG_URL")
    name = f"coterie_bench_test_{os.getpid()}_{secrets.token_hex(4)}"
    url = f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"
    try:
        yield url
    finally:
        database.drop_database(url)


def test_smoke_run_produces_every_figure_and_the_result_files(
    bench_url: str, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    outcome = run_bench(
        "run",
        "--scale",
        "smoke",
        "--database-url",
        bench_url,
        "--results-dir",
        str(results),
        timeout=900,
    )
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr

    json_files = list(results.glob("smoke-*.json"))
    markdown_files = list(results.glob("smoke-*.md"))
    assert len(json_files) == 1
    assert len(markdown_files) == 1
    data = json.loads(json_files[0].read_text())
    assert data["scale"] == "smoke"
    assert data["dialect"] == bench_url.split(":", 1)[0]
    assert {figure["key"] for figure in data["figures"]} == EXPECTED_FIGURES
    for figure in data["figures"]:
        for arm in ("subject", "baseline"):
            assert figure[arm]["n"] > 0, figure["key"]
            assert figure[arm]["median_s"] > 0, figure["key"]
            assert figure[arm]["p95_s"] >= figure[arm]["median_s"], figure["key"]
        assert figure["ratio"] > 0
        assert isinstance(figure["target_met"], bool)
    by_key = {figure["key"]: figure for figure in data["figures"]}
    for viewer in ("small", "large"):
        casbin = by_key[f"casbin.list.{viewer}"]["details"]
        assert casbin["same_page_as_gate"], casbin  # Casbin allowed exactly the gate's page
        assert by_key[f"search.{viewer}"]["details"]["hits"] > 0
    scale = SCALES["smoke"]
    for export_format in ("csv", "xlsx"):
        exported = by_key[f"memory.export.{export_format}"]
        assert exported["unit"] == "MB"
        assert exported["details"]["rows"] == scale.export_rows
        assert exported["details"]["baseline_rows"] == scale.export_rows // 10
    rows = data["dataset"]["rows"]
    for table in ("records", "search_entries", "record_changes", "plan_details", "plan_records"):
        assert rows[table] > 0, table
    assert rows["records"] == scale.records + scale.leads + scale.plans
    rule = next(f for f in data["figures"] if f["key"] == "rule.auto_share")
    assert rule["details"]["records_invited"] == SCALES["smoke"].rule_matches
    assert rule["details"]["baseline_rows"] == SCALES["smoke"].rule_matches
    assert data["checks"]
    assert all(check["ok"] for check in data["checks"])
    markdown = markdown_files[0].read_text()
    for figure in data["figures"]:
        assert figure["label"] in markdown
    assert "rule.auto_share" in outcome.stdout  # the Rich table

    # the second time, the data set in the database is recognised and reused
    again = CliRunner().invoke(
        bench_cli, ["generate", "--scale", "smoke", "--database-url", bench_url]
    )
    assert again.exit_code == 0, again.output
    assert "reused" in again.output


def test_the_same_seed_generates_the_same_rows() -> None:
    tiny = replace(
        SCALES["smoke"],
        records=400,
        large_owned=20,
        large_shared=30,
        rule_matches=10,
        small_owned=5,
        small_shared=10,
        export_rows=30,
        leads=60,
        plans=5,
    )

    def rows(seed: int) -> list[tuple[object, ...]]:
        return [row for batch in Generator(tiny, seed).batches() for row in batch.rows]

    first = rows(3)
    assert first == rows(3)
    assert first != rows(4)
