"""The portfolio's rows and stage counts, read through the gate in a fixed number of
statements whatever the number of solutions: the list query (`records.query`, visible records,
masked values), the counts per stage, the program workflows the solutions are on, the
companies on them and their names, the masked spaces (owners) and their users' names, the next
open tasks (`workflows.tasks.next_open`), the linked pipeline
(`cosell.campaigns.solution_influence`: the links, the linked deals and their spaces at once;
one statement per company whose stages name a deal). No statement per row.

The stage is the solution's joint stage, named by the program workflow it is on (the board's
labels). Filtering on the industry reads my own space's `industry` as the list filter does:
refused (400) when I may not see that field.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.campaigns.influence import solution_influence
from coterie.cosell.planning.common import own_policy
from coterie.cosell.portfolio.schemas import (
    CompanyRef,
    LinkedAmount,
    LinkedPipeline,
    PortfolioOut,
    PortfolioRow,
    ProgramRef,
    StageCount,
)
from coterie.cosell.schemas import Owner
from coterie.db import utcnow
from coterie.fields.kinds import Kind, ParticipantStatus
from coterie.kit.problems import invalid
from coterie.models import Participant, Record, RecordAccess, User
from coterie.models.vocabulary import Industry
from coterie.models.workflow import RecordWorkflow, WorkflowDefinition
from coterie.network.companies import names as company_names
from coterie.records import query
from coterie.workflows import definitions, tasks
from coterie.workflows.labels import NOT_STAGED, names_of, stage_label

SOLUTION = Kind.SOLUTION.value
PAGE = 200
UNSTAGED = "_unstaged"


@dataclass(frozen=True)
class Filters:
    program_id: uuid.UUID | None = None
    partner_id: uuid.UUID | None = None
    stage: str | None = None
    industry: str | None = None


def _on_program(program_id: uuid.UUID) -> ColumnElement[bool]:
    attached = (
        select(RecordWorkflow.record_id)
        .join(WorkflowDefinition, WorkflowDefinition.id == RecordWorkflow.workflow_id)
        .where(WorkflowDefinition.program_id == program_id)
    )
    return RecordAccess.record_id.in_(attached)


def _with_partner(company_id: uuid.UUID) -> ColumnElement[bool]:
    on = select(Participant.record_id).where(
        Participant.company_id == company_id,
        Participant.status == ParticipantStatus.ACTIVE.value,
    )
    return RecordAccess.record_id.in_(on)


def _stage_names(
    session: Session, actor: Actor, program_id: uuid.UUID | None
) -> tuple[list[str], dict[str, str]]:
    """The ordered stage keys of the solution workflows I see (of one program, if given) and
    their names (an active workflow's name first)."""
    found = [
        d
        for d in definitions.list_readable(session, actor, kind=SOLUTION, program_id=program_id)
        if d.program_id is not None
    ]
    found.sort(key=lambda d: (not d.active, d.created_at))
    keys: list[str] = []
    names: dict[str, str] = {}
    for definition in found:
        for key, name in names_of(definition.stages).items():
            if key not in names:
                keys.append(key)
                names[key] = name
    return keys, names


def _conditions(
    session: Session, principal: Principal, resolver: query.FieldResolver, filters: Filters
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.program_id is not None:
        gate.check(session, principal, "program", filters.program_id)  # 404 when hidden
        conditions.append(_on_program(filters.program_id))
    if filters.partner_id is not None:
        conditions.append(_with_partner(filters.partner_id))
    if filters.industry is not None:
        if filters.industry not in {i.value for i in Industry}:
            raise invalid("query.industry", "is not an industry: choose one of the list")
        field = resolver.resolve("mine.industry", "query.industry")  # 400 when hidden
        conditions.append(field.filter_value == filters.industry)
    return conditions


def build(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    limit: int = PAGE,
    cursor: str | None = None,
) -> PortfolioOut:
    principal = actor.principal
    resolver = query.FieldResolver(session, principal, SOLUTION)
    conditions = _conditions(session, principal, resolver, filters)
    keys, names = _stage_names(session, actor, filters.program_id)
    stage = Record.joint_stage.expression
    if filters.stage is not None and filters.stage != UNSTAGED and filters.stage not in keys:
        raise invalid("query.stage", f"is not a stage: one of {', '.join(keys) or 'none'}")

    def in_stage(key: str) -> ColumnElement[bool]:
        if key == UNSTAGED:
            return or_(stage.is_(None), stage.not_in(keys)) if keys else true()
        return stage == key

    sort = query.parse_sort(resolver, "title")
    everything = query.ListQuery(resolver, _all(conditions), sort)
    counts = _counts(session, everything, keys)
    if filters.stage is not None:
        conditions.append(in_stage(filters.stage))
    listing = query.ListQuery(resolver, _all(conditions), sort)
    found, next_cursor = listing.page(session, limit=limit, cursor=cursor)
    records = [row[0] for row in found]
    stages = [StageCount(key=k, label=names[k], count=counts.get(k, 0)) for k in keys]
    if counts.get(UNSTAGED):
        stages.append(StageCount(key=UNSTAGED, label=NOT_STAGED, count=counts[UNSTAGED]))
    return PortfolioOut(
        items=_rows(session, actor, records, names),
        next_cursor=next_cursor,
        total=sum(counts.values()) if filters.stage is None else counts.get(filters.stage, 0),
        stages=stages,
    )


def _all(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool] | None:
    return and_(*conditions) if conditions else None


def _counts(session: Session, listing: query.ListQuery, keys: list[str]) -> dict[str, int]:
    per_record = listing.statement(
        RecordAccess.record_id, Record.joint_stage.label("stage")
    ).subquery("portfolio_rows")
    statement = (
        select(per_record.c.stage, func.count(per_record.c.record_id))
        .group_by(per_record.c.stage)
        .execution_options(**rls.as_company(listing.principal.company_id))
    )
    counts: dict[str, int] = defaultdict(int)
    for row in session.execute(statement):
        counts[row[0] if row[0] in keys else UNSTAGED] += int(row[1])
    return counts


def _programs(
    session: Session, principal: Principal, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, uuid.UUID], dict[uuid.UUID, dict[str, str]], dict[uuid.UUID, str]]:
    """Per solution, the program whose (visible) workflow it is on; that workflow's stage names
    per program; the program titles."""
    statement = (
        select(RecordWorkflow.record_id, WorkflowDefinition.program_id, WorkflowDefinition.stages)
        .join(WorkflowDefinition, WorkflowDefinition.id == RecordWorkflow.workflow_id)
        .where(
            RecordWorkflow.record_id.in_(ids),
            WorkflowDefinition.program_id.in_(gate.visible_ids(principal, "program")),
        )
        .order_by(WorkflowDefinition.active.desc(), WorkflowDefinition.created_at)
        .execution_options(**rls.as_company(principal.company_id))
    )
    program_of: dict[uuid.UUID, uuid.UUID] = {}
    stage_names: dict[uuid.UUID, dict[str, str]] = {}
    for record_id, program_id, stages in session.execute(statement):
        program_of.setdefault(record_id, program_id)
        stage_names.setdefault(program_id, names_of(stages))
    titles = gate.visible_titles(session, principal, [("program", p) for p in program_of.values()])
    return program_of, stage_names, titles


def _owners(
    session: Session, principal: Principal, ids: list[uuid.UUID], names: dict[uuid.UUID, str]
) -> dict[uuid.UUID, list[Owner]]:
    """Each active company's owner of each solution, where the principal may see that field
    (`gate.spaces`: masked in SQL); a user shows only as a member of the company naming it."""
    spaces = gate.spaces(
        session, principal, SOLUTION, ids, own_policy(session, principal, SOLUTION)
    )
    wanted: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = {}
    for space in spaces:
        raw = space.standard.get("owner")
        if isinstance(raw, str):
            wanted[(space.record_id, space.company_id)] = uuid.UUID(raw)
    users: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}
    if wanted:
        rows = session.execute(
            select(User.id, User.name, User.company_id).where(User.id.in_(set(wanted.values())))
        )
        users = {row[0]: (row[1], row[2]) for row in rows}
    owners: dict[uuid.UUID, list[Owner]] = defaultdict(list)
    for space in spaces:
        user_id = wanted.get((space.record_id, space.company_id))
        user = users.get(user_id) if user_id is not None else None
        known = user is not None and user[1] == space.company_id
        owners[space.record_id].append(
            Owner(
                company_id=space.company_id,
                company_name=names.get(space.company_id, ""),
                user_id=user_id if known else None,
                user_name=user[0] if user is not None and known else None,
            )
        )
    for found in owners.values():
        found.sort(key=lambda o: (o.company_id != principal.company_id, o.company_name))
    return owners


