"""The host's rule of who sees a program's ideas (`schemas.Visibility`): read by anyone in the
program, set by the host's admins and managers with If-Match (version 0: never set, the default
"every company in the program"). Nothing here commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import rls
from coterie.cosell.ideas import visibility
from coterie.cosell.ideas.presenting import may_triage
from coterie.cosell.ideas.schemas import VISIBILITY_LABELS, Visibility, VisibilityOut
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.problems import forbidden
from coterie.models import Record
from coterie.models.ideas import ProgramIdeaSettings


def read(session: Session, actor: Actor, program_id: uuid.UUID) -> VisibilityOut:
    program = visibility.program_in(session, actor.principal, program_id)  # 404 when not in it
    return of_program(session, actor, program)


def of_program(session: Session, actor: Actor, program: Record) -> VisibilityOut:
    """The rule of a program `visibility.program_in` has just admitted (not read again)."""
    row = visibility.rule_of(session, actor.principal, program.id)
    rule = Visibility(row.visibility) if row is not None else Visibility.PROGRAM
    return VisibilityOut(
        program_id=program.id,
        visibility=rule,
        label=VISIBILITY_LABELS[rule],
        version=row.version if row is not None else 0,
        can_edit=may_triage(actor, program.owner_company_id),
    )


def save(
    session: Session, actor: Actor, program_id: uuid.UUID, rule: Visibility, expected: int
) -> None:
    principal = actor.principal
    program = visibility.program_in(session, principal, program_id)  # 404 when not in it
    if not may_triage(actor, program.owner_company_id):
        raise forbidden("Only admins and managers of the program's host choose who sees ideas.")
    row = conditional.claim_singleton(
        session,
        visibility.rule_of(session, principal, program_id),
        expected,
        "ideas settings",
        lambda: ProgramIdeaSettings(program_id=program_id, version=1, visibility=rule.value),
        rls.as_company(actor.company_id),
    )
    row.visibility = rule.value
    row.updated_at = utcnow()
    row.updated_by_user_id = actor.user_id
    session.flush()
    audit.record(
        session, actor, "program.ideas_visibility", "program", program_id, visibility=rule.value
    )
