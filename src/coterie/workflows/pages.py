"""Pages of workflows: the settings page of workflow definitions, the record page's workflow
panel (states, moves, approvals, tasks) and the approvals inbox (the board is `board_pages`,
the designer `designer_pages`).

Every read goes through the workflow services (which start from the gate); every write is one
service call and one commit. Refusals (entry criteria, a pending approval, a stale state) are
shown inline next to what was tried, never as an error page.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.db import utcnow
from coterie.deps import DB
from coterie.fields.kinds import KINDS, Kind, KindInfo
from coterie.kit.problems import Problem
from coterie.models import Record
from coterie.models.vocabulary import Role
from coterie.records import presenters
from coterie.records.page_panels import PanelContent
from coterie.web import csrf
from coterie.web.forms import (
    FORM_ERROR,
    FormInput,
    errors_from_validation,
    is_stale,
)
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, flash_done, problem_detail, raise_on, submit
from coterie.web.templating import is_htmx, redirect, render
from coterie.workflows import approvals, definitions, inbox, labels, moves, tasks
from coterie.workflows import presenters as workflow_presenters
from coterie.workflows.definitions import TEMPLATES
from coterie.workflows.schemas import (
    MoveIn,
    TaskIn,
    TaskPatch,
    WorkflowIn,
)

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


def _problem_text(problem: Problem) -> str:
    if is_stale(problem):
        return (
            "Someone changed this record meanwhile, so nothing was done: here is where it "
            "stands now."
        )
    if problem.errors and problem.slug == "entry-criteria":
        fields = ", ".join(str(e["path"]) for e in problem.errors)
        return f"{problem.detail} Missing: {fields}."
    return problem.detail


# -- settings: workflow definitions -------------------------------------------------------------


def _programs_i_host(session: Session, actor: Actor) -> list[tuple[str, str]]:
    principal = actor.principal
    statement = (
        gate.visible(principal, "program")
        .where(Record.owner_company_id == actor.company_id)
        .order_by(Record.title)
    )
    return [(str(r.id), r.title) for r in session.scalars(statement)]


def _settings(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = definitions.list_readable(session, actor)
    return render(
        request,
        "workflows/settings.html",
        {
            "nav": "settings",
            "tab": "workflows",
            "workflows": [definitions.out(session, d) for d in found],
            "templates": [(key, str(t["name"])) for key, t in TEMPLATES.items()],
            "kinds": [(k.kind.value, k.label) for k in KINDS.values()],
            "programs": _programs_i_host(session, actor),
            "values": values or {},
            "errors": errors or {},
            "may_write": actor.has_role(Role.MANAGER),
        },
        status_code=status_code,
    )


def _form_errors(problem: Problem, fallback: str = FORM_ERROR) -> dict[str, str]:
    if problem.errors:
        first = problem.errors[0]
        return {FORM_ERROR: f"{first.get('path', '')}: {first.get('message', problem.detail)}"}
    return {fallback: problem.detail}


@router.get("/settings/workflows")
def settings_page(request: Request, session: DB, actor: PageActor) -> Response:
    return _settings(request, session, actor)


@router.post("/settings/workflows")
def create_from_template(
    request: Request, session: DB, actor: PageActor, form: FormInput
) -> Response:
    values = {
        "template": form.text("template"),
        "name": form.text("name"),
        "kind": form.text("kind"),
        "program_id": form.text("program_id"),
    }
    try:
        data = WorkflowIn.model_validate(
            {
                "template": values["template"] or None,
                "name": values["name"] or None,
                "kind": values["kind"] or None,
                "program_id": values["program_id"] or None,
            }
        )
    except ValidationError as exc:
        return _settings(
            request,
            session,
            actor,
            values=values,
            errors=errors_from_validation(exc),
            status_code=422,
        )
    return submit(
        session,
        lambda: definitions.create(session, actor, data),
        done=lambda definition: redirect(
            request,
            f"/settings/workflows/{definition.id}",
            f"Workflow “{definition.name}” created.",
        ),
        refused=lambda problem: _settings(
            request,
            session,
            actor,
            values=values,
            errors=_form_errors(problem),
            status_code=problem.status,
        ),
    )


@router.post("/settings/workflows/{workflow_id}/delete")
def delete_workflow(
    request: Request, session: DB, actor: PageActor, form: FormInput, workflow_id: str
) -> Response:
    wid = parse_id(workflow_id, "workflow")
    return submit(
        session,
        lambda: definitions.delete(session, actor, wid, form.version()),
        done=flash_done(request, "/settings/workflows", "Workflow deleted."),
        refused=flash_back(request, f"/settings/workflows/{wid}"),
        passes=raise_on(404),
    )


# -- the record page panel --------------------------------------------------------------------


def _panel(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    content = record_panel(session, actor, info, record_id)
    context = content.context | {"message": message, "panel_error": error}
    return render(request, content.template, context, status_code=status_code)


def record_panel(
    session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID
) -> PanelContent:
    """The workflow panel of a record: its stage in each workflow, approvals, tasks."""
    kind = info.kind.value
    states = workflow_presenters.record_states(session, actor, kind, record_id)  # 404 when hidden
    record_tasks = tasks.for_record(session, actor, kind, record_id)
    return PanelContent(
        "workflows/_panel.html",
        {
            "info": info,
            "record_id": record_id,
            "states": states,
            "tasks": record_tasks,
            "message": None,
            "panel_error": None,
            "colleagues": presenters.colleague_choices(session, actor),
            **labels.helpers(),
            "today": utcnow().date().isoformat(),
            "may_define": actor.has_role(Role.MANAGER),
        },
    )


def _panel_routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    base = f"/{info.plural}/{{record_id}}/workflow-panel"
    kind = info.kind.value

    @routes.get(base)
    def panel(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
        rid = parse_id(record_id, kind)
        if not is_htmx(request):
            return redirect(request, f"/{info.plural}/{rid}")
        return _panel(request, session, actor, info, rid)

    def answer(
        request: Request,
        session: Session,
        actor: Actor,
        rid: uuid.UUID,
        message: str | None,
        error: str | None,
    ) -> Response:
        if not is_htmx(request):
            return redirect(
                request, f"/{info.plural}/{rid}", error or message, "error" if error else "success"
            )
        return _panel(
            request,
            session,
            actor,
            info,
            rid,
            message=message,
            error=error,
            status_code=409 if error else 200,
        )

    @routes.post(base + "/move")
    def panel_move(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        rid = parse_id(record_id, kind)
        try:
            workflow_id = uuid.UUID(form.text("workflow_id"))
            data = MoveIn(to=form.text("to"), note=form.text("note", strip=False))
        except (ValueError, ValidationError):
            return answer(request, session, actor, rid, None, "Choose a stage to move to.")

        def use_case() -> str:
            moved = moves.move(session, actor, kind, rid, workflow_id, data, form.version())
            return moved.status  # read before the commit

        def done(status: str) -> Response:
            message = "The move is waiting for approvals." if status == "pending" else "Moved."
            return answer(request, session, actor, rid, message, None)

        return submit(
            session,
            use_case,
            done=done,
            refused=lambda problem: answer(
                request, session, actor, rid, None, _problem_text(problem)
            ),
            passes=raise_on(404),
        )

    @routes.post(base + "/approvals/{approval_id}/{verdict}")
    def panel_decide(
        request: Request,
        session: DB,
        actor: PageActor,
        form: FormInput,
        record_id: str,
        approval_id: str,
        verdict: str,
    ) -> Response:
        rid = parse_id(record_id, kind)
        aid = parse_id(approval_id, "approval")
        return submit(
            session,
            lambda: approvals.decide(
                session, actor, aid, approve=verdict == "approve", comment=form.text("comment")
            ),
            done=lambda _: answer(
                request,
                session,
                actor,
                rid,
                "Approved." if verdict == "approve" else "Rejected.",
                None,
            ),
            refused=lambda problem: answer(request, session, actor, rid, None, problem.detail),
        )

    @routes.post(base + "/tasks")
    def panel_add_task(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        rid = parse_id(record_id, kind)
        try:
            data = TaskIn.model_validate(
                {
                    "title": form.text("title"),
                    "owner_user_id": form.optional("owner_user_id"),
                    "due_date": form.optional("due_date"),
                    "shared": form.flag("shared"),
                }
            )
        except ValidationError as exc:
            errors = errors_from_validation(exc)
            return answer(
                request,
                session,
                actor,
                rid,
                None,
                "; ".join(f"{k}: {v}" for k, v in errors.items()),
            )
        return submit(
            session,
            lambda: tasks.create(session, actor, kind, rid, data),
            done=lambda _: answer(request, session, actor, rid, "Task added.", None),
            refused=lambda problem: answer(request, session, actor, rid, None, problem.detail),
            passes=raise_on(404),
        )

    @routes.post(base + "/tasks/{task_id}/done")
    def panel_task_done(
        request: Request,
        session: DB,
        actor: PageActor,
        form: FormInput,
        record_id: str,
        task_id: str,
    ) -> Response:
        rid = parse_id(record_id, kind)
        tid = parse_id(task_id, "task")
        return submit(
            session,
            lambda: tasks.update(
                session, actor, tid, TaskPatch(done=form.flag("done")), form.version()
            ),
            done=lambda _: answer(request, session, actor, rid, None, None),
            refused=lambda problem: answer(
                request, session, actor, rid, None, _problem_text(problem)
            ),
        )

    return routes


for _info in KINDS.values():
    router.include_router(_panel_routes(_info))


# -- the approvals inbox ------------------------------------------------------------------------


@router.get("/approvals")
def approvals_page(request: Request, session: DB, actor: PageActor) -> Response:
    items = inbox.inbox(session, actor)
    plurals = {k.value: KINDS[k].plural for k in Kind}
    return render(
        request,
        "workflows/approvals.html",
        {"nav": "approvals", "items": items, "plurals": plurals, **labels.helpers()},
    )


@router.post("/approvals/{approval_id}/{verdict}")
def approvals_decide(
    request: Request, session: DB, actor: PageActor, form: FormInput, approval_id: str, verdict: str
) -> Response:
    aid = parse_id(approval_id, "approval")
    if verdict not in {"approve", "reject"}:
        return redirect(request, "/approvals", "Choose approve or reject.", "error")
    return submit(
        session,
        lambda: approvals.decide(
            session, actor, aid, approve=verdict == "approve", comment=form.text("comment")
        ),
        done=flash_done(
            request, "/approvals", "Approved." if verdict == "approve" else "Rejected."
        ),
        refused=flash_back(request, "/approvals", problem_detail),
    )
