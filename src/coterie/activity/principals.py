"""The principal of a user who is not the caller: the recipient of a mention, a notification or
a digest. Activity never reads users' data as "system": whatever it shows or sends to a user,
it first checks through the gate as that user (DESIGN.md, rule 5)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from coterie.auth.principal import principal_of
from coterie.authz import gate
from coterie.authz.principal import Principal, read_rules
from coterie.kit.problems import Problem
from coterie.models import Record, User

__all__ = ["can_see", "principal_of", "principals_of", "visible_record"]


def principals_of(session: Session, users: Sequence[User]) -> dict[uuid.UUID, Principal]:
    """User id -> principal, for several users at once (their companies' rules in one read)."""
    read_rules(session, {u.company_id for u in users})
    return {u.id: principal_of(session, u) for u in users}


def visible_record(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID
) -> Record | None:
    """The record if the principal may read it now (the gate's answer), else None."""
    try:
        return gate.check(session, principal, kind, record_id)
    except Problem:
        return None


def can_see(session: Session, principal: Principal, kind: str, record_id: uuid.UUID) -> bool:
    """Whether the principal may read the record now (the gate's answer, without the 404)."""
    try:
        gate.check(session, principal, kind, record_id)
    except Problem:
        return False
    return True
