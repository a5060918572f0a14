"""What a notification about an idea quotes, read again as its recipient when it is listed or
e-mailed: the idea's title, and for a decline the host's reason, only while the recipient may
see the idea (`visibility`) and, for the reason, is of the host's or the proposer's company."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.activity import notifications
from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.cosell.ideas import visibility
from coterie.kit.problems import Problem

EVENTS = ("idea_proposed", "idea_accepted", "idea_declined")


def excerpt(session: Session, principal: Principal, idea_id: uuid.UUID) -> str | None:
    try:
        idea = visibility.check(session, principal, idea_id)
        program = gate.check(session, principal, visibility.PROGRAM, idea.program_id)
    except Problem:
        return None
    text = f"Idea: {idea.title}"
    reader = principal.company_id
    if idea.decline_reason and reader in (program.owner_company_id, idea.proposer_company_id):
        text += f"\nReason: {idea.decline_reason}"
    return text


def install() -> None:
    for event in EVENTS:
        notifications.provide_excerpt(event, excerpt)