def _amounts(by_currency: dict[str, Decimal]) -> list[LinkedAmount]:
    return [LinkedAmount(currency=c, amount=a) for c, a in sorted(by_currency.items())]


def _linked(
    session: Session, principal: Principal, ids: list[uuid.UUID]
) -> dict[uuid.UUID, LinkedPipeline]:
    """Each solution's linked pipeline as the principal sees it, in a bounded number of
    statements (`solution_influence` reads all the solutions' links and deals at once)."""
    return {
        solution_id: LinkedPipeline(
            leads=found.leads,
            opportunities=found.opportunities,
            pipeline=_amounts(found.pipeline),
            revenue=_amounts(found.revenue),
        )
        for solution_id, found in solution_influence(session, principal, ids).items()
    }


def _rows(
    session: Session, actor: Actor, records: list[Record], stage_names: dict[str, str]
) -> list[PortfolioRow]:
    if not records:
        return []
    principal = actor.principal
    ids = [r.id for r in records]
    program_of, program_stages, titles = _programs(session, principal, ids)
    on: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for p in gate.participants(session, principal, SOLUTION, ids):
        if p.status == ParticipantStatus.ACTIVE.value:
            on[p.record_id].append(p.company_id)
    names = company_names(session, {c for found in on.values() for c in found})
    owners = _owners(session, principal, ids, names)
    steps = tasks.next_open(session, principal, ids)
    linked = _linked(session, principal, ids)
    today = utcnow().date()
    rows: list[PortfolioRow] = []
    for r in records:
        program_id = program_of.get(r.id)
        labels: dict[str, Any] = (
            program_stages.get(program_id, stage_names) if program_id else stage_names
        )
        step = steps.get(r.id)
        due = step.due_date if step is not None else None
        rows.append(
            PortfolioRow(
                id=r.id,
                title=r.title,
                customer_name=r.customer_name,
                program=ProgramRef(program_id=program_id, title=titles[program_id])
                if program_id is not None and program_id in titles
                else None,
                stage=r.joint_stage,
                stage_label=stage_label(labels, r.joint_stage),
                companies=sorted(
                    (CompanyRef(company_id=c, company_name=names.get(c, "")) for c in on[r.id]),
                    key=lambda c: c.company_name,
                ),
                owners=owners.get(r.id, []),
                next_step=step.title if step is not None else None,
                next_step_due=due,
                next_step_overdue=due is not None and due < today,
                linked_pipeline=linked.get(r.id, LinkedPipeline()),
            )
        )
    return rows
