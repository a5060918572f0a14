"""Pages of programs, plans, goals and account plans (the exchange-rates settings page is
`rates_pages`).

The record page of a program, plan or account loads one co-selling panel with htmx
(`/{plural}/{id}/cosell`): the program's profile and plans, the plan's profile, goals with
progress, linked records and target accounts, or the account plan and roll-up. Every read is
one call into the co-selling services, which read through the gate, so the panel shows what the
API would answer to the same user and nothing else. Forms post with htmx and get the panel
back; without htmx they redirect to the record page with a flash message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.cosell.planning import accounts, goals, plans, programs
from coterie.cosell.planning.labels import METRIC_LABELS, PROGRAM_TYPES, STATUSES
from coterie.cosell.planning.program_page import goal_view, money, plan_rows
from coterie.cosell.schemas import (
    AccountPlanIn,
    GoalIn,
    LinkOut,
    PlanProfileIn,
    ProgramProfileIn,
    ProgramType,
    Role,
    Status,
)
from coterie.db import utcnow
from coterie.deps import DB
from coterie.fields.kinds import KINDS, Kind, KindInfo
from coterie.kit.problems import Problem
from coterie.models import Record
from coterie.models.vocabulary import Industry, Region
from coterie.records import new_record, presenters
from coterie.records.page_panels import PanelContent
from coterie.records.schemas import RecordOut
from coterie.web import csrf
from coterie.web.forms import (
    FORM_ERROR,
    STALE_FORM,
    FormFields,
    FormInput,
    errors_from_validation,
    input_errors,
    is_stale,
    problem_message,
)
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import raise_on, submit
from coterie.web.templating import is_htmx, options, redirect, render
from coterie.workflows import stages

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

CHOICE_LIMIT = 200


# -- shared helpers ----------------------------------------------------------------------------


def _errors(problem: Problem, prefix: str) -> dict[str, str]:
    """A service problem's field paths (`body.target`) as the names of a form's inputs."""
    if is_stale(problem):
        return {FORM_ERROR: STALE_FORM}
    found: dict[str, str] = {}
    for error in problem.errors or []:
        path = str(error.get("path", ""))
        message = str(error.get("message", "")) or problem.detail
        if path.startswith("body.") and path != "body":
            name = prefix + path.removeprefix("body.").split(".")[0]
            found.setdefault(name, message[:1].upper() + message[1:])
    if not found:
        found[FORM_ERROR] = problem.detail
    return found


def _kept(problem: Problem, inputs: dict[str, str]) -> dict[str, str]:
    """What the form shows again: the person's inputs, unless someone saved meanwhile (then
    the latest version, which the form's hidden version now names)."""
    return {} if is_stale(problem) else inputs


def _mine(record: RecordOut) -> dict[str, Any]:
    space = next((s for s in record.spaces if s.is_mine), None)
    return space.fields if space is not None else {}


def visible_choices(
    session: Session, principal: Principal, kind: str, exclude: set[uuid.UUID]
) -> list[tuple[str, str]]:
    """Records of `kind` I may see (and so am on), by title, for a link form."""
    rows = session.scalars(gate.visible(principal, kind).order_by(Record.title).limit(CHOICE_LIMIT))
    return [(str(r.id), r.title) for r in rows if r.id not in exclude]


class Outcome(BaseModel):
    """What a panel shows after a form: a notice, or errors of one form with its inputs."""

    notice: str | None = None
    form: str | None = None
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}


# -- program panel -----------------------------------------------------------------------------


def _program_content(
    session: Session, actor: Actor, program_id: uuid.UUID, outcome: Outcome
) -> PanelContent:
    overview = programs.overview(session, actor, program_id)
    profile = overview.profile
    values = outcome.values or {
        "program_type": profile.program_type,
        "region": profile.region or "",
        "starts_on": profile.starts_on.isoformat() if profile.starts_on else "",
        "ends_on": profile.ends_on.isoformat() if profile.ends_on else "",
        "status": profile.status,
    }
    on_program = any(
        p.company_id == actor.company_id and p.status == "active" for p in overview.participants
    )
    return PanelContent(
        "cosell/_program_panel.html",
        {
            "overview": overview,
            "plan_rows": plan_rows(session, actor, overview.plans, utcnow().date()),
            "nf": new_record.new_form(
                session,
                actor,
                KINDS[Kind.PLAN],
                dialog_id="new-plan",
                preset={"program_id": str(program_id)},
            )
            if on_program
            else None,
            "profile": profile,
            "program_types": list(PROGRAM_TYPES.items()),
            "type_label": PROGRAM_TYPES.get(profile.program_type, profile.program_type),
            "regions": options(Region),
            "statuses": STATUSES,
            "outcome": outcome,
            "errors": outcome.errors,
            "values": values,
        },
    )


