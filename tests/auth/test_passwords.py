"""Changing my password, and resetting a forgotten one through a link sent by e-mail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from coterie.config import Settings
from tests.fixtures.builders import PASSWORD, Member, make_colleague, make_company
from tests.fixtures.smtp import Inbox, link_in, text_of, token_in
from tests.kit.assertions import assert_invalid, assert_problem, bearer, row_counts
from tests.kit.signing import backdated

NEW_PASSWORD = "Quiet-Harbor-Lantern-42"
RESET_PATH = "/password-reset/confirm"


def login(client: TestClient, email: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def change(client: TestClient, who: Member, current: str, new: str) -> Any:
    return client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers=who.headers,
    )


def reset_token(client: TestClient, inbox: Inbox, email: str) -> str:
    response = client.post("/api/v1/auth/password-reset", json={"email": email})
    assert response.status_code == 202, response.text
    return token_in(inbox.wait_for(email), RESET_PATH)


def confirm(client: TestClient, token: str, password: str = NEW_PASSWORD) -> Any:
    return client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": password}
    )


def test_changing_my_password(client: TestClient) -> None:
    admin = make_company(client)

    response = change(client, admin, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 204, response.text
    assert_problem(login(client, admin.email, PASSWORD), 401, "invalid-credentials")
    assert login(client, admin.email, NEW_PASSWORD).status_code == 200


def test_a_password_change_signs_out_every_login_but_keeps_api_tokens(
    client: TestClient,
) -> None:
    admin = make_company(client)
    other_login = login(client, admin.email, PASSWORD).json()["access_token"]
    personal = client.post("/api/v1/tokens", json={"name": "ci"}, headers=admin.headers).json()

    assert change(client, admin, PASSWORD, NEW_PASSWORD).status_code == 204

    for token in (admin.token, other_login):
        assert_problem(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthenticated")
    assert client.get("/api/v1/me", headers=bearer(personal["token"])).status_code == 200


def test_a_wrong_current_password_changes_nothing(client: TestClient, engine: Engine) -> None:
    admin = make_company(client)
    before = row_counts(engine, except_tables=("login_attempts",))

    response = change(client, admin, "not-my-password-9", NEW_PASSWORD)

    assert_invalid(response, "body.current_password")
    assert row_counts(engine, except_tables=("login_attempts",)) == before
    assert login(client, admin.email, PASSWORD).status_code == 200
    assert client.get("/api/v1/me", headers=admin.headers).status_code == 200


def test_guessing_the_current_password_is_throttled_like_logins(
    client: TestClient, settings: Settings
) -> None:
    admin = make_company(client)  # as if its token were stolen: the password is the next prize
    for _ in range(settings.login_failures_per_account):
        assert_invalid(change(client, admin, "a-guess-1234", NEW_PASSWORD), "body.current_password")

    response = change(client, admin, PASSWORD, NEW_PASSWORD)

    assert_problem(response, 429, "too-many-login-attempts")
    assert "retry-after" in response.headers
    assert_problem(login(client, admin.email, PASSWORD), 429, "too-many-login-attempts")


@pytest.mark.parametrize("weak", ["short", "password123", "aaaaaaaaaaaaaaaa"])
def test_a_weak_new_password_changes_nothing(client: TestClient, engine: Engine, weak: str) -> None:
    admin = make_company(client)
    before = row_counts(engine)

    response = change(client, admin, PASSWORD, weak)

    assert_invalid(response, "body.new_password", slug="weak-password")
    assert row_counts(engine) == before
    assert login(client, admin.email, PASSWORD).status_code == 200


def test_a_new_password_made_of_my_own_details_is_weak(client: TestClient) -> None:
    admin = make_company(client, "Quantum Widgets", domain="quantum-widgets.example")

    response = change(client, admin, PASSWORD, "quantumwidgets")

    assert_invalid(response, "body.new_password", slug="weak-password")


def test_a_reset_link_is_mailed_for_a_known_email_only(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)

    known = client.post("/api/v1/auth/password-reset", json={"email": admin.email.upper()})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "ghost@nowhere.example"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    mail = inbox.wait_for(admin.email)
    assert link_in(mail, RESET_PATH).startswith("http://testserver/password-reset/confirm?token=")
    assert inbox.to("ghost@nowhere.example") == []
    assert len(inbox.messages) == 1


def test_a_deactivated_user_gets_no_reset_link(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, inbox=inbox)
    client.patch(
        f"/api/v1/users/{member.user_id}", json={"is_active": False}, headers=admin.headers
    )
    inbox.clear()

    response = client.post("/api/v1/auth/password-reset", json={"email": member.email})

    assert response.status_code == 202
    assert inbox.to(member.email) == []


def test_the_reset_link_sets_a_new_password_and_signs_out(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    token = reset_token(client, inbox, admin.email)

    response = confirm(client, token)

    assert response.status_code == 204, response.text
    assert_problem(login(client, admin.email, PASSWORD), 401, "invalid-credentials")
    assert login(client, admin.email, NEW_PASSWORD).status_code == 200
    assert_problem(client.get("/api/v1/me", headers=admin.headers), 401, "unauthenticated")


def test_a_reset_link_works_once(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    token = reset_token(client, inbox, admin.email)
    assert confirm(client, token).status_code == 204

    again = confirm(client, token, "Another-Fine-Password-7")

    assert_problem(again, 400, "token-used")
    assert login(client, admin.email, NEW_PASSWORD).status_code == 200


def test_an_older_link_dies_when_the_password_changes(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    first = reset_token(client, inbox, admin.email)
    inbox.clear()
    second = reset_token(client, inbox, admin.email)
    assert confirm(client, second).status_code == 204

    assert_problem(confirm(client, first, "Another-Fine-Password-7"), 400, "token-used")


@pytest.mark.parametrize(
    "token", ["garbage", "", "a.b.c", "eyJ1IjoiMSJ9.ZZZZZZ.ZZZZZZZZZZZZZZZZZZZZZZZZZZ"]
)
def test_a_garbage_reset_token_is_invalid(client: TestClient, token: str) -> None:
    make_company(client)

    response = confirm(client, token)

    if token == "":
        assert_invalid(response, "body.token")
    else:
        assert_problem(response, 400, "token-invalid")


def test_a_tampered_reset_token_is_invalid(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    token = reset_token(client, inbox, admin.email)

    assert_problem(confirm(client, token[:-3] + "abc"), 400, "token-invalid")
    assert login(client, admin.email, PASSWORD).status_code == 200


def test_an_invitation_token_is_no_reset_token(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    client.post(
        "/api/v1/invitations", json={"email": "new@colleagues.example"}, headers=admin.headers
    )
    invitation = token_in(inbox.wait_for("new@colleagues.example"), "/invitations/accept")

    assert_problem(confirm(client, invitation), 400, "token-invalid")


def test_an_expired_reset_link_is_refused(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)
    token = reset_token(client, inbox, admin.email)
    lifetime = timedelta(minutes=settings.password_reset_ttl_minutes)

    just_in_time = backdated(
        token, settings.secret(), "password-reset", lifetime - timedelta(seconds=30)
    )
    too_late = backdated(
        token, settings.secret(), "password-reset", lifetime + timedelta(seconds=5)
    )

    assert_problem(confirm(client, too_late), 400, "token-expired")
    assert login(client, admin.email, PASSWORD).status_code == 200
    assert confirm(client, just_in_time).status_code == 204


def test_a_link_dies_when_its_user_is_deactivated(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, inbox=inbox)
    token = reset_token(client, inbox, member.email)
    client.patch(
        f"/api/v1/users/{member.user_id}", json={"is_active": False}, headers=admin.headers
    )

    assert_problem(confirm(client, token), 400, "token-invalid")


def test_a_weak_reset_password_keeps_the_link_usable(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    token = reset_token(client, inbox, admin.email)
    before = row_counts(engine)

    assert_invalid(confirm(client, token, "password1"), "body.password", slug="weak-password")
    assert row_counts(engine) == before
    assert confirm(client, token).status_code == 204


def test_a_reset_lifts_a_login_lock_as_the_429_promises(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)
    for _ in range(settings.login_failures_per_account):
        login(client, admin.email, "wrong-guess-123")
    locked = login(client, admin.email, PASSWORD)
    assert "reset your password" in assert_problem(locked, 429, "too-many-login-attempts")["detail"]

    assert confirm(client, reset_token(client, inbox, admin.email)).status_code == 204

    assert login(client, admin.email, NEW_PASSWORD).status_code == 200


def test_the_reset_email_says_how_long_the_link_works(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)

    reset_token(client, inbox, admin.email)

    assert f"{settings.password_reset_ttl_minutes} minutes" in text_of(inbox.wait_for(admin.email))


def test_a_reset_request_needs_a_valid_email(client: TestClient, inbox: Inbox) -> None:
    response = client.post("/api/v1/auth/password-reset", json={"email": "not an email"})

    assert_invalid(response, "body.email")
    assert inbox.messages == []
