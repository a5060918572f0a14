"""The audit log: admins read their own company's actions, nobody else's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague, make_company, make_partnership
from tests.fixtures.smtp import Inbox


def _actions(client: TestClient, headers: dict[str, str], **params: str) -> list[str]:
    response = client.get("/api/v1/audit-events", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [event["action"] for event in response.json()["items"]]


def test_admin_reads_own_company_actions_in_order(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    make_partnership(client, acme, globex)
    created = client.post("/api/v1/tokens", json={"name": "ci"}, headers=acme.headers)
    assert created.status_code == 201

    assert _actions(client, acme.headers) == [
        "company.signed_up",
        "partnership.requested",
        "token.created",
    ]
    assert _actions(client, globex.headers) == ["company.signed_up", "partnership.accepted"]
    assert _actions(client, acme.headers, action="token.created") == ["token.created"]


def test_audit_log_pages_and_is_admin_only(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    member = make_colleague(client, acme, "member", inbox=inbox)
    for n in range(3):
        client.post("/api/v1/tokens", json={"name": f"t{n}"}, headers=acme.headers)

    first = client.get("/api/v1/audit-events", params={"limit": 2}, headers=acme.headers).json()
    assert len(first["items"]) == 2
    second = client.get(
        "/api/v1/audit-events",
        params={"limit": 10, "cursor": first["next_cursor"]},
        headers=acme.headers,
    ).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 6  # signup, invitation created/accepted, 3 tokens
    assert second["next_cursor"] is None

    refused = client.get("/api/v1/audit-events", headers=member.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
