"""Simultaneous signups with one e-mail address, against `coterie serve` (uvicorn's thread pool,
and two worker processes): exactly one account, every other request a clear 409, never a 500.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie import migrate
from coterie.db import make_engine
from coterie.models import Company, User
from tests.fixtures.builders import PASSWORD
from tests.fixtures.databases import app_role_url, fresh_database
from tests.fixtures.live_server import coterie_serve

pytestmark = pytest.mark.slow
EMAIL = "ada@race.example"
ATTEMPTS = 10


def concurrently(base_url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """POST every body to /api/v1/signup at the same moment, each on its own connection."""
    start = threading.Barrier(len(bodies))

    def post(body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/healthz")  # connected before the barrier
            start.wait()
            return client.post("/api/v1/signup", json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def signup(n: int, email: str = EMAIL) -> dict[str, Any]:
    return {
        "company": {"name": f"Racer {n}", "domain": f"racer-{n}.example"},
        "user": {"name": f"Ada {n}", "email": email, "password": PASSWORD},
    }


@pytest.fixture(
    params=[("sqlite", 1), ("sqlite", 2), ("postgresql", 2)],
    ids=["sqlite-threads", "sqlite-2-workers", "postgresql-2-workers"],
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the server's URL, the database's owner URL)."""
    kind, workers = request.param
    with fresh_database(kind, tmp_path) as url:
        migrate.upgrade(url)
        with (
            app_role_url(url) as app_url,
            coterie_serve(app_url, tmp_path, workers=workers) as base,
        ):
            yield base, url


def counts(database_url: str) -> tuple[int, int]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            users = session.scalar(select(func.count()).where(User.email == EMAIL)) or 0
            companies = session.scalar(select(func.count()).select_from(Company)) or 0
            return users, companies
    finally:
        engine.dispose()


def test_ten_simultaneous_signups_with_one_email_make_one_account(
    server: tuple[str, str],
) -> None:
    base_url, database_url = server

    responses = concurrently(base_url, [signup(n) for n in range(ATTEMPTS)])

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: ATTEMPTS - 1}, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            body = response.json()
            assert body["type"] == "/problems/email-taken", body
            assert EMAIL in body["detail"]
    assert counts(database_url) == (1, 1)  # no company left behind by a losing signup
    (winner,) = [r for r in responses if r.status_code == 201]
    with httpx.Client(base_url=base_url) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {winner.json()['token']}"})
    assert me.json()["user"]["email"] == EMAIL
