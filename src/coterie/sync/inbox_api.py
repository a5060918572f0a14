"""JSON routes of the conflicts inbox (`/sync/conflicts`) and of a record's CRM links
(`/records/{kind}/{id}/crm-links`): admins and managers of the company that owns the
connection. Decisions are versioned writes: If-Match is the conflict's or the link's version
(428 without it, 412 when someone decided first)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import Kind
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.sync import record_links, resolve
from coterie.sync.inbox_schemas import (
    ChooseIn,
    ConflictOut,
    ConnectionLinksOut,
    CrmLinkOut,
    KeepAllIn,
    KeptOut,
    PushedOut,
    PushIn,
    ResolveIn,
)

router = APIRouter(tags=["CRM sync"])

ROLE: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not an admin or a manager of the company"},
}
ConflictVersion = Annotated[int, expected_version("the conflict's ETag (or `version`)")]
LinkVersion = Annotated[int, expected_version("the link's `version` from GET .../crm-links")]


@router.get(
    "/sync/conflicts",
    response_model=Page[ConflictOut],
    summary="Open CRM sync conflicts of my company, oldest first (admins and managers)",
    description="Only conflicts on records you may see now. Filter by connection, field "
    "(its reference, e.g. `space.amount`) or record.",
    responses={**ROLE, 404: {"description": "No such connection of my company"}},
)
def list_conflicts(
    session: DB,
    actor: ApiActor,
    connection_id: uuid.UUID | None = None,
    field: Annotated[str | None, Query(max_length=120)] = None,
    record_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[ConflictOut]:
    items, next_cursor = resolve.list_open(
        session,
        actor,
        connection_id=connection_id,
        field=field,
        record_id=record_id,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/sync/conflicts/keep-all",
    response_model=KeptOut,
    summary="Keep the winning side of these open conflicts (admins and managers)",
    responses=ROLE,
)
def keep_all(body: KeepAllIn, session: DB, actor: ApiActor) -> KeptOut:
    kept = resolve.keep_all(session, actor, body.ids)
    session.commit()
    return KeptOut(kept=kept)


@router.get(
    "/sync/conflicts/{conflict_id}",
    response_model=ConflictOut,
    summary="One conflict; its ETag is the version to send when you decide it",
    responses={**ROLE, 404: {"description": "No such conflict visible to you"}},
)
def get_conflict(
    conflict_id: uuid.UUID, session: DB, actor: ApiActor, response: Response
) -> ConflictOut:
    out = resolve.get(session, actor, conflict_id)
    set_etag(response, out.version)
    return out


@router.post(
    "/sync/conflicts/{conflict_id}/resolve",
    response_model=ConflictOut,
    summary='Decide a conflict: "keep" the winner, or "switch" to the value that lost',
    description="Switching to the CRM's value writes it into your space (or the shared core, "
    "when your company owns the record); switching to Coterie's value writes it back into "
    "your space and queues a push so the CRM gets it. 409 when the record's value changed "
    "since the conflict was found.",
    responses={
        **ROLE,
        **PRECONDITION_RESPONSES,
        404: {"description": "No such conflict visible to you"},
        409: {"description": "Already decided, or the value moved on since"},
    },
)
def resolve_conflict(
    conflict_id: uuid.UUID,
    body: ResolveIn,
    version: ConflictVersion,
    session: DB,
    actor: ApiActor,
    response: Response,
) -> ConflictOut:
    out = resolve.resolve(session, actor, conflict_id, version, body.choice)
    session.commit()
    set_etag(response, out.version)
    return out


_RECORD = "/records/{kind}/{record_id}/crm-links"
_LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    **ROLE,
    **PRECONDITION_RESPONSES,
    404: {"description": "No such record or link visible to you"},
    409: {"description": "The link is not in a state this action applies to"},
}


@router.get(
    _RECORD,
    response_model=list[ConnectionLinksOut],
    summary="The record in my company's CRMs: links, candidates, last sync",
    description="One entry per connection of my company that maps the record's kind (empty "
    "when none does).",
    responses={404: {"description": "No such record visible to you"}},
)
def record_crm_links(
    kind: Kind, record_id: uuid.UUID, session: DB, actor: ApiActor, settings: AppSettings
) -> list[ConnectionLinksOut]:
    return record_links.panel(session, actor, settings, kind.value, record_id)


@router.post(
    _RECORD + "/push",
    response_model=PushedOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Push the record to one of my CRMs now (matched there, or created)",
    responses={**ROLE, 404: {"description": "No such record or connection"}, 409: {}},
)
def push_record(
    kind: Kind, record_id: uuid.UUID, body: PushIn, session: DB, actor: ApiActor
) -> PushedOut:
    outbox_id = record_links.push_to_crm(session, actor, kind.value, record_id, body.connection_id)
    session.commit()
    return PushedOut(outbox_id=outbox_id, connection_id=body.connection_id)


@router.post(
    _RECORD + "/{link_id}/choose",
    response_model=CrmLinkOut,
    summary="Choose the other side of a candidate link (then a push merges both sides)",
    responses=_LINK_ERRORS,
)
def choose_candidate(
    kind: Kind,
    record_id: uuid.UUID,
    link_id: uuid.UUID,
    body: ChooseIn,
    version: LinkVersion,
    session: DB,
    actor: ApiActor,
) -> CrmLinkOut:
    out = record_links.choose(
        session, actor, kind.value, record_id, link_id, version, body.remote_id
    )
    session.commit()
    return out


@router.post(
    _RECORD + "/{link_id}/unlink",
    response_model=CrmLinkOut,
    summary="Stop syncing this record with its CRM record (until relinked)",
    responses=_LINK_ERRORS,
)
def unlink(
    kind: Kind,
    record_id: uuid.UUID,
    link_id: uuid.UUID,
    version: LinkVersion,
    session: DB,
    actor: ApiActor,
) -> CrmLinkOut:
    out = record_links.unlink(session, actor, kind.value, record_id, link_id, version)
    session.commit()
    return out


@router.post(
    _RECORD + "/{link_id}/relink",
    response_model=CrmLinkOut | None,
    summary="Sync an unlinked record with its CRM record again",
    description="Answers null when the link never reached a CRM record: it is forgotten and "
    "a push matches the record anew.",
    responses=_LINK_ERRORS,
)
def relink(
    kind: Kind,
    record_id: uuid.UUID,
    link_id: uuid.UUID,
    version: LinkVersion,
    session: DB,
    actor: ApiActor,
) -> CrmLinkOut | None:
    out = record_links.relink(session, actor, kind.value, record_id, link_id, version)
    session.commit()
    return out
