"""X-Forwarded-For names the client only when the connecting peer is a trusted proxy
(COTERIE_TRUSTED_PROXIES): then each user behind the proxy keeps their own login budget; from
anyone else the header is ignored, so it cannot be used to dodge or aim the throttling.

Against a real uvicorn server on loopback: the test plays the reverse proxy at 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from coterie.app import create_app
from coterie.config import Settings
from coterie.models import LoginAttempt
from tests.conftest import make_settings
from tests.fixtures.builders import PASSWORD
from tests.fixtures.live_server import serving
from tests.kit.assertions import assert_problem

WRONG = "not-the-password-1"
LIMIT = Settings.model_fields["login_failures_per_account"].default


@pytest.fixture(params=["", "127.0.0.1", "10.0.0.0/8, 127.0.0.0/8"], ids=["none", "ip", "cidr"])
def server(
    request: pytest.FixtureRequest, app_database_url: str, engine: Engine, tmp_path: Path
) -> Iterator[tuple[str, bool]]:
    """(server URL, whether loopback is a trusted proxy)."""
    settings = make_settings(app_database_url, tmp_path, 0, trusted_proxies=request.param)
    with serving(create_app(settings), empty_afterwards=engine) as base_url:
        yield base_url, bool(request.param)


def sign_up(client: httpx.Client) -> str:
    email = "ada@proxied.example"
    response = client.post(
        "/api/v1/signup",
        json={
            "company": {"name": "Proxied", "domain": "proxied.example"},
            "user": {"name": "Ada", "email": email, "password": PASSWORD},
        },
    )
    assert response.status_code == 201, response.text
    return email


def login(client: httpx.Client, email: str, password: str, forwarded_for: str) -> httpx.Response:
    return client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


def recorded_addresses(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(LoginAttempt.address)))


def test_forwarded_for_is_believed_from_a_trusted_proxy_only(
    server: tuple[str, bool], engine: Engine
) -> None:
    base_url, trusted = server
    with httpx.Client(base_url=base_url, timeout=30) as client:
        email = sign_up(client)
        for _ in range(LIMIT):
            failed = login(client, email, WRONG, "198.51.100.66")
            assert_problem(failed, 401, "invalid-credentials")
        attacker = login(client, email, PASSWORD, "198.51.100.66")
        owner = login(client, email, PASSWORD, "203.0.113.10")

    assert_problem(attacker, 429, "too-many-login-attempts")
    if trusted:
        assert owner.status_code == 200, owner.text  # another user behind the proxy
        assert recorded_addresses(engine) == {"198.51.100.66", "203.0.113.10"}
    else:
        assert_problem(owner, 429, "too-many-login-attempts")  # the header changes nothing
        assert recorded_addresses(engine) == {"127.0.0.1"}


def test_a_client_cannot_pick_its_address_through_a_trusted_proxy(
    server: tuple[str, bool], engine: Engine
) -> None:
    """A proxy appends the peer it saw; what the client wrote before that is not believed."""
    base_url, trusted = server
    if not trusted:
        pytest.skip("no proxy is trusted")
    with httpx.Client(base_url=base_url, timeout=30) as client:
        email = sign_up(client)
        failed = login(client, email, WRONG, "203.0.113.10, 198.51.100.66")

    assert failed.status_code == 401
    assert recorded_addresses(engine) == {"198.51.100.66"}


def test_an_invalid_trusted_proxy_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"'proxy\.internal' is not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1, proxy.internal")
