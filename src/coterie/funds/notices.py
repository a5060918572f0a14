"""Notifications to the other side of a fund request (via `coterie.activity.notifications`).

They name no record and carry no amount, activity or note: the sentence says who did what
("… submitted a fund request to your company") and links to the request page, which reads
through `access` as the recipient. What a notification says therefore never leaks."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.activity import notifications
from coterie.auth.principal import Actor
from coterie.records.participants import managers_of


def tell(
    session: Session,
    actor: Actor,
    company_id: uuid.UUID,
    event: str,
    request_id: uuid.UUID,
    *,
    also: uuid.UUID | None = None,
) -> None:
    """Tell `company_id`'s admins and managers (and the user `also`, e.g. the requester)."""
    users = managers_of(session, {company_id})
    if also is not None:
        users.append(also)
    notifications.notify(
        session,
        user_ids=users,
        event=event,
        record_id=None,
        kind=None,
        actor=actor,
        subject_id=request_id,
    )
