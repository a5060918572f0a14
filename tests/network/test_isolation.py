"""Tenant isolation: a company never sees another company's members, invitations, tokens, audit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.smtp import Inbox


def every(client: TestClient, member: Member, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=params, headers=member.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def busy_company(client: TestClient, inbox: Inbox, name: str) -> tuple[Member, Member, str, str]:
    """A company with a colleague, a pending invitation and a personal token."""
    admin = make_company(client, name)
    colleague = make_colleague(client, admin, "manager", inbox=inbox)
    invitation = client.post(
        "/api/v1/invitations",
        json={"email": f"pending@{name.lower()}.example"},
        headers=admin.headers,
    ).json()["id"]
    token = client.post("/api/v1/tokens", json={"name": name}, headers=admin.headers).json()["id"]
    return admin, colleague, invitation, token


def test_each_company_sees_only_its_own_people_invitations_tokens_and_audit(
    client: TestClient, inbox: Inbox
) -> None:
    a_admin, a_colleague, a_invitation, a_token = busy_company(client, inbox, "Acme")
    b_admin, b_colleague, b_invitation, b_token = busy_company(client, inbox, "Globex")
    make_partnership(client, a_admin, b_admin)  # partners still keep their insides apart

    for admin, colleague, invitation, token, other in [
        (
            a_admin,
            a_colleague,
            a_invitation,
            a_token,
            (b_admin, b_colleague, b_invitation, b_token),
        ),
        (
            b_admin,
            b_colleague,
            b_invitation,
            b_token,
            (a_admin, a_colleague, a_invitation, a_token),
        ),
    ]:
        users = {u["id"] for u in every(client, admin, "/api/v1/users")}
        invitations = {i["id"] for i in every(client, admin, "/api/v1/invitations")}
        tokens = {t["id"] for t in client.get("/api/v1/tokens", headers=admin.headers).json()}
        audit = every(client, admin, "/api/v1/audit-events")

        assert users == {admin.user_id, colleague.user_id}
        assert invitation in invitations
        assert other[2] not in invitations
        assert tokens == {token}
        actors = {e["actor_user_id"] for e in audit}
        subjects = {e["subject_id"] for e in audit}
        assert actors <= {admin.user_id, colleague.user_id}
        assert {admin.company_id, invitation, token} <= subjects
        assert not {other[0].company_id, other[1].user_id, other[2], other[3]} & subjects


def test_a_colleague_does_not_see_my_personal_tokens(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    colleague = make_colleague(client, admin, inbox=inbox)
    client.post("/api/v1/tokens", json={"name": "mine"}, headers=admin.headers)

    assert client.get("/api/v1/tokens", headers=colleague.headers).json() == []


def test_only_admins_read_the_audit_log(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    manager = make_colleague(client, admin, "manager", inbox=inbox)

    assert client.get("/api/v1/audit-events", headers=manager.headers).status_code == 403
    assert client.get("/api/v1/audit-events", headers=admin.headers).status_code == 200
