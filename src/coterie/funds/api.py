"""The funds API under `/api/v1/funds`: budgets and allocations, fund requests and their
decisions, private notes, claim deadline extensions, claims and payment, and the return on a
budget. Every read goes through `coterie.funds.access` as the caller's company; a budget,
request or claim the caller's company takes no part in answers 404. Writes to a versioned
resource and every state change require `If-Match` (428 without, 412 when stale); a state
change the row's status does not allow, or one that would over-commit a budget, is 409.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.attachments import service as attachments
from coterie.attachments.api import MULTIPART_FILE, UPLOAD_DESCRIPTION, UPLOAD_RESPONSES, upload
from coterie.attachments.schemas import AttachmentOut
from coterie.attachments.subjects import SubjectRef
from coterie.auth.dependencies import ApiActor
from coterie.auth.principal import Actor
from coterie.deps import DB, AppSettings
from coterie.funds import access, budgets, claim_files, claims, requests, roi
from coterie.funds.schemas import (
    AllocationIn,
    AllocationOut,
    ApproveIn,
    BudgetIn,
    BudgetOut,
    BudgetPatch,
    ClaimDecisionIn,
    ClaimIn,
    ClaimOut,
    DecisionIn,
    ExtensionIn,
    NoteIn,
    NoteOut,
    PaymentIn,
    RequestIn,
    RequestOut,
    RequestPatch,
    RequestStatus,
    ResubmitIn,
    RoiOut,
)
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, SortKey, paginate
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.models import User
from coterie.models.funds import FundBudget, FundClaim, FundRequest

router = APIRouter(prefix="/funds", tags=["funds"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=500)]
BudgetVersion = Annotated[int, expected_version("the budget's ETag from its GET")]
RequestVersion = Annotated[int, expected_version("the fund request's ETag from its GET")]
ClaimVersion = Annotated[int, expected_version("the claim's ETag from its GET")]


class ExtensionDecision(StrEnum):
    GRANT = "grant"
    DECLINE = "decline"


class BudgetList(BaseModel):
    items: list[BudgetOut]
    next_cursor: str | None


class AllocationList(BaseModel):
    items: list[AllocationOut]


class RequestList(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None


class ClaimList(BaseModel):
    items: list[ClaimOut]
    next_cursor: str | None


class NoteList(BaseModel):
    items: list[NoteOut]


# -- budgets ---------------------------------------------------------------------------------


def _budget_out(
    session: Session, actor: Actor, budget_id: uuid.UUID, response: Response
) -> BudgetOut:
    budget = access.budget(session, actor.principal, budget_id)
    out = budgets.present(session, actor.principal, [budget])[0]
    set_etag(response, out.version)
    return out


@router.get(
    "/budgets", response_model=BudgetList, summary="Budgets my company funds or may request from"
)
def list_budgets(
    actor: ApiActor, session: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> BudgetList:
    rows, next_cursor = paginate(
        session,
        access.budgets(actor.principal),
        (SortKey(FundBudget.id, is_uuid=True),),
        limit=limit,
        cursor=cursor,
        key_of=lambda b: (b.id,),
    )
    return BudgetList(
        items=budgets.present(session, actor.principal, rows), next_cursor=next_cursor
    )


@router.post(
    "/budgets",
    response_model=BudgetOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a budget for a program my company sees (admins and managers)",
)
def create_budget(body: BudgetIn, actor: ApiActor, session: DB, response: Response) -> BudgetOut:
    budget = budgets.create(session, actor, body)
    session.commit()
    return _budget_out(session, actor, budget.id, response)


@router.get("/budgets/{budget_id}", response_model=BudgetOut)
def get_budget(budget_id: uuid.UUID, actor: ApiActor, session: DB, response: Response) -> BudgetOut:
    return _budget_out(session, actor, budget_id, response)


@router.patch(
    "/budgets/{budget_id}",
    response_model=BudgetOut,
    responses=PRECONDITION_RESPONSES,
    summary="Rename, change the total, share the total, close the period (If-Match)",
)
def patch_budget(
    budget_id: uuid.UUID,
    body: BudgetPatch,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: BudgetVersion,
) -> BudgetOut:
    budgets.change(session, actor, budget_id, body, expected)
    session.commit()
    return _budget_out(session, actor, budget_id, response)


@router.get("/budgets/{budget_id}/allocations", response_model=AllocationList)
def list_allocations(budget_id: uuid.UUID, actor: ApiActor, session: DB) -> AllocationList:
    access.budget(session, actor.principal, budget_id)
    rows = list(session.scalars(access.allocations(actor.principal, budget_id)))
    return AllocationList(items=budgets.present_allocations(session, rows))


@router.post(
    "/budgets/{budget_id}/allocations",
    response_model=AllocationOut,
    summary="Allot a share of the budget to a partner of the program, or change its cap",
)
def save_allocation(
    budget_id: uuid.UUID, body: AllocationIn, actor: ApiActor, session: DB
) -> AllocationOut:
    row = budgets.allot(session, actor, budget_id, body)
    session.commit()
    access.reload(session, actor.principal, row)
    return budgets.present_allocations(session, [row])[0]


@router.get(
    "/budgets/{budget_id}/roi",
    response_model=RoiOut,
    summary="Leads, pipeline and revenue influenced per unit paid (the funding company)",
)
def get_roi(budget_id: uuid.UUID, actor: ApiActor, session: DB) -> RoiOut:
    return roi.budget_roi(session, actor.principal, budget_id)


# -- requests --------------------------------------------------------------------------------


def _request_out(
    session: Session, actor: Actor, request_id: uuid.UUID, response: Response
) -> RequestOut:
    row = access.request(session, actor.principal, request_id)
    out = requests.present(session, actor.principal, [row])[0]
    set_etag(response, out.version)
    return out


@router.get(
    "/requests", response_model=RequestList, summary="Fund requests my company made or funds"
)
def list_requests(
    actor: ApiActor,
    session: DB,
    budget_id: uuid.UUID | None = None,
    status_is: Annotated[RequestStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> RequestList:
    statement = access.requests(actor.principal)
    if budget_id is not None:
        statement = statement.where(FundRequest.budget_id == budget_id)
    if status_is is not None:
        statement = statement.where(FundRequest.status == status_is.value)
    rows, next_cursor = paginate(
        session,
        statement,
        (SortKey(FundRequest.id, is_uuid=True),),
        limit=limit,
        cursor=cursor,
        key_of=lambda r: (r.id,),
    )
    return RequestList(
        items=requests.present(session, actor.principal, rows), next_cursor=next_cursor
    )


@router.post(
    "/requests",
    response_model=RequestOut,
    status_code=status.HTTP_201_CREATED,
    summary="Ask for funds from a budget my company has an allocation on",
)
def create_request(body: RequestIn, actor: ApiActor, session: DB, response: Response) -> RequestOut:
    row = requests.create(session, actor, body)
    session.commit()
    return _request_out(session, actor, row.id, response)


@router.get("/requests/{request_id}", response_model=RequestOut)
def get_request(
    request_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> RequestOut:
    return _request_out(session, actor, request_id, response)


@router.patch(
    "/requests/{request_id}",
    response_model=RequestOut,
    responses=PRECONDITION_RESPONSES,
    summary="Edit a draft, or a request sent back for more information (the requester)",
)
def patch_request(
    request_id: uuid.UUID,
    body: RequestPatch,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RequestVersion,
) -> RequestOut:
    requests.change(session, actor, request_id, body, expected)
    session.commit()
    return _request_out(session, actor, request_id, response)


@router.post(
    "/requests/{request_id}/submit", response_model=RequestOut, responses=PRECONDITION_RESPONSES
)
def submit_request(
    request_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RequestVersion,
) -> RequestOut:
    requests.submit(session, actor, request_id, expected)
    session.commit()
    return _request_out(session, actor, request_id, response)


@router.post(
    "/requests/{request_id}/approve",
    response_model=RequestOut,
    responses=PRECONDITION_RESPONSES,
    summary="Approve with an amount (claims the budget; 409 when it would over-commit it)",
)
def approve_request(
    request_id: uuid.UUID,
    body: ApproveIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RequestVersion,
) -> RequestOut:
    requests.approve(session, actor, request_id, body, expected)
    session.commit()
    return _request_out(session, actor, request_id, response)


@router.post(
    "/requests/{request_id}/more-info", response_model=RequestOut, responses=PRECONDITION_RESPONSES
)
def ask_for_information(
    request_id: uuid.UUID,
    body: DecisionIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RequestVersion,
) -> RequestOut:
    requests.ask_for_information(session, actor, request_id, body, expected)
    session.commit()
    return _request_out(session, actor, request_id, response)


@router.post(
    "/requests/{request_id}/reject", response_model=RequestOut, responses=PRECONDITION_RESPONSES
)
def reject_request(
    request_id: uuid.UUID,
    body: DecisionIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RequestVersion,
) -> RequestOut:
    requests.reject(session, actor, request_id, body, expected)
    session.commit()
    return _request_out(session, actor, request_id, response)


@router.post(
    "/requests/{request_id}/extension",
    response_model=RequestOut,
    responses=PRECONDITION_RESPONSES,
    summary="Ask the funder for a later claim deadline (the requester)",
)
def ask_extension(
    request_id: uuid.UUID,
    body: ExtensionIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RequestVersion,
) -> RequestOut:
    requests.ask_extension(session, actor, request_id, body, expected)
    session.commit()
    return _request_out(session, actor, request_id, response)


@router.post(
    "/requests/{request_id}/extension/{decision}",
    response_model=RequestOut,
    responses=PRECONDITION_RESPONSES,
    summary="Grant or decline the pending extension (the funder)",
)
def decide_extension(
    request_id: uuid.UUID,
    decision: ExtensionDecision,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RequestVersion,
) -> RequestOut:
    requests.decide_extension(
        session, actor, request_id, decision == ExtensionDecision.GRANT, expected
    )
    session.commit()
    return _request_out(session, actor, request_id, response)


def _notes_out(session: Session, actor: Actor, request_id: uuid.UUID) -> NoteList:
    rows = requests.notes(session, actor.principal, request_id)
    wanted = {n.author_user_id for n in rows if n.author_user_id}
    found = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    authors = {row[0]: row[1] for row in found}
    return NoteList(
        items=[
            NoteOut(
                id=n.id,
                body=n.body,
                author_name=authors.get(n.author_user_id) if n.author_user_id else None,
                created_at=n.created_at,
            )
            for n in rows
        ]
    )


@router.get(
    "/requests/{request_id}/notes",
    response_model=NoteList,
    summary="My company's internal notes on a request it funds (never the requester's to see)",
)
def list_notes(request_id: uuid.UUID, actor: ApiActor, session: DB) -> NoteList:
    access.request(session, actor.principal, request_id)
    return _notes_out(session, actor, request_id)


@router.post(
    "/requests/{request_id}/notes", response_model=NoteList, status_code=status.HTTP_201_CREATED
)
def add_note(request_id: uuid.UUID, body: NoteIn, actor: ApiActor, session: DB) -> NoteList:
    requests.add_note(session, actor, request_id, body.body)
    session.commit()
    return _notes_out(session, actor, request_id)


# -- claims ----------------------------------------------------------------------------------


def _claim_out(session: Session, actor: Actor, claim_id: uuid.UUID, response: Response) -> ClaimOut:
    row = access.claim(session, actor.principal, claim_id)
    out = claims.present(session, actor.principal, [row])[0]
    set_etag(response, out.version)
    return out


@router.get("/requests/{request_id}/claims", response_model=ClaimList)
def list_request_claims(request_id: uuid.UUID, actor: ApiActor, session: DB) -> ClaimList:
    access.request(session, actor.principal, request_id)
    rows = claims.of_request(session, actor.principal, request_id)
    return ClaimList(items=claims.present(session, actor.principal, rows), next_cursor=None)


@router.post(
    "/requests/{request_id}/claims",
    response_model=ClaimOut,
    status_code=status.HTTP_201_CREATED,
    summary="Claim spent funds against an approved request (never over what is left to claim)",
)
def create_claim(
    request_id: uuid.UUID, body: ClaimIn, actor: ApiActor, session: DB, response: Response
) -> ClaimOut:
    row = claims.create(session, actor, request_id, body)
    session.commit()
    return _claim_out(session, actor, row.id, response)


@router.get("/claims", response_model=ClaimList, summary="Claims my company made or funds")
def list_claims(
    actor: ApiActor, session: DB, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> ClaimList:
    rows, next_cursor = paginate(
        session,
        access.claims(actor.principal),
        (SortKey(FundClaim.id, is_uuid=True),),
        limit=limit,
        cursor=cursor,
        key_of=lambda c: (c.id,),
    )
    return ClaimList(items=claims.present(session, actor.principal, rows), next_cursor=next_cursor)


@router.get("/claims/{claim_id}", response_model=ClaimOut)
def get_claim(claim_id: uuid.UUID, actor: ApiActor, session: DB, response: Response) -> ClaimOut:
    return _claim_out(session, actor, claim_id, response)


@router.post(
    "/claims/{claim_id}/proof",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Attach a proof of performance file to my draft (or more-information) claim",
    description=UPLOAD_DESCRIPTION + " Seen by the requesting and the funding company only.",
    openapi_extra=MULTIPART_FILE,
    responses={**UPLOAD_RESPONSES, 409: {"description": "The claim is no longer open"}},
)
async def attach_proof(
    claim_id: uuid.UUID,
    request: Request,
    actor: ApiActor,
    session: DB,
    settings: AppSettings,
    response: Response,
) -> AttachmentOut:
    made = await upload(request, session, actor, settings, SubjectRef(claim_files.KIND, claim_id))
    response.headers["Location"] = f"/api/v1/attachments/{made.id}"
    return made


@router.get("/claims/{claim_id}/proof", response_model=Page[AttachmentOut])
def list_proof(
    claim_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AttachmentOut]:
    """The claim's proof files (404 unless my company requested or funds the claim)."""
    rows, next_cursor = attachments.list_for(
        session,
        actor.principal,
        SubjectRef(claim_files.KIND, claim_id),
        limit=limit,
        cursor=cursor,
    )
    return Page(items=attachments.present(session, actor, rows), next_cursor=next_cursor)


