"""A database that goes away while the app serves: 503 with Retry-After (problem+json on the API,
an HTML page for web pages), like /healthz, never a 500; and service resumes when it is back.

Against a real uvicorn server. On PostgreSQL the app connects through a TCP forwarder that the
test stops, as a server going down or a network failing would (new connections refused, open
ones cut). An SQLite file cannot go away like a server; what an operator meets instead is a
database another process holds the write lock on (a backup, a long migration) longer than the
busy timeout: writes then answer 503 too, while reads (and POSTs that only read) go on.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from coterie.app import create_app
from coterie.errors import database_unavailable
from tests.conftest import make_settings
from tests.fixtures.builders import PASSWORD
from tests.fixtures.databases import require_pg
from tests.fixtures.live_server import free_port, serving
from tests.fixtures.tcp_proxy import TcpProxy
from tests.kit.assertions import assert_problem
from tests.web.conftest import Browser
from tests.web.html import parse

BY_STAGE = {"kind": "opportunity", "group_by": ["stage"], "measures": [{"op": "count"}]}


def sign_up(client: httpx.Client, n: int) -> dict[str, str]:
    """Sign up company n; the headers of its admin's token."""
    response = client.post(
        "/api/v1/signup",
        json={
            "company": {"name": f"Outage {n}", "domain": f"outage-{n}.example"},
            "user": {"name": "Ada", "email": f"ada{n}@outage-{n}.example", "password": PASSWORD},
        },
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def assert_unavailable(response: httpx.Response) -> None:
    body = assert_problem(response, 503, "database-unavailable")
    assert "try again" in body["detail"].lower()
    assert int(response.headers["retry-after"]) > 0


@pytest.fixture
def proxied(
    app_database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[tuple[str, TcpProxy]]:
    """The app on PostgreSQL, through a forwarder; yields (server URL, forwarder)."""
    if not app_database_url.startswith("postgresql"):
        pytest.skip("the SQLite counterpart is test_a_locked_sqlite_database_answers_503")
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


def test_a_postgresql_server_going_away_answers_503_and_service_resumes(
    proxied: tuple[str, TcpProxy],
) -> None:
    base_url, proxy = proxied
    with httpx.Client(base_url=base_url, timeout=30) as client:
        headers = sign_up(client, 1)
        page = Browser(client)
        page.submit("/login", "/login", {"email": "ada1@outage-1.example", "password": PASSWORD})
        assert client.get("/api/v1/me", headers=headers).status_code == 200

        proxy.stop()
        me = client.get("/api/v1/me", headers=headers)
        written = client.patch("/api/v1/me", json={"name": "Ada L."}, headers=headers)
        signup = client.post("/api/v1/signup", json={"company": {}, "user": {}})
        home = client.get("/")
        health = client.get("/healthz")

        proxy.start()
        after = client.get("/api/v1/me", headers=headers)
        home_after = client.get("/")

    assert_unavailable(me)
    assert_unavailable(written)
    assert signup.status_code == 422  # validation needs no database
    assert home.status_code == 503
    assert home.headers["content-type"].startswith("text/html")
    assert int(home.headers["retry-after"]) > 0
    assert "Try again" in parse(home.text).text
    assert health.status_code == 503
    assert health.json()["database"] == "unreachable"
    assert int(health.headers["retry-after"]) > 0
    assert after.status_code == 200, after.text
    assert after.json()["user"]["name"] == "Ada"  # the write during the outage never happened
    assert home_after.status_code == 200


def test_a_postgresql_server_that_stops_answering_answers_503_in_seconds(
    proxied: tuple[str, TcpProxy],
) -> None:
    """Connections are accepted and never answered: the connect timeout (10 s unless the URL
    sets `connect_timeout`) ends the wait, instead of the system's TCP timeout (minutes)."""
    base_url, proxy = proxied
    with httpx.Client(base_url=base_url, timeout=60) as client:
        headers = sign_up(client, 3)
        proxy.stop()
        proxy.start(answer=False)
        started = time.monotonic()
        me = client.get("/api/v1/me", headers=headers)
        waited = time.monotonic() - started

    assert_unavailable(me)
    assert waited < 30


@pytest.fixture
def locked_sqlite(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The app on an SQLite database with a half-second busy timeout; yields (server URL,
    database file)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the PostgreSQL counterpart is the forwarder test")
    path = Path(make_url(database_url).database or "")
    settings = make_settings(f"sqlite:///{path}?timeout=0.5", tmp_path, 0, smtp_host="")
    with serving(create_app(settings), empty_afterwards=engine) as base_url:
        yield base_url, path


def test_a_locked_sqlite_database_answers_503_to_writes_and_serves_reads(
    locked_sqlite: tuple[str, Path],
) -> None:
    base_url, path = locked_sqlite
    with httpx.Client(base_url=base_url, timeout=30) as client:
        headers = sign_up(client, 2)
        assert client.get("/api/v1/me", headers=headers).status_code == 200  # use noted
        login = client.post(
            "/api/v1/auth/token", json={"email": "ada2@outage-2.example", "password": PASSWORD}
        )
        unused = {"Authorization": f"Bearer {login.json()['access_token']}"}

        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            written = client.patch("/api/v1/me", json={"name": "Ada L."}, headers=headers)
            read = client.get("/api/v1/me", headers=headers)
            first_use = client.get("/api/v1/me", headers=unused)  # its use cannot be noted
            report = client.post("/api/v1/reports/run", json=BY_STAGE, headers=headers)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        after = client.patch("/api/v1/me", json={"name": "Ada L."}, headers=headers)
        renamed = client.get("/api/v1/me", headers=headers)

    assert_unavailable(written)
    assert read.status_code == 200
    assert read.json()["user"]["name"] == "Ada"
    assert first_use.status_code == 200, first_use.text
    assert report.status_code == 200, report.text  # a POST that only reads takes no write lock
    assert after.status_code == 200, after.text
    assert renamed.json()["user"]["name"] == "Ada L."


def raised(engine: Engine, statement: str) -> SQLAlchemyError:
    with pytest.raises(SQLAlchemyError) as caught, engine.connect() as connection:
        connection.execute(text(statement))
    return caught.value


def test_what_counts_as_the_database_being_unavailable(engine: Engine, tmp_path: Path) -> None:
    """Real errors of both databases: unavailability (503) against a statement the database
    refused or a query that failed (500: a bug to look at, not a reason to retry)."""
    busy = create_engine(engine.url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    on_sqlite = engine.dialect.name == "sqlite"
    # SQLite: a directory cannot be opened as a database; PostgreSQL: nobody listens there
    unreachable = create_engine(
        f"sqlite:///{tmp_path}" if on_sqlite else engine.url.set(port=free_port())
    )
    try:
        with busy.connect():
            pool_exhausted = raised(busy, "SELECT 1")
        assert database_unavailable(pool_exhausted)
        assert database_unavailable(raised(unreachable, "SELECT 1"))
        assert not database_unavailable(raised(busy, "SELECT * FROM no_such_table"))
        if not on_sqlite:
            canceled = raised(busy, "SET statement_timeout = 1; SELECT pg_sleep(1)")
            assert not database_unavailable(canceled)
    finally:
        busy.dispose()
        unreachable.dispose()
