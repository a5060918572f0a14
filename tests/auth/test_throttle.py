"""Login throttling cannot be turned against everyone: each budget locks the narrowest thing that
explains the failures (an address, an account from an address, an account from new addresses),
and one address's failures never lock another address out (coterie.auth.throttle).

Clients at different addresses are test clients with their own peer address; the real server
with a reverse proxy in front is in tests/test_trusted_proxies.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from coterie.config import Settings
from coterie.db import utcnow
from coterie.models import LoginAttempt
from tests.auth.test_passwords import NEW_PASSWORD, confirm, reset_token
from tests.fixtures.builders import PASSWORD, Member, make_company
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_problem

WRONG = "not-the-password-1"
At = Callable[[str], TestClient]


@pytest.fixture
def at(app: FastAPI, client: TestClient) -> Iterator[At]:
    """Test clients connecting from the given address (`client` empties the tables after)."""
    opened: list[TestClient] = []

    def make(address: str) -> TestClient:
        other = TestClient(app, base_url="http://testserver", client=(address, 50000))
        opened.append(other)
        return other

    yield make
    for other in opened:
        other.close()


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        assert_problem(login(client, email, WRONG), 401, "invalid-credentials")


def test_an_accounts_failures_from_one_address_do_not_lock_it_elsewhere(
    at: At, client: TestClient, settings: Settings, engine: Engine
) -> None:
    admin = make_company(client)
    attacker, owner = at("198.51.100.66"), at("203.0.113.10")
    fail(attacker, admin.email, settings.login_failures_per_account)

    refused = login(attacker, admin.email)  # even with the right password

    body = assert_problem(refused, 429, "too-many-login-attempts")
    assert "for this account from this address" in body["detail"]
    assert login(owner, admin.email).status_code == 200
    with engine.connect() as connection:
        addresses = set(connection.scalars(select(LoginAttempt.address)))
    assert addresses == {"198.51.100.66", "203.0.113.10"}


def test_an_address_over_its_budget_is_refused_for_every_account_and_only_it(
    at: At, client: TestClient, settings: Settings
) -> None:
    sprayer, colleague = at("198.51.100.66"), at("203.0.113.10")
    per_account = settings.login_failures_per_account - 1  # no account reaches its own budget
    failures = 0
    while failures < settings.login_failures_per_address:
        take = min(per_account, settings.login_failures_per_address - failures)
        fail(sprayer, make_company(client).email, take)
        failures += take
    fresh = make_company(client)

    refused = login(sprayer, fresh.email)

    assert "from this address" in assert_problem(refused, 429, "too-many-login-attempts")["detail"]
    assert login(colleague, fresh.email).status_code == 200


def distributed_guess(at: At, member: Member, settings: Settings) -> None:
    """Failures for one account from many addresses, none reaching its per-address budget."""
    per_address = settings.login_failures_per_account - 1
    failures, n = 0, 0
    while failures < settings.login_failures_per_account_all_addresses:
        take = min(per_address, settings.login_failures_per_account_all_addresses - failures)
        n += 1
        fail(at(f"198.51.100.{n}"), member.email, take)
        failures += take


def test_a_distributed_guess_locks_the_account_from_new_addresses_only(
    at: At, client: TestClient, settings: Settings
) -> None:
    admin = make_company(client)
    office, elsewhere = at("203.0.113.10"), at("192.0.2.44")
    assert login(office, admin.email).status_code == 200  # the owner's usual address
    distributed_guess(at, admin, settings)

    from_new_address = login(elsewhere, admin.email)

    body = assert_problem(from_new_address, 429, "too-many-login-attempts")
    assert "addresses it has not signed in from" in body["detail"]
    assert login(office, admin.email).status_code == 200


def test_an_address_known_long_ago_is_new_again(
    at: At, client: TestClient, settings: Settings, engine: Engine
) -> None:
    admin = make_company(client)
    office = at("203.0.113.10")
    assert login(office, admin.email).status_code == 200
    long_ago = utcnow() - timedelta(days=settings.login_known_address_days, hours=1)
    with engine.begin() as connection:
        connection.execute(update(LoginAttempt).values(created_at=long_ago))
    distributed_guess(at, admin, settings)

    assert_problem(login(office, admin.email), 429, "too-many-login-attempts")


def test_a_password_reset_makes_its_address_known(
    at: At, client: TestClient, settings: Settings, inbox: Inbox
) -> None:
    admin = make_company(client)
    travelling = at("192.0.2.44")
    distributed_guess(at, admin, settings)
    assert_problem(login(travelling, admin.email), 429, "too-many-login-attempts")

    assert confirm(travelling, reset_token(travelling, inbox, admin.email)).status_code == 204

    assert login(travelling, admin.email, NEW_PASSWORD).status_code == 200


def test_an_unknown_account_is_throttled_like_a_real_one(
    at: At, client: TestClient, settings: Settings
) -> None:
    admin = make_company(client)
    ghost = Member("", "", "", "ghost@nowhere.example")
    distributed_guess(at, admin, settings)
    distributed_guess(at, ghost, settings)

    real = login(at("192.0.2.44"), admin.email, WRONG)
    unknown = login(at("192.0.2.44"), ghost.email, WRONG)

    assert real.status_code == unknown.status_code == 429
    assert real.json()["detail"] == unknown.json()["detail"]
