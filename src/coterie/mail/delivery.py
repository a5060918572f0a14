"""E-mail: queued in the outbox with the business change, sent by the worker over SMTP.

`queue()` writes an outbox row (`coterie.outbox.store`) in the caller's transaction: a change
that rolls back sends nothing, and a committed one is delivered at least once, even if SMTP is
down for a day or the process dies right after the commit. No request waits on SMTP.

`send()` is what the worker calls for each attempt: it builds the message with a Message-ID
derived from the outbox row, so a message sent twice (a worker killed after SMTP accepted it,
before it recorded that) carries the same Message-ID and mail clients show it once. It writes an
`.eml` copy to the mail folder when one is set, and raises on SMTP failure;
`PermanentDeliveryError` when the server refused for good (5xx), so the row goes dead at once.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from coterie.config import Settings
from coterie.outbox import store

CHANNEL = "email"


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None


class PermanentDeliveryError(Exception):
    """The SMTP server refused the message for good (a 5xx reply): retrying cannot help."""


def queue(
    session: Session,
    mail: OutgoingMail,
    *,
    topic: str,
    company_id: uuid.UUID | None,
    key: str | None = None,
) -> uuid.UUID:
    """Send `mail` once the transaction commits (never if it rolls back); returns the outbox
    row's id. `topic` says what it is (`password_reset`, `notification`...), `company_id` whose
    admins see its delivery, `key` makes queuing the same fact twice give one e-mail."""
    return store.add(
        session,
        channel=CHANNEL,
        topic=topic,
        recipient=mail.to,
        payload=asdict(mail),
        company_id=company_id,
        key=key,
    )


def mail_of(payload: dict[str, Any]) -> OutgoingMail:
    return OutgoingMail(
        to=str(payload["to"]),
        subject=str(payload["subject"]),
        text=str(payload["text"]),
        html=None if payload.get("html") is None else str(payload["html"]),
    )


def message_id_for(settings: Settings, outbox_id: uuid.UUID) -> str:
    """The Message-ID of every attempt to send outbox row `outbox_id`."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "coterie.localhost"
    return f"<{outbox_id}@{domain}>"


def build_message(settings: Settings, mail: OutgoingMail, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = " ".join(mail.subject.split())  # a header is one line
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def send(settings: Settings, mail: OutgoingMail, outbox_id: uuid.UUID) -> None:
    """One attempt: the mail folder copy (when set), then SMTP (when configured)."""
    try:
        message = build_message(settings, mail, message_id_for(settings, outbox_id))
    except (ValueError, TypeError) as exc:  # e.g. a line break in an address: never sendable
        raise PermanentDeliveryError(f"the message cannot be built: {exc}") from exc
    folder = settings.resolved_mail_dir
    if folder is not None:
        _write_eml(folder, message, outbox_id)
    if settings.smtp_host:
        try:
            _send_smtp(settings, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _reply in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"recipient refused: {exc.recipients}") from exc
            raise
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise PermanentDeliveryError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise


def _write_eml(folder: Path, message: EmailMessage, outbox_id: uuid.UUID) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{outbox_id}.eml").write_bytes(bytes(message))  # a retry overwrites its copy


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    timeout = settings.smtp_timeout_seconds
    smtp: smtplib.SMTP
    if settings.smtp_ssl:
        context = ssl.create_default_context()
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
