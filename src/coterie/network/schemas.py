"""Pydantic shapes of the network API: what clients send and what they get back."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, EmailStr, Field, StringConstraints

from coterie.auth.preferences import Preferences
from coterie.kit.money import clean_currency
from coterie.kit.schemas import StrictModel
from coterie.models.vocabulary import CompanySize, Industry, PartnerType, Region, Role

_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

_WEBSITE = re.compile(r"^https?://[^\s/?#@]+\.[^\s/?#@]+(?:[/?#]\S*)?$", re.IGNORECASE)


def refuse_control_characters(value: str) -> str:
    """Names end up in e-mail subjects, where a line break is an error (or an injection)."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters such as line breaks")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(refuse_control_characters),
]


class Strict(StrictModel):
    """A request body: no unknown fields, no NUL characters in text."""


def clean_domain(value: str) -> str:
    domain = value.strip().lower().removeprefix("https://").removeprefix("http://")
    domain = domain.removeprefix("www.").rstrip("/")
    if not _DOMAIN.match(domain):
        raise ValueError("must be a domain name such as example.com")
    return domain


def clean_country(value: str) -> str:
    # isascii: "ß".upper() is "SS", which would otherwise pass as South Sudan
    if not value.isascii() or pycountry.countries.get(alpha_2=value.upper()) is None:
        raise ValueError("must be an ISO 3166 two-letter country code, e.g. DE")
    return value.upper()


def clean_website(value: str) -> str | None:
    """An http(s) address, so a profile link can never run script (`javascript:`); "" clears."""
    if not value:
        return None
    if not _WEBSITE.match(value):
        raise ValueError("must be an http:// or https:// address, e.g. https://example.com")
    return value


Domain = Annotated[str, AfterValidator(clean_domain)]
Country = Annotated[str, AfterValidator(clean_country)]
Currency = Annotated[str, AfterValidator(clean_currency)]
Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(clean_website)
]


class CompanyProfileFields(Strict):
    industry: Industry | None = None
    regions: list[Region] = Field(default_factory=list, max_length=len(Region))
    hq_country: Country | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    size: CompanySize | None = None
    partner_types: list[PartnerType] = Field(default_factory=list, max_length=len(PartnerType))
    currency: Currency = "USD"
    website: Website | None = None


class CompanyIn(CompanyProfileFields):
    name: Name
    domain: Domain


class CompanyPatch(Strict):
    name: Name | None = None
    industry: Industry | None = None
    regions: list[Region] | None = Field(default=None, max_length=len(Region))
    hq_country: Country | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    size: CompanySize | None = None
    partner_types: list[PartnerType] | None = Field(default=None, max_length=len(PartnerType))
    currency: Currency | None = None
    website: Website | None = None


class PartnershipSummary(BaseModel):
    id: uuid.UUID
    status: str
    direction: Literal["outgoing", "incoming"]


class CompanyOut(BaseModel):
    id: uuid.UUID
    name: str
    domain: str
    industry: str | None
    regions: list[str]
    hq_country: str | None
    description: str
    size: str | None
    partner_types: list[str]
    currency: str
    website: str | None
    partnership: PartnershipSummary | None = None


class UserIn(Strict):
    name: Name
    email: EmailStr
    password: Annotated[str, StringConstraints(max_length=256)]


class SignupIn(Strict):
    company: CompanyIn
    user: UserIn


class SignupOut(BaseModel):
    token: str
    company_id: uuid.UUID
    user_id: uuid.UUID


class UserOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    title: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserPatch(Strict):
    role: Role | None = None
    is_active: bool | None = None


class MeOut(BaseModel):
    user: UserOut
    company: CompanyOut
    preferences: Preferences


class MePatch(Strict):
    name: Name | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class InvitationIn(Strict):
    email: EmailStr
    role: Role = Role.MEMBER


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    status: Literal["pending", "accepted", "revoked", "expired"]
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


class InvitationPreview(BaseModel):
    company_name: str
    email: str
    role: Role
    expires_at: datetime


class InvitationAcceptIn(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    name: Name
    password: Annotated[str, StringConstraints(max_length=256)]


class CompanyRef(BaseModel):
    id: uuid.UUID
    name: str
    domain: str


class PartnershipIn(Strict):
    company_id: uuid.UUID
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class PartnershipOut(BaseModel):
    id: uuid.UUID
    status: str
    direction: Literal["outgoing", "incoming"]
    partner: CompanyRef
    requester: CompanyRef
    recipient: CompanyRef
    message: str
    created_at: datetime
    responded_at: datetime | None
    ended_at: datetime | None