@router.post("/claims/{claim_id}/submit", response_model=ClaimOut, responses=PRECONDITION_RESPONSES)
def submit_claim(
    claim_id: uuid.UUID, actor: ApiActor, session: DB, response: Response, expected: ClaimVersion
) -> ClaimOut:
    claims.submit(session, actor, claim_id, expected)
    session.commit()
    return _claim_out(session, actor, claim_id, response)


@router.post(
    "/claims/{claim_id}/resubmit", response_model=ClaimOut, responses=PRECONDITION_RESPONSES
)
def resubmit_claim(
    claim_id: uuid.UUID,
    body: ResubmitIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: ClaimVersion,
) -> ClaimOut:
    claims.resubmit(session, actor, claim_id, body, expected)
    session.commit()
    return _claim_out(session, actor, claim_id, response)


@router.post(
    "/claims/{claim_id}/approve", response_model=ClaimOut, responses=PRECONDITION_RESPONSES
)
def approve_claim(
    claim_id: uuid.UUID,
    body: ClaimDecisionIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: ClaimVersion,
) -> ClaimOut:
    claims.approve(session, actor, claim_id, body, expected)
    session.commit()
    return _claim_out(session, actor, claim_id, response)


@router.post(
    "/claims/{claim_id}/more-info", response_model=ClaimOut, responses=PRECONDITION_RESPONSES
)
def ask_claim_information(
    claim_id: uuid.UUID,
    body: ClaimDecisionIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: ClaimVersion,
) -> ClaimOut:
    claims.ask_for_information(session, actor, claim_id, body, expected)
    session.commit()
    return _claim_out(session, actor, claim_id, response)


@router.post("/claims/{claim_id}/reject", response_model=ClaimOut, responses=PRECONDITION_RESPONSES)
def reject_claim(
    claim_id: uuid.UUID,
    body: ClaimDecisionIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: ClaimVersion,
) -> ClaimOut:
    claims.reject(session, actor, claim_id, body, expected)
    session.commit()
    return _claim_out(session, actor, claim_id, response)


@router.post(
    "/claims/{claim_id}/pay",
    response_model=ClaimOut,
    responses=PRECONDITION_RESPONSES,
    summary="Mark an approved claim paid, with the payment reference and date",
)
def pay_claim(
    claim_id: uuid.UUID,
    body: PaymentIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: ClaimVersion,
) -> ClaimOut:
    claims.pay(session, actor, claim_id, body, expected)
    session.commit()
    return _claim_out(session, actor, claim_id, response)
