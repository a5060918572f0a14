"""The funds pages: `/funds` (my company's budgets with committed, paid and remaining bars,
requests awaiting my decision; for a partner: the budgets it may request from, its requests and
claims), a budget's page (allocations, requests, return on the fund) and a request's page (its
decision, the workflow actions, claims, payment, extensions, the funder's private notes).

Every form posts here, runs one use case of `coterie.funds` and redirects back with a toast; a
refusal comes back as an error toast in the user's words. Reads go through `access`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from coterie.attachments import service as attachments
from coterie.attachments.subjects import SubjectRef
from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import Kind
from coterie.funds import access, budgets, claim_files, claims, periods, proof, requests, roi
from coterie.funds.schemas import (
    AllocationIn,
    ApproveIn,
    BudgetIn,
    BudgetPatch,
    ClaimDecisionIn,
    ClaimIn,
    DecisionIn,
    ExtensionIn,
    NoteIn,
    PaymentIn,
    RequestIn,
    RequestPatch,
    ResubmitIn,
)
from coterie.kit.problems import Problem, not_found
from coterie.models import Record, User
from coterie.models.funds import FundBudget, FundClaim, FundRequest
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names
from coterie.web import csrf
from coterie.web.forms import FormFields, FormInput, errors_from_validation
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, submit
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
M = TypeVar("M", bound=BaseModel)

LABELS = {
    "program_id": "Program",
    "name": "Name",
    "period_name": "Period",
    "period_start": "Period start",
    "period_end": "Period end",
    "currency": "Currency",
    "total": "Total",
    "partner_company_id": "Partner",
    "cap": "Cap",
    "budget_id": "Budget",
    "activity": "Activity",
    "description": "Description",
    "campaign_id": "Campaign",
    "requested_amount": "Amount requested",
    "expected_pipeline": "Expected pipeline",
    "contribution_pct": "Your contribution",
    "starts_on": "Activity start",
    "ends_on": "Activity end",
    "claim_deadline": "Claim deadline",
    "approved_amount": "Approved amount",
    "message": "Message",
    "new_deadline": "New deadline",
    "reason": "Reason",
    "amount": "Amount",
    "payment_reference": "Payment reference",
    "paid_on": "Paid on",
    "body": "Note",
    "proof": "Proof of performance",
}


class FormRefusedError(Exception):
    """A form that did not validate: the message the user reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        parts = [
            f"{LABELS.get(path.split('.')[-1], 'The form')}: {message}"
            for path, message in errors_from_validation(exc).items()
        ]
        raise FormRefusedError(" ".join(parts)) from exc


def _said(problem: Problem) -> str:
    """A refusal in the user's words: the field's label before the problem's message."""
    if problem.status in (412, 428):
        return "Someone changed this meanwhile: the page now shows the current state; try again."
    if problem.errors:
        error = problem.errors[0]
        name = str(error.get("path", "")).split(".")[-1]
        message = str(error.get("message", ""))
        return f"{LABELS.get(name, 'The form')}: {message[:1].upper() + message[1:]}."
    return problem.detail


def _act(
    request: Request,
    session: Session,
    back: str,
    use_case: Callable[[], object],
    message: str,
    *,
    to: Callable[[object], str] | None = None,
) -> Response:
    return submit(
        session,
        use_case,
        done=lambda result: redirect(request, to(result) if to else back, message),
        refused=flash_back(request, back, _said),
    )


def _form_act(
    request: Request,
    session: Session,
    back: str,
    build: Callable[[], Callable[[], object]],
    message: str,
    *,
    to: Callable[[object], str] | None = None,
) -> Response:
    try:
        use_case = build()
    except FormRefusedError as refused:
        return redirect(request, back, refused.message, "error")
    except Problem as problem:  # e.g. a form without the version the page showed (428)
        return redirect(request, back, _said(problem), "error")
    return _act(request, session, back, use_case, message, to=to)


def _programs(session: Session, actor: Actor) -> list[tuple[str, str]]:
    rows = session.execute(
        gate.visible(actor.principal, Kind.PROGRAM.value)
        .with_only_columns(Record.id, Record.title)
        .order_by(Record.title)
    )
    return [(str(r[0]), r[1]) for r in rows]