def _program_panel(
    request: Request,
    session: Session,
    actor: Actor,
    program_id: uuid.UUID,
    outcome: Outcome,
    status_code: int = 200,
) -> Response:
    content = _program_content(session, actor, program_id, outcome)
    return render(request, content.template, content.context, status_code=status_code)


def _save_program(
    request: Request, session: Session, actor: Actor, program_id: uuid.UUID, form: FormFields
) -> Response:
    inputs = {
        key: form.text(key) for key in ("program_type", "region", "starts_on", "ends_on", "status")
    }
    try:
        data = ProgramProfileIn.model_validate(
            {k: v or None for k, v in inputs.items()}
            | {
                "program_type": inputs["program_type"] or ProgramType.CO_SELL.value,
                "status": inputs["status"] or Status.DRAFT.value,
            }
        )
    except ValidationError as exc:
        outcome = Outcome(form="profile", errors=input_errors(exc), values=inputs)
        return _answer(request, session, actor, "program", program_id, outcome, 422)

    def refused(problem: Problem) -> Response:
        outcome = Outcome(
            form="profile", errors=_errors(problem, ""), values=_kept(problem, inputs)
        )
        return _answer(request, session, actor, "program", program_id, outcome, problem.status)

    return submit(
        session,
        lambda: programs.save_program(session, actor, program_id, data, form.version()),
        done=lambda _: _answer(
            request, session, actor, "program", program_id, Outcome(notice="Profile saved.")
        ),
        refused=refused,
        passes=raise_on(404),
    )


# -- plan panel --------------------------------------------------------------------------------


def _link_view(link: LinkOut, stage_names: dict[str, str]) -> dict[str, Any]:
    """A linked record's row: my amount, my stage by its label, my close date as a date."""
    mine = _mine(link.record)
    info = KINDS[Kind(link.kind)]
    stage = mine.get("stage")
    return {
        "link": link,
        "url": f"/{info.plural}/{link.record_id}",
        "kind_label": info.label,
        "amount": presenters.money_text(mine["amount"]) if "amount" in mine else "—",
        "stage": stage_names.get(str(stage), str(stage)) if stage else "—",
        "close_date": presenters.display(
            mine.get("close_date"), presenters.definition_for(None, "close_date")
        ),
    }


def _plan_content(
    session: Session, actor: Actor, plan_id: uuid.UUID, outcome: Outcome
) -> PanelContent:
    profile = programs.read_plan(session, actor, plan_id)  # 404 when hidden
    principal = actor.principal
    links = plans.list_links(session, actor, plan_id)
    goal_list = goals.list_goals(session, actor, plan_id)
    linked = {link.record_id for link in links}
    names = {  # my stages' labels, per kind of linked record
        kind: {s.key: s.name for s in stages.stages_for(session, actor.company_id, kind)}
        for kind in {link.kind for link in links}
    }
    is_owner = profile.owner_company_id == actor.company_id
    profile_values = {
        "program_id": str(profile.program_id or ""),
        "period_start": profile.period_start.isoformat() if profile.period_start else "",
        "period_end": profile.period_end.isoformat() if profile.period_end else "",
        "status": profile.status,
    }
    values = profile_values | (outcome.values if outcome.form == "profile" else {})
    goal_values = outcome.values if outcome.form == "goal" else {"goal_scope": "mine"}
    return PanelContent(
        "cosell/_plan_panel.html",
        {
            "profile": profile,
            "is_owner": is_owner,
            "currency": goals.viewer_currency(session, actor),
            "goals": [goal_view(g) for g in goal_list],
            "pipeline": [
                _link_view(link, names[link.kind])
                for link in links
                if link.role == Role.PIPELINE.value
            ],
            "targets": [
                _link_view(link, names[link.kind])
                for link in links
                if link.role == Role.TARGET_ACCOUNT.value
            ],
            "pipeline_choices": [
                (value, f"{text} (opportunity)")
                for value, text in visible_choices(session, principal, "opportunity", linked)
            ]
            + [
                (value, f"{text} (lead)")
                for value, text in visible_choices(session, principal, "lead", linked)
            ],
            "account_choices": visible_choices(session, principal, "account", linked),
            "program_choices": visible_choices(session, principal, "program", set()),
            "metrics": list(METRIC_LABELS.items()),
            "dimensions": [
                ("region", "Region"),
                ("industry", "Industry"),
                ("product", "Product / solution"),
                ("quarter", "Quarter"),
            ],
            "regions": options(Region),
            "industries": options(Industry),
            "statuses": STATUSES,
            "outcome": outcome,
            "errors": outcome.errors,
            "values": values | goal_values,
        },
    )


