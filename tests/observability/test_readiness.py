"""`/readyz` (the database and the job queue answer), `/livez` (the process answers, whatever its
dependencies do) and `/healthz` (unchanged), against real apps; a PostgreSQL server that goes away
while a real server runs, and the metrics that count its 503s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url

from coterie.app import create_app
from tests.conftest import make_settings
from tests.fixtures.databases import require_pg
from tests.fixtures.live_server import serving
from tests.fixtures.tcp_proxy import TcpProxy
from tests.kit.assertions import assert_problem
from tests.observability.conftest import Queue, scrape, value
from tests.test_database_unavailable import assert_unavailable, sign_up


def assert_not_ready(response: httpx.Response, **checks: str) -> None:
    body = assert_problem(response, 503, "not-ready")
    assert body["checks"] == checks
    assert int(response.headers["retry-after"]) > 0
    for secret in ("postgresql", "sqlite", "redis://", "s3cret", "127.0.0.1", "queue.internal"):
        assert secret not in response.text


def test_ready_when_the_database_and_the_queue_answer(client: TestClient, queue: Queue) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "job_queue": "ok"}


def test_without_a_job_queue_readiness_is_the_database(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


def test_not_ready_while_the_job_queue_does_not_answer(client: TestClient, queue: Queue) -> None:
    queue.down = True
    down = client.get("/readyz")
    live = client.get("/livez")
    healthy = client.get("/healthz")
    queue.down = False
    back = client.get("/readyz")

    assert_not_ready(down, database="ok", job_queue="unavailable")
    assert "job queue" in down.json()["detail"]
    assert live.status_code == 200
    assert healthy.status_code == 200
    assert back.status_code == 200


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

    assert_not_ready(ready, database="unavailable")
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
    assert_not_ready(ready, database="unavailable")
    assert live.status_code == 200
    assert (
        value(during, "coterie_http_requests_total", **me)
        - value(before, "coterie_http_requests_total", **me)
        == 3
    )
    assert ready_again.status_code == 200
