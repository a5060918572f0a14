"""`configure_logging` as `coterie serve` and `coterie worker` use it, in a process of its own
configured by environment variables: JSON or text lines on stderr, the request id when one is
bound, the level."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

SCRIPT = """
import logging
from coterie.config import Settings
from coterie.kit import request_ids
from coterie.observability.logs import configure_logging

configure_logging(Settings())
log = logging.getLogger("coterie.worker.outbox")
log.info("outside any request")
with request_ids.bound("req-from-the-enqueuing-request"):
    log.warning("delivering %s", "m-1", extra={"attempt": 2})
log.debug("only at debug")
logging.getLogger("uvicorn.error").info("uvicorn speaking")
logging.getLogger("sqlalchemy.pool").info("a library speaking")
print("stdout is the command's own")
"""


def run(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COTERIE_")}
    env.update({f"COTERIE_{name.upper()}": value for name, value in settings.items()})
    env["COTERIE_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.slow
def test_json_lines_carry_the_bound_request_id_and_the_extra_fields(tmp_path: Path) -> None:
    done = run(tmp_path, log_format="json", env="test")
    lines = json_lines(done.stderr)

    assert [line["message"] for line in lines] == [
        "outside any request",
        "delivering m-1",
        "uvicorn speaking",
        "a library speaking",
    ]
    outside, delivering = lines[0], lines[1]
    assert "request_id" not in outside
    assert delivering["request_id"] == "req-from-the-enqueuing-request"
    assert delivering["level"] == "WARNING"
    assert delivering["logger"] == "coterie.worker.outbox"
    assert delivering["attempt"] == 2
    assert datetime.fromisoformat(delivering["timestamp"]).utcoffset() is not None
    assert done.stdout == "stdout is the command's own\n"


@pytest.mark.slow
def test_production_logs_json_by_default_and_the_level_is_a_setting(tmp_path: Path) -> None:
    done = run(tmp_path, env="production", log_level="debug")
    lines = json_lines(done.stderr)

    assert "only at debug" in [line["message"] for line in lines]


@pytest.mark.slow
def test_development_logs_readable_lines_by_default(tmp_path: Path) -> None:
    done = run(tmp_path, env="development", log_level="warning")
    lines = done.stderr.splitlines()

    assert len(lines) == 1
    assert (
        " WARNING coterie.worker.outbox [req-from-the-enqueuing-request] delivering m-1"
        in (lines[0])
    )
