"""The import resource of the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ImportKind = Literal["account", "lead", "opportunity"]
Status = Literal["ready", "queued", "running", "checked", "done", "failed"]
Mode = Literal["dry_run", "import"]
Action = Literal["create", "update", "unchanged", "refused"]


class TargetOut(BaseModel):
    key: str
    label: str
    group: str = Field(description="Record (the shared core) or My fields (my space)")
    required: bool


class ColumnOut(BaseModel):
    index: int
    header: str
    target: str | None = Field(description="The field this column fills; null: ignored")


class CandidateOut(BaseModel):
    record_id: uuid.UUID
    title: str
    customer_name: str
    customer_domain: str | None
    score: float


class RowResultOut(BaseModel):
    row: int = Field(description="The row number as the spreadsheet shows it (header = 1)")
    action: Action
    title: str
    record_id: uuid.UUID | None
    column: str | None = Field(description="The column a refusal is about")
    reason: str
    fields: list[str] = Field(description="Fields created or changed")
    candidates: list[CandidateOut] = Field(description="An ambiguous match's candidates")


class Counts(BaseModel):
    created: int
    updated: int
    unchanged: int
    refused: int


class ImportOut(BaseModel):
    id: uuid.UUID
    kind: ImportKind
    filename: str
    file_format: Literal["csv", "xlsx"]
    status: Status
    mode: Mode = Field(description="What the last run was (or the queued/running one is)")
    progress: int = Field(ge=0, le=100)
    rows_total: int
    rows_done: int
    columns: list[ColumnOut]
    targets: list[TargetOut] = Field(description="What a column may fill, by label")
    preview: list[list[str]] = Field(description="The first rows of the file")
    counts: Counts
    results: list[RowResultOut] = Field(description="Row by row, in file order")
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    refused_rows_url: str | None = Field(description="CSV of the refused rows with reasons")


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str | None] = Field(
        max_length=100, description="Per column, in file order: a target key, or null to ignore"
    )
