"""Record links: leads and opportunities attributed to a campaign, records linked to a solution.

A link joins a record (`from`: a lead, opportunity, plan or campaign) to a hub (`to`: a
campaign or a solution) under a relation, as one company said. A company links only records it
sees and actively takes part in, on both ends, and only to a hub it may edit. Every read is
intersected with the gate on BOTH ends (`visible_links`), so a partner never learns that a record
it cannot see is linked, nor the title of a campaign it is not on.

Attribution: a lead or opportunity is attributed to one campaign per company. Each company makes
its own claim (a partner's campaign may be one I cannot see: a single shared slot would let it
block or reveal mine), and attributing again replaces my company's earlier choice. Solutions take
any number of records. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, Table, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.campaigns.schemas import RecordLinkOut, Relation
from coterie.cosell.planning import common
from coterie.db import new_id, utcnow
from coterie.kit.problems import conflict, forbidden, invalid, not_found
from coterie.models import Record
from coterie.models.links import RecordLink
from coterie.network.companies import names as company_names

CAMPAIGN = "campaign"
SOLUTION = "solution"


@dataclass(frozen=True)
class RelationRule:
    hub_kind: str  # the `to` end
    record_kinds: tuple[str, ...]  # what may be linked to it (the `from` end)
    one_per_record: bool  # each company links a record to at most one hub of this relation


RULES: dict[Relation, RelationRule] = {
    Relation.CAMPAIGN: RelationRule(CAMPAIGN, ("lead", "opportunity"), one_per_record=True),
    Relation.SOLUTION: RelationRule(
        SOLUTION, ("opportunity", "lead", "plan", "campaign"), one_per_record=False
    ),
}
HUB_RELATION = {rule.hub_kind: relation for relation, rule in RULES.items()}


def visible_links(principal: Principal, relation: Relation) -> Select[RecordLink]:
    """Every link of `relation` whose two ends the principal may see (the gate, per kind)."""
    rule = RULES[relation]
    return (
        select(RecordLink)
        .where(
            RecordLink.relation == relation.value,
            RecordLink.to_kind == rule.hub_kind,
            RecordLink.to_record_id.in_(gate.visible_ids(principal, rule.hub_kind)),
            or_(
                *(
                    and_(
                        RecordLink.from_kind == kind,
                        RecordLink.from_record_id.in_(gate.visible_ids(principal, kind)),
                    )
                    for kind in rule.record_kinds
                )
            ),
        )
        .order_by(RecordLink.linked_at, RecordLink.id)
        .execution_options(**rls.as_company(principal.company_id))
    )


def _linkable(
    session: Session, actor: Actor, relation: Relation, hub_id: uuid.UUID, record_id: uuid.UUID
) -> tuple[Record, Record]:
    """The hub (which I may edit and take part in) and the record (which I see and take part
    in), or 404 / 403 / 422."""
    principal = actor.principal
    rule = RULES[relation]
    hub = gate.require_edit(session, principal, rule.hub_kind, hub_id)
    if actor.company_id not in common.active_companies(session, principal, hub.kind, hub.id):
        raise not_found(rule.hub_kind)
    record: Record | None = None
    for kind in rule.record_kinds:
        record = common.seen(session, principal, kind, record_id)
        if record is not None:
            break
    what = " or ".join(k for k in rule.record_kinds)
    if record is None or actor.company_id not in common.active_companies(
        session, principal, record.kind, record.id
    ):
        raise not_found(what)
    if record.id == hub.id:
        raise invalid("body.record_id", f"a {hub.kind} cannot be linked to itself")
    return hub, record


def link(
    session: Session, actor: Actor, relation: Relation, hub_id: uuid.UUID, record_id: uuid.UUID
) -> RecordLink:
    """Link `record_id` to the hub; for an attribution, replace my company's earlier campaign
    of that record. 409 when my company already linked this pair."""
    principal = actor.principal
    hub, record = _linkable(session, actor, relation, hub_id, record_id)
    mine = visible_links(principal, relation).where(
        RecordLink.from_record_id == record.id,
        RecordLink.linked_by_company_id == actor.company_id,
    )
    existing = list(session.scalars(mine))
    if any(r.to_record_id == hub.id for r in existing):
        raise conflict(
            "already-linked", f"That {record.kind} is already linked to this {hub.kind}."
        )
    if RULES[relation].one_per_record and existing:
        session.execute(delete(RecordLink).where(RecordLink.id.in_([r.id for r in existing])))
    row = RecordLink(
        id=new_id(),
        from_record_id=record.id,
        from_kind=record.kind,
        to_record_id=hub.id,
        to_kind=hub.kind,
        relation=relation.value,
        linked_by_company_id=actor.company_id,
        linked_by_user_id=actor.user_id,
        linked_at=utcnow(),
    )
    if not _insert_once(session, row):  # a racing request linked first
        raise conflict(
            "already-linked", f"That {record.kind} was just linked by someone else; reload."
        )
    audit.record(
        session, actor, f"{hub.kind}.record_linked", hub.kind, hub.id, record=str(record.id)
    )
    return row


def _insert_once(session: Session, row: RecordLink) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: whether this statement made the row (the unique pair
    and the one-campaign-per-record index decide between racing requests, not a read first)."""
    table = cast(Table, RecordLink.__table__)
    values = {c.name: getattr(row, c.key) for c in table.columns}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(values).on_conflict_do_nothing().returning(table.c.id)
    return session.execute(statement).first() is not None


