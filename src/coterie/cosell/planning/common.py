"""Small pieces the co-selling use cases share: company and user names, participants and owners
of a record as the principal sees them (through the gate), stage categories, audit rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.cosell.schemas import Owner
from coterie.fields import templates
from coterie.fields.kinds import ParticipantStatus
from coterie.fields.policy import OwnFieldPolicy
from coterie.kit.problems import Problem
from coterie.models import Record, User
from coterie.network.companies import names as company_names
from coterie.workflows import stages
from coterie.workflows.stages import StageCategory


def seen(session: Session, principal: Principal, kind: str, record_id: uuid.UUID) -> Record | None:
    """The record if the principal may see it, else None (for optional references)."""
    try:
        return gate.check(session, principal, kind, record_id)
    except Problem as problem:
        if problem.status == 404:
            return None
        raise


def active_companies(
    session: Session, principal: Principal, kind: str, record_id: uuid.UUID
) -> set[uuid.UUID]:
    """The companies actively on a record the principal may see (re-checked by the gate)."""
    return {
        p.company_id
        for p in gate.participants(session, principal, kind, [record_id])
        if p.status == ParticipantStatus.ACTIVE.value
    }


def own_policy(session: Session, principal: Principal, kind: str) -> OwnFieldPolicy:
    template = templates.load(session, principal.company_id, kind)
    return template.own_policy(principal.hide_private)


def owners(session: Session, principal: Principal, kind: str, record_id: uuid.UUID) -> list[Owner]:
    """Each active participant's owner of the record (its space's `owner` field), where the
    principal may see that field; a company whose owner is hidden shows with no user."""
    spaces = gate.spaces(
        session, principal, kind, [record_id], own_policy(session, principal, kind)
    )
    wanted: dict[uuid.UUID, uuid.UUID] = {}
    for space in spaces:
        raw = space.standard.get("owner")
        if isinstance(raw, str):
            wanted[space.company_id] = uuid.UUID(raw)
    names = user_names(session, wanted.items())
    companies = company_names(session, [s.company_id for s in spaces])
    result = [
        Owner(
            company_id=s.company_id,
            company_name=companies.get(s.company_id, ""),
            user_id=wanted.get(s.company_id),
            user_name=names.get(wanted[s.company_id]) if s.company_id in wanted else None,
        )
        for s in spaces
    ]
    return sorted(result, key=lambda o: (o.company_id != principal.company_id, o.company_name))


def user_names(
    session: Session, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
) -> dict[uuid.UUID, str]:
    """Names of users given as (company id, user id): a user shows only as a member of the
    company it was named for (values are checked on write; this keeps it so on read)."""
    by_company: dict[uuid.UUID, set[uuid.UUID]] = {}
    for company_id, user_id in pairs:
        by_company.setdefault(company_id, set()).add(user_id)
    names: dict[uuid.UUID, str] = {}
    for company_id, ids in by_company.items():
        rows = session.execute(
            select(User.id, User.name).where(User.company_id == company_id, User.id.in_(ids))
        )
        names.update({row[0]: row[1] for row in rows})
    return names


def stage_category(
    session: Session, company_id: uuid.UUID, kind: str, stage: str | None
) -> StageCategory:
    """Where `stage` stands in `company_id`'s pipeline for `kind` (open, won, lost): the
    company's own workflow stages, else the default pipeline."""
    return stages.stage_category(session, company_id, kind, stage)


def in_period(day: date | None, start: date | None, end: date | None) -> bool:
    if day is None:
        return False
    return (start is None or day >= start) and (end is None or day <= end)
