"""Activity in and out of the API: comments, the timeline, notifications, the mention picker."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from coterie.attachments.schemas import AttachmentRef

MAX_BODY = 20_000
Audience = Literal["participants", "company"]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body = Field(
        description="Markdown. Mention people as @[Name](user-id) (the picker's form) or "
        "@their@email.example."
    )
    audience: Audience = Field(
        default="participants",
        description='"participants": every company on the record; "company": an internal note '
        "for my company only.",
    )


class CommentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body


class PersonRef(BaseModel):
    user_id: uuid.UUID | None
    name: str
    company_id: uuid.UUID | None
    company_name: str


class MentionOut(BaseModel):
    user_id: uuid.UUID
    name: str


class CommentOut(BaseModel):
    id: uuid.UUID
    record_id: uuid.UUID
    kind: str
    audience: Audience
    author: PersonRef
    body: str
    body_html: str = Field(description="Rendered and sanitized HTML")
    mentions: list[MentionOut]
    created_at: datetime
    edited_at: datetime | None
    version: int
    is_mine: bool
    attachments: list[AttachmentRef] = Field(
        default_factory=list, description="Files attached to the comment"
    )


class ChangeOut(BaseModel):
    scope: Literal["core", "space", "participant"]
    company_id: uuid.UUID | None = Field(description="Whose space (scope space) or which company")
    company_name: str
    field: str
    label: str
    old: Any
    new: Any
    old_display: str
    new_display: str


class MoveOut(BaseModel):
    workflow_name: str
    from_stage: str | None
    to_stage: str
    status: str


class TimelineItem(BaseModel):
    id: uuid.UUID
    type: Literal["change", "comment", "move"]
    at: datetime
    actor: PersonRef | None
    text: str = Field(description="One line saying what happened, as the page shows it")
    change: ChangeOut | None = None
    comment: CommentOut | None = None
    move: MoveOut | None = None


class MentionCandidate(BaseModel):
    user_id: uuid.UUID
    name: str
    company_id: uuid.UUID
    company_name: str


class NotificationOut(BaseModel):
    id: uuid.UUID
    event: str
    text: str
    record_id: uuid.UUID | None
    kind: str | None
    record_title: str | None
    url: str | None
    actor: PersonRef | None
    excerpt: str | None = Field(description="The comment's text while you may still read it")
    subject_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(BaseModel):
    unread: int
