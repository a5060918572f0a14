"""POST /api/v1/auth/token and /auth/logout, bearer tokens, and the throttling of guesses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from coterie.config import Settings
from coterie.db import utcnow
from coterie.models import LoginAttempt
from tests.fixtures.builders import PASSWORD, Member, make_colleague, make_company
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_invalid, assert_problem, bearer, row_count

WRONG = "not-the-password-1"


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def fail(client: TestClient, member: Member, times: int) -> None:
    for _ in range(times):
        assert_problem(login(client, member.email, WRONG), 401, "invalid-credentials")


def test_a_password_buys_a_bearer_token(client: TestClient) -> None:
    admin = make_company(client)

    response = login(client, admin.email)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"] != admin.token
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == admin.user_id
    assert me.json()["user"]["last_login_at"] is not None


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    client: TestClient,
) -> None:
    admin = make_company(client)

    wrong = login(client, admin.email, WRONG)
    unknown = login(client, "nobody@nowhere.example", WRONG)

    assert_problem(wrong, 401, "invalid-credentials")
    assert_problem(unknown, 401, "invalid-credentials")
    per_request = {"instance": None, "request_id": None}  # each request has its own id
    assert wrong.json() | per_request == unknown.json() | per_request


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"email": "a@b.example"}, "body.password"),
        ({"password": PASSWORD}, "body.email"),
        ({"email": "a@b.example", "password": ""}, "body.password"),
        ({"email": "a@b.example", "password": PASSWORD, "remember": True}, "body.remember"),
        ({"email": "a\x00@b.example", "password": PASSWORD}, "body.email"),
    ],
)
def test_malformed_login_requests_are_422(
    client: TestClient, body: dict[str, Any], path: str
) -> None:
    assert_invalid(client.post("/api/v1/auth/token", json=body), path)


def test_logout_ends_the_token_used_and_only_that_one(client: TestClient) -> None:
    admin = make_company(client)
    other_session = login(client, admin.email).json()["access_token"]

    response = client.post("/api/v1/auth/logout", headers=admin.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(client.get("/api/v1/me", headers=admin.headers), 401, "unauthenticated")
    assert_problem(
        client.post("/api/v1/auth/logout", headers=admin.headers), 401, "unauthenticated"
    )
    assert client.get("/api/v1/me", headers=bearer(other_session)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer ctl_not-a-real-token"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "garbage"},
    ],
)
def test_a_missing_or_unknown_bearer_is_401_with_a_challenge(
    client: TestClient, headers: dict[str, str]
) -> None:
    make_company(client)

    response = client.get("/api/v1/me", headers=headers)

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_bearer_scheme_is_case_insensitive(client: TestClient) -> None:
    admin = make_company(client)

    response = client.get("/api/v1/me", headers={"Authorization": f"bearer {admin.token}"})

    assert response.status_code == 200, response.text


def test_a_deactivated_users_tokens_stop_working(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, inbox=inbox)
    second_login = login(client, member.email).json()["access_token"]

    client.patch(
        f"/api/v1/users/{member.user_id}", json={"is_active": False}, headers=admin.headers
    )

    for token in (member.token, second_login):
        assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthenticated")
    assert_problem(login(client, member.email), 401, "invalid-credentials")


def test_five_failures_lock_the_account_even_for_the_right_password(
    client: TestClient, settings: Settings
) -> None:
    admin = make_company(client)
    fail(client, admin, settings.login_failures_per_account)

    response = login(client, admin.email)

    body = assert_problem(response, 429, "too-many-login-attempts")
    assert response.headers["retry-after"] == str(settings.login_throttle_window_minutes * 60)
    assert "reset your password" in body["detail"]
    # tokens issued before are not affected
    assert client.get("/api/v1/me", headers=admin.headers).status_code == 200


def test_four_failures_do_not_lock_the_account(client: TestClient, settings: Settings) -> None:
    admin = make_company(client)
    fail(client, admin, settings.login_failures_per_account - 1)

    assert login(client, admin.email).status_code == 200


def test_a_locked_account_does_not_lock_other_accounts(
    client: TestClient, settings: Settings
) -> None:
    locked = make_company(client)
    other = make_company(client)
    fail(client, locked, settings.login_failures_per_account)

    assert_problem(login(client, locked.email), 429, "too-many-login-attempts")
    assert login(client, other.email).status_code == 200


def test_the_email_case_does_not_dodge_the_lock(client: TestClient, settings: Settings) -> None:
    admin = make_company(client)
    for n in range(settings.login_failures_per_account):
        email = admin.email.upper() if n % 2 else admin.email
        assert_problem(login(client, email, WRONG), 401, "invalid-credentials")

    assert_problem(login(client, admin.email), 429, "too-many-login-attempts")


def test_a_success_resets_the_accounts_failure_count(
    client: TestClient, settings: Settings
) -> None:
    admin = make_company(client)
    limit = settings.login_failures_per_account
    fail(client, admin, limit - 1)
    assert login(client, admin.email).status_code == 200

    fail(client, admin, limit - 1)

    assert login(client, admin.email).status_code == 200  # 8 failures in the window by now
    fail(client, admin, limit)
    assert_problem(login(client, admin.email), 429, "too-many-login-attempts")


def test_the_lock_lifts_when_the_failures_leave_the_window(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    admin = make_company(client)
    fail(client, admin, settings.login_failures_per_account)
    assert_problem(login(client, admin.email), 429, "too-many-login-attempts")

    window = timedelta(minutes=settings.login_throttle_window_minutes, seconds=1)
    with engine.begin() as conn:
        conn.execute(update(LoginAttempt).values(created_at=utcnow() - window))

    assert login(client, admin.email).status_code == 200


def test_twenty_failures_from_one_address_lock_it_across_accounts(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    per_account = settings.login_failures_per_account - 1  # no account reaches its own limit
    accounts = [make_company(client) for _ in range(6)]
    failures = 0
    for account in accounts:
        take = min(per_account, settings.login_failures_per_address - failures)
        fail(client, account, take)
        failures += take
    assert failures == settings.login_failures_per_address
    attempts = row_count(engine, "login_attempts")

    fresh = make_company(client)
    response = login(client, fresh.email)

    assert_problem(response, 429, "too-many-login-attempts")
    assert "retry-after" in response.headers
    assert row_count(engine, "login_attempts") == attempts  # refused before any password check


def test_a_throttled_unknown_email_gets_the_same_429(
    client: TestClient, settings: Settings
) -> None:
    settings.login_failures_per_account = 1  # unknown e-mails are checked at full argon2 cost

    assert_problem(login(client, "ghost@nowhere.example", WRONG), 401, "invalid-credentials")

    assert_problem(login(client, "ghost@nowhere.example", WRONG), 429, "too-many-login-attempts")
