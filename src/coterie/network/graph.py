"""My collaboration graph: my company and my partners as nodes, shared records as weighted edges.

An edge between two companies counts the records *the principal can see* (`gate.visible_ids`,
kind by kind) on which both companies are active participants. Partner-to-partner edges come
from the same visible records only, so a record between two of my partners that my company
is not on adds nothing: the graph never tells a company about a record it cannot see.

Nodes are my company and the companies I have an active or pending partnership with (pending
ones are drawn dashed); companies that are on my records but no longer my partners do not
appear as nodes, and edges to them are left out.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.models import Company, Participant, Partnership
from coterie.models.vocabulary import PartnershipStatus

MAX_PARTNERS = 500
"""Partners drawn at most (newest partnerships first); beyond that the graph says it is cut."""

NodeRole = Literal["me", "partner", "pending"]


class GraphNode(BaseModel):
    id: uuid.UUID
    name: str
    domain: str
    role: NodeRole
    shared_with_me: int
    """Records I can see on which this company and mine are both active (0 for my own node)."""


class GraphEdge(BaseModel):
    source: uuid.UUID
    target: uuid.UUID
    weight: int
    """Shared records I can see with both companies active on them."""
    by_kind: dict[str, int]
    """The same count per record kind ("opportunity": 3, "plan": 1, ...)."""


class NetworkGraph(BaseModel):
    me: uuid.UUID
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool
    """True when I have more than `MAX_PARTNERS` partners and only the newest are drawn."""


def _partner_nodes(
    session: Session, company_id: uuid.UUID
) -> tuple[dict[uuid.UUID, tuple[Company, NodeRole]], bool]:
    """My active and pending partners (newest first, at most `MAX_PARTNERS`)."""
    statement = (
        select(Partnership)
        .where(
            or_(
                Partnership.requester_company_id == company_id,
                Partnership.recipient_company_id == company_id,
            ),
            Partnership.status.in_(
                [PartnershipStatus.ACTIVE.value, PartnershipStatus.PENDING.value]
            ),
        )
        .order_by(Partnership.created_at.desc(), Partnership.id)
        .limit(MAX_PARTNERS + 1)
    )
    found = list(session.scalars(statement))
    partners: dict[uuid.UUID, tuple[Company, NodeRole]] = {}
    for p in found[:MAX_PARTNERS]:
        role: NodeRole = "partner" if p.status == PartnershipStatus.ACTIVE.value else "pending"
        other = p.other_company(company_id)
        partners[other.id] = (other, role)
    return partners, len(found) > MAX_PARTNERS


def _pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if a.hex < b.hex else (b, a)


def shared_counts(
    session: Session, principal: Principal, companies: set[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, int]]:
    """For each pair of `companies` (ordered by hex id): kind -> number of records the principal
    can see with both companies active on them. Pairs with no such record are absent."""
    if len(companies) < 2:
        return {}
    ids = sorted(companies, key=lambda c: c.hex)
    first = aliased(Participant)
    second = aliased(Participant)
    active = ParticipantStatus.ACTIVE.value
    counts: dict[tuple[uuid.UUID, uuid.UUID], dict[str, int]] = {}
    for kind in Kind:
        statement = (
            select(first.company_id, second.company_id, func.count())
            .select_from(first)
            .join(
                second,
                and_(second.record_id == first.record_id, second.company_id != first.company_id),
            )
            .where(
                first.record_id.in_(gate.visible_ids(principal, kind.value)),
                first.status == active,
                second.status == active,
                first.company_id.in_(ids),
                second.company_id.in_(ids),
            )
            .group_by(first.company_id, second.company_id)
            .execution_options(**rls.as_company(principal.company_id))
        )
        for a, b, n in session.execute(statement):
            # each pair comes back in both orders with the same count: keep one
            if a.hex < b.hex:
                counts.setdefault(_pair(a, b), {})[kind.value] = int(n)
    return counts


def build(session: Session, principal: Principal, me: Company) -> NetworkGraph:
    """The graph as `principal` (a user of `me`) may see it."""
    partners, truncated = _partner_nodes(session, me.id)
    counts = shared_counts(session, principal, {me.id, *partners})
    order = {me.id: ""} | {c.id: c.name.lower() for c, _ in partners.values()}
    edges = []
    for (a, b), by_kind in counts.items():
        # my company first, else by name: the table reads "me - partner", "A - B"
        source, target = sorted((a, b), key=lambda c: (order[c], c.hex))
        weight = sum(by_kind.values())
        edges.append(GraphEdge(source=source, target=target, weight=weight, by_kind=by_kind))
    with_me = {
        (e.target if e.source == me.id else e.source): e.weight
        for e in edges
        if me.id in (e.source, e.target)
    }
    nodes = [GraphNode(id=me.id, name=me.name, domain=me.domain, role="me", shared_with_me=0)]
    nodes += sorted(
        (
            GraphNode(
                id=company.id,
                name=company.name,
                domain=company.domain,
                role=role,
                shared_with_me=with_me.get(company.id, 0),
            )
            for company, role in partners.values()
        ),
        key=lambda n: (-n.shared_with_me, n.name.lower()),
    )
    edges.sort(key=lambda e: (-e.weight, order[e.source], order[e.target]))
    return NetworkGraph(me=me.id, nodes=nodes, edges=edges, truncated=truncated)


_NOUNS = {
    Kind.ACCOUNT: ("account", "accounts"),
    Kind.LEAD: ("lead", "leads"),
    Kind.OPPORTUNITY: ("opportunity", "opportunities"),
    Kind.SOLUTION: ("joint solution", "joint solutions"),
    Kind.CAMPAIGN: ("campaign", "campaigns"),
    Kind.PROGRAM: ("partner program", "partner programs"),
    Kind.PLAN: ("joint sales plan", "joint sales plans"),
}


def kind_labels(by_kind: dict[str, int]) -> str:
    """What an edge is made of, in words: "2 opportunities, 1 joint sales plan"."""
    parts = []
    for kind in Kind:
        n = by_kind.get(kind.value, 0)
        if n:
            singular, plural = _NOUNS[kind]
            parts.append(f"{n} {singular if n == 1 else plural}")
    return ", ".join(parts)
