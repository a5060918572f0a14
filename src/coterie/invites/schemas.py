"""What the "Invite by e-mail" forms send, and how a pending invitation is shown."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, EmailStr, StringConstraints

from coterie.network.schemas import Name, Strict, refuse_control_characters

OptionalName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=200),
    AfterValidator(refuse_control_characters),
]
Message = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class EmailInviteIn(Strict):
    name: Name
    email: EmailStr
    company_name: OptionalName = ""
    message: Message = ""


class EmailInviteOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    company_name: str
    target: str  # partnership | record
    kind: str | None
    record_id: uuid.UUID | None
    record_title: str | None  # None: a record the viewer no longer sees
    invited_by: str | None
    status: str
    created_at: datetime
    expires_at: datetime
