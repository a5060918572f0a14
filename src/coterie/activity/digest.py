"""The daily digest: one e-mail per user who chose "daily", with what happened since the last.

Run by `coterie notifications digest` (cron it once a day). Each user is handled in a
transaction of their own, as their own principal: a notification whose record they can no
longer see is dropped (and marked handled, so it never comes back), and the e-mail shows only
what they may see at delivery time (`notifications.compose`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coterie.activity import notifications
from coterie.auth.preferences import read as read_preferences
from coterie.authz import guard, rls
from coterie.config import Settings, get_settings
from coterie.db import make_engine, make_session_factory, utcnow
from coterie.mail import delivery
from coterie.models import User
from coterie.models.activity import Notification

log = logging.getLogger(__name__)
MAX_PER_DIGEST = 200


def _waiting(session: Session, user_id: uuid.UUID | None, now: datetime) -> list[Notification]:
    statement = select(Notification).where(
        Notification.emailed_at.is_(None),
        Notification.digest_sent_at.is_(None),
        Notification.created_at <= now,
    )
    if user_id is not None:
        statement = statement.where(Notification.user_id == user_id)
    return list(session.scalars(statement.order_by(Notification.created_at, Notification.id)))


def send_digests(
    session_factory: sessionmaker[Session], now: datetime, settings: Settings | None = None
) -> int:
    """Send the digests due at `now`; returns how many e-mails were sent.

    `session_factory` must deliver mail after commit (`mail.delivery.install_outbox`), as the
    app's factory does."""
    settings = settings or get_settings()
    with session_factory() as session:
        user_ids = sorted(
            set(
                session.scalars(
                    select(Notification.user_id)
                    .where(
                        Notification.emailed_at.is_(None),
                        Notification.digest_sent_at.is_(None),
                        Notification.created_at <= now,
                    )
                    .distinct()
                )
            )
        )
    sent = 0
    for user_id in user_ids:
        try:
            sent += _send_one(session_factory, user_id, now, settings)
        except Exception:  # one user's failure must not stop everyone else's digest
            log.exception("could not send the digest of user %s", user_id)
    return sent


def _send_one(
    session_factory: sessionmaker[Session], user_id: uuid.UUID, now: datetime, settings: Settings
) -> int:
    with session_factory() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return 0
        if read_preferences(user.preferences).email_notifications != "daily":
            return 0
        waiting = _waiting(session, user_id, now)[:MAX_PER_DIGEST]
        mail = notifications.compose(session, user, waiting, settings, digest=True, now=now)
        for notification in waiting:
            notification.digest_sent_at = now
        if mail is not None:
            delivery.queue(session, mail)
        session.commit()
        return 1 if mail is not None else 0


def send_digests_with(settings: Settings) -> int:
    """`send_digests` for the CLI: a session factory set up like the app's (mail after commit,
    the guard, row-level security)."""
    engine = make_engine(settings.resolved_database_url)
    try:
        factory = make_session_factory(engine)
        delivery.install_outbox(factory, settings)
        guard.install(factory)
        rls.install(factory)
        return send_digests(factory, utcnow(), settings)
    finally:
        engine.dispose()
