"""`coterie serve --workers 2`, run as an operator runs it: a scrape answered by either worker
counts the requests of both, and the server's own output is JSON lines with the request id."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from coterie import migrate
from tests.fixtures.live_server import coterie_serve
from tests.kit.assertions import assert_problem
from tests.observability.conftest import Samples, label_values, scrape, value

pytestmark = pytest.mark.slow
HEALTH = {"method": "GET", "route": "/healthz", "status": "200"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(the server's URL, its data directory), JSON logs; one SQLite database is enough, the
    metrics are the HTTP layer's."""
    directory = tmp_path_factory.mktemp("serve-workers")
    url = f"sqlite:///{directory / 'coterie.sqlite3'}"
    migrate.upgrade(url)
    with coterie_serve(url, directory, workers=2, log_format="json") as base_url:
        yield base_url, directory


def health_checks_on_new_connections(base_url: str, count: int) -> None:
    """`count` GET /healthz, each on a connection of its own (either worker may accept it)."""

    def one(_: int) -> int:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            return client.get("/healthz").status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(count))) == {200}


def scrape_server(base_url: str) -> Samples:
    """A scrape once no request but itself is in flight: a request is counted just after its
    response is sent, so the client can see the answer a moment before the count."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(100):
            samples = scrape(client)
            if value(samples, "coterie_http_requests_in_flight") == 1:
                return samples
            time.sleep(0.1)
    raise AssertionError("requests stayed in flight")


def test_a_scrape_sums_the_requests_of_both_workers(server: tuple[str, Path]) -> None:
    base_url, directory = server
    sent = 0
    deadline = time.monotonic() + 60
    while True:  # until both workers have answered some (the kernel decides who accepts)
        health_checks_on_new_connections(base_url, 40)
        sent += 40
        samples = scrape_server(base_url)
        serving = label_values(samples, "coterie_db_pool_checked_out", "pid")
        if len(serving) == 2 or time.monotonic() > deadline:
            break

    assert len(serving) == 2, f"one worker answered all {sent} requests"
    # the wait for the server to start asked /healthz too, so at least the requests sent here
    assert value(samples, "coterie_http_requests_total", **HEALTH) >= sent
    again = scrape_server(base_url)
    health_checks_on_new_connections(base_url, 10)
    after = scrape_server(base_url)
    assert (
        value(after, "coterie_http_requests_total", **HEALTH)
        - value(again, "coterie_http_requests_total", **HEALTH)
        == 10
    )
    assert value(after, "coterie_http_requests_in_flight") == 1  # the scrape itself
    assert len(label_values(after, "process_resident_memory_bytes", "pid")) == 2
    assert value(after, "process_cpu_seconds_total") > 0  # summed over the workers
    shared = directory / "prometheus" / str(urlsplit(base_url).port)
    assert list(shared.glob("counter_*.db")), "the workers share their samples under data_dir"


def test_the_server_logs_json_lines_with_the_request_id(server: tuple[str, Path]) -> None:
    base_url, directory = server
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.get("/api/v1/no-such-thing?token=secret-in-the-query")
    request_id = response.headers["x-request-id"]
    body = assert_problem(response, 404, "not-found")
    assert body["request_id"] == request_id

    log_path = directory / f"serve-{urlsplit(base_url).port}.log"
    access = access_line(log_path, request_id)
    assert access["route"] == "unmatched"
    assert access["path"] == "/api/v1/no-such-thing"
    assert access["method"] == "GET"
    assert access["status"] == 404
    assert access["client"] == "127.0.0.1"
    assert access["duration_ms"] > 0
    assert access["level"] == "INFO"
    assert "secret-in-the-query" not in log_path.read_text()
    started = [line for line in log_lines(log_path) if line["logger"] == "uvicorn.error"]
    assert any("Started server process" in line["message"] for line in started)


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of the server's output (the command also prints a line of its own)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def access_line(path: Path, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:  # the line is written after the response is sent
        found = [
            line
            for line in log_lines(path)
            if line["logger"] == "coterie.access" and line.get("request_id") == request_id
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(found) == 1, path.read_text()[-3000:]
    return found[0]
