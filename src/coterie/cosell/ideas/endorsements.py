"""Endorsing an idea: one endorsement per user, by anyone who may see the idea while it is open
(colleagues of the proposer and partners alike); withdrawn by the same user. Nothing here
commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import rls
from coterie.cosell.ideas import visibility
from coterie.cosell.ideas.schemas import IdeaStatus
from coterie.db import utcnow
from coterie.kit.problems import conflict
from coterie.models.ideas import Idea, IdeaEndorsement


def _open(session: Session, actor: Actor, idea_id: uuid.UUID) -> Idea:
    idea = visibility.check(session, actor.principal, idea_id)  # 404 when hidden
    if idea.status != IdeaStatus.OPEN.value:
        raise conflict("idea-decided", "This idea was already triaged; endorsements are closed.")
    return idea


def endorse(session: Session, actor: Actor, idea_id: uuid.UUID) -> None:
    """Endorse (again: no change): the primary key keeps one row per user, also when two
    requests of the same user race."""
    idea = _open(session, actor, idea_id)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(IdeaEndorsement)
        .values(
            idea_id=idea.id,
            user_id=actor.user_id,
            company_id=actor.company_id,
            program_id=idea.program_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["idea_id", "user_id"]),
        execution_options=rls.as_company(actor.company_id),
    )


def withdraw(session: Session, actor: Actor, idea_id: uuid.UUID) -> None:
    idea = _open(session, actor, idea_id)
    session.execute(
        delete(IdeaEndorsement)
        .where(IdeaEndorsement.idea_id == idea.id, IdeaEndorsement.user_id == actor.user_id)
        .execution_options(**rls.as_company(actor.company_id))
    )