def _campaigns(session: Session, actor: Actor) -> list[tuple[str, str]]:
    rows = session.execute(
        gate.visible(actor.principal, Kind.CAMPAIGN.value)
        .with_only_columns(Record.id, Record.title)
        .order_by(Record.title)
    )
    return [(str(r[0]), r[1]) for r in rows]


def _bar(out: Any) -> dict[str, float] | None:
    """Widths (%) of the paid and the committed-but-unpaid parts of a budget's bar."""
    if out.total is None or out.total <= 0:
        return None
    paid = float(out.paid / out.total * 100)
    committed = float(out.committed / out.total * 100)
    return {"paid": round(paid, 1), "committed": round(max(committed - paid, 0), 1)}


# -- /funds --------------------------------------------------------------------------------------


@router.get("/funds")
def funds_page(request: Request, session: DB, actor: PageActor) -> Response:
    principal = actor.principal
    all_budgets = list(
        session.scalars(access.budgets(principal).order_by(FundBudget.period_start.desc()))
    )
    presented = budgets.present(session, principal, all_budgets)
    mine = [b for b in presented if b.mine]
    allotted = [b for b in presented if not b.mine]
    awaiting = requests.present(session, principal, requests.awaiting_decision(session, principal))
    my_requests = requests.present(session, principal, requests.mine(session, principal))
    my_claims = claims.present(
        session,
        principal,
        list(
            session.scalars(
                access.claims(principal)
                .where(FundClaim.requester_company_id == principal.company_id)
                .order_by(FundClaim.submitted_at.desc())
            )
        ),
    )
    return render(
        request,
        "funds/index.html",
        {
            "nav": "funds",
            "my_budgets": [(b, _bar(b)) for b in mine],
            "allotted": [(b, _bar(b)) for b in allotted],
            "open_allotted": [b for b in allotted if not b.closed],
            "awaiting": awaiting,
            "my_requests": my_requests,
            "my_claims": my_claims,
            "can_manage": actor.has_role(Role.MANAGER),
            "programs": _programs(session, actor),
            "campaigns": _campaigns(session, actor),
            "today": periods.today().isoformat(),
            "values": {},
            "errors": {},
        },
    )


