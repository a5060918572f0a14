"""What the attachment routes answer: an attachment's metadata, never its content."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class AttachmentRef(BaseModel):
    """A file as another resource lists it (a comment's files): enough to show and fetch it."""

    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    download_url: str


class Uploader(BaseModel):
    user_id: uuid.UUID | None = Field(description="None when the user was since removed")
    name: str
    company_id: uuid.UUID
    company_name: str


class AttachmentOut(BaseModel):
    id: uuid.UUID
    subject_kind: str = Field(description='"opportunity", "comment", "fund_claim"...')
    subject_id: uuid.UUID
    record_kind: str
    record_id: uuid.UUID = Field(description="The shared record the subject hangs on")
    filename: str = Field(description="The uploader's file name, cleaned")
    content_type: str = Field(description="Decided by the content, not by the uploader")
    size: int = Field(description="Bytes")
    sha256: str
    uploaded_by: Uploader
    created_at: datetime
    is_mine: bool = Field(description="Uploaded by a user of my company")
    can_delete: bool = Field(description="I may delete it (uploader's company or record owner)")
    download_url: str
