"""What a notification about an idea quotes, read again as its recipient when it is listed or
e-mailed: the idea's title, and for a decline the host's reason, only while the recipient may
see the idea (`visibility`) and, for the reason, is of the host's or the proposer's company.
The ideas of one list or e-mail are read at once (two statements)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.orm import Session

from coterie.activity import notifications
from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.cosell.ideas import visibility
from coterie.models import Record
from coterie.models.ideas import Idea

EVENTS = ("idea_proposed", "idea_accepted", "idea_declined")


def excerpts(
    session: Session, principal: Principal, idea_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    ideas = list(session.scalars(visibility.visible_ideas(principal).where(Idea.id.in_(idea_ids))))
    if not ideas:
        return {}
    hosts: dict[uuid.UUID, uuid.UUID] = {
        row[0]: row[1]
        for row in session.execute(
            gate.visible(principal, visibility.PROGRAM)
            .with_only_columns(Record.id, Record.owner_company_id)
            .where(Record.id.in_({i.program_id for i in ideas}))
        )
    }
    found: dict[uuid.UUID, str] = {}
    for idea in ideas:
        if idea.program_id not in hosts:
            continue
        text = f"Idea: {idea.title}"
        reader = principal.company_id
        if idea.decline_reason and reader in (hosts[idea.program_id], idea.proposer_company_id):
            text += f"\nReason: {idea.decline_reason}"
        found[idea.id] = text
    return found


def install() -> None:
    for event in EVENTS:
        notifications.provide_excerpt(event, excerpts)