def _plan_panel(
    request: Request,
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    outcome: Outcome,
    status_code: int = 200,
) -> Response:
    content = _plan_content(session, actor, plan_id, outcome)
    return render(request, content.template, content.context, status_code=status_code)


def _save_plan(
    request: Request, session: Session, actor: Actor, plan_id: uuid.UUID, form: FormFields
) -> Response:
    inputs = {key: form.text(key) for key in ("program_id", "period_start", "period_end", "status")}
    try:
        data = PlanProfileIn.model_validate(
            {k: v or None for k, v in inputs.items()}
            | {"status": inputs["status"] or Status.DRAFT.value}
        )
    except ValidationError as exc:
        outcome = Outcome(form="profile", errors=input_errors(exc), values=inputs)
        return _answer(request, session, actor, "plan", plan_id, outcome, 422)

    def refused(problem: Problem) -> Response:
        outcome = Outcome(
            form="profile", errors=_errors(problem, ""), values=_kept(problem, inputs)
        )
        return _answer(request, session, actor, "plan", plan_id, outcome, problem.status)

    return submit(
        session,
        lambda: programs.save_plan(session, actor, plan_id, data, form.version()),
        done=lambda _: _answer(
            request, session, actor, "plan", plan_id, Outcome(notice="Plan profile saved.")
        ),
        refused=refused,
        passes=raise_on(404),
    )


def _add_goal(
    request: Request, session: Session, actor: Actor, plan_id: uuid.UUID, form: FormFields
) -> Response:
    keys = (
        "goal_metric",
        "goal_target",
        "goal_currency",
        "goal_scope",
        "goal_period_start",
        "goal_period_end",
        "goal_breakdown_dimension",
        "goal_breakdown_value",
    )
    inputs = {key: form.text(key) for key in keys}
    body: dict[str, Any] = {
        key.removeprefix("goal_"): value
        for key, value in inputs.items()
        if value and key != "goal_scope"
    }
    body["company_id"] = str(actor.company_id) if inputs["goal_scope"] != "joint" else None
    if "currency" in body:
        body["currency"] = body["currency"].upper()
    try:
        goal = GoalIn.model_validate(body)
    except ValidationError as exc:
        outcome = Outcome(form="goal", errors=input_errors(exc, "goal_"), values=inputs)
        return _answer(request, session, actor, "plan", plan_id, outcome, 422)

    def refused(problem: Problem) -> Response:
        outcome = Outcome(form="goal", errors=_errors(problem, "goal_"), values=inputs)
        return _answer(request, session, actor, "plan", plan_id, outcome, problem.status)

    return submit(
        session,
        lambda: goals.create(session, actor, plan_id, goal),
        done=lambda _: _answer(
            request, session, actor, "plan", plan_id, Outcome(notice="Goal added.")
        ),
        refused=refused,
        passes=raise_on(404),
    )


def _delete_goal(
    request: Request,
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    goal_id: str,
    form: FormFields,
) -> Response:

    def refused(problem: Problem) -> Response:
        outcome = Outcome(errors={FORM_ERROR: problem_message(problem)})
        return _answer(request, session, actor, "plan", plan_id, outcome, problem.status)

    return submit(
        session,
        lambda: goals.delete(session, actor, plan_id, parse_id(goal_id, "goal"), form.version()),
        done=lambda _: _answer(
            request, session, actor, "plan", plan_id, Outcome(notice="Goal removed.")
        ),
        refused=refused,
        passes=raise_on(404),
    )


