"""Routes of lead nomination, decisions, duplicates, conversion and deal registration.

`/leads/nominations` and `/leads/duplicates` are not taken for record ids: the record kinds'
routes are catch-all routers, mounted after these (`coterie.records.routes`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.cosell.pipeline import duplicates, leads, registrations
from coterie.cosell.pipeline.schemas import (
    AcceptLeadIn,
    ApproveIn,
    ConvertIn,
    DecisionOut,
    DecisionStatus,
    DuplicateOut,
    DuplicateQuery,
    NominateIn,
    NominationOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationSettingsIn,
    RegistrationSettingsOut,
    RegistrationStatus,
    RejectLeadIn,
    RejectRegistrationIn,
)
from coterie.deps import DB, reads_only
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.records import service as records
from coterie.records.query import MAX_CURSOR_LENGTH
from coterie.records.schemas import RecordOut

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]


# -- leads ------------------------------------------------------------------------------------


@router.post(
    "/leads/duplicates",
    response_model=list[DuplicateOut],
    tags=["leads"],
    summary="Leads, opportunities and accounts I may see with the same or a similar customer",
)
@reads_only
def find_duplicates(body: DuplicateQuery, actor: ApiActor, session: DB) -> list[DuplicateOut]:
    return duplicates.find(
        session,
        actor.principal,
        customer_name=body.customer_name,
        customer_domain=body.customer_domain,
        kinds=[body.kind.value] if body.kind is not None else duplicates.DEFAULT_KINDS,
    )


@router.get(
    "/leads/nominations",
    response_model=Page[NominationOut],
    tags=["leads"],
    summary="Leads nominated to my company (the invitation view: title, customer, nominator)",
)
def list_nominations(
    actor: ApiActor,
    session: DB,
    decision: Annotated[DecisionStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[NominationOut]:
    items, next_cursor = leads.nominations(
        session, actor, status=decision, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/leads/{lead_id}/nominate",
    response_model=list[DecisionOut],
    tags=["leads"],
    summary="Nominate the lead to accepted partners (each is invited and answers)",
)
def nominate(
    lead_id: uuid.UUID, body: NominateIn, actor: ApiActor, session: DB
) -> list[DecisionOut]:
    leads.nominate(session, actor, lead_id, body.company_ids, body.note)
    session.commit()
    return leads.decisions(session, actor, lead_id, only=set(body.company_ids))


@router.post(
    "/leads/{lead_id}/accept",
    response_model=DecisionOut,
    tags=["leads"],
    summary="Accept a lead nominated to my company, with its owner in my company",
)
def accept(lead_id: uuid.UUID, body: AcceptLeadIn, actor: ApiActor, session: DB) -> DecisionOut:
    leads.accept(session, actor, lead_id, body.owner_user_id)
    session.commit()
    return leads.my_decision(session, actor, lead_id)


@router.post(
    "/leads/{lead_id}/reject",
    response_model=DecisionOut,
    tags=["leads"],
    summary="Reject a lead nominated to my company, with a reason the nominator sees",
)
def reject(lead_id: uuid.UUID, body: RejectLeadIn, actor: ApiActor, session: DB) -> DecisionOut:
    leads.reject(session, actor, lead_id, body.reason_code, body.reason)
    session.commit()
    return leads.my_decision(session, actor, lead_id)


@router.get(
    "/leads/{lead_id}/decisions",
    response_model=list[DecisionOut],
    tags=["leads"],
    summary="Decisions on the lead: those my company nominated, and my company's own",
)
def list_decisions(lead_id: uuid.UUID, actor: ApiActor, session: DB) -> list[DecisionOut]:
    return leads.decisions(session, actor, lead_id)


@router.get(
    "/leads/{lead_id}/duplicates",
    response_model=list[DuplicateOut],
    tags=["leads"],
    summary="Records I may see with the lead's customer (also while I decide a nomination)",
)
def lead_duplicates(lead_id: uuid.UUID, actor: ApiActor, session: DB) -> list[DuplicateOut]:
    return leads.lead_duplicates(session, actor, lead_id)


@router.post(
    "/leads/{lead_id}/convert",
    response_model=RecordOut,
    status_code=status.HTTP_201_CREATED,
    tags=["leads"],
    summary="Convert the lead into an opportunity that keeps source, participants, plan links",
)
def convert(
    lead_id: uuid.UUID, body: ConvertIn, actor: ApiActor, session: DB, response: Response
) -> RecordOut:
    opportunity = leads.convert(session, actor, lead_id, body)
    session.commit()
    out = records.read(session, actor, "opportunity", opportunity.id)
    set_etag(response, out.version)
    response.headers["Location"] = f"/api/v1/opportunities/{out.id}"
    return out


# -- deal registration ------------------------------------------------------------------------


RegistrationVersion = Annotated[
    int, expected_version("the registration's ETag from GET /api/v1/registrations/{id}")
]


@router.get(
    "/registration-settings",
    response_model=RegistrationSettingsOut,
    tags=["registrations"],
    summary="How long my company's approvals last and how often they renew",
)
def get_settings(actor: ApiActor, session: DB, response: Response) -> RegistrationSettingsOut:
    out = registrations.settings_of(session, actor.company_id)
    set_etag(response, out.version)
    return out


@router.put(
    "/registration-settings",
    response_model=RegistrationSettingsOut,
    tags=["registrations"],
    summary="Change my company's registration settings (admins; If-Match: its ETag, 0 at first)",
    responses=PRECONDITION_RESPONSES,
)
def put_settings(
    body: RegistrationSettingsIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: Annotated[
        int,
        expected_version("the settings' ETag from GET /api/v1/registration-settings (0 at first)"),
    ],
) -> RegistrationSettingsOut:
    registrations.save_settings(session, actor, body, expected)
    session.commit()
    out = registrations.settings_of(session, actor.company_id)
    set_etag(response, out.version)
    return out


@router.post(
    "/opportunities/{opportunity_id}/registrations",
    response_model=RegistrationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["registrations"],
    summary="Draft a deal registration of the opportunity with an accepted partner",
)
def create_registration(
    opportunity_id: uuid.UUID,
    body: RegistrationIn,
    actor: ApiActor,
    session: DB,
    response: Response,
) -> RegistrationOut:
    registration = registrations.create(
        session, actor, opportunity_id, body.registered_to_company_id, body.notes
    )
    session.commit()
    out = registrations.read(session, actor, registration.id)
    set_etag(response, out.version)
    return out


@router.get(
    "/opportunities/{opportunity_id}/registrations",
    response_model=list[RegistrationOut],
    tags=["registrations"],
    summary="My company's registrations of the opportunity (either side)",
)
def opportunity_registrations(
    opportunity_id: uuid.UUID, actor: ApiActor, session: DB
) -> list[RegistrationOut]:
    return registrations.for_opportunity(session, actor, opportunity_id)


@router.get(
    "/registrations",
    response_model=Page[RegistrationOut],
    tags=["registrations"],
    summary="Registrations my company made or that were made with it",
)
def list_registrations(
    actor: ApiActor,
    session: DB,
    role: Literal["registering", "registered_to"] | None = None,
    registration_status: Annotated[RegistrationStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RegistrationOut]:
    items, next_cursor = registrations.list_mine(
        session, actor, role=role, status=registration_status, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/registrations/{registration_id}",
    response_model=RegistrationOut,
    tags=["registrations"],
    summary="One registration of my company",
)
def get_registration(
    registration_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> RegistrationOut:
    out = registrations.read(session, actor, registration_id)
    set_etag(response, out.version)
    return out


def _answer(
    session: DB, actor: ApiActor, registration_id: uuid.UUID, response: Response
) -> RegistrationOut:
    session.commit()
    out = registrations.read(session, actor, registration_id)
    set_etag(response, out.version)
    return out


@router.post(
    "/registrations/{registration_id}/submit",
    response_model=RegistrationOut,
    tags=["registrations"],
    summary="Submit a draft (the registered-to company is invited onto the opportunity) (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def submit(
    registration_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RegistrationVersion,
) -> RegistrationOut:
    registrations.submit(session, actor, registration_id, expected)
    return _answer(session, actor, registration_id, response)


@router.post(
    "/registrations/{registration_id}/renew",
    response_model=RegistrationOut,
    tags=["registrations"],
    summary="Ask to renew an approved or expired registration (submitted again) (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def renew(
    registration_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RegistrationVersion,
) -> RegistrationOut:
    registrations.renew(session, actor, registration_id, expected)
    return _answer(session, actor, registration_id, response)


@router.post(
    "/registrations/{registration_id}/approve",
    response_model=RegistrationOut,
    tags=["registrations"],
    summary="Approve (admins and managers of the registered-to company) (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def approve(
    registration_id: uuid.UUID,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RegistrationVersion,
    body: ApproveIn | None = None,
) -> RegistrationOut:
    reason = body.reason if body is not None else ""
    registrations.approve(session, actor, registration_id, reason, expected)
    return _answer(session, actor, registration_id, response)


@router.post(
    "/registrations/{registration_id}/reject",
    response_model=RegistrationOut,
    tags=["registrations"],
    summary="Reject with a reason (admins and managers of the registered-to company) (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def reject_registration(
    registration_id: uuid.UUID,
    body: RejectRegistrationIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: RegistrationVersion,
) -> RegistrationOut:
    registrations.reject(session, actor, registration_id, body.reason, expected)
    return _answer(session, actor, registration_id, response)
