"""Everything the home page shows, in one object: each section read as the signed-in user
through its own domain's service (the gate decides what is seen), none by a system read.

The number of statements a home request runs does not grow with the number of partners or
records: every section is one or a few set-based queries with a bounded page
(tests/home/test_workspace.py counts them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from coterie.activity.recent import RecentChange, recent_changes
from coterie.auth.principal import Actor
from coterie.cosell.ideas.get_started import nominate_step
from coterie.home import waiting
from coterie.home.pipeline import PartnerHealth, Pipeline, open_pipeline, partner_health
from coterie.models.vocabulary import PartnershipStatus
from coterie.network import get_started, partnerships
from coterie.network.schemas import PartnershipOut

PARTNERS_READ = 200  # active partners read for the health table (the network page lists more)


@dataclass(frozen=True)
class Workspace:
    partners: list[PartnershipOut]
    incoming: list[PartnershipOut]
    outgoing: list[PartnershipOut]
    start: get_started.GetStarted
    pipeline: Pipeline
    health: list[PartnerHealth]
    tasks: waiting.Tasks
    approvals: waiting.Approvals
    invitations: waiting.Invitations
    recent: list[RecentChange]

    @property
    def waiting_count(self) -> int:
        """Everything in "Invitations and nominations waiting" that asks me to decide."""
        return len(self.incoming) + self.invitations.count


def _partnerships(
    session: Session, actor: Actor, status: PartnershipStatus
) -> list[PartnershipOut]:
    found, _ = partnerships.list_for(
        session, actor, status=status, limit=PARTNERS_READ, cursor=None
    )
    out = [partnerships.to_out(p, actor.company_id) for p in found]
    out.sort(key=lambda p: p.responded_at or p.created_at, reverse=True)
    return out


def build(session: Session, actor: Actor, today: date) -> Workspace:
    """The signed-in user's home page as of `today` (their calendar day)."""
    active = _partnerships(session, actor, PartnershipStatus.ACTIVE)
    pending = _partnerships(session, actor, PartnershipStatus.PENDING)
    pipe = open_pipeline(session, actor)
    health = partner_health(
        session,
        actor,
        [(p.partner.id, p.partner.name, p.responded_at) for p in active],
        pipe,
        today,
    )
    return Workspace(
        partners=active,
        incoming=[p for p in pending if p.direction == "incoming"],
        outgoing=[p for p in pending if p.direction == "outgoing"],
        start=get_started.for_actor(
            session,
            actor,
            partnered=bool(active or pending),
            more=[step for step in (nominate_step(session, actor),) if step is not None],
        ),
        pipeline=pipe,
        health=health,
        tasks=waiting.tasks_due(session, actor, today),
        approvals=waiting.approvals_waiting(session, actor),
        invitations=waiting.invitations_waiting(session, actor),
        recent=recent_changes(session, actor),
    )
