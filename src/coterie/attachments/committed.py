"""Attach and delete as whole use cases: the row's transaction committed, then the store's part.

The service (`service.attach`, `service.delete`) never commits; the routes that run one of them
as a request's only write call these instead, so the store and the database stay in step the
same way everywhere: content stored by an attach whose commit fails is removed again, and the
content of a deleted row is removed only once the deletion has committed.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.attachments import service
from coterie.attachments.subjects import SubjectRef
from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.models.attachment import Attachment


def attach(
    session: Session,
    actor: Actor,
    subject: SubjectRef,
    upload: service.Upload,
    settings: Settings,
) -> Attachment:
    """`service.attach` and commit; the stored content is removed when the commit fails."""
    row = service.attach(session, actor, subject, upload, settings)
    try:
        session.commit()
    except BaseException:
        service.remove_content(settings, row.storage_key)
        raise
    return row


def delete(
    session: Session, actor: Actor, attachment_id: uuid.UUID, settings: Settings
) -> Attachment:
    """`service.delete` and commit, then remove the content (see `service.remove_content`);
    the removed row, its columns as they were read."""
    row = service.delete(session, actor, attachment_id)
    session.commit()
    service.remove_content(settings, row.storage_key)
    return row
