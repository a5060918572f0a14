"""Comments on shared records: write, edit, delete, and read them as a principal may.

A comment is read only after the gate admitted its record, and only when it is for every
participant or the principal's own company wrote it (an internal note never leaves the author's
company). Writing one checks its mentions (`mentions.prepare`) and notifies the people it
concerns (`notifications.notify`), each re-checked as their own principal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.activity import attachment_subjects, cursors, mentions, notifications
from coterie.activity.comment_access import readable, visible_comment
from coterie.activity.schemas import CommentIn, CommentOut, CommentPatch, MentionOut, PersonRef
from coterie.attachments import service as attachment_service
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.config import Settings
from coterie.db import utcnow
from coterie.fields.kinds import ParticipantStatus
from coterie.kit import conditional
from coterie.kit.pagination import check_limit
from coterie.kit.problems import forbidden, not_found
from coterie.models import Company, Space, User
from coterie.models.activity import Comment, CommentMention
from coterie.network.companies import names as company_names


def for_record(principal: Principal, record_id: uuid.UUID) -> Select[Comment]:
    """Comments of a record the caller already passed through `gate.check`."""
    return (
        select(Comment)
        .where(Comment.record_id == record_id, readable(principal))
        .execution_options(**rls.as_company(principal.company_id))
    )


def present(
    session: Session, principal: Principal, comments: Sequence[Comment]
) -> list[CommentOut]:
    if not comments:
        return []
    ids = [c.id for c in comments]
    mentioned: dict[uuid.UUID, list[MentionOut]] = {i: [] for i in ids}
    rows = session.execute(
        select(CommentMention.comment_id, User.id, User.name)
        .join(User, User.id == CommentMention.user_id)
        .where(CommentMention.comment_id.in_(ids))
        .execution_options(**rls.as_company(principal.company_id))
    )
    for comment_id, user_id, name in rows:
        mentioned[comment_id].append(MentionOut(user_id=user_id, name=name))
    people = people_refs(
        session, {c.author_user_id for c in comments if c.author_user_id is not None}
    )
    companies = company_names(session, {c.company_id for c in comments})
    # the comments were read as the principal may: their files are for it too
    files = attachment_service.refs_for(
        session, principal, [attachment_subjects.subject_of(c) for c in comments]
    )
    return [
        CommentOut(
            id=c.id,
            record_id=c.record_id,
            kind=c.kind,
            audience="company" if c.audience == "company" else "participants",
            author=people.get(c.author_user_id)
            if c.author_user_id is not None and c.author_user_id in people
            else PersonRef(
                user_id=None,
                name="A former user",
                company_id=c.company_id,
                company_name=companies.get(c.company_id, ""),
            ),
            body=c.body,
            body_html=c.body_html,
            mentions=mentioned[c.id],
            created_at=c.created_at,
            edited_at=c.edited_at,
            version=c.version,
            is_mine=c.author_user_id == principal.user_id,
            attachments=files.get(c.id, []),
        )
        for c in comments
    ]


def people_refs(session: Session, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, PersonRef]:
    """Names of users and their companies (names are public on the network directory)."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.name, Company.id, Company.name)
        .join(Company, Company.id == User.company_id)
        .where(User.id.in_(user_ids))
    )
    return {
        row[0]: PersonRef(user_id=row[0], name=row[1], company_id=row[2], company_name=row[3])
        for row in rows
    }


