"""Pages of the pipeline board: the chevron bar and kanban columns, a column's next page of
cards, and a card's move (its "Move to…" select, or dropped on another column).

Every read goes through the workflow services (which start from the gate); a move is one
service call and one commit. A refused move is shown inline on the re-rendered board, naming
the card and the stage, never as an error page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.deps import DB
from coterie.fields import templates
from coterie.fields.kinds import KINDS, Kind
from coterie.kit.preconditions import precondition_required, version_in
from coterie.kit.problems import Problem
from coterie.models import Record
from coterie.models.workflow import WorkflowDefinition
from coterie.records import presenters, saved_filters
from coterie.records import service as records_service
from coterie.web import csrf
from coterie.web.forms import FormFields, FormInput, is_stale
from coterie.web.sessions import PageActor
from coterie.web.submit import submit
from coterie.web.templating import is_htmx, redirect, render
from coterie.workflows import board, definitions, moves
from coterie.workflows import presenters as workflow_presenters
from coterie.workflows.schemas import BoardOut, MoveIn
from coterie.workflows.stages import infos

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
Text = Annotated[str, Query(max_length=8000)]
BOARD_KINDS = (Kind.OPPORTUNITY, Kind.LEAD, Kind.SOLUTION, Kind.ACCOUNT)
NOT_VISIBLE_WORKFLOW = (
    "That workflow is not one you can see (another company's, or a program's your company is "
    "not on): here are your company's stages."
)


@dataclass(frozen=True)
class BoardQuery:
    kind: str
    workflow_id: str
    scope: str  # "", "plan:<id>", "program:<id>", "filter:<id>"
    stage: str

    def params(self, **changes: str) -> str:
        values = {
            "kind": self.kind,
            "workflow_id": self.workflow_id,
            "scope": self.scope,
            "stage": self.stage,
        } | changes
        return urlencode({k: v for k, v in values.items() if v})

    @classmethod
    def of(cls, kind: str, workflow_id: str, scope: str, stage: str) -> BoardQuery:
        if kind not in {k.value for k in BOARD_KINDS}:
            kind = Kind.OPPORTUNITY.value
        return cls(kind, workflow_id, scope, stage)

    def with_workflow(self, workflow_id: str) -> BoardQuery:
        return BoardQuery(self.kind, workflow_id, self.scope, self.stage)

    def service_scope(self) -> board.Scope:
        what, _, ident = self.scope.partition(":")
        try:
            value = uuid.UUID(ident) if ident else None
        except ValueError:
            value = None
        if what == "plan":
            return board.Scope(plan_id=value)
        if what == "program":
            return board.Scope(program_id=value)
        if what == "filter":
            return board.Scope(saved_filter_id=value)
        return board.Scope()

    def workflow_uuid(self) -> uuid.UUID | None:
        """The chosen workflow; None for my company's stages."""
        try:
            return uuid.UUID(self.workflow_id) if self.workflow_id else None
        except ValueError:
            return None


def _choices(session: Session, actor: Actor, kind: str) -> dict[str, Any]:
    principal = actor.principal
    workflows = [
        (str(d.id), d.name + (" (program)" if d.program_id else ""))
        for d in definitions.list_readable(session, actor, kind=kind, include_inactive=False)
    ]

    def titles(of_kind: str) -> list[tuple[str, str]]:
        statement = gate.visible(principal, of_kind).order_by(Record.title).limit(200)
        return [(str(r.id), r.title) for r in session.scalars(statement)]

    scopes = [("", "Everything I can see")]
    scopes += [(f"plan:{i}", f"Plan: {t}") for i, t in titles("plan")]
    scopes += [(f"program:{i}", f"Program: {t}") for i, t in titles("program")]
    scopes += [
        (f"filter:{f.id}", f"Saved filter: {f.name}")
        for f in saved_filters.list_readable(session, actor, kind)
    ]
    return {
        "kinds": [(k.value, KINDS[k].label) for k in BOARD_KINDS],
        "workflows": workflows,
        "scopes": scopes,
    }


def _seen_workflow(
    session: Session, actor: Actor, workflow_id: uuid.UUID
) -> WorkflowDefinition | None:
    try:
        return definitions.get(session, actor, workflow_id)
    except Problem:
        return None


