"""Comments as subjects of attachments ("comment"), registered from `coterie.wiring`.

A comment's files are seen by whoever may read the comment now (`comment_access`): everyone on
the record for a comment to participants, only the author's company for an internal note, and
nobody once the comment is deleted or the record is out of reach. Only the comment's author
attaches files to it, while their company may still edit the record.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.activity.comment_access import visible_comment
from coterie.attachments import subjects
from coterie.attachments.subjects import Subject, SubjectKind
from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.kit.problems import forbidden, not_found
from coterie.models.activity import Comment

KIND = "comment"


def subject_of(comment: Comment) -> Subject:
    return Subject(KIND, comment.id, comment.kind, comment.record_id)


def readable(session: Session, principal: Principal, comment_id: uuid.UUID) -> Subject | None:
    comment = visible_comment(session, principal, comment_id)
    return subject_of(comment) if comment is not None else None


def attachable(session: Session, actor: Actor, comment_id: uuid.UUID) -> Subject:
    comment = visible_comment(session, actor.principal, comment_id)
    if comment is None:
        raise not_found("comment")
    if comment.author_user_id != actor.user_id:
        raise forbidden("Only the author of a comment can attach files to it.")
    gate.require_edit(session, actor.principal, comment.kind, comment.record_id)
    return subject_of(comment)


def install() -> None:
    subjects.register(SubjectKind(KIND, "comment", readable, attachable))
