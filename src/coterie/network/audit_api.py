"""The audit log API: a company's admins read what happened in their company."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, SortKey, paginate
from coterie.models import AuditEvent
from coterie.models.vocabulary import Role

router = APIRouter(tags=["audit"])

ORDER = (SortKey(AuditEvent.id, is_uuid=True),)


class AuditEventOut(BaseModel):
    id: uuid.UUID
    action: str
    actor_user_id: uuid.UUID | None
    subject_type: str
    subject_id: str
    data: dict[str, Any]
    created_at: datetime


@router.get(
    "/audit-events",
    response_model=Page[AuditEventOut],
    summary="My company's audit log, oldest first (admins)",
)
def list_audit_events(
    actor: ApiActor,
    session: DB,
    action: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[AuditEventOut]:
    actor.require_role(Role.ADMIN, "read the audit log")
    statement = select(AuditEvent).where(AuditEvent.company_id == actor.company_id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    events, next_cursor = paginate(
        session, statement, ORDER, limit=limit, cursor=cursor, key_of=lambda e: (e.id,)
    )
    items = [
        AuditEventOut(
            id=e.id,
            action=e.action,
            actor_user_id=e.actor_user_id,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            data=e.data,
            created_at=e.created_at,
        )
        for e in events
    ]
    return Page(items=items, next_cursor=next_cursor)
