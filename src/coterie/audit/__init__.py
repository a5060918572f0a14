"""The audit trail: every business action records who did what to which subject.

`record(session, actor, action, subject_type, subject_id, **data)` is the one call a use case
makes (the actor is the caller, as authentication resolved it); `record_as` names the company
and user itself, for the few actions without a signed-in caller (a sign-up, a password reset,
the system expiring a registration, the demo loader).
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy.orm import Session

from coterie.models import AuditEvent


class Acting(Protocol):
    """Who acts: `auth.principal.Actor` (only its company and user are written)."""

    @property
    def company_id(self) -> uuid.UUID: ...

    @property
    def user_id(self) -> uuid.UUID: ...


def record(
    session: Session,
    actor: Acting,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID | str,
    /,
    **data: Any,
) -> None:
    """Add the audit row of `action` by `actor` on the subject, with `data`, to the session."""
    record_as(
        session,
        company_id=actor.company_id,
        actor_user_id=actor.user_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        **data,
    )


def record_as(
    session: Session,
    *,
    company_id: uuid.UUID,
    actor_user_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID | str,
    **data: Any,
) -> None:
    """Add an audit row for `company_id`, by `actor_user_id` (None: the system)."""
    session.add(
        AuditEvent(
            company_id=company_id,
            actor_user_id=actor_user_id,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            data=data,
        )
    )
