"""Plan links: the leads and opportunities of a joint sales plan (role `pipeline`) and its
nominated target accounts (role `target_account`).

A link says nothing about who may see the linked record. A company links only records it sees
and actively takes part in; every read of links is intersected with the gate (`visible_ids` of
the linked record's kind), so a partner never learns that a record it cannot see is on the plan.
Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.planning import common
from coterie.cosell.schemas import LinkOut, Role
from coterie.db import utcnow
from coterie.kit.problems import conflict, forbidden, not_found
from coterie.models import Record
from coterie.models.cosell import PlanRecord
from coterie.network.companies import names as company_names
from coterie.records import service as records

PLAN = "plan"
KINDS_BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.PIPELINE: ("opportunity", "lead"),
    Role.TARGET_ACCOUNT: ("account",),
}
LINKABLE_KINDS = ("opportunity", "lead", "account")


def visible_links(
    principal: Principal, plan_id: uuid.UUID, kinds: Iterable[str] = LINKABLE_KINDS
) -> Select[PlanRecord]:
    """The plan's links whose linked record the principal may see (the gate, per kind)."""
    return (
        select(PlanRecord)
        .where(
            PlanRecord.plan_id == plan_id,
            or_(
                *(
                    and_(
                        PlanRecord.kind == kind,
                        PlanRecord.record_id.in_(gate.visible_ids(principal, kind)),
                    )
                    for kind in kinds
                )
            ),
        )
        .order_by(PlanRecord.linked_at, PlanRecord.record_id)
        .execution_options(**rls.as_company(principal.company_id))
    )


def link(
    session: Session, actor: Actor, plan_id: uuid.UUID, record_id: uuid.UUID, role: Role
) -> PlanRecord:
    principal = actor.principal
    gate.require_edit(session, principal, PLAN, plan_id)  # 404 unless my company is on the plan
    record: Record | None = None
    for kind in KINDS_BY_ROLE[role]:
        record = common.seen(session, principal, kind, record_id)
        if record is not None:
            break
    if record is None or actor.company_id not in common.active_companies(
        session, principal, record.kind, record.id
    ):
        what = "account" if role == Role.TARGET_ACCOUNT else "lead or opportunity"
        raise not_found(what)
    existing = session.scalars(
        visible_links(principal, plan_id, [record.kind]).where(PlanRecord.record_id == record.id)
    ).first()
    if existing is not None:
        raise conflict("already-linked", f"That {record.kind} is already on this plan.")
    row = PlanRecord(
        plan_id=plan_id,
        record_id=record.id,
        kind=record.kind,
        role=role.value,
        linked_by_company_id=actor.company_id,
        linked_by_user_id=actor.user_id,
        linked_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "plan.record_linked", PLAN, plan_id, record=str(record.id), role=role.value
    )
    return row


def unlink(session: Session, actor: Actor, plan_id: uuid.UUID, record_id: uuid.UUID) -> None:
    """The company that linked the record, or the plan's owner, takes it off the plan."""
    principal = actor.principal
    plan = gate.require_edit(session, principal, PLAN, plan_id)
    row = session.scalars(
        visible_links(principal, plan_id).where(PlanRecord.record_id == record_id)
    ).first()
    if row is None:
        raise not_found("linked record")
    if actor.company_id not in (row.linked_by_company_id, plan.owner_company_id):
        raise forbidden(
            "Only the company that linked this record, or the plan's owner, unlinks it."
        )
    session.execute(
        delete(PlanRecord).where(PlanRecord.plan_id == plan_id, PlanRecord.record_id == record_id)
    )
    audit.record(session, actor, "plan.record_unlinked", PLAN, plan_id, record=str(record_id))


def list_links(
    session: Session,
    actor: Actor,
    plan_id: uuid.UUID,
    *,
    kind: str | None = None,
    role: Role | None = None,
) -> list[LinkOut]:
    """The plan's links the caller may see, each with its record as the caller sees it."""
    principal = actor.principal
    plan = gate.check(session, principal, PLAN, plan_id)
    kinds = [k for k in LINKABLE_KINDS if kind is None or k == kind]
    statement = visible_links(principal, plan_id, kinds)
    if role is not None:
        statement = statement.where(PlanRecord.role == role.value)
    rows = list(session.scalars(statement)) if kinds else []
    presented = {}
    for k in kinds:
        ids = [r.record_id for r in rows if r.kind == k]
        if not ids:
            continue
        found = list(session.scalars(gate.visible(principal, k).where(Record.id.in_(ids))))
        for out in records.present(session, actor, principal, k, found):
            presented[out.id] = out
    names = company_names(session, [r.linked_by_company_id for r in rows])
    return [
        LinkOut(
            record_id=r.record_id,
            kind=r.kind,
            role=r.role,
            linked_by_company_id=r.linked_by_company_id,
            linked_by_company_name=names.get(r.linked_by_company_id)
            if r.linked_by_company_id
            else None,
            linked_at=r.linked_at,
            can_unlink=actor.company_id in (r.linked_by_company_id, plan.owner_company_id),
            record=presented[r.record_id],
        )
        for r in rows
        if r.record_id in presented
    ]
