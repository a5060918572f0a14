"""The export resource of the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["queued", "running", "done", "failed", "expired"]


class RequestedBy(BaseModel):
    user_id: uuid.UUID | None
    name: str = Field(description="'A former user' once the account is gone")


class CompanyExportOut(BaseModel):
    id: uuid.UUID
    status: Status
    progress: int = Field(ge=0, le=100, description="Percent done (100 once done)")
    requested_by: RequestedBy
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="When the download stops working (done)")
    size_bytes: int | None
    counts: dict[str, int] = Field(description="Items per collection (done)")
    error: str | None = Field(description="Why it failed (failed)")
    download_url: str | None = Field(
        description="Signed link, with a bearer token of an admin of the company (done, until "
        "expires_at)"
    )
