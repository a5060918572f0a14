"""Password reset requests: recorded whether or not the address has an account (both answers do
the same work), at most a few e-mails per address and hour, forgotten after a day."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from coterie.config import Settings
from coterie.db import utcnow
from coterie.models.auth import PasswordResetRequest
from coterie.models.outbox import OutboxMessage
from coterie.worker import tasks
from tests.fixtures.builders import make_company
from tests.fixtures.smtp import Inbox

RESET = "/api/v1/auth/password-reset"


def _count(app: FastAPI, model: type, *where: object) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_known_and_an_unknown_address_are_recorded_alike_and_only_the_known_one_mailed(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    admin = make_company(client, "Reset Co")
    for email in (admin.email, "nobody@reset.example"):
        answer = client.post(RESET, json={"email": email})
        assert answer.status_code == 202
        assert answer.json() == {
            "detail": "If that address has an account, a reset link is on its way."
        }
    assert _count(app, PasswordResetRequest) == 2
    stored = {row.email_digest for row in _rows(app)}
    assert _digest("nobody@reset.example") in stored  # a digest, never the address in clear
    assert "nobody@reset.example" not in str(stored)
    assert _count(app, OutboxMessage, OutboxMessage.topic == "password_reset") == 1
    assert len(inbox.to(admin.email)) == 1
    assert inbox.to("nobody@reset.example") == []


def _digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def _rows(app: FastAPI) -> list[PasswordResetRequest]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(PasswordResetRequest)))


def test_an_address_gets_a_few_reset_mails_an_hour_and_no_more(
    app: FastAPI, client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client, "Bombed Co")
    settings.password_reset_mails_per_hour = 3

    answers = {client.post(RESET, json={"email": admin.email}).status_code for _ in range(6)}

    assert answers == {202}  # the same answer: nothing tells the requester
    assert len(inbox.to(admin.email)) == 3
    with app.state.session_factory() as session:  # an hour later, one more may go out
        session.execute(
            update(PasswordResetRequest).values(created_at=utcnow() - timedelta(minutes=61))
        )
        session.commit()
    client.post(RESET, json={"email": admin.email})
    assert len(inbox.to(admin.email)) == 4


def test_housekeeping_forgets_old_requests_and_long_delivered_mail(
    app: FastAPI, client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client, "Tidy Co")
    client.post(RESET, json={"email": admin.email})
    client.post(RESET, json={"email": "stranger@tidy.example"})
    assert _count(app, OutboxMessage, OutboxMessage.status == "sent") >= 1
    with app.state.session_factory() as session:
        session.execute(
            update(PasswordResetRequest)
            .where(
                PasswordResetRequest.email_digest
                == hashlib.sha256(b"stranger@tidy.example").hexdigest()
            )
            .values(created_at=utcnow() - timedelta(days=2))
        )
        session.execute(
            update(OutboxMessage).values(
                sent_at=utcnow() - timedelta(days=settings.outbox_keep_sent_days + 1)
            )
        )
        session.commit()

    tasks.housekeeping(app.state.jobs)

    assert _count(app, PasswordResetRequest) == 1  # the recent one stays
    assert _count(app, OutboxMessage, OutboxMessage.status == "sent") == 0
