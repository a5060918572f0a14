"""SMTP outages lose nothing and send nothing twice; requests never wait on SMTP.

A real `coterie worker` process delivers from the outbox through a TCP proxy in front of the
suite's SMTP server: the proxy refuses connections (SMTP down), or accepts and never answers
(SMTP hanging), then forwards again (restored). The app runs in the test process on the same
database and Redis queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.activity.digest import queue_digests
from coterie.app import create_app
from coterie.db import utcnow
from coterie.mail.delivery import message_id_for
from coterie.models.activity import Notification
from coterie.models.outbox import OutboxMessage
from tests.conftest import empty_all_tables, make_settings
from tests.fixtures.activity import comment, make_deal, mention, set_email
from tests.fixtures.builders import make_company
from tests.fixtures.smtp import Inbox, SmtpServer
from tests.fixtures.tcp_proxy import TcpProxy
from tests.fixtures.worker import flush_queue, outbox_rows, queued, wait_until, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("worker")]


@pytest.fixture
def smtp_proxy(smtp_server: SmtpServer) -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", smtp_server.port)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def queued_client(
    app_database_url: str, smtp_proxy: TcpProxy, inbox: Inbox, tmp_path: Path
) -> Iterator[TestClient]:
    """The app on a real queue, and a `coterie worker` delivering through the proxy (SMTP
    timeout an hour: a hanging server holds the worker, never a request)."""
    settings = queued(
        make_settings(app_database_url, tmp_path, smtp_proxy.port), smtp_timeout_seconds=3600
    )
    application = create_app(settings)
    try:
        with (
            worker_process(settings, tmp_path / "worker.log"),
            TestClient(application, base_url="http://testserver") as client,
        ):
            yield client
    finally:
        flush_queue(settings)
        empty_all_tables(application.state.engine)
        application.state.engine.dispose()


def test_smtp_refused_then_restored_delivers_the_invitation_reset_and_digest_exactly_once(
    queued_client: TestClient, smtp_proxy: TcpProxy, inbox: Inbox
) -> None:
    client = queued_client
    app = client.app
    engine = app.state.engine  # type: ignore[attr-defined]
    deal = make_deal(client, inbox)  # colleagues join by e-mail: the worker delivers
    set_email(client, deal.globex_rep, "daily")
    comment(client, deal.acme, deal.record_id, f"{mention(deal.globex_rep)} for the digest")
    # the set-up's own mail (invitations, immediate notifications) out of the way first
    wait_until(
        lambda: all(r.status == "sent" for r in outbox_rows(engine)), "the set-up's mail sent"
    )
    inbox.clear()

    smtp_proxy.stop()  # SMTP refuses connections
    invited = client.post(
        "/api/v1/invitations", json={"email": "new@outage.example"}, headers=deal.acme.headers
    )
    assert invited.status_code == 201, invited.text
    reset = client.post("/api/v1/auth/password-reset", json={"email": deal.acme.email})
    assert reset.status_code == 202, reset.text
    settings = app.state.settings  # type: ignore[attr-defined]
    assert queue_digests(app.state.session_factory, utcnow(), settings) == 1  # type: ignore[attr-defined]
    topics = {"invitation", "password_reset", "digest"}

    def failing_again() -> bool:
        rows = [r for r in outbox_rows(engine, status="pending") if r.topic in topics]
        return len(rows) == len(topics) and all(r.attempts >= 2 and r.last_error for r in rows)

    wait_until(failing_again, "each mail tried twice and waiting to be retried")
    assert inbox.messages == []
    with Session(engine) as session:  # the digest is not marked sent while undelivered
        waiting = session.scalars(
            select(Notification).where(Notification.user_id == uuid.UUID(deal.globex_rep.user_id))
        ).all()
        assert waiting
        assert all(n.mail_id is not None and n.digest_sent_at is None for n in waiting)
    # a second digest run meanwhile finds those notifications taken: nothing twice
    assert queue_digests(app.state.session_factory, utcnow(), settings) == 0  # type: ignore[attr-defined]

    smtp_proxy.start()  # SMTP is back
    recipients = ("new@outage.example", deal.acme.email, deal.globex_rep.email)
    wait_until(
        lambda: all(inbox.to(address) for address in recipients),
        "the three mails delivered",
    )
    wait_until(
        lambda: all(r.status == "sent" for r in outbox_rows(engine) if r.topic in topics),
        "the outbox rows marked sent",
    )
    rows = {r.recipient: r for r in outbox_rows(engine) if r.topic in topics}
    for address in recipients:  # each exactly once, its Message-ID naming its outbox row
        wanted = message_id_for(settings, rows[address].id)
        assert [m["Message-ID"] for m in inbox.to(address)].count(wanted) == 1
    digest_mail = inbox.to(deal.globex_rep.email)[0]
    assert "for the digest" in digest_mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    with Session(engine) as session:
        told = session.scalars(
            select(Notification).where(Notification.user_id == uuid.UUID(deal.globex_rep.user_id))
        ).all()
        assert all(n.digest_sent_at is not None for n in told)


def test_requests_answer_while_smtp_hangs_and_the_mail_follows_once_it_answers(
    queued_client: TestClient, smtp_proxy: TcpProxy, inbox: Inbox
) -> None:
    client = queued_client
    engine = client.app.state.engine  # type: ignore[attr-defined]
    admin = make_company(client, "Hanging Co")
    smtp_proxy.stop()
    smtp_proxy.start(answer=False)  # accepts, never answers; the worker waits up to an hour

    first = client.post(
        "/api/v1/invitations", json={"email": "first@hang.example"}, headers=admin.headers
    )
    assert first.status_code == 201, first.text
    wait_until(
        lambda: any(r.status == "sending" for r in outbox_rows(engine, topic="invitation")),
        "the worker stuck sending the first invitation",
    )
    # the worker hangs on SMTP; requests that mail answer all the same, a known account's
    # password reset like an unknown one's (both only write to the database)
    second = client.post(
        "/api/v1/invitations", json={"email": "second@hang.example"}, headers=admin.headers
    )
    known = client.post("/api/v1/auth/password-reset", json={"email": admin.email})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@hang.example"})
    assert (second.status_code, known.status_code, unknown.status_code) == (201, 202, 202)
    assert inbox.messages == []
    assert len(outbox_rows(engine, topic="password_reset")) == 1

    smtp_proxy.stop()  # cuts the hanging connection: that attempt fails and is retried
    smtp_proxy.start()
    for address in ("first@hang.example", "second@hang.example", admin.email):
        inbox.wait_for(address, timeout=30)
    wait_until(
        lambda: all(r.status == "sent" for r in outbox_rows(engine)), "every row marked sent"
    )
    assert sorted(str(m["To"]) for m in inbox.messages) == sorted(
        ["first@hang.example", "second@hang.example", admin.email]
    )
    assert all(isinstance(r, OutboxMessage) for r in outbox_rows(engine))
