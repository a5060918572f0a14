"""Personal API tokens: created with the secret shown once, listed without it, revoked, expiring."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, update

from coterie.db import utcnow
from coterie.models import AuthToken
from tests.fixtures.builders import Member, make_colleague, make_company
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_invalid, assert_problem, bearer, row_counts


def create(client: TestClient, owner: Member, **body: Any) -> Any:
    return client.post(
        "/api/v1/tokens", json={"name": "CI pipeline", **body}, headers=owner.headers
    )


def listed(client: TestClient, owner: Member) -> list[dict[str, Any]]:
    response = client.get("/api/v1/tokens", headers=owner.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def test_a_personal_token_is_shown_once_and_works(client: TestClient) -> None:
    admin = make_company(client)

    response = create(client, admin)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "CI pipeline"
    assert created["token"].startswith("ctp_")
    assert created["token"].startswith(created["prefix"])
    assert created["expires_at"] is None
    me = client.get("/api/v1/me", headers=bearer(created["token"]))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == admin.user_id


def test_the_list_never_shows_the_secret(client: TestClient) -> None:
    admin = make_company(client)
    created = create(client, admin).json()

    (item,) = listed(client, admin)

    assert item["id"] == created["id"]
    assert item["prefix"] == created["prefix"]
    assert item["name"] == "CI pipeline"
    assert item["created_at"] == created["created_at"]
    assert "token" not in item
    assert created["token"] not in client.get("/api/v1/tokens", headers=admin.headers).text


def test_the_secret_is_not_stored(client: TestClient, engine: Engine) -> None:
    admin = make_company(client)
    secret = create(client, admin).json()["token"]

    with engine.connect() as conn:
        stored = conn.execute(select(AuthToken.token_hash, AuthToken.prefix)).all()

    assert all(secret != token_hash and secret not in token_hash for token_hash, _ in stored)


def test_last_used_at_is_set_after_use(client: TestClient) -> None:
    admin = make_company(client)
    created = create(client, admin).json()
    assert listed(client, admin)[0]["last_used_at"] is None

    client.get("/api/v1/me", headers=bearer(created["token"]))

    last_used = listed(client, admin)[0]["last_used_at"]
    assert last_used is not None
    assert datetime.fromisoformat(last_used) >= datetime.fromisoformat(created["created_at"])


def test_tokens_are_listed_newest_first(client: TestClient) -> None:
    admin = make_company(client)
    names = ["first", "second", "third"]
    for name in names:
        create(client, admin, name=name)

    assert [t["name"] for t in listed(client, admin)] == names[::-1]


def test_a_revoked_token_stops_working_and_leaves_the_list(client: TestClient) -> None:
    admin = make_company(client)
    kept = create(client, admin, name="kept").json()
    revoked = create(client, admin, name="revoked").json()

    response = client.delete(f"/api/v1/tokens/{revoked['id']}", headers=admin.headers)

    assert response.status_code == 204, response.text
    assert_problem(
        client.get("/api/v1/me", headers=bearer(revoked["token"])), 401, "unauthenticated"
    )
    assert client.get("/api/v1/me", headers=bearer(kept["token"])).status_code == 200
    assert [t["name"] for t in listed(client, admin)] == ["kept"]
    # revoking twice is harmless
    again = client.delete(f"/api/v1/tokens/{revoked['id']}", headers=admin.headers)
    assert again.status_code == 204


def test_a_token_can_revoke_itself(client: TestClient) -> None:
    admin = make_company(client)
    created = create(client, admin).json()

    response = client.delete(f"/api/v1/tokens/{created['id']}", headers=bearer(created["token"]))

    assert response.status_code == 204
    assert_problem(
        client.get("/api/v1/me", headers=bearer(created["token"])), 401, "unauthenticated"
    )


def test_another_users_token_is_404_even_in_my_company(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    colleague = make_colleague(client, admin, inbox=inbox)
    stranger = make_company(client)
    theirs = create(client, colleague).json()
    before = row_counts(engine)

    for caller in (admin, stranger):
        response = client.delete(f"/api/v1/tokens/{theirs['id']}", headers=caller.headers)
        assert_problem(response, 404, "not-found")
        assert listed(client, caller) == []
    assert row_counts(engine) == before
    assert client.get("/api/v1/me", headers=bearer(theirs["token"])).status_code == 200


def test_login_tokens_are_not_personal_tokens(client: TestClient, engine: Engine) -> None:
    admin = make_company(client)
    with engine.connect() as conn:
        login_token_id = conn.scalar(select(AuthToken.id).where(AuthToken.kind == "login"))

    response = client.delete(f"/api/v1/tokens/{login_token_id}", headers=admin.headers)

    assert_problem(response, 404, "not-found")
    assert listed(client, admin) == []
    assert client.get("/api/v1/me", headers=admin.headers).status_code == 200


def test_unknown_and_malformed_token_ids(client: TestClient) -> None:
    admin = make_company(client)

    assert_problem(
        client.delete(f"/api/v1/tokens/{uuid.uuid4()}", headers=admin.headers), 404, "not-found"
    )
    assert_invalid(client.delete("/api/v1/tokens/123", headers=admin.headers), "path.token_id")


def test_a_token_with_an_expiry_works_until_it_expires(client: TestClient, engine: Engine) -> None:
    admin = make_company(client)
    created = create(client, admin, expires_in_days=30).json()
    expires_at = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=29, hours=23) < expires_at - utcnow() <= timedelta(days=30)
    assert client.get("/api/v1/me", headers=bearer(created["token"])).status_code == 200

    with engine.begin() as conn:
        conn.execute(
            update(AuthToken)
            .where(AuthToken.id == uuid.UUID(created["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    response = client.get("/api/v1/me", headers=bearer(created["token"]))
    assert_problem(response, 401, "unauthenticated")


def test_an_expired_login_token_is_rejected(client: TestClient, engine: Engine) -> None:
    admin = make_company(client)

    with engine.begin() as conn:
        conn.execute(update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    assert_problem(client.get("/api/v1/me", headers=admin.headers), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": ""}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"name": "n" * 101}, "body.name"),
        ({"name": "ci\x00"}, "body.name"),
        ({"name": "ci", "expires_in_days": 0}, "body.expires_in_days"),
        ({"name": "ci", "expires_in_days": 3651}, "body.expires_in_days"),
        ({"name": "ci", "scopes": ["admin"]}, "body.scopes"),
        ({}, "body.name"),
    ],
)
def test_invalid_token_requests_are_refused(
    client: TestClient, engine: Engine, body: dict[str, Any], path: str
) -> None:
    admin = make_company(client)
    before = row_counts(engine)

    response = client.post("/api/v1/tokens", json=body, headers=admin.headers)

    assert_invalid(response, path)
    assert row_counts(engine) == before


def test_token_routes_need_a_token(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/tokens"), 401, "unauthenticated")
    assert_problem(client.post("/api/v1/tokens", json={"name": "x"}), 401, "unauthenticated")


def test_noting_a_tokens_use_survives_a_write_committed_meanwhile(
    client: TestClient, engine: Engine
) -> None:
    """A GET notes when its token was last used. Another request's write committed between the
    GET's read of the token and that note must not fail the GET (on SQLite, a transaction that
    read and then writes after another writer committed fails with "database is locked")."""
    admin = make_company(client)
    other = make_company(client)
    an_hour_ago = utcnow() - timedelta(hours=1)
    with engine.begin() as connection:
        connection.execute(update(AuthToken).values(last_used_at=an_hour_ago))
    injected = []

    def commit_a_write_first(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE auth_tokens") and not injected:
            injected.append(statement)
            with engine.begin() as meanwhile:  # another request's write, on its own connection
                meanwhile.execute(
                    update(AuthToken)
                    .where(AuthToken.user_id == uuid.UUID(other.user_id))
                    .values(name="meanwhile")
                )

    event.listen(engine, "before_cursor_execute", commit_a_write_first)
    try:
        response = client.get("/api/v1/me", headers=admin.headers)
    finally:
        event.remove(engine, "before_cursor_execute", commit_a_write_first)

    assert injected
    assert response.status_code == 200, response.text
    with engine.connect() as connection:
        used = connection.scalar(
            select(AuthToken.last_used_at).where(AuthToken.user_id == uuid.UUID(admin.user_id))
        )
    assert used is not None
    assert used > an_hour_ago
