"""The benchmark suite is tooling beside the runtime: `bench` lives at the repository root, runs
as `python -m bench` from there (what `make bench` does), and no runtime module imports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_python_m_bench_runs_from_the_repository_root() -> None:
    result = run_python("-m", "bench", "--help", cwd=ROOT)

    assert result.returncode == 0, result.stderr
    assert "Usage: python -m bench" in result.stdout
    for command in ("run", "generate", "http", "load"):
        assert f" {command} " in result.stdout


@pytest.mark.slow
def test_the_runtime_imports_no_bench_module(tmp_path: Path) -> None:
    program = (
        "import sys, coterie.app, coterie.cli, coterie.migrate\n"
        "print(sorted(m for m in sys.modules if m == 'bench' or m.startswith('bench.')))\n"
    )
    # started outside the repository: the installed runtime alone
    result = run_python("-c", program, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
