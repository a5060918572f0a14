"""Child processes of the benchmarks (uvicorn serving the floor, an export measured in its own
process) import `bench`, which lives at the repository root and is not installed: their
environment puts that root first on PYTHONPATH, wherever the parent was started from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The directory that holds the `bench` package (the repository root)."""


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with ROOT first on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    paths = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env
