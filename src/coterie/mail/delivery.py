"""E-mail delivery: SMTP (stdlib smtplib) after the transaction commits, plus .eml files in dev.

Messages are queued on the SQLAlchemy session and sent only once that session commits, so an
invitation whose transaction rolled back never reaches anyone.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from coterie.config import Settings
from coterie.db import new_id

log = logging.getLogger(__name__)
_OUTBOX = "coterie.outbox"


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None


def queue(session: Session, mail: OutgoingMail) -> None:
    """Send `mail` once `session` commits; a rollback (of a savepoint: of the mail queued inside
    it) drops it."""
    if not session.in_transaction():
        session.begin()  # else a rollback() before any query would not drop the mail
    savepoint = session.get_nested_transaction()
    session.info.setdefault(_OUTBOX, []).append((savepoint, mail))


def _inside(transaction: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


def build_message(settings: Settings, mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = " ".join(mail.subject.split())  # a header is one line
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="coterie.localhost")
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def deliver(settings: Settings, mail: OutgoingMail) -> None:
    """Write the message to the mail folder (when set) and send it over SMTP (when configured)."""
    message = build_message(settings, mail)
    folder = settings.resolved_mail_dir
    if folder is not None:
        _write_eml(folder, message)
    if settings.smtp_host:
        _send_smtp(settings, message)


def _write_eml(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{new_id()}.eml").write_bytes(bytes(message))


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


def install_outbox(factory: sessionmaker[Session], settings: Settings) -> None:
    """Send queued mail after each commit of sessions from `factory`; drop it on rollback."""

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # only a savepoint was released: the transaction may still roll back
        for _savepoint, mail in session.info.pop(_OUTBOX, []):
            try:
                deliver(settings, mail)
            except Exception:  # the data is committed: a failed e-mail must not fail the request
                log.exception("could not deliver e-mail %r to %s", mail.subject, mail.to)

    def after_rollback(session: Session, transaction: SessionTransaction) -> None:
        if not transaction.nested:
            session.info.pop(_OUTBOX, None)
            return
        # A savepoint rolled back: the outer transaction, and the mail it queued, live on.
        outbox = session.info.get(_OUTBOX, [])
        outbox[:] = [(sp, mail) for sp, mail in outbox if not _inside(sp, transaction)]

    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", after_rollback)
