"""Partner programs and joint sales plans: their profiles and the program overview.

A program or plan is a shared record (kinds `program`, `plan`): the record core holds title and
description, participants come from the record core, and each company's space holds its own
owner on it. This module adds the profile rows (`program_details`, `plan_details`), read only
after the gate admitted the record, and edited only by the host (program) or owner (plan)
company's admins and managers. Nothing here commits.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.cosell.planning import common
from coterie.cosell.schemas import (
    PlanProfileIn,
    PlanProfileOut,
    PlanSummary,
    ProgramOverview,
    ProgramProfileIn,
    ProgramProfileOut,
)
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.problems import forbidden, invalid
from coterie.models import Record
from coterie.models.cosell import PlanDetails, ProgramDetails
from coterie.models.vocabulary import Role
from coterie.network.companies import names as company_names
from coterie.records import service as records

PROGRAM = "program"
PLAN = "plan"


def _check_dates(start: date | None, end: date | None, start_key: str, end_key: str) -> None:
    if start is not None and end is not None and end < start:
        raise invalid(f"body.{end_key}", f"must be on or after {start_key}")


def _can_manage(actor: Actor, record: Record) -> bool:
    return record.owner_company_id == actor.company_id and actor.has_role(Role.MANAGER)


def _require_manager(
    session: Session, actor: Actor, principal: Principal, kind: str, record_id: uuid.UUID, who: str
) -> Record:
    record = gate.require_edit(session, principal, kind, record_id)  # 404 when hidden
    if not _can_manage(actor, record):
        raise forbidden(f"Only admins and managers of the {who} company edit this profile.")
    return record


# -- programs ----------------------------------------------------------------------------------


def program_details(
    session: Session, principal: Principal, program_id: uuid.UUID
) -> ProgramDetails | None:
    """The profile row of a program the gate already admitted."""
    return session.scalars(
        select(ProgramDetails)
        .where(ProgramDetails.record_id == program_id)
        .execution_options(**rls.as_company(principal.company_id))
    ).first()


def _program_out(
    session: Session, actor: Actor, record: Record, details: ProgramDetails | None
) -> ProgramProfileOut:
    names = company_names(session, [record.owner_company_id])
    return ProgramProfileOut(
        program_id=record.id,
        title=record.title,
        description=record.description,
        host_company_id=record.owner_company_id,
        host_company_name=names.get(record.owner_company_id, ""),
        program_type=details.program_type if details else "co-sell",
        region=details.region if details else None,
        starts_on=details.starts_on if details else None,
        ends_on=details.ends_on if details else None,
        status=details.status if details else "draft",
        version=details.version if details else 0,
        can_edit=_can_manage(actor, record),
    )


def read_program(session: Session, actor: Actor, program_id: uuid.UUID) -> ProgramProfileOut:
    principal = actor.principal
    record = gate.check(session, principal, PROGRAM, program_id)
    return _program_out(session, actor, record, program_details(session, principal, program_id))


def save_program(
    session: Session,
    actor: Actor,
    program_id: uuid.UUID,
    data: ProgramProfileIn,
    expected: int,
) -> None:
    principal = actor.principal
    _require_manager(session, actor, principal, PROGRAM, program_id, "host")
    details = conditional.claim_singleton(
        session,
        program_details(session, principal, program_id),
        expected,
        "program profile",
        lambda: ProgramDetails(record_id=program_id, version=1),
        rls.as_company(actor.company_id),
    )
    _check_dates(data.starts_on, data.ends_on, "starts_on", "ends_on")
    details.program_type = data.program_type.value
    details.region = data.region.value if data.region else None
    details.starts_on = data.starts_on
    details.ends_on = data.ends_on
    details.status = data.status.value
    details.updated_at = utcnow()
    details.updated_by_user_id = actor.user_id
    session.flush()
    audit.record(
        session, actor, "program.profile_saved", PROGRAM, program_id, version=details.version
    )


def plans_of_program(
    session: Session, principal: Principal, program_id: uuid.UUID
) -> list[PlanSummary]:
    """The program's plans the principal may see (a plan it is not on does not appear)."""
    rows = session.execute(
        gate.visible(principal, PLAN)
        .add_columns(PlanDetails)
        .join(PlanDetails, PlanDetails.record_id == Record.id)
        .where(PlanDetails.program_id == program_id)
        .order_by(Record.title, Record.id)
    ).all()
    names = company_names(session, [r.owner_company_id for r, _ in rows])
    return [
        PlanSummary(
            id=record.id,
            title=record.title,
            owner_company_id=record.owner_company_id,
            owner_company_name=names.get(record.owner_company_id, ""),
            status=details.status,
            period_start=details.period_start,
            period_end=details.period_end,
        )
        for record, details in rows
    ]


