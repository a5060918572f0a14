"""The Ideas section of a program's page: the ideas the viewer may see (open, accepted,
declined) with their endorsements, the "Propose an idea" dialog, endorsing, and the host's
triage (accept, decline with a reason) and its rule of who sees ideas.

The section is rendered with the record page (`record_panel`, registered with
`records.page_panels`) and re-rendered by its forms with htmx; without htmx the forms redirect
to the program's page with a flash message. Every read is a call into the ideas services (the
gate and the host's rule decide), so the section shows what the API answers the same user.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.activity.notification_text import record_url
from coterie.auth.principal import Actor
from coterie.cosell.ideas import endorsements, proposals, settings, triage, visibility
from coterie.cosell.ideas.schemas import (
    KIND_LABELS,
    STATUS_LABELS,
    VISIBILITY_LABELS,
    DeclineIn,
    IdeaIn,
    IdeaKind,
    IdeaOut,
    IdeaStatus,
    Visibility,
)
from coterie.cosell.planning import common
from coterie.deps import DB
from coterie.fields.kinds import Kind, KindInfo
from coterie.kit.problems import Problem, invalid
from coterie.network.companies import names as company_names
from coterie.records import presenters
from coterie.records.page_panels import PanelContent
from coterie.web import csrf
from coterie.web.forms import FORM_ERROR, FormFields, FormInput, input_errors, is_stale
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import raise_on, submit
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

SHOWN = 200  # ideas read for the section (the API pages through more)
PROGRAM = visibility.PROGRAM


@dataclass
class Outcome:
    """What the section shows after a form: a notice, or the errors of one form."""

    notice: str | None = None
    form: str | None = None  # "propose", "decline-<id>", "settings"
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def _row(idea: IdeaOut) -> dict[str, Any]:
    return {
        "idea": idea,
        "kind_label": KIND_LABELS[idea.kind],
        "status_label": STATUS_LABELS[idea.status],
        "pipeline": presenters.money_text(idea.expected_pipeline.model_dump())
        if idea.expected_pipeline
        else "—",
        "partners": ", ".join(p.company_name for p in idea.partners) or "None named",
        "endorsers": ", ".join(f"{e.name} ({e.company_name})" for e in idea.endorsers),
        "record_url": record_url(idea.kind.value, idea.record_id),
    }


def content(
    session: Session, actor: Actor, program_id: uuid.UUID, outcome: Outcome
) -> PanelContent:
    principal = actor.principal
    program = visibility.program_in(session, principal, program_id)  # 404 when not in it
    found = proposals.in_program(session, actor, program, SHOWN).items
    rows = [_row(i) for i in found]
    groups = [
        (status, STATUS_LABELS[status], [r for r in rows if r["idea"].status == status])
        for status in IdeaStatus
    ]
    others = common.active_companies(session, principal, PROGRAM, program_id) - {actor.company_id}
    names = company_names(session, others)
    rule = settings.of_program(session, actor, program)
    return PanelContent(
        "cosell/_ideas_panel.html",
        {
            "program": program,
            "groups": groups,
            "count": len(rows),
            "partner_choices": sorted(
                ((str(c), names[c]) for c in others if c in names), key=lambda p: p[1]
            ),
            "kinds": [(k.value, KIND_LABELS[k]) for k in IdeaKind],
            "currency": actor.company.currency,
            "rule": rule,
            "rules": [(v.value, VISIBILITY_LABELS[v]) for v in Visibility],
            "outcome": outcome,
            "errors": outcome.errors,
            "values": outcome.values,
        },
    )


def record_panel(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> PanelContent | None:
    """The Ideas section of a program page (None for other kinds, or when the viewer's
    company does not take part in the program)."""
    if info.kind != Kind.PROGRAM:
        return None
    try:
        return content(session, actor, record_id, Outcome())
    except Problem as problem:
        if problem.status == 404:
            return None
        raise


def _answer(
    request: Request,
    session: Session,
    actor: Actor,
    program_id: uuid.UUID,
    outcome: Outcome,
    status_code: int = 200,
) -> Response:
    if is_htmx(request):
        found = content(session, actor, program_id, outcome)
        return render(request, found.template, found.context, status_code=status_code)
    url = f"/programs/{program_id}#ideas"
    if outcome.errors:
        message = outcome.errors.get(FORM_ERROR) or "; ".join(outcome.errors.values())
        return redirect(request, url, message, "error")
    return redirect(request, url, outcome.notice)


def _errors(problem: Problem) -> dict[str, str]:
    """A service problem's field paths as the names of the form's inputs."""
    if is_stale(problem):
        return {FORM_ERROR: "Someone changed this meanwhile: it shows the latest now."}
    found: dict[str, str] = {}
    for error in problem.errors or []:
        path = str(error.get("path", ""))
        if path.startswith("body.") and path != "body":
            name = path.removeprefix("body.").split(".")[0]
            message = str(error.get("message", "")) or problem.detail
            found.setdefault(name, message[:1].upper() + message[1:])
    return found or {FORM_ERROR: problem.detail}


def _run(
    request: Request,
    session: Session,
    actor: Actor,
    program_id: uuid.UUID,
    use_case: Callable[[], object],
    notice: str,
    form: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    def refused(problem: Problem) -> Response:
        outcome = Outcome(form=form, errors=_errors(problem), values=values or {})
        return _answer(request, session, actor, program_id, outcome, problem.status)

    return submit(
        session,
        use_case,
        done=lambda _: _answer(request, session, actor, program_id, Outcome(notice=notice)),
        refused=refused,
        passes=raise_on(404),
    )


# -- routes ------------------------------------------------------------------------------------


@router.get("/programs/{record_id}/ideas-panel")
def panel(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
    program_id = parse_id(record_id, PROGRAM)
    if not is_htmx(request):
        return redirect(request, f"/programs/{program_id}#ideas")
    return _answer(request, session, actor, program_id, Outcome())


@router.post("/programs/{record_id}/ideas")
def propose(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    program_id = parse_id(record_id, PROGRAM)
    inputs = {
        key: form.text(key)
        for key in ("kind", "title", "problem", "target_customers", "expected_pipeline")
    }
    partners = form.texts("partner_company_ids")
    values: dict[str, Any] = {**inputs, "partner_company_ids": partners}
    try:
        data = IdeaIn.model_validate(
            {
                **inputs,
                "kind": inputs["kind"] or IdeaKind.SOLUTION.value,
                "expected_pipeline": inputs["expected_pipeline"].replace(",", "") or None,
                "partner_company_ids": partners,
            }
        )
    except ValidationError as exc:
        outcome = Outcome(form="propose", errors=input_errors(exc), values=values)
        return _answer(request, session, actor, program_id, outcome, 422)
    return _run(
        request,
        session,
        actor,
        program_id,
        lambda: proposals.propose(session, actor, program_id, data),
        "Idea proposed.",
        "propose",
        values,
    )


@router.post("/programs/{record_id}/ideas/settings")
def save_settings(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    program_id = parse_id(record_id, PROGRAM)
    try:
        rule = Visibility(form.text("visibility"))
    except ValueError:
        outcome = Outcome(form="settings", errors={"visibility": "Choose one of the options."})
        return _answer(request, session, actor, program_id, outcome, 422)
    return _run(
        request,
        session,
        actor,
        program_id,
        lambda: settings.save(session, actor, program_id, rule, form.version()),
        "Saved who sees this program's ideas.",
        "settings",
    )


def _idea_route(
    action: Callable[[Session, Actor, uuid.UUID, FormFields], object], notice: str
) -> Callable[..., Response]:
    def handle(
        request: Request,
        session: DB,
        actor: PageActor,
        form: FormInput,
        record_id: str,
        idea_id: str,
    ) -> Response:
        program_id = parse_id(record_id, PROGRAM)
        iid = parse_id(idea_id, "idea")
        return _run(
            request,
            session,
            actor,
            program_id,
            lambda: action(session, actor, iid, form),
            notice,
            f"idea-{iid}",
        )

    return handle


def _endorse(session: Session, actor: Actor, idea_id: uuid.UUID, form: FormFields) -> None:
    if form.flag("withdraw"):
        endorsements.withdraw(session, actor, idea_id)
    else:
        endorsements.endorse(session, actor, idea_id)


def _accept(session: Session, actor: Actor, idea_id: uuid.UUID, form: FormFields) -> None:
    triage.accept(session, actor, idea_id)


def _decline(session: Session, actor: Actor, idea_id: uuid.UUID, form: FormFields) -> None:
    try:
        data = DeclineIn(reason=form.text("reason"))
    except ValidationError as exc:
        raise _reason_required(exc) from exc
    triage.decline(session, actor, idea_id, data.reason)


def _reason_required(exc: ValidationError) -> Problem:
    message = next(iter(input_errors(exc).values()), "This field is required.")
    return invalid("body.reason", message)


router.add_api_route(
    "/programs/{record_id}/ideas/{idea_id}/endorse",
    _idea_route(_endorse, "Endorsement saved."),
    methods=["POST"],
)
router.add_api_route(
    "/programs/{record_id}/ideas/{idea_id}/accept",
    _idea_route(_accept, "Idea accepted: it is now a record in the program's workflow."),
    methods=["POST"],
)
router.add_api_route(
    "/programs/{record_id}/ideas/{idea_id}/decline",
    _idea_route(_decline, "Idea declined; the proposer is told why."),
    methods=["POST"],
)
