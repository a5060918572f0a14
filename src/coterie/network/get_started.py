"""The "Get started" steps on the home page of a new company, computed live.

Each step is done when the company has done it, judged only from what the signed-in user may
see: colleagues and partnerships are the company's own rows; plans, opportunities and lead
nominations are read through the gate (`gate.visible_ids`), so a record the user cannot see
never ticks a step. A user may hide the panel; the choice lives in their preferences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth import preferences
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.models import Participant
from coterie.models.pipeline import LeadDecision
from coterie.network import members

PANEL = "get-started"


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    hint: str
    href: str
    action: str
    done: bool


@dataclass(frozen=True)
class GetStarted:
    steps: list[Step]
    dismissed: bool

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.done)

    @property
    def complete(self) -> bool:
        return self.done == len(self.steps)

    @property
    def shown(self) -> bool:
        return not self.complete and not self.dismissed


def _colleagues_invited(session: Session, actor: Actor) -> bool:
    users, _ = members.list_users(session, actor, limit=2, cursor=None)
    if len(users) > 1:
        return True
    invitations, _ = members.list_invitations(session, actor, limit=1, cursor=None)
    return bool(invitations)


def _program_created(session: Session, principal: Principal) -> bool:
    return session.scalar(gate.visible_ids(principal, Kind.PROGRAM.value).limit(1)) is not None


def _plan_created(session: Session, principal: Principal) -> bool:
    return session.scalar(gate.visible_ids(principal, Kind.PLAN.value).limit(1)) is not None


def _opportunity_shared(session: Session, principal: Principal) -> bool:
    statement = (
        select(Participant.record_id)
        .where(
            Participant.record_id.in_(gate.visible_ids(principal, Kind.OPPORTUNITY.value)),
            Participant.company_id != principal.company_id,
            Participant.status.in_(
                [ParticipantStatus.ACTIVE.value, ParticipantStatus.INVITED.value]
            ),
        )
        .limit(1)
        .execution_options(**rls.as_company(principal.company_id))
    )
    return session.scalar(statement) is not None


def _lead_nominated(session: Session, principal: Principal) -> bool:
    statement = (
        select(LeadDecision.id)
        .where(
            LeadDecision.record_id.in_(gate.visible_ids(principal, Kind.LEAD.value)),
            LeadDecision.nominated_by_company_id == principal.company_id,
        )
        .limit(1)
        .execution_options(**rls.as_company(principal.company_id))
    )
    return session.scalar(statement) is not None


def for_actor(
    session: Session, actor: Actor, *, partnered: bool, more: Sequence[Step] = ()
) -> GetStarted:
    """The steps as the actor's company stands; `partnered`: it has an active or pending
    partnership (the caller has read them already); `more`: steps of the domains above this
    one, computed by the caller (e.g. nominating a solution to a program)."""
    principal = actor.principal
    steps = [
        Step(
            "colleagues",
            "Invite colleagues",
            "Bring in the partner managers and sellers you work with.",
            "/settings/users#invite",
            "Invite colleagues",
            _colleagues_invited(session, actor),
        ),
        Step(
            "partner",
            "Invite a partner",
            "Find partners in the directory and invite them to connect with you.",
            "/directory",
            "Browse the directory",
            partnered,
        ),
        Step(
            "program",
            "Start a partner program",
            "Set up the program your partners join: its type, region and dates.",
            "/programs#new-record",
            "New program",
            _program_created(session, principal),
        ),
        Step(
            "plan",
            "Create a joint sales plan",
            "Agree goals, target accounts and pipeline with a partner.",
            "/plans#new-record",
            "New plan",
            _plan_created(session, principal),
        ),
        Step(
            "opportunity",
            "Share an opportunity",
            "Invite a partner onto a deal so you co-sell it from one shared record.",
            "/opportunities",
            "Open opportunities",
            _opportunity_shared(session, principal),
        ),
        Step(
            "lead",
            "Nominate a lead",
            "Pass a lead to a partner and follow what they decide.",
            "/leads",
            "Open leads",
            _lead_nominated(session, principal),
        ),
        *more,
    ]
    dismissed = preferences.is_dismissed(actor.user.preferences, PANEL)
    return GetStarted(steps=steps, dismissed=dismissed)