def overview(session: Session, actor: Actor, program_id: uuid.UUID) -> ProgramOverview:
    principal = actor.principal
    profile = read_program(session, actor, program_id)  # 404 when hidden
    record_out = records.present(
        session, actor, principal, PROGRAM, [gate.check(session, principal, PROGRAM, program_id)]
    )[0]
    return ProgramOverview(
        profile=profile,
        plans=plans_of_program(session, principal, program_id),
        participants=record_out.participants,
    )


# -- plans -------------------------------------------------------------------------------------


def plan_details(session: Session, principal: Principal, plan_id: uuid.UUID) -> PlanDetails | None:
    """The profile row of a plan the gate already admitted."""
    return session.scalars(
        select(PlanDetails)
        .where(PlanDetails.record_id == plan_id)
        .execution_options(**rls.as_company(principal.company_id))
    ).first()


def read_plan(session: Session, actor: Actor, plan_id: uuid.UUID) -> PlanProfileOut:
    principal = actor.principal
    record = gate.check(session, principal, PLAN, plan_id)
    details = plan_details(session, principal, plan_id)
    program = None
    if details is not None and details.program_id is not None:
        program = common.seen(session, principal, PROGRAM, details.program_id)
    names = company_names(session, [record.owner_company_id])
    return PlanProfileOut(
        plan_id=record.id,
        title=record.title,
        owner_company_id=record.owner_company_id,
        owner_company_name=names.get(record.owner_company_id, ""),
        program_id=program.id if program else None,
        program_title=program.title if program else None,
        period_start=details.period_start if details else None,
        period_end=details.period_end if details else None,
        status=details.status if details else "draft",
        version=details.version if details else 0,
        can_edit=_can_manage(actor, record),
        owners=common.owners(session, principal, PLAN, plan_id),
    )


def save_plan(
    session: Session, actor: Actor, plan_id: uuid.UUID, data: PlanProfileIn, expected: int
) -> None:
    principal = actor.principal
    record = _require_manager(session, actor, principal, PLAN, plan_id, "plan's owner")
    details = conditional.claim_singleton(
        session,
        plan_details(session, principal, plan_id),
        expected,
        "plan profile",
        lambda: PlanDetails(record_id=plan_id, version=1),
        rls.as_company(actor.company_id),
    )
    _check_dates(data.period_start, data.period_end, "period_start", "period_end")
    if data.program_id is not None:
        program = common.seen(session, principal, PROGRAM, data.program_id)
        if program is None:
            raise invalid("body.program_id", "is not a program you can see")
        if record.owner_company_id not in common.active_companies(
            session, principal, PROGRAM, program.id
        ):
            raise invalid(
                "body.program_id", "the plan's owner company is not an active participant of it"
            )
    details.program_id = data.program_id
    details.period_start = data.period_start
    details.period_end = data.period_end
    details.status = data.status.value
    details.updated_at = utcnow()
    details.updated_by_user_id = actor.user_id
    session.flush()
    audit.record(session, actor, "plan.profile_saved", PLAN, plan_id, version=details.version)
