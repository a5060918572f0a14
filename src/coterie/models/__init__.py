"""ORM models, one module per aggregate; importing this package registers every table."""

from coterie.models import (  # noqa: F401 (register tables)
    activity,
    attachment,
    cosell,
    funds,
    ideas,
    links,
    outbox,
    pipeline,
    report,
    sync,
    workflow,
)
from coterie.models.audit import AuditEvent
from coterie.models.auth import AuthToken, LoginAttempt
from coterie.models.company import Company, CompanyPartnerType, CompanyRegion
from coterie.models.company_export import CompanyExport
from coterie.models.email_invite import EmailInvite
from coterie.models.imports import SpreadsheetImport
from coterie.models.invitation import Invitation
from coterie.models.partnership import Partnership, pair_key
from coterie.models.record import (
    FieldShare,
    Participant,
    Proposal,
    Record,
    RecordAccess,
    Space,
    Template,
)
from coterie.models.rule import AccessRule, Team, TeamMember
from coterie.models.search import SearchEntry
from coterie.models.user import User

__all__ = [
    "AccessRule",
    "AuditEvent",
    "AuthToken",
    "Company",
    "CompanyExport",
    "CompanyPartnerType",
    "CompanyRegion",
    "EmailInvite",
    "FieldShare",
    "Invitation",
    "LoginAttempt",
    "Participant",
    "Partnership",
    "Proposal",
    "Record",
    "RecordAccess",
    "SearchEntry",
    "Space",
    "SpreadsheetImport",
    "Team",
    "TeamMember",
    "Template",
    "User",
    "pair_key",
]
