"""`python -m bench <command>` as `make bench` runs it: its own process from the repository
root, which must set up what the runtime needs itself (in a test process tests/conftest.py has
already installed the record hooks), with a wide terminal so tables print whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*arguments: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the benchmark command; the caller asserts on its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "bench", *arguments],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