def _link(
    request: Request,
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    form: FormFields,
    role: Role,
) -> Response:
    try:
        record_id = uuid.UUID(form.text("record_id"))
    except ValueError:
        outcome = Outcome(errors={FORM_ERROR: "Choose a record to add to the plan."})
        return _answer(request, session, actor, "plan", plan_id, outcome, 422)
    message = "Target account nominated." if role == Role.TARGET_ACCOUNT else "Added to the plan."
    return submit(
        session,
        lambda: plans.link(session, actor, plan_id, record_id, role),
        done=lambda _: _answer(request, session, actor, "plan", plan_id, Outcome(notice=message)),
        refused=lambda problem: _plan_refused(request, session, actor, plan_id, problem),
        passes=_plan_hidden,
    )


def _unlink(
    request: Request, session: Session, actor: Actor, plan_id: uuid.UUID, record_id: str
) -> Response:
    return submit(
        session,
        lambda: plans.unlink(session, actor, plan_id, parse_id(record_id, "record")),
        done=lambda _: _answer(
            request, session, actor, "plan", plan_id, Outcome(notice="Removed from the plan.")
        ),
        refused=lambda problem: _plan_refused(request, session, actor, plan_id, problem),
        passes=_plan_hidden,
    )


def _plan_hidden(problem: Problem) -> bool:
    """The plan itself is not visible (its 404 is the page's), not a record on it."""
    return problem.status == 404 and problem.detail.startswith("No plan")


def _plan_refused(
    request: Request, session: Session, actor: Actor, plan_id: uuid.UUID, problem: Problem
) -> Response:
    outcome = Outcome(errors={FORM_ERROR: problem.detail})
    return _answer(request, session, actor, "plan", plan_id, outcome, problem.status)


# -- account panel -----------------------------------------------------------------------------


def _account_content(
    session: Session, actor: Actor, account_id: uuid.UUID, outcome: Outcome
) -> PanelContent:
    account_plan = accounts.read_plan(session, actor, account_id)  # 404 when hidden
    rollup = accounts.rollup(session, actor, account_id)
    values = outcome.values or {"objectives": account_plan.objectives}
    return PanelContent(
        "cosell/_account_panel.html",
        {
            "plan": account_plan,
            "rollup": rollup,
            "money": lambda value: money(value, rollup.currency),
            "unconverted": [money(u.amount, u.currency) for u in rollup.my_unconverted],
            "colleagues": presenters.colleague_choices(session, actor),
            "outcome": outcome,
            "errors": outcome.errors,
            "values": values,
        },
    )


def _account_panel(
    request: Request,
    session: Session,
    actor: Actor,
    account_id: uuid.UUID,
    outcome: Outcome,
    status_code: int = 200,
) -> Response:
    content = _account_content(session, actor, account_id, outcome)
    return render(request, content.template, content.context, status_code=status_code)


def _save_account_plan(
    request: Request, session: Session, actor: Actor, account_id: uuid.UUID, form: FormFields
) -> Response:
    current = accounts.read_plan(session, actor, account_id)
    removed = set(form.texts("step_remove"))
    done = set(form.texts("step_done"))
    steps: list[dict[str, Any]] = [
        {
            "id": str(step.id),
            "title": step.title,
            "owner_user_id": str(step.owner_user_id) if step.owner_user_id else None,
            "due_date": step.due_date.isoformat() if step.due_date else None,
            "done": str(step.id) in done,
        }
        for step in current.next_steps
        if str(step.id) not in removed
    ]
    new_title = form.text("new_step_title")
    if new_title:
        steps.append(
            {
                "title": new_title,
                "owner_user_id": form.optional("new_step_owner"),
                "due_date": form.optional("new_step_due"),
            }
        )
    objectives = form.text("objectives", strip=False).replace("\r\n", "\n")
    inputs = {"objectives": objectives, "new_step_title": new_title}
    try:
        data = AccountPlanIn.model_validate({"objectives": objectives, "next_steps": steps})
    except ValidationError as exc:
        errors = {
            ("new_step_title" if key.startswith("next_steps") else key): message
            for key, message in errors_from_validation(exc).items()
        }
        outcome = Outcome(form="plan", errors=errors, values=inputs)
        return _answer(request, session, actor, "account", account_id, outcome, 422)

    def refused(problem: Problem) -> Response:
        errors = _errors(problem, "")
        if "next_steps" in errors:
            errors["new_step_title"] = errors.pop("next_steps")
        outcome = Outcome(form="plan", errors=errors, values=_kept(problem, inputs))
        return _answer(request, session, actor, "account", account_id, outcome, problem.status)

    return submit(
        session,
        lambda: accounts.save_plan(session, actor, account_id, data, form.version()),
        done=lambda _: _answer(
            request, session, actor, "account", account_id, Outcome(notice="Account plan saved.")
        ),
        refused=refused,
        passes=raise_on(404),
    )


