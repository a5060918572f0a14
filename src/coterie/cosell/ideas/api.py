"""Routes of ideas: propose to a program, list and read the ideas I may see, endorse, and the
host's triage (accept, decline with a reason) and its rule of who sees the program's ideas.
A program I am not in, or an idea I may not see, answers 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.cosell.ideas import endorsements, proposals, settings, triage
from coterie.cosell.ideas.schemas import (
    DeclineIn,
    IdeaIn,
    IdeaList,
    IdeaOut,
    IdeaStatus,
    VisibilityIn,
    VisibilityOut,
)
from coterie.deps import DB
from coterie.kit.pagination import DEFAULT_LIMIT
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag

router = APIRouter(tags=["ideas"])

Limit = Annotated[int, Query()]
SettingsVersion = Annotated[
    int,
    expected_version("the ETag of GET /api/v1/programs/{id}/ideas/settings (0 at first)"),
]


@router.post(
    "/programs/{program_id}/ideas",
    response_model=IdeaOut,
    status_code=status.HTTP_201_CREATED,
    summary="Propose a joint solution or a campaign to a program I take part in",
)
def propose(program_id: uuid.UUID, body: IdeaIn, actor: ApiActor, session: DB) -> IdeaOut:
    idea = proposals.propose(session, actor, program_id, body)
    session.commit()
    return proposals.read(session, actor, idea.id)


@router.get(
    "/programs/{program_id}/ideas",
    response_model=IdeaList,
    summary="The program's ideas I may see, newest first",
)
def list_program_ideas(
    program_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    status_: Annotated[IdeaStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> IdeaList:
    return proposals.list_visible(
        session, actor, program_id=program_id, status=status_, limit=limit, cursor=cursor
    )


@router.get(
    "/programs/{program_id}/ideas/settings",
    response_model=VisibilityOut,
    summary="Who sees the program's ideas (the host's rule)",
)
def get_settings(
    program_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> VisibilityOut:
    out = settings.read(session, actor, program_id)
    set_etag(response, out.version)
    return out


@router.put(
    "/programs/{program_id}/ideas/settings",
    response_model=VisibilityOut,
    summary="Choose who sees the program's ideas (host's admins and managers; If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def put_settings(
    program_id: uuid.UUID,
    body: VisibilityIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: SettingsVersion,
) -> VisibilityOut:
    settings.save(session, actor, program_id, body.visibility, expected)
    session.commit()
    out = settings.read(session, actor, program_id)
    set_etag(response, out.version)
    return out


@router.get("/ideas", response_model=IdeaList, summary="Every idea I may see, newest first")
def list_ideas(
    actor: ApiActor,
    session: DB,
    status_: Annotated[IdeaStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> IdeaList:
    return proposals.list_visible(session, actor, status=status_, limit=limit, cursor=cursor)


@router.get("/ideas/{idea_id}", response_model=IdeaOut)
def get_idea(idea_id: uuid.UUID, actor: ApiActor, session: DB) -> IdeaOut:
    return proposals.read(session, actor, idea_id)


@router.post("/ideas/{idea_id}/endorse", response_model=IdeaOut, summary="Endorse an open idea")
def endorse(idea_id: uuid.UUID, actor: ApiActor, session: DB) -> IdeaOut:
    endorsements.endorse(session, actor, idea_id)
    session.commit()
    return proposals.read(session, actor, idea_id)


@router.delete(
    "/ideas/{idea_id}/endorse", response_model=IdeaOut, summary="Withdraw my endorsement"
)
def withdraw_endorsement(idea_id: uuid.UUID, actor: ApiActor, session: DB) -> IdeaOut:
    endorsements.withdraw(session, actor, idea_id)
    session.commit()
    return proposals.read(session, actor, idea_id)


@router.post(
    "/ideas/{idea_id}/accept",
    response_model=IdeaOut,
    summary="Accept into the program's workflow (host): a record of the idea's kind, partners "
    "invited; 409 when already triaged",
)
def accept(idea_id: uuid.UUID, actor: ApiActor, session: DB) -> IdeaOut:
    triage.accept(session, actor, idea_id)
    session.commit()
    return proposals.read(session, actor, idea_id)


@router.post(
    "/ideas/{idea_id}/decline",
    response_model=IdeaOut,
    summary="Decline with a reason the proposer is told (host); 409 when already triaged",
)
def decline(idea_id: uuid.UUID, body: DeclineIn, actor: ApiActor, session: DB) -> IdeaOut:
    triage.decline(session, actor, idea_id, body.reason)
    session.commit()
    return proposals.read(session, actor, idea_id)
