"""GET/PATCH /api/v1/me and /api/v1/me/preferences: who I am, and my own settings."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague, make_company
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_invalid, assert_problem

DEFAULT_PREFERENCES = {
    "hide_private_fields": False,
    "email_notifications": "immediate",
    "timezone": "UTC",
}


def test_me_shows_the_caller_its_company_and_default_preferences(client: TestClient) -> None:
    admin = make_company(client, "Initech", industry="software")

    response = client.get("/api/v1/me", headers=admin.headers)

    assert response.status_code == 200, response.text
    me = response.json()
    assert me["user"]["id"] == admin.user_id
    assert me["user"]["email"] == admin.email
    assert me["user"]["title"] == ""
    assert me["company"]["id"] == admin.company_id
    assert me["company"]["name"] == "Initech"
    assert me["company"]["industry"] == "software"
    assert me["preferences"] == DEFAULT_PREFERENCES
    assert "password_hash" not in me["user"]


def test_me_needs_a_token(client: TestClient) -> None:
    response = client.get("/api/v1/me")

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_patch_me_changes_my_name_and_title(client: TestClient) -> None:
    admin = make_company(client)

    response = client.patch(
        "/api/v1/me",
        json={"name": "  Grace Hopper ", "title": "VP Alliances"},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Grace Hopper"
    user = client.get("/api/v1/me", headers=admin.headers).json()["user"]
    assert (user["name"], user["title"]) == ("Grace Hopper", "VP Alliances")


def test_patch_me_leaves_fields_that_are_not_sent(client: TestClient) -> None:
    admin = make_company(client)
    client.patch("/api/v1/me", json={"title": "CTO"}, headers=admin.headers)

    client.patch("/api/v1/me", json={"name": "Grace"}, headers=admin.headers)

    user = client.get("/api/v1/me", headers=admin.headers).json()["user"]
    assert (user["name"], user["title"]) == ("Grace", "CTO")


def test_patch_me_cannot_change_my_role_or_email(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, "member", inbox=inbox)

    role = client.patch("/api/v1/me", json={"role": "admin"}, headers=member.headers)
    email = client.patch("/api/v1/me", json={"email": "x@evil.example"}, headers=member.headers)
    empty = client.patch("/api/v1/me", json={"name": ""}, headers=member.headers)

    assert_invalid(role, "body.role")
    assert_invalid(email, "body.email")
    assert_invalid(empty, "body.name")
    user = client.get("/api/v1/me", headers=member.headers).json()["user"]
    assert (user["role"], user["email"]) == ("member", member.email)


def test_hide_private_fields_persists(client: TestClient) -> None:
    admin = make_company(client)

    response = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    expected = {**DEFAULT_PREFERENCES, "hide_private_fields": True}
    assert response.json() == expected
    assert client.get("/api/v1/me/preferences", headers=admin.headers).json() == expected
    assert client.get("/api/v1/me", headers=admin.headers).json()["preferences"] == expected


def test_preference_changes_merge_and_can_be_switched_back(client: TestClient) -> None:
    admin = make_company(client)
    client.patch(
        "/api/v1/me/preferences",
        json={"hide_private_fields": True, "timezone": "Europe/Paris"},
        headers=admin.headers,
    )

    client.patch(
        "/api/v1/me/preferences", json={"email_notifications": "daily"}, headers=admin.headers
    )
    client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": False}, headers=admin.headers
    )

    assert client.get("/api/v1/me/preferences", headers=admin.headers).json() == {
        "hide_private_fields": False,
        "email_notifications": "daily",
        "timezone": "Europe/Paris",
    }


def test_preferences_belong_to_one_user(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    colleague = make_colleague(client, admin, inbox=inbox)

    client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=admin.headers
    )

    theirs = client.get("/api/v1/me/preferences", headers=colleague.headers).json()
    assert theirs == DEFAULT_PREFERENCES


def test_invalid_preferences_are_refused_and_change_nothing(client: TestClient) -> None:
    admin = make_company(client)
    client.patch("/api/v1/me/preferences", json={"timezone": "Asia/Tokyo"}, headers=admin.headers)

    unknown = client.patch("/api/v1/me/preferences", json={"theme": "dark"}, headers=admin.headers)
    timezone = client.patch(
        "/api/v1/me/preferences",
        json={"timezone": "Mars/Olympus_Mons", "hide_private_fields": True},
        headers=admin.headers,
    )
    notifications = client.patch(
        "/api/v1/me/preferences", json={"email_notifications": "hourly"}, headers=admin.headers
    )
    not_a_bool = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": "maybe"}, headers=admin.headers
    )

    assert_invalid(unknown, "body.theme")
    assert_invalid(timezone, "body.timezone")
    assert_invalid(notifications, "body.email_notifications")
    assert_invalid(not_a_bool, "body.hide_private_fields")
    assert client.get("/api/v1/me/preferences", headers=admin.headers).json() == {
        **DEFAULT_PREFERENCES,
        "timezone": "Asia/Tokyo",
    }
