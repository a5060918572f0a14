"""The daily digest: one e-mail per user who chose "daily", with what happened since the last.

The worker runs it on the schedule `COTERIE_DIGEST_CRON` (`coterie.worker.schedules`);
`coterie notifications digest` runs it by hand. Each user is handled in a transaction of their
own, as their own principal: a notification whose record they can no longer see is dropped (and
marked handled, so it never comes back), and the e-mail shows only what they may see at the
time it is composed (`notifications.compose`).

The e-mail is queued in the outbox in the same transaction that ties the notifications to it
(`Notification.mail_id`); they are marked sent in a digest only once the worker delivered it
(`notifications.mark_delivered`). SMTP down: the digest waits in the outbox and goes out when it
is back; a second run meanwhile finds those notifications taken and sends nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coterie.activity import notifications
from coterie.auth.preferences import read as read_preferences
from coterie.config import Settings
from coterie.db import writing_session
from coterie.mail import delivery
from coterie.models import User
from coterie.models.activity import Notification

log = logging.getLogger(__name__)
MAX_PER_DIGEST = 200


def _untold(now: datetime) -> tuple[object, ...]:
    return (
        Notification.emailed_at.is_(None),
        Notification.digest_sent_at.is_(None),
        Notification.mail_id.is_(None),
        Notification.created_at <= now,
    )


def _waiting(session: Session, user_id: uuid.UUID, now: datetime) -> list[Notification]:
    statement = (
        select(Notification)
        .where(Notification.user_id == user_id, *_untold(now))  # type: ignore[arg-type]
        .order_by(Notification.created_at, Notification.id)
        .limit(MAX_PER_DIGEST)
    )
    return list(session.scalars(statement))


def queue_digests(session_factory: sessionmaker[Session], now: datetime, settings: Settings) -> int:
    """Queue the digests due at `now`; returns how many e-mails were queued."""
    with session_factory() as session:
        user_ids = sorted(
            set(
                session.scalars(
                    select(Notification.user_id).where(*_untold(now)).distinct()  # type: ignore[arg-type]
                )
            )
        )
    queued = 0
    for user_id in user_ids:
        try:
            queued += _queue_one(session_factory, user_id, now, settings)
        except Exception:  # one user's failure must not stop everyone else's digest
            log.exception("could not compose the digest of user %s", user_id)
    return queued


def _queue_one(
    session_factory: sessionmaker[Session], user_id: uuid.UUID, now: datetime, settings: Settings
) -> int:
    with writing_session(session_factory) as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return 0
        if read_preferences(user.preferences).email_notifications != "daily":
            return 0
        waiting = _waiting(session, user_id, now)
        if not waiting:
            return 0  # a concurrent run took them
        mail = notifications.compose(session, user, waiting, settings, digest=True, now=now)
        if mail is None:  # nothing the user may still see: handled, never comes back
            for notification in waiting:
                notification.digest_sent_at = now
            session.commit()
            return 0
        # the same batch composed twice (two runs racing) is one e-mail
        mail_id = delivery.queue(
            session,
            mail,
            topic=notifications.DIGEST_TOPIC,
            company_id=user.company_id,
            key=f"{notifications.DIGEST_TOPIC}:{user.id}:{waiting[-1].id}",
        )
        for notification in waiting:
            notification.mail_id = mail_id
        session.commit()
        return 1
