"""`/readyz` (the database and the job queue answer), `/livez` (the process answers, whatever its
dependencies do) and `/healthz` (unchanged), against real apps; a PostgreSQL server that goes away
while a real server runs, and the metrics that count its 503s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from secrets import token_hex

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url

from coterie.app import create_app
from coterie.worker.queue import Jobs
from tests.conftest import make_settings
from tests.fixtures.databases import require_pg
from tests.fixtures.live_server import serving
from tests.fixtures.tcp_proxy import TcpProxy
from tests.fixtures.worker import REDIS_URL, flush_queue, require_redis
from tests.kit.assertions import assert_problem
from tests.observability.conftest import jobs_on, queue_jobs, scrape, serving_with, value
from tests.test_database_unavailable import assert_unavailable, sign_up


def assert_not_ready(response: httpx.Response, **checks: str) -> None:
    body = assert_problem(response, 503, "not-ready")
    assert body["checks"] == checks
    assert int(response.headers["retry-after"]) > 0
    for secret in ("postgresql", "sqlite", "redis://", "s3cret", "127.0.0.1", "queue.internal"):
        assert secret not in response.text


def test_ready_when_the_database_and_the_queue_answer(
    client: TestClient, sqlite_queue: Jobs
) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "job_queue": "ok"}


def test_ready_on_redis_and_its_depth_is_measured(
    app: FastAPI, client: TestClient, scraper: TestClient, tmp_path: Path
) -> None:
    """The Redis of this environment and of CI, as production uses it (COTERIE_REDIS_URL)."""
    require_redis()
    redis = jobs_on(app, tmp_path, redis_url=REDIS_URL, jobs_queue_name=f"observe-{token_hex(6)}")
    try:
        with serving_with(app, redis):
            response = client.get("/readyz")
            queue_jobs(redis, 2)
            samples = scrape(scraper)
    finally:
        flush_queue(redis.settings)

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "job_queue": "ok"}
    assert value(samples, "coterie_job_queue_depth") == 2


def test_not_ready_while_the_job_queue_does_not_answer(
    client: TestClient, unreachable_queue: Jobs
) -> None:
    down = client.get("/readyz")
    live = client.get("/livez")
    healthy = client.get("/healthz")

    assert_not_ready(down, database="ok", job_queue="unavailable")
    assert "job queue" in down.json()["detail"]
    assert live.status_code == 200
    assert healthy.status_code == 200


def test_not_ready_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    """SQLite: the database "file" is a directory, which no connection can open."""
    settings = make_settings(f"sqlite:///{tmp_path}", tmp_path, 0, smtp_host="")
    application = create_app(settings, check_migrations=False)
    try:
        with TestClient(application) as client:
            ready = client.get("/readyz")
            live = client.get("/livez")
    finally:
        application.state.engine.dispose()

    assert_not_ready(ready, database="unavailable", job_queue="ok")
    assert "database does not answer" in ready.json()["detail"]
    assert live.status_code == 200
    assert live.json()["status"] == "ok"


@pytest.fixture
def proxied(
    app_database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[tuple[str, TcpProxy]]:
    """A real server on PostgreSQL, through a forwarder; yields (server URL, forwarder)."""
    if not app_database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server going away; SQLite: the test above")
    require_pg()
    url = make_url(app_database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = make_settings(through, tmp_path, 0, smtp_host="")
    try:
        with serving(create_app(settings), empty_afterwards=engine) as base_url:
            yield base_url, proxy
    finally:
        proxy.stop()


def test_a_database_going_away_makes_the_server_not_ready_and_is_counted(
    proxied: tuple[str, TcpProxy],
) -> None:
    base_url, proxy = proxied
    me = {"method": "GET", "route": "/api/v1/me", "status": "503"}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        headers = sign_up(client, 41)
        assert client.get("/readyz").status_code == 200
        before = scrape(client)  # the test talks to the server over loopback

        proxy.stop()
        outage = [client.get("/api/v1/me", headers=headers) for _ in range(3)]
        ready = client.get("/readyz")
        live = client.get("/livez")
        during = scrape(client)

        proxy.start()
        ready_again = client.get("/readyz")

    for response in outage:
        assert_unavailable(response)
        assert response.json()["request_id"] == response.headers["x-request-id"]
    assert_not_ready(ready, database="unavailable", job_queue="ok")
    assert live.status_code == 200
    assert (
        value(during, "coterie_http_requests_total", **me)
        - value(before, "coterie_http_requests_total", **me)
        == 3
    )
    assert ready_again.status_code == 200