# -- answering ---------------------------------------------------------------------------------

CONTENTS: dict[str, Callable[[Session, Actor, uuid.UUID, Outcome], PanelContent]] = {
    "program": _program_content,
    "plan": _plan_content,
    "account": _account_content,
}

PANELS: dict[str, Callable[..., Response]] = {
    "program": _program_panel,
    "plan": _plan_panel,
    "account": _account_panel,
}


def _answer(
    request: Request,
    session: Session,
    actor: Actor,
    kind: str,
    record_id: uuid.UUID,
    outcome: Outcome,
    status_code: int = 200,
) -> Response:
    """The panel again (htmx), or back to the record page with a flash message."""
    if is_htmx(request):
        return PANELS[kind](request, session, actor, record_id, outcome, status_code)
    url = f"/{KINDS[Kind(kind)].plural}/{record_id}"
    if outcome.errors:
        message = outcome.errors.get(FORM_ERROR) or "; ".join(outcome.errors.values())
        return redirect(request, url, message, "error")
    return redirect(request, url, outcome.notice)


def record_panel(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> PanelContent | None:
    """The co-selling panel of a program, plan or account, rendered with the record page."""
    content = CONTENTS.get(info.kind.value)
    return content(session, actor, record_id, Outcome()) if content else None


def _panel_route(kind: str) -> Callable[..., Response]:
    def show(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        rid = parse_id(record_id, kind)
        if not is_htmx(request):  # a fragment URL opened as a page: show the record page
            return redirect(request, f"/{KINDS[Kind(kind)].plural}/{rid}")
        return PANELS[kind](request, session, actor, rid, Outcome())

    return show


for _kind in PANELS:
    router.add_api_route(f"/{KINDS[Kind(_kind)].plural}/{{record_id}}/cosell", _panel_route(_kind))


@router.post("/programs/{record_id}/cosell/profile")
def program_profile(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    return _save_program(request, session, actor, parse_id(record_id, "program"), form)


@router.post("/plans/{record_id}/cosell/profile")
def plan_profile(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    return _save_plan(request, session, actor, parse_id(record_id, "plan"), form)


@router.post("/plans/{record_id}/cosell/goals")
def add_goal(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    return _add_goal(request, session, actor, parse_id(record_id, "plan"), form)


@router.post("/plans/{record_id}/cosell/goals/{goal_id}/delete")
def delete_goal(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str, goal_id: str
) -> Response:
    return _delete_goal(request, session, actor, parse_id(record_id, "plan"), goal_id, form)


@router.post("/plans/{record_id}/cosell/links")
def add_link(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    return _link(request, session, actor, parse_id(record_id, "plan"), form, Role.PIPELINE)


@router.post("/plans/{record_id}/cosell/target-accounts")
def add_target_account(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    return _link(request, session, actor, parse_id(record_id, "plan"), form, Role.TARGET_ACCOUNT)


@router.post("/plans/{record_id}/cosell/links/{linked_id}/delete")
def remove_link(
    request: Request, session: DB, actor: PageActor, record_id: str, linked_id: str
) -> Response:
    return _unlink(request, session, actor, parse_id(record_id, "plan"), linked_id)


@router.post("/accounts/{record_id}/cosell/plan")
def account_plan(
    request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
) -> Response:
    return _save_account_plan(request, session, actor, parse_id(record_id, "account"), form)
