"""Who is on a record, from the record page and the lists: invite (or propose), answer an
invitation, leave or remove, decide or withdraw proposals, let a partner admit companies.
Every handler is one `records.admission` or `records.participants` call, one commit and a
redirect with a message."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.models import Proposal
from coterie.network.companies import names as company_names
from coterie.records import admission, participants, service
from coterie.records.kinds import KINDS, KindInfo
from coterie.web import csrf
from coterie.web.forms import FormFields, FormInput
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, problem_detail, raise_on, submit
from coterie.web.templating import redirect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
NOTE_LENGTH = 1000


def _url(info: KindInfo, record_id: uuid.UUID | None = None) -> str:
    return f"/{info.plural}" + (f"/{record_id}" if record_id is not None else "")


def _name(session: Session, company_id: uuid.UUID) -> str:
    return company_names(session, [company_id]).get(company_id, "The company")


def _invite(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    form: FormFields,
) -> Response:
    rid = parse_id(record_id, info.kind.value)
    back = _url(info, rid)
    try:
        company_id = uuid.UUID(form.text("company_id"))
    except ValueError:
        return redirect(request, back, "Choose a partner company.", "error")

    def done(asked: admission.Admission) -> Response:
        name = _name(session, company_id)
        if asked.proposed:
            record = service.read(session, actor, info.kind.value, rid)
            owner = _name(session, record.owner_company_id)
            return redirect(
                request,
                back,
                f"You proposed {name}. {owner} decides whether it joins; until then {name} sees "
                "nothing of this record.",
            )
        return redirect(
            request,
            back,
            f"{name} is invited. Until it accepts it sees only the title, the customer and who "
            "invited it.",
        )

    return submit(
        session,
        lambda: admission.invite(
            session,
            actor,
            info.kind.value,
            rid,
            company_id,
            note=form.text("note")[:NOTE_LENGTH],
        ),
        done=done,
        refused=flash_back(request, back, problem_detail),
        passes=raise_on(404),  # a record the user may not see stays a 404
    )


def _remove(
    request: Request, session: Session, actor: Actor, info: KindInfo, record_id: str, company: str
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    target = parse_id(company, "company")
    record = service.read(session, actor, kind, rid)

    def removed(_: object) -> Response:
        if target == actor.company_id:
            message = f"{actor.company.name} left “{record.title}”."
            return redirect(request, _url(info), message, "info")
        return redirect(
            request, _url(info, rid), f"{_name(session, target)} is no longer on this record."
        )

    return submit(
        session,
        lambda: participants.remove(session, actor, kind, rid, target),
        done=removed,
        refused=flash_back(request, _url(info, rid), problem_detail),
    )


def _admit_right(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    company: str,
    form: FormFields,
) -> Response:
    rid = parse_id(record_id, info.kind.value)
    target = parse_id(company, "company")
    allow = form.flag("can_admit")

    def done(_: object) -> Response:
        name = _name(session, target)
        message = (
            f"{name} may now invite companies to this record and decide proposals."
            if allow
            else f"{name} may no longer invite companies; it can still propose them to you."
        )
        return redirect(request, _url(info, rid), message)

    return submit(
        session,
        lambda: admission.set_admit_right(session, actor, info.kind.value, rid, target, allow),
        done=done,
        refused=flash_back(request, _url(info, rid), problem_detail),
    )


def _answer_invitation(
    request: Request, session: Session, actor: Actor, info: KindInfo, record_id: str, accept: bool
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    invitation = next(
        (i for i in participants.my_invitations(session, actor) if i.record_id == rid), None
    )
    title = f"“{invitation.title}”" if invitation is not None else "the record"

    def answer() -> object:
        if accept:
            return participants.accept(session, actor, kind, rid, actor.company_id)
        return participants.decline(session, actor, kind, rid, actor.company_id)

    def answered(_: object) -> Response:
        if accept:
            message = (
                f"You joined {title}. Your own space on it is private until your template "
                "shares its fields."
            )
            return redirect(request, _url(info, rid), message)
        return redirect(request, _url(info), f"You declined the invitation to {title}.")

    return submit(
        session, answer, done=answered, refused=flash_back(request, _url(info), problem_detail)
    )


def _decide(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    proposal_id: str,
    form: FormFields,
    accept: bool,
) -> Response:
    rid = parse_id(record_id, info.kind.value)
    pid = parse_id(proposal_id, "proposal")
    back = request.headers.get("referer", "")
    url = _url(info) if back.endswith(f"/{info.plural}") else _url(info, rid)

    def decided(proposal: Proposal) -> Response:
        name = _name(session, proposal.company_id)
        if accept:
            return redirect(
                request, url, f"{name} is invited. It joins when it accepts the invitation."
            )
        return redirect(request, url, f"You declined the proposal of {name}.", "info")

    return submit(
        session,
        lambda: admission.decide(
            session,
            actor,
            info.kind.value,
            rid,
            pid,
            accept=accept,
            reason=form.text("reason")[:NOTE_LENGTH],
        ),
        done=decided,
        refused=flash_back(request, url, problem_detail),
    )


def _withdraw(
    request: Request, session: Session, actor: Actor, info: KindInfo, record_id: str, proposal: str
) -> Response:
    rid = parse_id(record_id, info.kind.value)
    return submit(
        session,
        lambda: admission.withdraw(
            session, actor, info.kind.value, rid, parse_id(proposal, "proposal")
        ),
        done=lambda _: redirect(request, _url(info, rid), "You withdrew your proposal.", "info"),
        refused=flash_back(request, _url(info, rid), problem_detail),
    )


def _routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    base = f"/{info.plural}/{{record_id}}"

    @routes.post(base + "/participants")
    def invite(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        return _invite(request, session, actor, info, record_id, form)

    @routes.post(base + "/participants/{company_id}/remove")
    def remove(
        request: Request, session: DB, actor: PageActor, record_id: str, company_id: str
    ) -> Response:
        return _remove(request, session, actor, info, record_id, company_id)

    @routes.post(base + "/participants/{company_id}/admit-right")
    def admit_right(
        request: Request,
        session: DB,
        actor: PageActor,
        form: FormInput,
        record_id: str,
        company_id: str,
    ) -> Response:
        return _admit_right(request, session, actor, info, record_id, company_id, form)

    @routes.post(base + "/accept")
    def accept(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        return _answer_invitation(request, session, actor, info, record_id, accept=True)

    @routes.post(base + "/decline")
    def decline(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        return _answer_invitation(request, session, actor, info, record_id, accept=False)

    @routes.post(base + "/proposals/{proposal_id}/accept")
    def accept_proposal(
        request: Request,
        session: DB,
        actor: PageActor,
        form: FormInput,
        record_id: str,
        proposal_id: str,
    ) -> Response:
        return _decide(request, session, actor, info, record_id, proposal_id, form, True)

    @routes.post(base + "/proposals/{proposal_id}/decline")
    def decline_proposal(
        request: Request,
        session: DB,
        actor: PageActor,
        form: FormInput,
        record_id: str,
        proposal_id: str,
    ) -> Response:
        return _decide(request, session, actor, info, record_id, proposal_id, form, False)

    @routes.post(base + "/proposals/{proposal_id}/withdraw")
    def withdraw(
        request: Request, session: DB, actor: PageActor, record_id: str, proposal_id: str
    ) -> Response:
        return _withdraw(request, session, actor, info, record_id, proposal_id)

    return routes


for _info in KINDS.values():
    router.include_router(_routes(_info))
