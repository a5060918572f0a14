"""Routes of workflow definitions, moves, approvals, tasks, saved filters and boards."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB
from coterie.fields.kinds import KINDS, Kind, KindInfo
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.records import query, saved_filters
from coterie.records.schemas import SavedFilterIn, SavedFilterOut
from coterie.workflows import approvals, board, definitions, inbox, moves, presenters, tasks
from coterie.workflows.schemas import (
    BoardOut,
    DecisionIn,
    InboxItem,
    MoveIn,
    MoveOut,
    MoveResult,
    RecordWorkflowOut,
    TaskIn,
    TaskOut,
    TaskPatch,
    WorkflowIn,
    WorkflowOut,
    WorkflowUpdate,
)

router = APIRouter()
WorkflowVersion = Annotated[
    int, expected_version("the workflow's ETag from GET /api/v1/workflows/{id}")
]
TaskVersion = Annotated[int, expected_version("the task's ETag from GET /api/v1/tasks/{id}")]
FilterVersion = Annotated[
    int, expected_version("the filter's ETag from GET /api/v1/saved-filters/{id}")
]


# -- definitions ----------------------------------------------------------------------------


@router.get(
    "/workflows",
    response_model=list[WorkflowOut],
    tags=["workflows"],
    summary="My company's workflows and those of programs I take part in",
)
def list_workflows(
    actor: ApiActor,
    session: DB,
    kind: Kind | None = None,
    program_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> list[WorkflowOut]:
    found = definitions.list_readable(
        session,
        actor,
        kind=kind.value if kind else None,
        program_id=program_id,
        include_inactive=active is not True,
    )
    if active is False:
        found = [d for d in found if not d.active]
    return [definitions.out(session, d) for d in found]


@router.post(
    "/workflows",
    response_model=WorkflowOut,
    status_code=status.HTTP_201_CREATED,
    tags=["workflows"],
    summary="Define a workflow (managers, admins); start from a template if you like",
)
def create_workflow(
    body: WorkflowIn, actor: ApiActor, session: DB, response: Response
) -> WorkflowOut:
    definition = definitions.create(session, actor, body)
    session.commit()
    set_etag(response, definition.version)
    return definitions.out(session, definition)


@router.get("/workflows/{workflow_id}", response_model=WorkflowOut, tags=["workflows"])
def get_workflow(
    workflow_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> WorkflowOut:
    definition = definitions.get(session, actor, workflow_id)
    set_etag(response, definition.version)
    return definitions.out(session, definition)


@router.put(
    "/workflows/{workflow_id}",
    response_model=WorkflowOut,
    tags=["workflows"],
    summary="Replace a workflow's name, stages, transitions and active flag (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def update_workflow(
    workflow_id: uuid.UUID,
    body: WorkflowUpdate,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: WorkflowVersion,
) -> WorkflowOut:
    definition = definitions.update(session, actor, workflow_id, body, expected)
    session.commit()
    set_etag(response, definition.version)
    return definitions.out(session, definition)


@router.delete(
    "/workflows/{workflow_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["workflows"],
    summary="Delete a workflow with its states and history (If-Match; deactivate it to keep them)",
    responses=PRECONDITION_RESPONSES,
)
def delete_workflow(
    workflow_id: uuid.UUID, actor: ApiActor, session: DB, expected: WorkflowVersion
) -> Response:
    definitions.delete(session, actor, workflow_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- a record's workflows, moves, history, tasks ----------------------------------------------


def _record_routes(info: KindInfo) -> APIRouter:
    kind = info.kind.value
    routes = APIRouter(prefix=f"/{info.plural}/{{record_id}}", tags=["workflows"])
    state_version = expected_version(
        f"the state's `version` from GET /api/v1/{info.plural}/{{id}}/workflows (0 before the "
        "first move)"
    )

    @routes.get(
        "/workflows",
        response_model=list[RecordWorkflowOut],
        summary=f"Where the {kind} stands on each workflow that applies to me",
    )
    def record_workflows(
        record_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> list[RecordWorkflowOut]:
        return presenters.record_states(session, actor, kind, record_id)

    @routes.post(
        "/workflows/{workflow_id}/attach",
        response_model=RecordWorkflowOut,
        summary="Put the record on a program's workflow (without a plan link)",
    )
    def attach(
        record_id: uuid.UUID, workflow_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> RecordWorkflowOut:
        moves.attach(session, actor, kind, record_id, workflow_id)
        session.commit()
        return _state(session, actor, record_id, workflow_id)

    @routes.post(
        "/workflows/{workflow_id}/moves",
        response_model=MoveResult,
        status_code=status.HTTP_201_CREATED,
        summary="Move the record to a stage (If-Match: the state's version); may await approvals",
        responses=PRECONDITION_RESPONSES,
    )
    def move(
        record_id: uuid.UUID,
        workflow_id: uuid.UUID,
        body: MoveIn,
        actor: ApiActor,
        session: DB,
        response: Response,
        expected: int = state_version,
    ) -> MoveResult:
        moved = moves.move(session, actor, kind, record_id, workflow_id, body, expected)
        session.commit()
        state = _state(session, actor, record_id, workflow_id)
        set_etag(response, state.version)
        return MoveResult(
            move=_move(session, actor, kind, record_id, workflow_id, moved.id), state=state
        )

    @routes.post(
        "/workflows/{workflow_id}/moves/{move_id}/cancel",
        response_model=MoveOut,
        summary="Withdraw a move waiting for approvals (the company that asked)",
    )
    def cancel(
        record_id: uuid.UUID,
        workflow_id: uuid.UUID,
        move_id: uuid.UUID,
        actor: ApiActor,
        session: DB,
    ) -> MoveOut:
        moves.cancel(session, actor, kind, record_id, workflow_id, move_id)
        session.commit()
        return _move(session, actor, kind, record_id, workflow_id, move_id)

    @routes.get(
        "/workflows/{workflow_id}/history",
        response_model=list[MoveOut],
        summary="Every move of the record on the workflow, newest first, with approvals",
    )
    def history(
        record_id: uuid.UUID, workflow_id: uuid.UUID, actor: ApiActor, session: DB
    ) -> list[MoveOut]:
        return presenters.history(session, actor, kind, record_id, workflow_id)

    @routes.get(
        "/tasks",
        response_model=list[TaskOut],
        summary="Tasks on the record: my company's, and other companies' shared ones",
    )
    def record_tasks(record_id: uuid.UUID, actor: ApiActor, session: DB) -> list[TaskOut]:
        return tasks.for_record(session, actor, kind, record_id)

    @routes.post(
        "/tasks",
        response_model=TaskOut,
        status_code=status.HTTP_201_CREATED,
        summary="Add a task for my company (shared: every company on the record sees it)",
    )
    def add_task(
        record_id: uuid.UUID, body: TaskIn, actor: ApiActor, session: DB, response: Response
    ) -> TaskOut:
        task = tasks.create(session, actor, kind, record_id, body)
        session.commit()
        set_etag(response, task.version)
        return tasks.get(session, actor, task.id)

    def _state(
        session: DB, actor: ApiActor, record_id: uuid.UUID, workflow_id: uuid.UUID
    ) -> RecordWorkflowOut:
        states = presenters.record_states(session, actor, kind, record_id)
        return next(s for s in states if s.workflow.id == workflow_id)

    return routes


def _move(
    session: DB,
    actor: ApiActor,
    kind: str,
    record_id: uuid.UUID,
    workflow_id: uuid.UUID,
    move_id: uuid.UUID,
) -> MoveOut:
    return next(
        m
        for m in presenters.history(session, actor, kind, record_id, workflow_id)
        if m.id == move_id
    )


for _info in KINDS.values():
    router.include_router(_record_routes(_info))


# -- approvals ------------------------------------------------------------------------------


@router.get(
    "/workflow-approvals",
    response_model=list[InboxItem],
    tags=["workflows"],
    summary="Approvals asked of my company (pending: those I may decide now)",
)
def approvals_inbox(
    actor: ApiActor,
    session: DB,
    approval_status: Annotated[
        Literal["pending", "waiting", "approved", "rejected", "canceled"], Query(alias="status")
    ] = "pending",
) -> list[InboxItem]:
    return inbox.inbox(session, actor, approval_status)


def _decide(
    session: DB, actor: ApiActor, approval_id: uuid.UUID, body: DecisionIn, approve: bool
) -> MoveOut:
    moved = approvals.decide(session, actor, approval_id, approve=approve, comment=body.comment)
    session.commit()
    definition = definitions.get(session, actor, moved.workflow_id)
    return _move(session, actor, definition.kind, moved.record_id, moved.workflow_id, moved.id)


@router.post(
    "/workflow-approvals/{approval_id}/approve",
    response_model=MoveOut,
    tags=["workflows"],
    summary="Approve (a user of the asked company with the role or above)",
)
def approve(
    approval_id: uuid.UUID, actor: ApiActor, session: DB, body: DecisionIn | None = None
) -> MoveOut:
    return _decide(session, actor, approval_id, body or DecisionIn(), True)


@router.post(
    "/workflow-approvals/{approval_id}/reject",
    response_model=MoveOut,
    tags=["workflows"],
    summary="Reject: the move is rejected and the record stays where it is",
)
def reject(
    approval_id: uuid.UUID, actor: ApiActor, session: DB, body: DecisionIn | None = None
) -> MoveOut:
    return _decide(session, actor, approval_id, body or DecisionIn(), False)


# -- tasks ----------------------------------------------------------------------------------


@router.get(
    "/tasks",
    response_model=Page[TaskOut],
    tags=["tasks"],
    summary="Tasks on records I may see: mine=true for those I own",
)
def list_tasks(
    actor: ApiActor,
    session: DB,
    mine: bool = False,
    due_before: date | None = None,
    done: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=query.MAX_CURSOR_LENGTH)] = None,
) -> Page[TaskOut]:
    items, next_cursor = tasks.list_tasks(
        session, actor, mine=mine, due_before=due_before, done=done, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/tasks/{task_id}", response_model=TaskOut, tags=["tasks"])
def get_task(task_id: uuid.UUID, actor: ApiActor, session: DB, response: Response) -> TaskOut:
    out = tasks.get(session, actor, task_id)
    set_etag(response, out.version)
    return out


@router.patch(
    "/tasks/{task_id}",
    response_model=TaskOut,
    tags=["tasks"],
    summary="Edit a task of my company: done, owner, due date, title, shared (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def patch_task(
    task_id: uuid.UUID,
    body: TaskPatch,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: TaskVersion,
) -> TaskOut:
    tasks.update(session, actor, task_id, body, expected)
    session.commit()
    out = tasks.get(session, actor, task_id)
    set_etag(response, out.version)
    return out


@router.delete(
    "/tasks/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["tasks"],
    summary="Delete a task of my company (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def delete_task(
    task_id: uuid.UUID, actor: ApiActor, session: DB, expected: TaskVersion
) -> Response:
    tasks.delete(session, actor, task_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- saved filters --------------------------------------------------------------------------


@router.get(
    "/saved-filters",
    response_model=list[SavedFilterOut],
    tags=["saved filters"],
    summary="My saved filters and those my colleagues share with the company",
)
def list_saved_filters(
    actor: ApiActor, session: DB, kind: Kind | None = None
) -> list[SavedFilterOut]:
    found = saved_filters.list_readable(session, actor, kind.value if kind else None)
    return [saved_filters.out(f, actor) for f in found]


@router.post(
    "/saved-filters",
    response_model=SavedFilterOut,
    status_code=status.HTTP_201_CREATED,
    tags=["saved filters"],
)
def create_saved_filter(
    body: SavedFilterIn, actor: ApiActor, session: DB, response: Response
) -> SavedFilterOut:
    saved = saved_filters.create(session, actor, body)
    session.commit()
    set_etag(response, saved.version)
    return saved_filters.out(saved, actor)


@router.get("/saved-filters/{filter_id}", response_model=SavedFilterOut, tags=["saved filters"])
def get_saved_filter(
    filter_id: uuid.UUID, actor: ApiActor, session: DB, response: Response
) -> SavedFilterOut:
    saved = saved_filters.get(session, actor, filter_id)
    set_etag(response, saved.version)
    return saved_filters.out(saved, actor)


@router.put(
    "/saved-filters/{filter_id}",
    response_model=SavedFilterOut,
    tags=["saved filters"],
    summary="Replace my saved filter (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def update_saved_filter(
    filter_id: uuid.UUID,
    body: SavedFilterIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: FilterVersion,
) -> SavedFilterOut:
    saved = saved_filters.update(session, actor, filter_id, body, expected)
    session.commit()
    set_etag(response, saved.version)
    return saved_filters.out(saved, actor)


@router.delete(
    "/saved-filters/{filter_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["saved filters"],
    summary="Delete my saved filter (If-Match)",
    responses=PRECONDITION_RESPONSES,
)
def delete_saved_filter(
    filter_id: uuid.UUID, actor: ApiActor, session: DB, expected: FilterVersion
) -> Response:
    saved_filters.delete(session, actor, filter_id, expected)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- boards ---------------------------------------------------------------------------------


@router.get(
    "/boards",
    response_model=BoardOut,
    tags=["boards"],
    summary="Records grouped by stage with counts and totals (one scope: plan, program, "
    "saved filter or filter); ?stage= pages one column",
    responses={400: {"description": "Grouping on a field you cannot see"}},
)
def get_board(
    actor: ApiActor,
    session: DB,
    kind: Kind,
    workflow_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
    program_id: uuid.UUID | None = None,
    saved_filter_id: uuid.UUID | None = None,
    filter_text: Annotated[
        str | None, Query(alias="filter", max_length=query.MAX_FILTER_LENGTH)
    ] = None,
    stage: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=board.MAX_COLUMN_PAGE)] = board.CARDS_PER_STAGE,
    cursor: Annotated[str | None, Query(max_length=query.MAX_CURSOR_LENGTH)] = None,
) -> BoardOut:
    return board.build(
        session,
        actor,
        kind=kind.value,
        workflow_id=workflow_id,
        scope=board.Scope(plan_id, program_id, saved_filter_id, filter_text),
        stage=stage,
        limit=limit,
        cursor=cursor,
    )
