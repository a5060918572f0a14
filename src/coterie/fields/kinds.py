"""The record kinds served by the generic shared-record core, and their URL plurals.

Programs and joint sales plans are shared records too: their host/owner company invites the
partners, each company keeps a space (its owner on the plan, its own notes), and every read
goes through the same gate. `coterie.cosell` adds what is particular to them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    ACCOUNT = "account"
    LEAD = "lead"
    OPPORTUNITY = "opportunity"
    SOLUTION = "solution"
    CAMPAIGN = "campaign"
    PROGRAM = "program"
    PLAN = "plan"


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
    DECLINED = "declined"  # the invited company said no (it never saw more than the invitation)


class ProposalStatus(StrEnum):
    """A participant's proposal that another company join (the owner decides)."""

    PENDING = "pending"
    ACCEPTED = "accepted"  # the owner (or a delegate) invited the company
    DECLINED = "declined"  # the owner said no
    WITHDRAWN = "withdrawn"  # the proposer took it back, or its auto-share rule stopped matching


MOTION_KINDS = frozenset({Kind.LEAD.value, Kind.OPPORTUNITY.value})
"""Kinds that carry a sales motion (co-sell, resell, ...); on other kinds it is refused."""


@dataclass(frozen=True)
class KindInfo:
    kind: Kind
    plural: str
    label: str


KINDS: dict[Kind, KindInfo] = {
    Kind.ACCOUNT: KindInfo(Kind.ACCOUNT, "accounts", "Account"),
    Kind.LEAD: KindInfo(Kind.LEAD, "leads", "Lead"),
    Kind.OPPORTUNITY: KindInfo(Kind.OPPORTUNITY, "opportunities", "Opportunity"),
    Kind.SOLUTION: KindInfo(Kind.SOLUTION, "solutions", "Joint solution"),
    Kind.CAMPAIGN: KindInfo(Kind.CAMPAIGN, "campaigns", "Campaign"),
    Kind.PROGRAM: KindInfo(Kind.PROGRAM, "programs", "Partner program"),
    Kind.PLAN: KindInfo(Kind.PLAN, "plans", "Joint sales plan"),
}