@router.post("/funds/budgets")
def create_budget(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    def build() -> Callable[[], object]:
        data = _parse(
            BudgetIn,
            {
                key: form.text(key)
                for key in (
                    "program_id",
                    "name",
                    "period_name",
                    "period_start",
                    "period_end",
                    "currency",
                    "total",
                )
            }
            | {
                "total_shared": form.flag("total_shared"),
                "currency": form.text("currency").upper(),
            },
        )
        return lambda: budgets.create(session, actor, data)

    return _form_act(
        request,
        session,
        "/funds",
        build,
        "Budget created.",
        to=lambda budget: f"/funds/budgets/{budget.id}",  # type: ignore[attr-defined]
    )


@router.post("/funds/requests")
def create_request(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    def build() -> Callable[[], object]:
        budget_id = form.text("budget_id")
        currency = ""
        try:
            found = access.budget(session, actor.principal, uuid.UUID(budget_id))
            currency = found.currency
        except (ValueError, Problem):
            pass
        data = _parse(
            RequestIn,
            {
                "budget_id": budget_id,
                "activity": form.text("activity"),
                "description": form.text("description"),
                "campaign_id": form.optional("campaign_id"),
                "requested_amount": form.text("requested_amount"),
                "currency": currency or "XXX",
                "expected_pipeline": form.optional("expected_pipeline"),
                "contribution_pct": form.text("contribution_pct") or "0",
                "starts_on": form.text("starts_on"),
                "ends_on": form.text("ends_on"),
                "claim_deadline": form.text("claim_deadline"),
                "submit": form.flag("submit"),
            },
        )
        return lambda: requests.create(session, actor, data)

    return _form_act(
        request,
        session,
        "/funds",
        build,
        "Fund request saved.",
        to=lambda row: f"/funds/requests/{row.id}",  # type: ignore[attr-defined]
    )


# -- a budget --------------------------------------------------------------------------------


@router.get("/funds/budgets/{budget_id}")
def budget_page(request: Request, session: DB, actor: PageActor, budget_id: str) -> Response:
    principal = actor.principal
    budget = access.budget(session, principal, parse_id(budget_id, "budget"))
    out = budgets.present(session, principal, [budget])[0]
    allocations = budgets.present_allocations(
        session, list(session.scalars(access.allocations(principal, budget.id)))
    )
    rows = requests.present(session, principal, requests.of_budget(session, principal, budget.id))
    partners: list[tuple[str, str]] = []
    if out.mine:
        ids = budgets.program_partners(session, principal, budget.program_id)
        names = company_names(session, ids)
        partners = sorted(((str(i), n) for i, n in names.items()), key=lambda p: p[1])
    return render(
        request,
        "funds/budget.html",
        {
            "nav": "funds",
            "budget": out,
            "bar": _bar(out),
            "allocations": allocations,
            "requests": rows,
            "partners": partners,
            "roi": roi.budget_roi(session, principal, budget.id) if out.mine else None,
            "can_manage": out.mine and actor.has_role(Role.MANAGER),
            "campaigns": _campaigns(session, actor),
            "values": {},
            "errors": {},
        },
    )


@router.post("/funds/budgets/{budget_id}/allocations")
def save_allocation(
    request: Request, session: DB, actor: PageActor, budget_id: str, form: FormInput
) -> Response:
    budget_uuid = parse_id(budget_id, "budget")
    back = f"/funds/budgets/{budget_uuid}"

    def build() -> Callable[[], object]:
        data = _parse(
            AllocationIn,
            {"partner_company_id": form.text("partner_company_id"), "cap": form.optional("cap")},
        )
        return lambda: budgets.allot(session, actor, budget_uuid, data)

    return _form_act(request, session, back, build, "Allocation saved.")


@router.post("/funds/budgets/{budget_id}/edit")
def edit_budget(
    request: Request, session: DB, actor: PageActor, budget_id: str, form: FormInput
) -> Response:
    budget_uuid = parse_id(budget_id, "budget")
    back = f"/funds/budgets/{budget_uuid}"

    def build() -> Callable[[], object]:
        data = _parse(
            BudgetPatch,
            {
                "name": form.text("name") or None,
                "total": form.optional("total"),
                "total_shared": form.flag("total_shared"),
                "closed": form.flag("closed"),
            },
        )
        version = form.version()
        return lambda: budgets.change(session, actor, budget_uuid, data, version)

    return _form_act(request, session, back, build, "Budget saved.")


# -- a request -------------------------------------------------------------------------------


def _request_context(session: Session, actor: Actor, row: FundRequest) -> dict[str, Any]:
    principal = actor.principal
    out = requests.present(session, principal, [row])[0]
    budget = access.budget(session, principal, row.budget_id)
    is_funder = row.funder_company_id == actor.company_id
    notes = requests.notes(session, principal, row.id) if is_funder else []
    authors = {
        r[0]: r[1]
        for r in session.execute(
            select(User.id, User.name).where(
                User.id.in_({n.author_user_id for n in notes if n.author_user_id})
            )
        )
    }
    claim_rows = claims.present(session, principal, claims.of_request(session, principal, row.id))
    proof_files = claim_files.files_of(session, principal, [c.id for c in claim_rows])
    left = (out.approved_amount or 0) - out.claimed
    return {
        "nav": "funds",
        "req": out,
        "budget": budgets.present(session, principal, [budget])[0],
        "is_funder": is_funder,
        "is_requester": row.requester_company_id == actor.company_id,
        "can_decide": is_funder and actor.has_role(Role.MANAGER),
        "notes": [(n, authors.get(n.author_user_id) if n.author_user_id else None) for n in notes],
        "claims": claim_rows,
        "proof_files": proof_files,
        "proof_open": claim_files.OPEN,
        "left_to_claim": left,
        "deadline_passed": claims.deadline_passed(row),
        "proof_required": proof.proof_required(),
        "today": periods.today().isoformat(),
        "values": {},
        "errors": {},
    }


@router.get("/funds/requests/{request_id}")
def request_page(request: Request, session: DB, actor: PageActor, request_id: str) -> Response:
    row = access.request(session, actor.principal, parse_id(request_id, "fund request"))
    return render(request, "funds/request.html", _request_context(session, actor, row))


def _request_action(
    request: Request,
    session: Session,
    request_id: str,
    form: FormFields,
    message: str,
    make: Callable[[uuid.UUID, int], Callable[[], object]],
) -> Response:
    request_uuid = parse_id(request_id, "fund request")
    back = f"/funds/requests/{request_uuid}"
    return _form_act(request, session, back, lambda: make(request_uuid, form.version()), message)


@router.post("/funds/requests/{request_id}/submit")
def submit_request(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    return _request_action(
        request,
        session,
        request_id,
        form,
        "Fund request submitted.",
        lambda rid, v: lambda: requests.submit(session, actor, rid, v),
    )


@router.post("/funds/requests/{request_id}/approve")
def approve_request(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    def make(rid: uuid.UUID, version: int) -> Callable[[], object]:
        data = _parse(
            ApproveIn,
            {
                "approved_amount": form.text("approved_amount"),
                "message": form.text("message"),
                "internal_note": form.text("internal_note"),
            },
        )
        return lambda: requests.approve(session, actor, rid, data, version)

    return _request_action(request, session, request_id, form, "Fund request approved.", make)


def _decision(form: FormFields) -> DecisionIn:
    return _parse(
        DecisionIn, {"message": form.text("message"), "internal_note": form.text("internal_note")}
    )


@router.post("/funds/requests/{request_id}/more-info")
def ask_information(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    def make(rid: uuid.UUID, version: int) -> Callable[[], object]:
        data = _decision(form)
        return lambda: requests.ask_for_information(session, actor, rid, data, version)

    return _request_action(
        request, session, request_id, form, "Sent back for more information.", make
    )


@router.post("/funds/requests/{request_id}/reject")
def reject_request(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    def make(rid: uuid.UUID, version: int) -> Callable[[], object]:
        data = _decision(form)
        return lambda: requests.reject(session, actor, rid, data, version)

    return _request_action(request, session, request_id, form, "Fund request rejected.", make)


@router.post("/funds/requests/{request_id}/edit")
def edit_request(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    def make(rid: uuid.UUID, version: int) -> Callable[[], object]:
        data = _parse(
            RequestPatch,
            {
                "activity": form.optional("activity"),
                "description": form.text("description"),
                "requested_amount": form.optional("requested_amount"),
                "expected_pipeline": form.optional("expected_pipeline"),
            },
        )
        return lambda: requests.change(session, actor, rid, data, version)

    return _request_action(request, session, request_id, form, "Fund request saved.", make)


@router.post("/funds/requests/{request_id}/extension")
def ask_extension(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    def make(rid: uuid.UUID, version: int) -> Callable[[], object]:
        data = _parse(
            ExtensionIn, {"new_deadline": form.text("new_deadline"), "reason": form.text("reason")}
        )
        return lambda: requests.ask_extension(session, actor, rid, data, version)

    return _request_action(request, session, request_id, form, "Extension requested.", make)


@router.post("/funds/requests/{request_id}/extension/{decision}")
def decide_extension(
    request: Request,
    session: DB,
    actor: PageActor,
    request_id: str,
    decision: str,
    form: FormInput,
) -> Response:
    if decision not in ("grant", "decline"):
        raise not_found("extension decision")
    grant = decision == "grant"
    return _request_action(
        request,
        session,
        request_id,
        form,
        "Extension granted." if grant else "Extension declined.",
        lambda rid, v: lambda: requests.decide_extension(session, actor, rid, grant, v),
    )


@router.post("/funds/requests/{request_id}/notes")
def add_note(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    request_uuid = parse_id(request_id, "fund request")
    back = f"/funds/requests/{request_uuid}"

    def build() -> Callable[[], object]:
        data = _parse(NoteIn, {"body": form.text("body")})
        return lambda: requests.add_note(session, actor, request_uuid, data.body)

    return _form_act(request, session, back, build, "Note added.")


@router.post("/funds/requests/{request_id}/claims")
def create_claim(
    request: Request, session: DB, actor: PageActor, request_id: str, form: FormInput
) -> Response:
    request_uuid = parse_id(request_id, "fund request")
    back = f"/funds/requests/{request_uuid}"

    def build() -> Callable[[], object]:
        data = _parse(
            ClaimIn,
            {
                "amount": form.text("amount"),
                "description": form.text("description"),
                "submit": not proof.proof_required(),
            },
        )
        return lambda: claims.create(session, actor, request_uuid, data)

    message = (
        "Claim saved: attach your proof, then submit it."
        if proof.proof_required()
        else "Claim submitted."
    )
    return _form_act(request, session, back, build, message)


# -- a claim's actions (back to its request's page) -----------------------------------------


@router.post("/funds/claims/{claim_id}/proof")
async def attach_proof(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, claim_id: str
) -> Response:
    """Upload a proof of performance file to a draft (or more-information) claim."""
    claim_uuid = parse_id(claim_id, "fund claim")
    form = await request.form()
    part = form.get("file")

    def run() -> Response:
        claim = access.claim(session, actor.principal, claim_uuid)
        back = f"/funds/requests/{claim.request_id}#claims"
        try:
            if not isinstance(part, UploadFile) or not part.filename:
                raise Problem(422, "attachment-missing", "No file", "Choose a file to upload.")
            row = attachments.attach(
                session,
                actor,
                SubjectRef(claim_files.KIND, claim_uuid),
                attachments.Upload(part.filename, part.file),
                settings,
            )
            try:
                session.commit()
            except BaseException:
                attachments.remove_content(settings, row.storage_key)
                raise
        except Problem as problem:
            session.rollback()
            if problem.status == 404:
                raise
            detail = problem.detail.removeprefix("file: ")
            return redirect(request, back, detail[:1].upper() + detail[1:], "error")
        return redirect(
            request, back, f"{row.filename} is attached to the claim: submit it when ready."
        )

    return await run_in_threadpool(run)


def _claim_action(
    request: Request,
    session: Session,
    actor: Actor,
    claim_id: str,
    form: FormFields,
    message: str,
    make: Callable[[uuid.UUID, int], Callable[[], object]],
) -> Response:
    claim_uuid = parse_id(claim_id, "fund claim")
    claim = access.claim(session, actor.principal, claim_uuid)
    back = f"/funds/requests/{claim.request_id}#claims"
    return _form_act(request, session, back, lambda: make(claim_uuid, form.version()), message)


@router.post("/funds/claims/{claim_id}/{action}")
def claim_action(
    request: Request, session: DB, actor: PageActor, claim_id: str, action: str, form: FormInput
) -> Response:
    def make(cid: uuid.UUID, version: int) -> Callable[[], object]:
        if action == "submit":
            return lambda: claims.submit(session, actor, cid, version)
        if action == "resubmit":
            data = _parse(ResubmitIn, {"description": form.text("description")})
            return lambda: claims.resubmit(session, actor, cid, data, version)
        if action == "pay":
            pay = _parse(
                PaymentIn,
                {
                    "payment_reference": form.text("payment_reference"),
                    "paid_on": form.text("paid_on"),
                },
            )
            return lambda: claims.pay(session, actor, cid, pay, version)
        decision = _parse(ClaimDecisionIn, {"message": form.text("message")})
        if action == "approve":
            return lambda: claims.approve(session, actor, cid, decision, version)
        if action == "more-info":
            return lambda: claims.ask_for_information(session, actor, cid, decision, version)
        if action == "reject":
            return lambda: claims.reject(session, actor, cid, decision, version)
        raise FormRefusedError("That is not something a claim can do.")

    messages = {
        "submit": "Claim submitted.",
        "resubmit": "Claim sent back to the funder.",
        "pay": "Claim marked paid.",
        "approve": "Claim approved.",
        "more-info": "Asked for more information.",
        "reject": "Claim rejected.",
    }
    return _claim_action(
        request, session, actor, claim_id, form, messages.get(action, "Done."), make
    )