def _as_date(value: str | None) -> date | None:
    """A card's ISO date as a date (for the `date` filter); None when empty or not a date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# what workflows/_cards.html and _load_more.html use besides the board: for the whole board and
# for one column's next page alike (stage labels come with the board's data)
_CARD_HELPERS: dict[str, Any] = {
    "money": presenters.money_text,
    "as_date": _as_date,
    "unstaged_key": board.UNSTAGED,
}


def _board_context(
    session: Session,
    actor: Actor,
    q: BoardQuery,
    *,
    message: str | None = None,
    error: str | None = None,
    error_record: str | None = None,
    pick: bool = False,
) -> dict[str, Any]:
    """The board as `q` asks; with `pick` (no workflow asked for), on the workflow that applies
    to most of the records I see: a program's, or else my company's stages."""
    workflow_id = q.workflow_uuid()
    if workflow_id is not None:
        chosen = _seen_workflow(session, actor, workflow_id)
        if chosen is None:
            # a link to a workflow I do not (or no longer) see: my own stages, not a dead end
            mine = BoardQuery.of(q.kind, "", q.scope, "")
            context = _board_context(
                session, actor, mine, message=message, error=error, error_record=error_record
            )
            return context | {"notice": NOT_VISIBLE_WORKFLOW}
        if chosen.kind != q.kind:
            pick = True  # the kind changed under a workflow of another kind
    if pick:
        preferred = board.preferred_workflow(session, actor, q.kind)
        joint = preferred is not None and preferred.program_id is not None
        q = q.with_workflow(str(preferred.id) if preferred is not None and joint else "")
        workflow_id = q.workflow_uuid()
    data: BoardOut | None = None
    problem: str | None = None
    try:
        data = board.build(
            session,
            actor,
            kind=q.kind,
            workflow_id=workflow_id,
            scope=q.service_scope(),
            stage=q.stage or None,
        )
    except Problem as exc:
        session.rollback()  # PostgreSQL aborts a failed transaction
        problem = exc.detail
    columns = []
    unstaged = None
    if data is not None:
        # records on no stage of this workflow (legacy data) come first, and only when any
        unstaged = data.unstaged if data.unstaged is not None and data.unstaged.count else None
        columns = [*([unstaged] if unstaged is not None else []), *data.stages]
    summary_stages = []
    if data is not None and q.stage:  # the chevrons keep every stage while one is open
        try:
            full = board.build(
                session,
                actor,
                kind=q.kind,
                workflow_id=q.workflow_uuid(),
                scope=q.service_scope(),
                limit=1,
            )
            summary_stages = full.stages
            unstaged = full.unstaged if full.unstaged is not None and full.unstaged.count else None
        except Problem:
            session.rollback()  # PostgreSQL aborts a failed transaction
    elif data is not None:
        summary_stages = data.stages
    return {
        "q": q,
        "data": data,
        "problem": problem,
        "columns": columns,
        "chevrons": summary_stages,
        "unstaged_chevron": unstaged,
        "stage_names": {s.key: s.name for s in (data.workflow.stages if data else [])},
        "message": message,
        "move_error": error,
        "error_record": error_record,
        "info": KINDS[Kind(q.kind)],
        **_CARD_HELPERS,
    }


@router.get("/board")
def board_page(
    request: Request,
    session: DB,
    actor: PageActor,
    kind: Text = "opportunity",
    workflow_id: Annotated[str | None, Query(max_length=8000)] = None,
    scope: Text = "",
    stage: Text = "",
) -> Response:
    """The board; without a workflow asked for, on the one most of my records are on."""
    q = BoardQuery.of(kind, workflow_id or "", scope, stage)
    pick = workflow_id is None
    if is_htmx(request) and request.headers.get("HX-Target") == "board":  # a chevron's click
        context = _board_context(session, actor, q, pick=pick)
        shown: BoardQuery = context["q"]
        headers = {"HX-Push-Url": f"/board?{shown.params()}" if shown.params() else "/board"}
        return render(request, "workflows/_board.html", context, headers=headers)
    context = _board_context(session, actor, q, pick=pick) | _choices(session, actor, q.kind)
    return render(request, "workflows/board.html", context | {"nav": "board"})


@router.get("/board/column")
def board_column(
    request: Request,
    session: DB,
    actor: PageActor,
    kind: Text = "opportunity",
    workflow_id: Text = "",
    scope: Text = "",
    stage: Text = "",
    cursor: Text = "",
) -> Response:
    """More cards of one column (the board's "load more")."""
    q = BoardQuery.of(kind, workflow_id, scope, stage)
    try:
        data = board.build(
            session,
            actor,
            kind=q.kind,
            workflow_id=q.workflow_uuid(),
            scope=q.service_scope(),
            stage=q.stage or board.UNSTAGED,
            cursor=cursor or None,
        )
    except Problem:
        session.rollback()  # PostgreSQL aborts a failed transaction
        return render(request, "workflows/_more.html", {"column": None, "q": q})
    column = data.stages[0] if data.stages else data.unstaged
    context = {"column": column, "q": q, "data": data, "info": KINDS[Kind(q.kind)]}
    return render(request, "workflows/_more.html", context | _CARD_HELPERS)


def _version_of(request: Request, form: FormFields) -> int:
    """The state version the mover read: the If-Match header (drag and drop) or the form's."""
    header = request.headers.get("If-Match")
    if header is None:
        return form.version()
    version = version_in(header)
    if version is None:
        raise precondition_required("the card's state version: reload the board")
    return version


def _field_label(session: Session, actor: Actor, kind: str, path: str) -> str:
    prefix, dot, key = path.partition(".")
    if not dot:
        return prefix.replace("_", " ").capitalize()
    definition = templates.load(session, actor.company_id, kind).by_key.get(key)
    label = (definition.label if definition is not None else "") or key.replace("_", " ")
    return f"My {label.lower()}"


def _and_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _move_refusal(
    session: Session, actor: Actor, kind: str, problem: Problem, title: str, stage: str
) -> str:
    """Why a card did not move, as one sentence naming the card and the stage."""
    if is_stale(problem):
        return (
            f"Someone moved this record meanwhile, so “{title}” did not move: the board was "
            "refreshed and shows where it stands now."
        )
    if problem.slug == "entry-criteria" and problem.errors:
        labels = [_field_label(session, actor, kind, str(e["path"])) for e in problem.errors]
        return f"Can't move “{title}” to {stage}: fill {_and_join(labels)} first."
    return f"Can't move “{title}” to {stage}: {problem.detail}"


def _card_title(session: Session, actor: Actor, kind: str, record_id: uuid.UUID) -> str:
    try:
        return records_service.read(session, actor, kind, record_id).title
    except Problem:
        session.rollback()  # PostgreSQL aborts a failed transaction
        return "the card"


@router.post("/board/move")
def board_move(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
    """A move from the "Move to…" select or a card dropped on another column (If-Match)."""
    q = BoardQuery.of(
        form.text("kind"), form.text("workflow_id"), form.text("scope"), form.text("stage")
    )
    record_text = form.text("record_id")
    to = form.text("to")

    def answer(message: str | None, error: str | None) -> Response:
        if not is_htmx(request):
            return redirect(
                request, f"/board?{q.params()}", error or message, "error" if error else "success"
            )
        context = _board_context(
            session,
            actor,
            q,
            message=message,
            error=error,
            error_record=record_text if error else None,
        )
        status_code = 200 if error is None else 409
        return render(
            request, "workflows/_board.html", context | {"announce": True}, status_code=status_code
        )

    try:
        record_id = uuid.UUID(record_text)
        workflow_id = uuid.UUID(form.text("move_workflow_id"))
    except ValueError:
        return answer(None, "Choose a stage to move to.")

    def move() -> None:
        version = _version_of(request, form)
        moves.move(session, actor, q.kind, record_id, workflow_id, MoveIn(to=to), version)

    def moved(_: None) -> Response:
        message = "Moved."
        title = _card_title(session, actor, q.kind, record_id)
        states = workflow_presenters.record_states(session, actor, q.kind, record_id)
        state = next((s for s in states if s.workflow.id == workflow_id), None)
        if state is not None and state.pending_move is not None:
            message = f"The move of “{title}” is waiting for approvals."
        elif state is not None and state.stage is not None:
            message = f"Moved to {state.stage.name}: “{title}”."
        return answer(message, None)

    def refused(problem: Problem) -> Response:
        stage_name = to
        try:
            definition = definitions.get(session, actor, workflow_id)
            stage_name = next((s.name for s in infos(definition.stages) if s.key == to), to)
        except Problem:
            session.rollback()  # PostgreSQL aborts a failed transaction
        title = _card_title(session, actor, q.kind, record_id)
        return answer(None, _move_refusal(session, actor, q.kind, problem, title, stage_name))

    try:
        return submit(session, move, done=moved, refused=refused)
    except ValidationError:
        return answer(None, "Choose a stage to move to.")
