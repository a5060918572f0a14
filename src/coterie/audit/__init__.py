"""The audit trail: every business action records who did what to which subject."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from coterie.models import AuditEvent


def record(
    session: Session,
    *,
    company_id: uuid.UUID,
    actor_user_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID | str,
    **data: Any,
) -> None:
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
