"""Who is on a record, for every kind: invite or propose, answer an invitation, leave or remove,
decide proposals, delegate the right to admit; and the inboxes of invitations and proposals.
The rules live in `records.admission` (who may bring a company in) and `records.participants`."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB
from coterie.fields.kinds import KINDS, KindInfo
from coterie.records import admission, participants, service
from coterie.records.schemas import (
    AdmitRightIn,
    DeclineIn,
    ParticipantIn,
    ProposalOut,
    RecordInvitationOut,
    RecordOut,
)

router = APIRouter()

PROPOSED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ProposalOut,
        "description": "My company may not admit companies to this record: the call became a "
        "proposal that the owner accepts or declines",
    }
}


def _kind_routes(info: KindInfo) -> APIRouter:
    kind = info.kind.value
    routes = APIRouter(prefix=f"/{info.plural}", tags=[info.plural])

    @routes.post(
        "/{record_id}/participants",
        response_model=RecordOut,
        status_code=status.HTTP_201_CREATED,
        responses=PROPOSED,
        summary="Invite a company (owner, or a company it lets admit); others propose it",
    )
    def invite(
        record_id: uuid.UUID, body: ParticipantIn, actor: ApiActor, session: DB
    ) -> RecordOut | JSONResponse:
        asked = admission.invite(session, actor, kind, record_id, body.company_id, note=body.note)
        session.commit()
        if asked.proposal is not None:
            out = admission.proposals(session, actor, kind, record_id)
            proposal = next(p for p in out if p.id == asked.proposal.id)
            return JSONResponse(proposal.model_dump(mode="json"), status_code=202)
        return service.read(session, actor, kind, record_id)

    @routes.post(
        "/{record_id}/participants/{company_id}/accept",
        response_model=RecordOut,
        summary="The invited company accepts",
    )
    def accept(
        record_id: uuid.UUID, company_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> RecordOut:
        participants.accept(session, actor, kind, record_id, company_id)
        session.commit()
        return service.read(session, actor, kind, record_id)

    @routes.post(
        "/{record_id}/participants/{company_id}/decline",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="The invited company declines (invited -> declined; it leaves the inbox)",
    )
    def decline(
        record_id: uuid.UUID,
        company_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
        body: DeclineIn | None = None,
    ) -> Response:
        participants.decline(
            session, actor, kind, record_id, company_id, body.reason if body is not None else ""
        )
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @routes.patch(
        "/{record_id}/participants/{company_id}",
        response_model=RecordOut,
        summary="The owner lets an active participant admit companies too, or stops it",
    )
    def set_admit_right(
        record_id: uuid.UUID,
        company_id: uuid.UUID,
        body: AdmitRightIn,
        actor: ApiActor,
        session: DB,
    ) -> RecordOut:
        admission.set_admit_right(session, actor, kind, record_id, company_id, body.can_admit)
        session.commit()
        return service.read(session, actor, kind, record_id)

    @routes.delete(
        "/{record_id}/participants/{company_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Leave or decline (my company), or remove another company (owner)",
    )
    def remove(
        record_id: uuid.UUID, company_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> Response:
        participants.remove(session, actor, kind, record_id, company_id)
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @routes.get(
        "/{record_id}/proposals",
        response_model=list[ProposalOut],
        summary="Proposals of companies for this record: all (owner and delegates) or my own",
    )
    def list_proposals(record_id: uuid.UUID, actor: ApiActor, session: DB) -> list[ProposalOut]:
        return admission.proposals(session, actor, kind, record_id)

    def decide(
        record_id: uuid.UUID,
        proposal_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
        *,
        accept: bool,
        reason: str = "",
    ) -> ProposalOut:
        proposal = admission.decide(
            session, actor, kind, record_id, proposal_id, accept=accept, reason=reason
        )
        session.commit()
        out = admission.proposals(session, actor, kind, record_id)
        return next(p for p in out if p.id == proposal.id)

    @routes.post(
        "/{record_id}/proposals/{proposal_id}/accept",
        response_model=ProposalOut,
        summary="Accept a proposal (owner, or a company it lets admit): the company is invited",
    )
    def accept_proposal(
        record_id: uuid.UUID, proposal_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> ProposalOut:
        return decide(record_id, proposal_id, actor, session, accept=True)

    @routes.post(
        "/{record_id}/proposals/{proposal_id}/decline",
        response_model=ProposalOut,
        summary="Decline a proposal (owner, or a company it lets admit)",
    )
    def decline_proposal(
        record_id: uuid.UUID,
        proposal_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
        body: DeclineIn | None = None,
    ) -> ProposalOut:
        reason = body.reason if body is not None else ""
        return decide(record_id, proposal_id, actor, session, accept=False, reason=reason)

    @routes.delete(
        "/{record_id}/proposals/{proposal_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        summary="Withdraw my company's pending proposal",
    )
    def withdraw_proposal(
        record_id: uuid.UUID, proposal_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> Response:
        admission.withdraw(session, actor, kind, record_id, proposal_id)
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return routes


for _info in KINDS.values():
    router.include_router(_kind_routes(_info))


@router.get(
    "/record-invitations",
    response_model=list[RecordInvitationOut],
    tags=["records"],
    summary="Records my company is invited to (title, customer and inviter only)",
)
def record_invitations(actor: ApiActor, session: DB) -> list[RecordInvitationOut]:
    return participants.my_invitations(session, actor)


@router.get(
    "/record-proposals",
    response_model=list[ProposalOut],
    tags=["records"],
    summary="Pending proposals waiting for my company's decision (records it may admit to)",
)
def record_proposals(actor: ApiActor, session: DB) -> list[ProposalOut]:
    return admission.awaiting_my_decision(session, actor)
