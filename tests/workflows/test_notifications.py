"""Approvals reach the people who decide them: in the app and by e-mail, and the requester hears
back when the move is decided."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_colleague, make_company
from tests.fixtures.cosell import API
from tests.fixtures.smtp import Inbox
from tests.fixtures.workflows import decide, fill, move, record, workflow


def _notifications(client: TestClient, who: Member) -> list[dict[str, Any]]:
    response = client.get(f"{API}/notifications", headers=who.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_approvers_are_notified_and_the_requester_hears_the_decision(
    client: TestClient, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    seller = make_colleague(client, acme, "member", inbox=inbox)
    manager = make_colleague(client, acme, "manager", inbox=inbox)
    wf = workflow(
        client,
        acme,
        kind="opportunity",
        name="Discount desk",
        stages=[
            {"key": "open", "name": "Open"},
            {"key": "won", "name": "Won", "category": "won"},
        ],
        transitions=[
            {"from": "open", "to": "won", "approvals": [{"company": "host", "role": "manager"}]}
        ],
    )
    rid = record(client, seller, "opportunity", "Deal needing a discount")
    fill(client, seller, "opportunity", rid, stage="open")
    inbox.clear()
    pending = move(client, seller, "opportunity", rid, wf["id"], "won")["move"]

    # the manager and the admin may decide; the member who asked is not asked
    for approver in (manager, acme):
        items = _notifications(client, approver)
        assert [(n["event"], n["record_title"]) for n in items] == [
            ("approval_requested", "Deal needing a discount")
        ]
        mail = inbox.wait_for(approver.email)
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert "asked for your approval on opportunity “Deal needing a discount”" in text
    assert _notifications(client, seller) == []

    assert decide(client, manager, pending["approvals"][0]["id"]).json()["status"] == "done"
    decided = _notifications(client, seller)
    assert [n["event"] for n in decided] == ["approval_decided"]
