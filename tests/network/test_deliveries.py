"""Admins see the e-mail to their company's people that failed or went dead, and send it again:
never the message itself, never another company's."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from coterie.config import Settings
from tests.fixtures.builders import make_colleague, make_company
from tests.fixtures.smtp import Inbox
from tests.kit.assertions import assert_problem

DELIVERIES = "/api/v1/deliveries"


def _closed_port() -> int:
    with socket.socket() as probe:  # free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_an_admin_sees_a_failed_delivery_and_sends_it_again_once_smtp_is_back(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client, "Deliveries Co")
    member = make_colleague(client, admin, inbox=inbox)
    other = make_company(client, "Other Co")
    smtp_port, settings.smtp_port = settings.smtp_port, _closed_port()

    invited = client.post(
        "/api/v1/invitations", json={"email": "late@deliveries.example"}, headers=admin.headers
    )
    assert invited.status_code == 201, invited.text

    (failed,) = client.get(DELIVERIES, headers=admin.headers).json()
    assert failed["what"] == "Invitation to join the company"
    assert failed["recipient"] == "late@deliveries.example"
    assert failed["state"] == "failed"
    assert failed["attempts"] == 1
    assert "refused" in failed["last_error"].lower()
    assert failed["reason"] == "The mail server refused the connection: it may be down."
    assert failed["next_attempt_at"] is not None
    assert "subject" not in failed
    assert "text" not in failed  # the message itself is never shown
    assert client.get(DELIVERIES, params={"state": "dead"}, headers=admin.headers).json() == []
    assert client.get(DELIVERIES, headers=other.headers).json() == []
    assert_problem(client.get(DELIVERIES, headers=member.headers), 403, "forbidden")
    assert_problem(
        client.post(f"{DELIVERIES}/{failed['id']}/retry", headers=other.headers), 404, "not-found"
    )
    assert_problem(
        client.get(DELIVERIES, params={"state": "lost"}, headers=admin.headers), 422, None
    )

    settings.smtp_port = smtp_port
    retried = client.post(f"{DELIVERIES}/{failed['id']}/retry", headers=admin.headers)

    assert retried.status_code == 202, retried.text
    assert "Join Deliveries Co" in str(inbox.wait_for("late@deliveries.example")["Subject"])
    assert client.get(DELIVERIES, headers=admin.headers).json() == []
    # delivered: nothing left to retry
    assert_problem(
        client.post(f"{DELIVERIES}/{failed['id']}/retry", headers=admin.headers), 404, "not-found"
    )


def test_a_delivery_out_of_attempts_is_dead(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client, "Dead Letters Co")
    settings.smtp_port = _closed_port()
    settings.outbox_max_attempts = 1

    client.post("/api/v1/auth/password-reset", json={"email": admin.email})

    (dead,) = client.get(DELIVERIES, params={"state": "dead"}, headers=admin.headers).json()
    assert (dead["what"], dead["state"], dead["attempts"], dead["next_attempt_at"]) == (
        "Password reset",
        "dead",
        1,
        None,
    )
    assert client.get(DELIVERIES, params={"state": "failed"}, headers=admin.headers).json() == []
