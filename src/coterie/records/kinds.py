"""The record kinds served by the generic shared-record core, and their URL plurals."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    ACCOUNT = "account"
    LEAD = "lead"
    OPPORTUNITY = "opportunity"


class Motion(StrEnum):
    CO_SELL = "co-sell"
    RESELL = "resell"
    CROSS_SELL = "cross-sell"
    RENEWAL = "renewal"
    REFERRAL = "referral"


class ParticipantStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    LEFT = "left"
    REMOVED = "removed"


@dataclass(frozen=True)
class KindInfo:
    kind: Kind
    plural: str
    label: str


KINDS: dict[Kind, KindInfo] = {
    Kind.ACCOUNT: KindInfo(Kind.ACCOUNT, "accounts", "Account"),
    Kind.LEAD: KindInfo(Kind.LEAD, "leads", "Lead"),
    Kind.OPPORTUNITY: KindInfo(Kind.OPPORTUNITY, "opportunities", "Opportunity"),
}
