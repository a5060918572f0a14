"""Reading the app's metrics as Prometheus does, and real job queues to point the app at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from coterie.outbox.store import DELIVER_TASK
from coterie.worker.queue import Jobs
from tests.conftest import make_settings
from tests.fixtures.live_server import free_port

LOOPBACK = ("127.0.0.1", 50123)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(exposition: str) -> Samples:
    """Every sample of a scrape, keyed by (sample name, its labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name` with exactly these labels (ignoring `pid`); 0 when absent."""
    return sum(
        found
        for (sample, sample_labels), found in samples.items()
        if sample == name and {k: v for k, v in sample_labels if k != "pid"} == labels
    )


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in samples if sample == name}


def scrape_text(client: httpx.Client | TestClient, **headers: str) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
def scraper(app: FastAPI) -> Iterator[TestClient]:
    """A client of the app connecting from the loopback interface (as a local Prometheus)."""
    with TestClient(app, base_url="http://testserver", client=LOOPBACK) as test_client:
        yield test_client


def scrape(client: httpx.Client | TestClient) -> Samples:
    return parse(scrape_text(client))


def jobs_on(app: FastAPI, tmp_path: Path, **settings: object) -> Jobs:
    """A real job queue (the worker package's `Jobs`) for `app`'s database, as configured."""
    configured = make_settings("sqlite://", tmp_path, 0, jobs_immediate=False, **settings)
    return Jobs(configured, app.state.session_factory)


@contextmanager
def serving_with(app: FastAPI, jobs: Jobs) -> Iterator[Jobs]:
    """`jobs` as the app's queue (`app.state.jobs`) for the block."""
    original = app.state.jobs
    app.state.jobs = jobs
    try:
        yield jobs
    finally:
        app.state.jobs = original


@pytest.fixture
def sqlite_queue(app: FastAPI, tmp_path: Path) -> Iterator[Jobs]:
    """The app on a queue of its own: Huey's SQLite queue file, with no consumer."""
    with serving_with(app, jobs_on(app, tmp_path)) as jobs:
        yield jobs


@pytest.fixture
def unreachable_queue(app: FastAPI, tmp_path: Path) -> Iterator[Jobs]:
    """The app on a Redis queue nobody listens for (with a password that must never show)."""
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    with serving_with(app, jobs_on(app, tmp_path, redis_url=url)) as jobs:
        yield jobs


def queue_jobs(jobs: Jobs, count: int) -> None:
    for n in range(count):
        jobs.enqueue(DELIVER_TASK, (f"no-such-message-{n}",))
