"""Pydantic shapes of the workflow API: definitions, record states, moves, approvals, tasks,
and boards."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coterie.fields.kinds import Kind
from coterie.models.vocabulary import Role
from coterie.workflows.stages import StageCategory

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
StageName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
StageKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$"),
]
FieldPath = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^(mine\.)?[a-z][a-z0-9_]{0,59}$"),
]
TaskTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[str, StringConstraints(max_length=2000)]
TemplateName = Literal["standard_pipeline", "joint_solution"]
Mode = Literal["sequential", "parallel"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- definitions ----------------------------------------------------------------------------


class StepIn(Strict):
    title: TaskTitle
    owner: str = Field(
        default="record_owner",
        max_length=60,
        description='"record_owner" (the owner in the space of the company whose task it is), '
        '"mover" (who made the move) or a user id',
    )
    due_in_days: int | None = Field(default=None, ge=0, le=3650)


class StageIn(Strict):
    key: StageKey
    name: StageName
    category: StageCategory = StageCategory.OPEN
    required_fields: list[FieldPath] = Field(
        default_factory=list,
        max_length=30,
        description='Entry criteria: "mine.<key>" (the mover\'s own space) or a shared core '
        "field (title, customer_name, customer_domain, motion, description, account_id)",
    )
    steps: list[StepIn] = Field(default_factory=list, max_length=20)


class ApprovalIn(Strict):
    company: str = Field(
        max_length=60,
        description='"owner" (the record\'s owner company), "host" (the program\'s host, or the '
        'workflow\'s company), "mover" (the mover\'s company), "partners" (every active '
        "participant but the host: one approval each) or a company id",
    )
    role: Role = Role.MANAGER


class TransitionIn(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(
        alias="from", max_length=60, description='A stage key, or "*": any open stage'
    )
    to: str = Field(max_length=60)
    approvals: list[ApprovalIn] = Field(default_factory=list, max_length=10)
    mode: Mode = "sequential"


class WorkflowIn(Strict):
    """A new definition: from a built-in `template`, or `stages` (and `transitions`) given."""

    template: TemplateName | None = None
    kind: Kind | None = None
    name: Name | None = None
    program_id: uuid.UUID | None = Field(
        default=None, description="A program record you host: the workflow runs its joint stage"
    )
    stages: list[StageIn] | None = Field(default=None, min_length=1, max_length=30)
    transitions: list[TransitionIn] | None = Field(default=None, max_length=200)
    active: bool = True


class WorkflowUpdate(Strict):
    name: Name
    stages: list[StageIn] = Field(min_length=1, max_length=30)
    transitions: list[TransitionIn] = Field(default_factory=list, max_length=200)
    active: bool = True


class WorkflowOut(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    program_id: uuid.UUID | None
    scope: Literal["company", "program"]
    kind: str
    name: str
    stages: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


# -- record states, moves and approvals ------------------------------------------------------


class StageOut(BaseModel):
    key: str
    name: str
    category: str


class WorkflowSummary(BaseModel):
    id: uuid.UUID | None
    name: str
    scope: Literal["company", "program", "default"]
    kind: str
    program_id: uuid.UUID | None
    drives: Literal["mine.stage", "joint_stage"]
    stages: list[StageOut]


class ApprovalOut(BaseModel):
    id: uuid.UUID
    move_id: uuid.UUID
    record_id: uuid.UUID
    position: int
    company_id: uuid.UUID
    company_name: str
    role: str
    status: str
    decided_by_user_id: uuid.UUID | None
    decided_by_name: str | None
    decided_at: datetime | None
    comment: str
    can_decide: bool = Field(description="Whether the caller may approve or reject it now")


class MoveOut(BaseModel):
    id: uuid.UUID
    record_id: uuid.UUID
    workflow_id: uuid.UUID
    from_stage: str | None
    to_stage: str
    status: str
    requested_by_user_id: uuid.UUID | None
    requested_by_name: str | None
    requested_by_company_id: uuid.UUID | None
    requested_by_company_name: str | None
    requested_at: datetime
    completed_at: datetime | None
    note: str
    approvals: list[ApprovalOut]


class RecordWorkflowOut(BaseModel):
    workflow: WorkflowSummary
    stage: StageOut | None
    entered_at: datetime | None
    version: int = Field(description="Send it as If-Match when you move (0: never moved)")
    pending_move: MoveOut | None
    allowed_moves: list[str] = Field(description="Stage keys a move may go to from here")
    can_move: bool


class MoveIn(Strict):
    to: str = Field(min_length=1, max_length=60)
    note: Note = ""


class MoveResult(BaseModel):
    move: MoveOut
    state: RecordWorkflowOut


class DecisionIn(Strict):
    comment: Note = ""


class InboxItem(BaseModel):
    approval: ApprovalOut
    record_id: uuid.UUID
    record_kind: str
    record_title: str
    workflow_id: uuid.UUID
    workflow_name: str
    from_stage: str | None
    to_stage: str
    from_stage_name: str | None = None
    to_stage_name: str = ""
    requested_by_name: str | None
    requested_by_company_name: str | None
    requested_at: datetime
    note: str


# -- tasks ----------------------------------------------------------------------------------


class TaskIn(Strict):
    title: TaskTitle
    owner_user_id: uuid.UUID | None = None
    due_date: date | None = None
    shared: bool = Field(
        default=False, description="Visible to every company on the record (else yours only)"
    )


class TaskPatch(Strict):
    title: TaskTitle | None = None
    owner_user_id: uuid.UUID | None = None
    due_date: date | None = None
    done: bool | None = None
    shared: bool | None = None


class TaskOut(BaseModel):
    id: uuid.UUID
    record_id: uuid.UUID
    record_kind: str
    company_id: uuid.UUID
    company_name: str
    mine: bool = Field(description="A task of my company (I may edit it)")
    workflow_id: uuid.UUID | None
    stage_key: str | None
    title: str
    owner_user_id: uuid.UUID | None
    owner_name: str | None
    due_date: date | None
    shared: bool
    done: bool
    done_at: datetime | None
    done_by_user_id: uuid.UUID | None
    version: int
    created_at: datetime


# -- boards ---------------------------------------------------------------------------------


class Money(BaseModel):
    amount: str
    currency: str


class Card(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    customer_name: str
    amount: dict[str, Any] | None = Field(description="My own space's amount, if I may see it")
    close_date: str | None
    stage: str | None
    joint_stage: str | None
    joint_stage_name: str | None = Field(
        default=None, description="The joint stage's label (from the program workflow)"
    )
    participants: list[str]
    state_version: int
    owner_name: str | None = Field(default=None, description="My own space's owner, by name")
    next_step: str | None = Field(
        default=None, description="The next open task on the record I see (earliest due)"
    )
    next_step_due: date | None = None
    next_step_overdue: bool = False


class BoardStage(BaseModel):
    key: str | None
    name: str
    category: str | None
    count: int
    total: Money | None = Field(description="My amounts in my currency; None while hidden")
    unconverted: list[Money] = Field(description="Amounts in currencies I have no rate for")
    cards: list[Card]
    next_cursor: str | None


class BoardOut(BaseModel):
    workflow: WorkflowSummary
    scope: dict[str, Any]
    currency: str
    amounts_hidden: bool
    stages: list[BoardStage]
    unstaged: BoardStage | None
