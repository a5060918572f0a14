"""Reading the app's metrics as Prometheus does, and a job queue to point the app at."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

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


class QueueUnreachableError(ConnectionError):
    pass


class Queue:
    """A job queue as `coterie.kit.jobs.Dispatcher` describes it, whose outage a test controls."""

    def __init__(self, waiting: int = 0) -> None:
        self.waiting = waiting
        self.down = False

    def enqueue(self, name: str, args: tuple[str, ...], eta: object = None) -> None:
        self._answer()
        self.waiting += 1

    def ping(self) -> None:
        self._answer()

    def pending(self) -> int:
        self._answer()
        return self.waiting

    def _answer(self) -> None:
        if self.down:
            raise QueueUnreachableError("redis://:s3cret@queue.internal:6379 refused")


@pytest.fixture
def queue(app: FastAPI) -> Iterator[Queue]:
    """`app.state.jobs` for the test, as the worker package installs it."""
    app.state.jobs = Queue()
    yield app.state.jobs
    del app.state.jobs
