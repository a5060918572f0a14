"""The demo's ideas: three proposals to the Nimbus program, told through the ideas services as
the demo users. A Relay field seller's joint solution waits for the host's triage with two
endorsements; a Meridian campaign was declined with a reason; a Bastion solution was accepted
into the program's joint workflow (a solution in Business Review, its partners invited)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.cosell.ideas import endorsements, proposals, triage
from coterie.cosell.ideas.schemas import IdeaIn, IdeaKind

I_MIGRATION = "Credit union CRM migration factory"
I_WEBINARS = "Modern CRM for regional banks: a joint webinar series"
I_ZERO_TRUST = "Zero-trust landing zones for healthcare"


@dataclass(frozen=True)
class Cast:
    """Who does what (e-mail addresses of demo users)."""

    host: str  # the program host's manager, who triages
    seller: str  # a field seller (member) of a partner
    seller_manager: str  # the seller's manager
    partner: str  # a manager of another partner
    third: str  # a manager of a third partner


def add(
    session: Session,
    actor: Callable[[str], Actor],
    company: Callable[[str], uuid.UUID],
    at: Callable[[float], None],
    program_id: uuid.UUID,
    cast: Cast,
) -> dict[str, uuid.UUID]:
    """Propose, endorse and triage the three ideas; the records accepted ideas became, by
    title."""

    def propose(who: str, kind: IdeaKind, title: str, problem: str, customers: str,
                partners: list[str], pipeline: str) -> uuid.UUID:  # fmt: skip
        data = IdeaIn(
            kind=kind,
            title=title,
            problem=problem,
            target_customers=customers,
            partner_company_ids=[company(p) for p in partners],
            expected_pipeline=Decimal(pipeline),
        )
        return proposals.propose(session, actor(who), program_id, data).id

    at(12)
    migration = propose(
        cast.seller,
        IdeaKind.SOLUTION,
        I_MIGRATION,
        "Credit unions run 15-year-old CRMs on premises; every migration is a one-off project "
        "and member data quality stalls the go-live.",
        "Credit unions with 50k to 500k members in North America",
        [cast.partner],
        "1800000",
    )
    at(11)
    endorsements.endorse(session, actor(cast.seller_manager), migration)
    at(10)
    endorsements.endorse(session, actor(cast.partner), migration)

    at(20)
    webinars = propose(
        cast.partner,
        IdeaKind.CAMPAIGN,
        I_WEBINARS,
        "Regional banks do not know that Relay, Meridian and Nimbus deliver CRM together.",
        "CIOs and heads of sales of regional banks",
        [cast.seller],
        "600000",
    )
    at(17)
    triage.decline(
        session,
        actor(cast.host),
        webinars,
        "Nimbus runs the Q3 banking webinar series already: join it with a session instead.",
    )

    at(26)
    zero_trust = propose(
        cast.third,
        IdeaKind.SOLUTION,
        I_ZERO_TRUST,
        "Hospitals moving to the cloud must prove zero-trust controls before any patient data "
        "moves.",
        "Hospital networks and health insurers in the US",
        [cast.partner],
        "2400000",
    )
    at(25)
    endorsements.endorse(session, actor(cast.partner), zero_trust)
    at(22)
    accepted = triage.accept(session, actor(cast.host), zero_trust)
    if accepted.record_id is None:  # pragma: no cover (accepting makes the record)
        raise RuntimeError("the accepted idea made no record")
    return {I_ZERO_TRUST: accepted.record_id}