def list_for_record(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[CommentOut], str | None]:
    """A page of a record's comments, oldest first; 404 when the record is hidden."""
    principal = actor.principal
    gate.check(session, principal, kind, record_id)
    check_limit(limit)
    statement = for_record(principal, record_id)
    condition = cursors.beyond(
        Comment.created_at, Comment.id, cursors.decode(cursor), newest_first=False
    )
    if condition is not None:
        statement = statement.where(condition)
    rows = list(
        session.scalars(statement.order_by(Comment.created_at, Comment.id).limit(limit + 1))
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode((rows[-1].created_at, rows[-1].id))
    return present(session, principal, rows), next_cursor


def _space_owners(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID
) -> list[uuid.UUID]:
    """The owner users of the active participants' spaces: whom a comment concerns.

    Each company's own space is read as that company (row-level security included); the owners
    are only recipients, never shown to the author, and `notify` re-checks each of them."""
    companies = sorted(
        p.company_id
        for p in gate.participants(session, principal, kind, [record_id])
        if p.status == ParticipantStatus.ACTIVE.value
    )
    owners: list[uuid.UUID] = []
    for company_id in companies:
        owner = session.scalar(
            select(Space.owner_user_id)
            .where(Space.record_id == record_id, Space.company_id == company_id)
            .execution_options(**rls.as_company(company_id))
        )
        if owner is not None:
            owners.append(owner)
    return owners


def create(
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    data: CommentIn,
    settings: Settings | None = None,
) -> Comment:
    principal = actor.principal
    gate.check(session, principal, kind, record_id)
    prepared = mentions.prepare(
        session,
        kind,
        record_id,
        data.body,
        audience=data.audience,
        author_company_id=actor.company_id,
    )
    now = utcnow()
    comment = Comment(
        record_id=record_id,
        kind=kind,
        company_id=actor.company_id,
        author_user_id=actor.user_id,
        audience=data.audience,
        body=data.body,
        body_html=prepared.html,
        created_at=now,
        version=1,
    )
    session.add(comment)
    session.flush()
    for user_id in prepared.user_ids:
        session.add(CommentMention(comment_id=comment.id, user_id=user_id, record_id=record_id))
    audit.record(
        session,
        actor,
        "comment.created",
        kind,
        record_id,
        comment=str(comment.id),
        audience=data.audience,
        mentions=[str(u) for u in prepared.user_ids],
    )
    _notify(session, actor, comment, prepared.user_ids, settings)
    if data.audience == "participants":
        owners = [
            u
            for u in _space_owners(session, principal, kind, record_id)
            if u not in prepared.user_ids
        ]
        _notify_event(session, actor, comment, owners, "comment", settings)
    return comment


def _notify(
    session: Session,
    actor: Actor,
    comment: Comment,
    mentioned: list[uuid.UUID],
    settings: Settings | None,
) -> None:
    _notify_event(session, actor, comment, mentioned, "mention", settings)


def _notify_event(
    session: Session,
    actor: Actor,
    comment: Comment,
    user_ids: list[uuid.UUID],
    event: str,
    settings: Settings | None,
) -> None:
    if comment.audience != "participants" and user_ids:
        # an internal note reaches the author's own company only, whoever else was named
        user_ids = list(
            session.scalars(
                select(User.id).where(User.id.in_(user_ids), User.company_id == comment.company_id)
            )
        )
    notifications.notify(
        session,
        user_ids=user_ids,
        event=event,
        record_id=comment.record_id,
        kind=comment.kind,
        actor=actor,
        subject_id=comment.id,
        settings=settings,
    )


def _mine_for_write(session: Session, actor: Actor, comment_id: uuid.UUID) -> Comment:
    principal = actor.principal
    comment = visible_comment(session, principal, comment_id)
    if comment is None:
        raise not_found("comment")
    if comment.author_user_id != actor.user_id:
        raise forbidden("Only the author edits or deletes a comment.")
    return comment


def update(
    session: Session,
    actor: Actor,
    comment_id: uuid.UUID,
    patch: CommentPatch,
    expected: int,
    settings: Settings | None = None,
) -> Comment:
    comment = _mine_for_write(session, actor, comment_id)
    if patch.body == comment.body:
        conditional.check_version(comment, expected, "comment")
        return comment
    conditional.claim_version(
        session, comment, expected, "comment", rls.as_company(actor.company_id)
    )
    prepared = mentions.prepare(
        session,
        comment.kind,
        comment.record_id,
        patch.body,
        audience=comment.audience,
        author_company_id=comment.company_id,
    )
    before = set(
        session.scalars(
            select(CommentMention.user_id)
            .where(CommentMention.comment_id == comment.id)
            .execution_options(**rls.as_company(actor.company_id))
        )
    )
    comment.body = patch.body
    comment.body_html = prepared.html
    comment.edited_at = utcnow()
    new = [u for u in prepared.user_ids if u not in before]
    for user_id in new:
        session.add(
            CommentMention(comment_id=comment.id, user_id=user_id, record_id=comment.record_id)
        )
    audit.record(
        session,
        actor,
        "comment.edited",
        comment.kind,
        comment.record_id,
        comment=str(comment.id),
        version=comment.version,
    )
    _notify(session, actor, comment, new, settings)
    return comment


def delete(session: Session, actor: Actor, comment_id: uuid.UUID, expected: int) -> None:
    comment = _mine_for_write(session, actor, comment_id)
    conditional.claim_version(
        session, comment, expected, "comment", rls.as_company(actor.company_id)
    )
    comment.deleted_at = utcnow()
    audit.record(
        session,
        actor,
        "comment.deleted",
        comment.kind,
        comment.record_id,
        comment=str(comment.id),
    )


def read_one(session: Session, actor: Actor, comment_id: uuid.UUID) -> CommentOut:
    principal = actor.principal
    comment = visible_comment(session, principal, comment_id)
    if comment is None:
        raise not_found("comment")
    return present(session, principal, [comment])[0]
