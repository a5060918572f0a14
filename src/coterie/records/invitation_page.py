"""The invitation view of a record: what a company invited onto it sees at its address until it
accepts (the title, the customer, who invited it and when), with accept and decline. Never a
field of a space: the company holds no grant yet, and the page reads only the invitation
(`participants.my_invitation`, through the gate's `invitation`)."""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields.kinds import KindInfo
from coterie.records import participants
from coterie.web.templating import render


def invitation_page(
    request: Request, session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> Response | None:
    """The page, or None when my company is not invited to this record (then it stays 404)."""
    invitation = participants.my_invitation(session, actor, info.kind.value, record_id)
    if invitation is None:
        return None
    return render(
        request,
        "records/invitation.html",
        {"nav": info.plural, "info": info, "invitation": invitation},
    )
