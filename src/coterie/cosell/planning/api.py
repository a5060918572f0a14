"""Routes of programs, plans, goals, plan links, account plans, roll-ups and exchange rates.

Programs and plans themselves are created, listed and shared through the generic record routes
(`/programs`, `/plans`); these routes add what is particular to them. Every route reads through
the gate: a program, plan, goal or account the caller may not see answers 404.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.cosell.planning import accounts, goals, plans, programs, rates
from coterie.cosell.schemas import (
    AccountPlanIn,
    AccountPlanOut,
    GoalIn,
    GoalList,
    GoalOut,
    GoalPatch,
    LinkIn,
    LinkList,
    LinkOut,
    PlanProfileIn,
    PlanProfileOut,
    PlanProgress,
    ProgramOverview,
    ProgramProfileIn,
    ProgramProfileOut,
    RateIn,
    RateList,
    Role,
    Rollup,
    TargetAccountIn,
)
from coterie.deps import DB
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag

router = APIRouter()

LinkKind = Annotated[str | None, Query(pattern="^(opportunity|lead|account)$")]
ProgramVersion = Annotated[
    int, expected_version("the profile's ETag from GET /api/v1/programs/{id}/profile (0 at first)")
]
PlanVersion = Annotated[
    int, expected_version("the profile's ETag from GET /api/v1/plans/{id}/profile (0 at first)")
]
GoalVersion = Annotated[
    int, expected_version("the goal's ETag from GET /api/v1/plans/{id}/goals/{goal_id}")
]
AccountPlanVersion = Annotated[
    int, expected_version("the plan's ETag from GET /api/v1/accounts/{id}/plan (0 at first)")
]


# -- programs ----------------------------------------------------------------------------------


@router.get("/programs/{program_id}/profile", response_model=ProgramProfileOut, tags=["programs"])
def get_program_profile(
    program_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> ProgramProfileOut:
    out = programs.read_program(session, actor, program_id)
    set_etag(response, out.version)
    return out


@router.put(
    "/programs/{program_id}/profile",
    response_model=ProgramProfileOut,
    tags=["programs"],
    summary="Type, region, dates and status (host company's admins and managers; If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def put_program_profile(
    program_id: uuid.UUID,
    body: ProgramProfileIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: ProgramVersion,
) -> ProgramProfileOut:
    programs.save_program(session, actor, program_id, body, expected)
    session.commit()
    out = programs.read_program(session, actor, program_id)
    set_etag(response, out.version)
    return out


@router.get(
    "/programs/{program_id}/overview",
    response_model=ProgramOverview,
    tags=["programs"],
    summary="Profile, the program's plans I may see, participants",
)
def get_program_overview(program_id: uuid.UUID, actor: ApiActor, session: DB) -> ProgramOverview:
    return programs.overview(session, actor, program_id)


# -- plans -------------------------------------------------------------------------------------


@router.get("/plans/{plan_id}/profile", response_model=PlanProfileOut, tags=["plans"])
def get_plan_profile(
    plan_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> PlanProfileOut:
    out = programs.read_plan(session, actor, plan_id)
    set_etag(response, out.version)
    return out


@router.put(
    "/plans/{plan_id}/profile",
    response_model=PlanProfileOut,
    tags=["plans"],
    summary="Program, period and status (plan owner's admins and managers; If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def put_plan_profile(
    plan_id: uuid.UUID,
    body: PlanProfileIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: PlanVersion,
) -> PlanProfileOut:
    programs.save_plan(session, actor, plan_id, body, expected)
    session.commit()
    out = programs.read_plan(session, actor, plan_id)
    set_etag(response, out.version)
    return out


@router.get(
    "/plans/{plan_id}/records",
    response_model=LinkList,
    tags=["plans"],
    summary="Records linked to the plan that I may see, masked",
)
def list_plan_records(
    plan_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    kind: LinkKind = None,
    role: Role | None = None,
) -> LinkList:
    return LinkList(items=plans.list_links(session, actor, plan_id, kind=kind, role=role))


def _link_out(session: DB, actor: ApiActor, plan_id: uuid.UUID, record_id: uuid.UUID) -> LinkOut:
    found = [
        link for link in plans.list_links(session, actor, plan_id) if link.record_id == record_id
    ]
    return found[0]


@router.post(
    "/plans/{plan_id}/records",
    response_model=LinkOut,
    status_code=status.HTTP_201_CREATED,
    tags=["plans"],
    summary="Link a lead or opportunity (pipeline) or an account (target_account) I am on",
)
def link_plan_record(plan_id: uuid.UUID, body: LinkIn, actor: ApiActor, session: DB) -> LinkOut:
    plans.link(session, actor, plan_id, body.record_id, body.role)
    session.commit()
    return _link_out(session, actor, plan_id, body.record_id)


@router.post(
    "/plans/{plan_id}/target-accounts",
    response_model=LinkOut,
    status_code=status.HTTP_201_CREATED,
    tags=["plans"],
    summary="Nominate a target account (an account I am on)",
)
def nominate_target_account(
    plan_id: uuid.UUID, body: TargetAccountIn, actor: ApiActor, session: DB
) -> LinkOut:
    plans.link(session, actor, plan_id, body.account_id, Role.TARGET_ACCOUNT)
    session.commit()
    return _link_out(session, actor, plan_id, body.account_id)


@router.delete(
    "/plans/{plan_id}/records/{record_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["plans"],
    summary="Unlink (the company that linked it, or the plan owner)",
)
def unlink_plan_record(
    plan_id: uuid.UUID, record_id: uuid.UUID, actor: ApiActor, session: DB
) -> Response:
    plans.unlink(session, actor, plan_id, record_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- goals -------------------------------------------------------------------------------------


@router.get(
    "/plans/{plan_id}/goals",
    response_model=GoalList,
    tags=["goals"],
    summary="The plan's goals with live progress over what I may see, in my currency",
)
def list_plan_goals(plan_id: uuid.UUID, actor: ApiActor, session: DB) -> GoalList:
    return GoalList(items=goals.list_goals(session, actor, plan_id))


@router.post(
    "/plans/{plan_id}/goals",
    response_model=GoalList,
    status_code=status.HTTP_201_CREATED,
    tags=["goals"],
    summary="Set a goal (or one per slice with `breakdown`): my company's, or joint (owner)",
)
def create_plan_goal(plan_id: uuid.UUID, body: GoalIn, actor: ApiActor, session: DB) -> GoalList:
    created = goals.create(session, actor, plan_id, body)
    ids = {g.id for g in created}
    session.commit()
    return GoalList(items=goals.list_goals(session, actor, plan_id, ids))


@router.get("/plans/{plan_id}/goals/{goal_id}", response_model=GoalOut, tags=["goals"])
def get_plan_goal(
    plan_id: uuid.UUID, goal_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> GoalOut:
    out = goals.read_goal(session, actor, plan_id, goal_id)
    set_etag(response, out.version)
    return out


@router.patch(
    "/plans/{plan_id}/goals/{goal_id}",
    response_model=GoalOut,
    tags=["goals"],
    summary="Change a goal's target, currency or period (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def patch_plan_goal(
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    body: GoalPatch,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: GoalVersion,
) -> GoalOut:
    goals.update(session, actor, plan_id, goal_id, body, expected)
    session.commit()
    out = goals.read_goal(session, actor, plan_id, goal_id)
    set_etag(response, out.version)
    return out


@router.delete(
    "/plans/{plan_id}/goals/{goal_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["goals"],
    summary="Delete a goal (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def delete_plan_goal(
    plan_id: uuid.UUID,
    goal_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    expected: GoalVersion,
) -> Response:
    goals.delete(session, actor, plan_id, goal_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/plans/{plan_id}/progress",
    response_model=PlanProgress,
    tags=["goals"],
    summary="Every goal's progress over the linked records I may see, in my currency",
)
def plan_progress(plan_id: uuid.UUID, actor: ApiActor, session: DB) -> PlanProgress:
    items = goals.list_goals(session, actor, plan_id)
    return PlanProgress(
        plan_id=plan_id, currency=goals.viewer_currency(session, actor), goals=items
    )


# -- accounts ----------------------------------------------------------------------------------


@router.get("/accounts/{account_id}/plan", response_model=AccountPlanOut, tags=["accounts"])
def get_account_plan(
    account_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> AccountPlanOut:
    out = accounts.read_plan(session, actor, account_id)
    set_etag(response, out.version)
    return out


@router.put(
    "/accounts/{account_id}/plan",
    response_model=AccountPlanOut,
    tags=["accounts"],
    summary="Objectives and next steps (any active participant; If-Match the plan's version)",
    responses=PRECONDITION_RESPONSES,
)
def put_account_plan(
    account_id: uuid.UUID,
    body: AccountPlanIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: AccountPlanVersion,
) -> AccountPlanOut:
    accounts.save_plan(session, actor, account_id, body, expected)
    session.commit()
    out = accounts.read_plan(session, actor, account_id)
    set_etag(response, out.version)
    return out


@router.get(
    "/accounts/{account_id}/rollup",
    response_model=Rollup,
    tags=["accounts"],
    summary="The account's opportunities I may see: counts and amounts in my currency",
)
def get_account_rollup(account_id: uuid.UUID, actor: ApiActor, session: DB) -> Rollup:
    return accounts.rollup(session, actor, account_id)


# -- exchange rates ----------------------------------------------------------------------------


@router.get("/exchange-rates", response_model=RateList, tags=["exchange-rates"])
def get_exchange_rates(actor: ApiActor, session: DB) -> RateList:
    return RateList(
        currency=actor.company.currency, items=rates.list_rates(session, actor.company_id)
    )


@router.put(
    "/exchange-rates",
    response_model=RateList,
    tags=["exchange-rates"],
    summary="Add or replace dated rates: 1 unit of currency = rate units of mine (admins)",
)
def put_exchange_rates(
    body: Annotated[list[RateIn], Body(max_length=rates.MAX_RATES)],
    actor: ApiActor,
    session: DB,
) -> RateList:
    rates.save_rates(session, actor, body)
    session.commit()
    return RateList(
        currency=actor.company.currency, items=rates.list_rates(session, actor.company_id)
    )


@router.delete(
    "/exchange-rates/{rate_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["exchange-rates"]
)
def delete_exchange_rate(rate_id: uuid.UUID, actor: ApiActor, session: DB) -> Response:
    rates.delete_rate(session, actor, rate_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
