"""The end-to-end HTTP figures and the load test at the smoke scale on PostgreSQL, with tiny
durations, so they never rot. They assert that every figure is produced, that nothing failed
(no error status) and that memory was measured: never a timing (the machine may be busy)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from bench import database, http_servers, load, verify
from bench.cli import app as bench_cli
from bench.database import Prepared
from bench.scales import SCALES
from coterie.db import make_engine
from coterie.models import AuthToken
from coterie.models.activity import Comment
from tests.fixtures.databases import IN_CI, PG_ADMIN_URL
from tests.fixtures.databases import pg_available as _pg_available

SMOKE = SCALES["smoke"]


@pytest.fixture(scope="module")
def prepared() -> Iterator[Prepared]:
    if not _pg_available():
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL is not reachable; set COTERIE_TEST_PG_URL")
    name = f"coterie_bench_test_{os.getpid()}_{secrets.token_hex(4)}"
    url = f"{PG_ADMIN_URL.rpartition('/')[0]}/{name}"
    try:
        yield database.prepare(url, SMOKE, 42, regenerate=False, console=Console(quiet=True))
    finally:
        database.drop_database(url)


def _count(url: str, statement: object) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(statement) or 0)  # type: ignore[call-overload]
    finally:
        engine.dispose()


def test_bench_http_prints_and_writes_every_route_at_every_concurrency(
    prepared: Prepared, tmp_path: Path
) -> None:
    output = tmp_path / "http.json"
    arguments = ["http", "--scale", "smoke", "--database-url", prepared.url]
    outcome = CliRunner().invoke(
        bench_cli, [*arguments, "--seconds", "0.3", "--warmup", "0.1", "--json", str(output)]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "framework floor" in outcome.output  # the Rich table

    data = json.loads(output.read_text())
    markdown = output.with_suffix(".md").read_text()
    expected = {
        f"http.{route}.c{clients}"
        for route in ("list.large", "list.small", "record.large", "report.large")
        for clients in (1, 8, 32)
    }
    assert {figure["key"] for figure in data["figures"]} == expected
    for figure in data["figures"]:
        for arm in ("app", "floor"):
            cell = figure[arm]
            assert cell["requests"] > 0, figure["key"]
            assert cell["errors"] == 0, (figure["key"], cell["statuses"])
            assert 0 < cell["p50_ms"] <= cell["p95_ms"] <= cell["p99_ms"], figure["key"]
            assert cell["throughput_rps"] > 0, figure["key"]
            assert cell["server_cpu_ms_per_request"] >= 0, figure["key"]
        assert figure["throughput_ratio"] > 0
        assert figure["label"] in markdown
        assert isinstance(figure["target_met"], bool)
    assert data["errors"] == 0
    # the bench tokens are gone afterwards
    tokens = select(func.count()).where(AuthToken.name == http_servers.TOKEN_NAME)
    assert _count(prepared.url, tokens) == 0


def test_bench_load_runs_the_mix_without_errors_and_measures_worker_memory(
    prepared: Prepared, tmp_path: Path
) -> None:
    comments = select(func.count()).select_from(Comment)
    comments_before = _count(prepared.url, comments)
    output = tmp_path / "load.json"
    arguments = ["load", "--scale", "smoke", "--database-url", prepared.url]
    outcome = CliRunner().invoke(bench_cli, [*arguments, "--duration", "4", "--json", str(output)])
    assert outcome.exit_code == 0, outcome.output
    assert "overall" in outcome.output  # the Rich table

    data = json.loads(output.read_text())
    assert data["errors"] == 0, (data["errors_by_status"], data["error_samples"])
    assert data["overall"]["requests"] > 0
    assert set(data["per_type"]) <= set(load.TYPES)
    assert {"list", "record"} <= set(data["per_type"])
    assert all(cell["errors"] == 0 for cell in data["per_type"].values())
    assert len(data["memory"]) == data["workers"] == load.WORKERS
    for memory in data["memory"]:
        assert memory["start_rss_mb"] > 0
        assert memory["end_rss_mb"] > 0
        assert memory["peak_rss_mb"] >= max(memory["start_rss_mb"], memory["end_rss_mb"])
    assert data["peak_rss_mb"] > 0
    assert "| overall |" in output.with_suffix(".md").read_text()

    # the writes went to a copy, dropped afterwards: the data set is as generated
    copy = load.copy_url(prepared.url).rpartition("/")[2]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (copy,))
        assert found.fetchone() is None
    assert _count(prepared.url, comments) == comments_before
    engine = make_engine(prepared.url)
    try:
        checks = verify.verify(
            database.session_factory(engine), prepared.landmarks, every_company=True
        )
    finally:
        engine.dispose()
    assert all(check.ok for check in checks)


def test_bench_http_and_load_need_postgresql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coterie_bench_smoke.sqlite3'}"
    for command in ("http", "load"):
        outcome = CliRunner().invoke(bench_cli, [command, "--database-url", url])
        assert outcome.exit_code == 1
        assert "need PostgreSQL" in outcome.output
        assert not (tmp_path / "coterie_bench_smoke.sqlite3").exists()
