"""Which comments a principal may read: not deleted, meant for it (participants, or its own
company), on a record it may read now (the gate). Comments and notifications both ask here."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.fields.kinds import KINDS
from coterie.models.activity import Comment


def readable(principal: Principal) -> ColumnElement[bool]:
    """A comment the principal may read, once its record passed the gate."""
    return and_(
        Comment.deleted_at.is_(None),
        or_(Comment.audience == "participants", Comment.company_id == principal.company_id),
    )


def on_visible_records(principal: Principal) -> ColumnElement[bool]:
    """The comment's record is one the principal may read (whatever its kind)."""
    return or_(
        *(
            and_(
                Comment.kind == kind.value, Comment.record_id.in_(gate.visible_ids(principal, kind))
            )
            for kind in KINDS
        )
    )


def visible_comment(
    session: Session, principal: Principal, comment_id: uuid.UUID
) -> Comment | None:
    """The comment if the principal may read it now (its record through the gate)."""
    statement = (
        select(Comment)
        .where(Comment.id == comment_id, readable(principal), on_visible_records(principal))
        .execution_options(**rls.as_company(principal.company_id))
    )
    return session.scalars(statement).first()
