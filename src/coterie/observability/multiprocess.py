"""Where the worker processes of one `coterie serve` share their metrics (prometheus_client's
multiprocess mode), set up before they start.

prometheus_client decides once, when it is first imported, whether a process writes its samples to
the shared directory named by `PROMETHEUS_MULTIPROC_DIR`; so this module does not import it, and
`coterie serve` sets the variable before any worker imports the app.
"""

from __future__ import annotations

import os
from pathlib import Path

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_directory() -> Path | None:
    """Where the workers' samples are shared, when this process runs in multiprocess mode."""
    value = os.environ.get(MULTIPROCESS_ENV, "")
    return Path(value) if value else None


def share_between_workers(default: Path) -> Path:
    """Turn on multiprocess mode for the processes started from now on: the directory the
    operator set in PROMETHEUS_MULTIPROC_DIR, else `default`; created, or emptied of a previous
    run's files (whose counters would otherwise add to this run's)."""
    directory = multiprocess_directory()
    if directory is None:
        directory = default.resolve()
        os.environ[MULTIPROCESS_ENV] = str(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return directory
