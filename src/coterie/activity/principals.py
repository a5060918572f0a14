"""The principal of a user who is not the caller: the recipient of a mention, a notification or
a digest. Activity never reads users' data as "system": whatever it shows or sends to a user,
it first checks through the gate as that user (DESIGN.md, rule 5)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.auth.preferences import read as read_preferences
from coterie.authz import gate
from coterie.authz.principal import Principal, per_user_kinds
from coterie.kit.problems import Problem
from coterie.models import User
from coterie.models.vocabulary import Role


def principal_of(session: Session, user: User) -> Principal:
    return Principal(
        company_id=user.company_id,
        user_id=user.id,
        hide_private=read_preferences(user.preferences).hide_private_fields,
        is_admin=user.role == Role.ADMIN.value,
        per_user=per_user_kinds(session, user.company_id),
    )


def can_see(session: Session, principal: Principal, kind: str, record_id: uuid.UUID) -> bool:
    """Whether the principal may read the record now (the gate's answer, without the 404)."""
    try:
        gate.check(session, principal, kind, record_id)
    except Problem:
        return False
    return True
