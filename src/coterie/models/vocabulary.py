"""Closed vocabularies of the network: roles, partner types, regions, industries, sizes."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    MEMBER = "member"


class PartnerType(StrEnum):
    ISV = "isv"
    SI = "si"
    RESELLER = "reseller"
    MSP = "msp"
    HARDWARE = "hardware"
    HYPERSCALER = "hyperscaler"


class Region(StrEnum):
    NORTH_AMERICA = "north-america"
    LATIN_AMERICA = "latin-america"
    EMEA = "emea"
    APAC = "apac"


class Industry(StrEnum):
    SOFTWARE = "software"
    CLOUD = "cloud"
    IT_SERVICES = "it-services"
    HARDWARE = "hardware"
    FINANCIAL_SERVICES = "financial-services"
    HEALTHCARE = "healthcare"
    MANUFACTURING = "manufacturing"
    RETAIL = "retail"
    PUBLIC_SECTOR = "public-sector"
    TELECOM = "telecom"
    ENERGY = "energy"
    EDUCATION = "education"
    MEDIA = "media"


class CompanySize(StrEnum):
    S1_50 = "1-50"
    S51_200 = "51-200"
    S201_1000 = "201-1000"
    S1001_5000 = "1001-5000"
    S5001_PLUS = "5001+"


class PartnershipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    REVOKED = "revoked"


class TokenKind(StrEnum):
    PERSONAL = "personal"  # created by the user, named, shown once
    LOGIN = "login"  # issued by POST /auth/token and signup
    SESSION = "session"  # web session cookie