def unlink(
    session: Session, actor: Actor, relation: Relation, hub_id: uuid.UUID, record_id: uuid.UUID
) -> None:
    """The company that linked the record, or the hub's owner, takes the link away (the owner
    takes every company's link of the pair that it sees)."""
    principal = actor.principal
    rule = RULES[relation]
    hub = gate.require_edit(session, principal, rule.hub_kind, hub_id)
    rows = list(
        session.scalars(
            visible_links(principal, relation).where(
                RecordLink.to_record_id == hub.id, RecordLink.from_record_id == record_id
            )
        )
    )
    if not rows:
        raise not_found("linked record")
    mine = [r for r in rows if actor.company_id in (r.linked_by_company_id, hub.owner_company_id)]
    if not mine:
        raise forbidden(
            f"Only the company that linked this record, or the {hub.kind}'s owner, unlinks it."
        )
    session.execute(delete(RecordLink).where(RecordLink.id.in_([r.id for r in mine])))
    audit.record(
        session, actor, f"{hub.kind}.record_unlinked", hub.kind, hub.id, record=str(record_id)
    )


def set_campaign(
    session: Session, actor: Actor, kind: str, record_id: uuid.UUID, campaign_id: uuid.UUID | None
) -> None:
    """My company's campaign of a lead or opportunity: attribute it (replacing mine) or clear."""
    principal = actor.principal
    if kind not in RULES[Relation.CAMPAIGN].record_kinds:
        raise not_found(kind)
    gate.check(session, principal, kind, record_id)
    if campaign_id is not None:
        current = _my_campaigns(session, principal, record_id)
        if campaign_id not in current:
            link(session, actor, Relation.CAMPAIGN, campaign_id, record_id)
        return
    for hub_id in _my_campaigns(session, principal, record_id):
        unlink(session, actor, Relation.CAMPAIGN, hub_id, record_id)


def _my_campaigns(session: Session, principal: Principal, record_id: uuid.UUID) -> list[uuid.UUID]:
    statement = visible_links(principal, Relation.CAMPAIGN).where(
        RecordLink.from_record_id == record_id,
        RecordLink.linked_by_company_id == principal.company_id,
    )
    return [r.to_record_id for r in session.scalars(statement)]


def hub_links(
    session: Session, actor: Actor, relation: Relation, hub_id: uuid.UUID
) -> list[RecordLinkOut]:
    """The records linked to a campaign or solution that the caller may see (404: hub hidden)."""
    principal = actor.principal
    hub = gate.check(session, principal, RULES[relation].hub_kind, hub_id)
    rows = list(
        session.scalars(visible_links(principal, relation).where(RecordLink.to_record_id == hub.id))
    )
    return _present(session, actor, rows, hub.owner_company_id, far_end="from")


def record_hubs(
    session: Session, actor: Actor, relation: Relation, kind: str, record_id: uuid.UUID
) -> list[RecordLinkOut]:
    """The campaigns (or solutions) a record is linked to that the caller may see."""
    principal = actor.principal
    gate.check(session, principal, kind, record_id)
    rows = list(
        session.scalars(
            visible_links(principal, relation).where(RecordLink.from_record_id == record_id)
        )
    )
    owners = (
        {
            r.id: r.owner_company_id
            for r in session.scalars(
                gate.visible(principal, RULES[relation].hub_kind).where(
                    Record.id.in_([row.to_record_id for row in rows])
                )
            )
        }
        if rows
        else {}
    )
    return _present(session, actor, rows, None, far_end="to", hub_owners=owners)


def _present(
    session: Session,
    actor: Actor,
    rows: Sequence[RecordLink],
    hub_owner: uuid.UUID | None,
    *,
    far_end: str,
    hub_owners: dict[uuid.UUID, uuid.UUID] | None = None,
) -> list[RecordLinkOut]:
    refs = [
        (r.from_kind, r.from_record_id) if far_end == "from" else (r.to_kind, r.to_record_id)
        for r in rows
    ]
    titles = gate.visible_titles(session, actor.principal, refs)
    names = company_names(session, [r.linked_by_company_id for r in rows])
    found: list[RecordLinkOut] = []
    for row, (kind, rid) in zip(rows, refs, strict=True):
        if rid not in titles:  # re-checked by the gate: never present what it hides
            continue
        owner = hub_owner if hub_owners is None else hub_owners.get(row.to_record_id)
        found.append(
            RecordLinkOut(
                record_id=rid,
                kind=kind,
                title=titles[rid],
                relation=Relation(row.relation),
                linked_by_company_id=row.linked_by_company_id,
                linked_by_company_name=names.get(row.linked_by_company_id, ""),
                linked_at=row.linked_at,
                can_unlink=actor.company_id in (row.linked_by_company_id, owner),
            )
        )
    return found


def carry_to(
    session: Session, actor: Actor, from_record_id: uuid.UUID, to_record_id: uuid.UUID, to_kind: str
) -> list[RecordLink]:
    """Copy the links of a converted lead that the converting company sees (both ends) onto
    the new opportunity, each still in the name of the company that made it."""
    principal = actor.principal
    copied: list[RecordLink] = []
    for relation in Relation:
        if to_kind not in RULES[relation].record_kinds:
            continue
        statement = visible_links(principal, relation).where(
            RecordLink.from_record_id == from_record_id
        )
        for row in session.scalars(statement):
            copy = RecordLink(
                from_record_id=to_record_id,
                from_kind=to_kind,
                to_record_id=row.to_record_id,
                to_kind=row.to_kind,
                relation=row.relation,
                linked_by_company_id=row.linked_by_company_id,
                linked_by_user_id=row.linked_by_user_id,
                linked_at=utcnow(),
            )
            session.add(copy)
            copied.append(copy)
    return copied
