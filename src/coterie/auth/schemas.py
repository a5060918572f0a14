"""Pydantic shapes of the authentication API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from coterie.kit.schemas import StrictModel

Secret = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Strict(StrictModel):
    """A request body: no unknown fields, no NUL characters in text."""


class TokenRequest(Strict):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Secret


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_at: datetime | None


class PersonalTokenIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class PersonalTokenOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class PersonalTokenCreated(PersonalTokenOut):
    token: str = Field(description="The secret. It is shown only in this response.")


class PasswordResetRequest(Strict):
    email: EmailStr


class PasswordResetConfirm(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    password: Secret


class PasswordChange(Strict):
    current_password: Secret
    new_password: Secret
