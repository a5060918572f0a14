"""Routes for teams and access rules (visibility and auto-share)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, AppSettings, reads_only
from coterie.fields.kinds import Kind
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.policies import service
from coterie.policies.schemas import RuleIn, RuleOut, RulePreview, TeamIn, TeamOut, TeamPatch

router = APIRouter()


@router.get("/teams", response_model=list[TeamOut], tags=["teams"], summary="My company's teams")
def list_teams(actor: ApiActor, session: DB) -> list[TeamOut]:
    return [service.team_out(session, t) for t in service.list_teams(session, actor)]


@router.post("/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED, tags=["teams"])
def create_team(body: TeamIn, actor: ApiActor, session: DB) -> TeamOut:
    team = service.create_team(session, actor, body.name, body.members)
    session.commit()
    return service.team_out(session, team)


@router.get("/teams/{team_id}", response_model=TeamOut, tags=["teams"])
def get_team(team_id: uuid.UUID, actor: ApiActor, session: DB) -> TeamOut:
    return service.team_out(session, service.get_team(session, actor, team_id))


@router.patch(
    "/teams/{team_id}",
    response_model=TeamOut,
    tags=["teams"],
    summary="Rename a team or replace its members (grants follow at once)",
)
def update_team(team_id: uuid.UUID, body: TeamPatch, actor: ApiActor, session: DB) -> TeamOut:
    team = service.update_team(session, actor, team_id, body.name, body.members)
    session.commit()
    return service.team_out(session, team)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["teams"])
def delete_team(team_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    service.delete_team(session, actor, team_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/rules", response_model=list[RuleOut], tags=["rules"], summary="My company's rules")
def list_rules(actor: ApiActor, session: DB, kind: Kind | None = None) -> list[RuleOut]:
    return [
        service.rule_out(r)
        for r in service.list_rules(session, actor, kind.value if kind else None)
    ]


@router.post(
    "/rules/preview",
    response_model=RulePreview,
    tags=["rules"],
    summary="How many records a rule would match now (nothing is saved)",
)
@reads_only
def preview_rule(body: RuleIn, actor: ApiActor, session: DB, settings: AppSettings) -> RulePreview:
    return RulePreview(
        matching_records=service.preview(session, actor, body), cap=settings.rule_grant_cap
    )


@router.post(
    "/rules",
    response_model=RuleOut,
    status_code=status.HTTP_201_CREATED,
    tags=["rules"],
    summary="Create a visibility or auto-share rule; it applies at once",
)
def create_rule(
    body: RuleIn, actor: ApiActor, session: DB, settings: AppSettings, response: Response
) -> RuleOut:
    rule = service.create_rule(session, settings, actor, body)
    session.commit()
    set_etag(response, rule.version)
    return service.rule_out(rule)


RuleVersion = Annotated[int, expected_version("the rule's ETag from GET /api/v1/rules/{id}")]


@router.get("/rules/{rule_id}", response_model=RuleOut, tags=["rules"])
def get_rule(rule_id: uuid.UUID, actor: ApiActor, session: DB, response: Response) -> RuleOut:
    rule = service.get_rule(session, actor, rule_id)
    set_etag(response, rule.version)
    return service.rule_out(rule)


@router.put(
    "/rules/{rule_id}",
    response_model=RuleOut,
    tags=["rules"],
    summary="Replace a rule (If-Match: its ETag)",
    responses=PRECONDITION_RESPONSES,
)
def update_rule(
    rule_id: uuid.UUID,
    body: RuleIn,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
    expected: RuleVersion,
) -> RuleOut:
    rule = service.update_rule(session, settings, actor, rule_id, body, expected)
    session.commit()
    set_etag(response, rule.version)
    return service.rule_out(rule)


@router.delete(
    "/rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["rules"],
    summary="Delete a rule (If-Match: its ETag)",
    responses=PRECONDITION_RESPONSES,
)
def delete_rule(
    rule_id: uuid.UUID, actor: ApiActor, session: DB, expected: RuleVersion
) -> Response:
    service.delete_rule(session, actor, rule_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
