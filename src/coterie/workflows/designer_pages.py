"""Pages of the visual workflow designer (Settings > Workflows > a workflow): stages added,
renamed, dragged or moved in order, their category, entry criteria, steps and approvals chosen
from selects, the allowed moves ticked, a live preview of the board; and the JSON export (and
import into a new design) of a definition.

Saving is one call of the definition service (`definitions.create` / `definitions.update`,
with the version the page showed): the designer never writes a table itself, and what the
service refuses comes back next to the stage or field it concerns.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.deps import DB
from coterie.fields.kinds import KINDS, Kind
from coterie.kit.preconditions import precondition_required, version_in
from coterie.kit.problems import Problem, not_found
from coterie.models.vocabulary import Role
from coterie.web import csrf
from coterie.web.forms import FORM_ERROR, clean, is_stale
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import raise_on, submit
from coterie.web.templating import redirect, render
from coterie.workflows import definitions, designer_choices
from coterie.workflows.designer_form import (
    Design,
    design_of,
    field_of,
    first,
    parse,
    slug,
    translate,
)
from coterie.workflows.schemas import WorkflowIn, WorkflowOut, WorkflowUpdate

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
MAX_IMPORT_BYTES = 512 * 1024
STALE = (
    "Someone saved this workflow since you opened it, so nothing was saved. Reload the page to "
    "see their version, then make your change again."
)


async def read_fields(request: Request) -> dict[str, list[str]]:
    """Every posted text field with all its values (a file field is left out)."""
    form = await request.form()
    found: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            found.setdefault(name, []).append(clean(value))
    return found


Fields = Annotated[dict[str, list[str]], Depends(read_fields)]


def _kind(text: str) -> str:
    try:
        return Kind(text).value
    except ValueError as exc:
        raise not_found("kind of record") from exc


def _hosted_program(session: Session, actor: Actor, text: str) -> tuple[uuid.UUID, str] | None:
    """The program `text` names, when my company hosts it (else 404)."""
    if not text:
        return None
    program_id = parse_id(text, "program")
    try:
        program = gate.check(session, actor.principal, "program", program_id)
    except Problem as exc:
        raise not_found("program") from exc
    if program.owner_company_id != actor.company_id:
        raise not_found("program")
    return program_id, program.title


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    design: Design,
    kind: str,
    program: tuple[uuid.UUID, str] | None,
    workflow: WorkflowOut | None,
    version: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    choices = designer_choices.load(
        session,
        actor,
        kind,
        program[0] if program else None,
        workflow.company_id if workflow else None,
    )
    may_write = actor.has_role(Role.MANAGER) and (
        workflow is None or workflow.company_id == actor.company_id
    )
    return render(
        request,
        "workflows/settings_edit.html",
        {
            "nav": "settings",
            "tab": "workflows",
            "workflow": workflow,
            "design": design,
            "kind": kind,
            "kind_label": KINDS[Kind(kind)].label,
            "page_title": workflow.name
            if workflow
            else f"New {KINDS[Kind(kind)].label.lower()} workflow",
            "program": program,
            "version": version,
            "choices": choices,
            "field_labels": choices.field_labels(),
            "owner_labels": dict(choices.owners),
            "company_labels": dict(choices.companies),
            "categories": designer_choices.CATEGORIES,
            "roles": designer_choices.ROLES,
            "role_labels": dict(designer_choices.ROLES),
            "modes": designer_choices.MODES,
            "errors": errors or {},
            "may_write": may_write,
        },
        status_code=status_code,
    )


def _validation_errors(exc: ValidationError) -> dict[str, str]:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in first.get("loc", ()))
    return {field_of(path, []): str(first.get("msg", "Is not valid"))}


# -- a new workflow -----------------------------------------------------------------------------


@router.get("/settings/workflows/new")
def new_page(
    request: Request,
    session: DB,
    actor: PageActor,
    kind: Annotated[str, Query(max_length=40)] = Kind.OPPORTUNITY.value,
    program_id: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    actor.require_role(Role.MANAGER, "define workflows")
    return _page(
        request,
        session,
        actor,
        design=Design(),
        kind=_kind(kind),
        program=_hosted_program(session, actor, program_id),
        workflow=None,
    )


@router.post("/settings/workflows/new")
def create_designed(request: Request, session: DB, actor: PageActor, fields: Fields) -> Response:
    actor.require_role(Role.MANAGER, "define workflows")
    kind = _kind(first(fields, "kind"))
    program = _hosted_program(session, actor, first(fields, "program_id"))
    design = parse(fields)

    def again(errors: dict[str, str], status_code: int = 422) -> Response:
        return _page(
            request,
            session,
            actor,
            design=design,
            kind=kind,
            program=program,
            workflow=None,
            errors=errors,
            status_code=status_code,
        )

    choices = designer_choices.load(session, actor, kind, program[0] if program else None)
    result = translate(design, choices.allowed())
    if result.errors:
        return again(result.errors)
    try:
        data = WorkflowIn.model_validate(
            {
                "kind": kind,
                "name": design.name,
                "program_id": str(program[0]) if program else None,
                "stages": result.stages,
                "transitions": result.transitions,
                "active": design.active,
            }
        )
    except ValidationError as exc:
        return again(_validation_errors(exc))
    return submit(
        session,
        lambda: definitions.create(session, actor, data),
        done=lambda created: redirect(
            request, f"/settings/workflows/{created.id}", f"Workflow “{created.name}” created."
        ),
        refused=lambda problem: again(_problem_errors(problem, result.transition_targets), 422),
    )


@dataclass(frozen=True)
class Upload:
    """The import form: the kind and program of the new workflow, and the file's bytes (None
    when no file was chosen)."""

    kind: str
    program_id: str
    raw: bytes | None


async def read_upload(request: Request) -> Upload:
    form = await request.form()
    upload = form.get("file")
    raw = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read(MAX_IMPORT_BYTES + 1)
    return Upload(
        kind=str(form.get("kind") or Kind.OPPORTUNITY.value),
        program_id=str(form.get("program_id") or ""),
        raw=raw,
    )


@router.post("/settings/workflows/new/import")
def import_design(
    request: Request,
    session: DB,
    actor: PageActor,
    upload: Annotated[Upload, Depends(read_upload)],
) -> Response:
    """A JSON export read into a new design (nothing is saved until the designer's Save)."""
    actor.require_role(Role.MANAGER, "define workflows")
    kind = _kind(upload.kind)
    program = _hosted_program(session, actor, upload.program_id)
    if upload.raw is None:
        design, error = Design(), "Choose a JSON file exported from a workflow."
    else:
        design, error = _imported(upload.raw)
    return _page(
        request,
        session,
        actor,
        design=design,
        kind=kind,
        program=program,
        workflow=None,
        errors={"file": error} if error else {},
        status_code=422 if error else 200,
    )


def _imported(raw: bytes) -> tuple[Design, str]:
    if len(raw) > MAX_IMPORT_BYTES:
        return Design(), "The file is too large for a workflow (512 KB at most)."
    try:
        data = json.loads(raw.decode("utf-8"))
        parsed = WorkflowIn.model_validate(
            {
                "name": data.get("name"),
                "stages": data.get("stages"),
                "transitions": data.get("transitions") or [],
            }
        )
    except (ValueError, AttributeError, ValidationError):
        return Design(), "This file is not a workflow exported from Coterie (Download JSON)."
    stages = [s.model_dump(mode="json") for s in parsed.stages or []]
    transitions = [t.model_dump(mode="json", by_alias=True) for t in parsed.transitions or []]
    imported = design_of(parsed.name or "", True, stages, transitions)
    for stage in imported.stages:
        stage.key = ""  # a new workflow: keys come from the labels again
    return imported, ""


# -- an existing workflow -----------------------------------------------------------------------


def _existing(
    request: Request,
    session: Session,
    actor: Actor,
    workflow_id: uuid.UUID,
    *,
    design: Design | None = None,
    version: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    out = definitions.out(session, definitions.get(session, actor, workflow_id))
    program = (
        (out.program_id, _program_title(session, actor, out.program_id))
        if out.program_id is not None
        else None
    )
    return _page(
        request,
        session,
        actor,
        design=design or design_of(out.name, out.active, out.stages, out.transitions),
        kind=out.kind,
        program=program,
        workflow=out,
        version=version or str(out.version),
        errors=errors,
        status_code=status_code,
    )


def _program_title(session: Session, actor: Actor, program_id: uuid.UUID) -> str:
    try:
        return gate.check(session, actor.principal, "program", program_id).title
    except Problem:
        return "A program"


@router.get("/settings/workflows/{workflow_id}")
def edit_page(request: Request, session: DB, actor: PageActor, workflow_id: str) -> Response:
    return _existing(request, session, actor, parse_id(workflow_id, "workflow"))


@router.post("/settings/workflows/{workflow_id}")
def save_workflow(
    request: Request, session: DB, actor: PageActor, fields: Fields, workflow_id: str
) -> Response:
    wid = parse_id(workflow_id, "workflow")
    definition = definitions.get(session, actor, wid)
    design = parse(fields)
    shown = first(fields, "version")

    def again(errors: dict[str, str], status_code: int = 422) -> Response:
        return _existing(
            request,
            session,
            actor,
            wid,
            design=design,
            version=shown,
            errors=errors,
            status_code=status_code,
        )

    choices = designer_choices.load(session, actor, definition.kind, definition.program_id)
    result = translate(design, choices.allowed())
    if result.errors:
        return again(result.errors)
    try:
        data = WorkflowUpdate.model_validate(
            {
                "name": design.name,
                "stages": result.stages,
                "transitions": result.transitions,
                "active": design.active,
            }
        )
    except ValidationError as exc:
        return again(_validation_errors(exc))

    def save() -> object:
        expected = version_in(shown)
        if expected is None:
            raise precondition_required("the version the page showed: reload the page")
        return definitions.update(session, actor, wid, data, expected)

    def refused(problem: Problem) -> Response:
        if is_stale(problem):
            return again({FORM_ERROR: STALE}, 409)
        return again(_problem_errors(problem, result.transition_targets), problem.status)

    return submit(
        session,
        save,
        done=lambda _: redirect(request, f"/settings/workflows/{wid}", "Workflow saved."),
        refused=refused,
        passes=raise_on(404),
    )


@router.get("/settings/workflows/{workflow_id}/export.json")
def export_json(session: DB, actor: PageActor, workflow_id: str) -> Response:
    """The definition as a JSON file: what the designer imports, and what the API takes."""
    out = definitions.out(
        session, definitions.get(session, actor, parse_id(workflow_id, "workflow"))
    )
    body = {
        "name": out.name,
        "kind": out.kind,
        "active": out.active,
        "stages": out.stages,
        "transitions": out.transitions,
    }
    return Response(
        json.dumps(body, indent=2, ensure_ascii=False) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{slug(out.name)}.json"'},
    )


# -- helpers ----------------------------------------------------------------------------------


def _problem_errors(problem: Problem, targets: list[int]) -> dict[str, str]:
    """A service refusal next to the field it names; else at the top of the form."""
    if problem.slug == "workflow-exists":
        return {
            "active": "Another workflow is active for these records: untick Active to keep this "
            "one as a draft, or deactivate the other one first."
        }
    if problem.errors:
        error: Mapping[str, Any] = problem.errors[0]
        message = str(error.get("message", problem.detail))
        return {field_of(str(error.get("path", "")), targets): message[:1].upper() + message[1:]}
    return {FORM_ERROR: problem.detail}
