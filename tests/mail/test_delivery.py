"""E-mail is queued in the outbox with the transaction and leaves only after it commits: over real
SMTP and as .eml files (the tests' jobs run at once, at commit; tests/worker runs a real worker)."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.mail import delivery
from coterie.models.outbox import OutboxMessage
from tests.fixtures.builders import make_company
from tests.fixtures.smtp import Inbox, link_in, text_of

RESET_PATH = "/password-reset/confirm"


def mail_to(address: str, subject: str = "Hello") -> delivery.OutgoingMail:
    return delivery.OutgoingMail(to=address, subject=subject, text=f"Dear {address}")


def eml_files(settings: Settings) -> set[Path]:
    folder = settings.resolved_mail_dir
    return set(folder.glob("*.eml")) if folder is not None and folder.exists() else set()


def read_eml(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def queue(session: Session, mail: delivery.OutgoingMail) -> None:
    delivery.queue(session, mail, topic="test", company_id=None)


def session_of(app: FastAPI) -> Session:
    session: Session = app.state.session_factory()
    return session


def settle(app: FastAPI, inbox: Inbox) -> list[str]:
    """Everyone who got mail so far. A committed marker goes out after anything queued before,
    over the same synchronous SMTP path, so waiting for it waits for any earlier message."""
    with session_of(app) as session:
        queue(session, mail_to("marker@test.example"))
        session.commit()
    inbox.wait_for("marker@test.example")
    return [str(m["To"]) for m in inbox.messages if str(m["To"]) != "marker@test.example"]


def test_mail_goes_over_smtp_and_into_the_mail_folder(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)
    before = eml_files(settings)

    client.post("/api/v1/auth/password-reset", json={"email": admin.email})

    sent = inbox.wait_for(admin.email)
    (written,) = eml_files(settings) - before
    filed = read_eml(written)
    assert filed["To"] == sent["To"] == admin.email
    assert filed["From"] == sent["From"] == settings.mail_from
    assert filed["Subject"] == sent["Subject"] == "Reset your Coterie password"
    assert filed["Message-ID"] == sent["Message-ID"]
    assert link_in(filed, RESET_PATH) == link_in(sent, RESET_PATH)


def test_mail_has_a_plain_text_and_an_html_part_with_the_same_link(
    client: TestClient, inbox: Inbox
) -> None:
    admin = make_company(client)

    client.post("/api/v1/auth/password-reset", json={"email": admin.email})

    sent = inbox.wait_for(admin.email)
    html = sent.get_body(preferencelist=("html",))
    assert html is not None
    link = link_in(sent, RESET_PATH)
    assert f'href="{link}"' in str(html.get_content())
    assert link in text_of(sent)


def test_a_rolled_back_transaction_sends_nothing(
    client: TestClient, app: FastAPI, inbox: Inbox, settings: Settings
) -> None:
    before = eml_files(settings)

    with session_of(app) as session:
        queue(session, mail_to("never@test.example"))
        session.rollback()
        session.commit()  # nothing left to send

    assert settle(app, inbox) == []
    assert len(eml_files(settings) - before) == 1  # only the marker


def test_a_session_closed_without_commit_sends_nothing(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    with session_of(app) as session:
        queue(session, mail_to("never@test.example"))

    assert settle(app, inbox) == []


def test_a_failed_request_sends_nothing(client: TestClient, app: FastAPI, inbox: Inbox) -> None:
    admin = make_company(client)
    inbox.clear()

    refused = client.post(
        "/api/v1/invitations",
        json={"email": "colleague@test.example", "role": "emperor"},
        headers=admin.headers,
    )

    assert refused.status_code == 422
    assert settle(app, inbox) == []


def test_a_rolled_back_savepoint_keeps_the_mail_queued_outside_it(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    with session_of(app) as session:
        queue(session, mail_to("before@test.example"))
        savepoint = session.begin_nested()
        queue(session, mail_to("inside@test.example"))
        inner = session.begin_nested()
        queue(session, mail_to("deeper@test.example"))
        inner.commit()
        savepoint.rollback()
        kept = session.begin_nested()
        queue(session, mail_to("after@test.example"))
        kept.commit()
        session.commit()

    assert sorted(settle(app, inbox)) == ["after@test.example", "before@test.example"]


def test_releasing_a_savepoint_sends_nothing_before_the_transaction_commits(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    with session_of(app) as session:
        queue(session, mail_to("queued@test.example"))
        with session.begin_nested():  # e.g. partnerships.request guards its insert this way
            queue(session, mail_to("guarded@test.example"))
        session.rollback()

    assert settle(app, inbox) == []


def test_each_commit_sends_only_its_own_mail(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    with session_of(app) as session:
        queue(session, mail_to("first@test.example"))
        session.commit()
        queue(session, mail_to("second@test.example"))
        session.commit()

    assert settle(app, inbox) == ["first@test.example", "second@test.example"]


def test_a_line_break_in_a_subject_is_folded_into_one_line(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    with session_of(app) as session:
        queue(session, mail_to("folded@test.example", "Join Acme\nBcc: x@y.example"))
        session.commit()

    mail = inbox.wait_for("folded@test.example")
    assert mail["Subject"] == "Join Acme Bcc: x@y.example"
    assert mail["Bcc"] is None


def test_a_message_that_cannot_be_built_neither_fails_the_commit_nor_the_others(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    with session_of(app) as session:
        queue(session, mail_to("broken\n@test.example"))
        queue(session, mail_to("fine@test.example"))
        session.commit()  # must not raise: the data is already committed

    assert inbox.wait_for("fine@test.example")["To"] == "fine@test.example"
    with session_of(app) as session:  # never sendable: dead at once, not retried for a day
        broken = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "broken\n@test.example")
        ).one()
    assert (broken.status, broken.attempts) == ("dead", 1)
    assert broken.last_error is not None
    assert "cannot be built" in broken.last_error


def test_an_smtp_outage_does_not_fail_the_request_and_the_mail_waits_to_be_retried(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        settings.smtp_port = probe.getsockname()[1]
    before = eml_files(settings)

    response = client.post(
        "/api/v1/invitations", json={"email": "offline@test.example"}, headers=admin.headers
    )

    assert response.status_code == 201, response.text
    (written,) = eml_files(settings) - before
    assert read_eml(written)["To"] == "offline@test.example"
    assert inbox.to("offline@test.example") == []
    with session_of(client.app) as session:  # type: ignore[arg-type]
        waiting = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "offline@test.example")
        ).one()
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.last_error is not None
    assert "Connection refused" in waiting.last_error or "ConnectionRefused" in waiting.last_error


def test_without_a_mail_folder_mail_still_goes_over_smtp(
    client: TestClient, app: FastAPI, inbox: Inbox, settings: Settings
) -> None:
    settings.mail_dir = None  # and env is "test": no folder at all
    assert settings.resolved_mail_dir is None
    folder = Path(str(app.state.settings.data_dir)) / "mail"
    before = set(folder.glob("*.eml")) if folder.exists() else set()

    with session_of(app) as session:
        queue(session, mail_to("smtp-only@test.example"))
        session.commit()

    assert inbox.wait_for("smtp-only@test.example")["Subject"] == "Hello"
    after = set(folder.glob("*.eml")) if folder.exists() else set()
    assert after == before
