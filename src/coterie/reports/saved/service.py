"""Saved reports: a named report definition, its chart type, and whom it is shared with.

A saved report stores the definition only, never numbers. Who may open one: its owner, the
colleagues it names, and every user of the partner companies it names (while the partnership is
active). Opening one *runs it as the viewer* (`engine.run(session, viewer, definition)`): a
partner sees the numbers over what it may see, and a definition naming a field the viewer
cannot see answers the engine's 400, never the author's data. A report hidden from the caller
answers 404, exactly like one that does not exist. Only the owner changes or deletes it (an
admin of the owner's company once the owner's account is gone); `version` guards writes
(`If-Match`, 412 when stale).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz.partners import partner_ids
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.problems import Problem, invalid, not_found
from coterie.models import Company, User
from coterie.models.report import ReportShare, SavedReport
from coterie.models.vocabulary import Role
from coterie.reports import engine
from coterie.reports.schemas import ReportIn, ReportOut

ChartType = Literal["pie", "bar", "stacked_bar", "funnel", "line", "table"]
CHART_TYPES: tuple[str, ...] = ("pie", "bar", "stacked_bar", "funnel", "line", "table")
REPORT = "report"
DASHBOARD = "dashboard"


class SharedWith(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: list[uuid.UUID] = Field(default_factory=list, description="Colleagues (my company)")
    companies: list[uuid.UUID] = Field(
        default_factory=list, description="Accepted partner companies (all their users)"
    )


class SavedReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    definition: ReportIn
    chart_type: ChartType = "bar"
    shared_with: SharedWith = Field(default_factory=SharedWith)


class SavedReportOut(BaseModel):
    id: uuid.UUID
    name: str
    definition: ReportIn
    chart_type: str
    company_id: uuid.UUID
    company_name: str
    owner_user_id: uuid.UUID | None
    # whom it is shared with: shown to the owner's company only (never to a partner)
    shared_with: SharedWith | None
    can_edit: bool
    version: int
    created_at: datetime
    updated_at: datetime


# --- sharing, common to saved reports and dashboards -------------------------------------------


def check_shares(
    session: Session, actor: Actor, shared: SharedWith, path: str = "body.shared_with"
) -> None:
    for i, user_id in enumerate(shared.users):
        user = session.get(User, user_id)
        if user is None or user.company_id != actor.company_id:
            raise invalid(f"{path}.users.{i}", "is not a user of your company")
    partners = partner_ids(session, actor.company_id)
    for i, company_id in enumerate(shared.companies):
        if company_id not in partners:
            raise invalid(f"{path}.companies.{i}", "is not an accepted partner of your company")


def set_shares(
    session: Session, subject_type: str, subject_id: uuid.UUID, shared: SharedWith
) -> None:
    session.execute(
        delete(ReportShare).where(
            ReportShare.subject_type == subject_type, ReportShare.subject_id == subject_id
        )
    )
    for user_id in dict.fromkeys(shared.users):
        session.add(ReportShare(subject_type=subject_type, subject_id=subject_id, user_id=user_id))
    for company_id in dict.fromkeys(shared.companies):
        session.add(
            ReportShare(subject_type=subject_type, subject_id=subject_id, company_id=company_id)
        )
    session.flush()


def shares_of(session: Session, subject_type: str, subject_id: uuid.UUID) -> SharedWith:
    rows = session.scalars(
        select(ReportShare).where(
            ReportShare.subject_type == subject_type, ReportShare.subject_id == subject_id
        )
    ).all()
    return SharedWith(
        users=[r.user_id for r in rows if r.user_id is not None],
        companies=[r.company_id for r in rows if r.company_id is not None],
    )


def shared_subject_ids(session: Session, actor: Actor, subject_type: str) -> set[uuid.UUID]:
    """Subjects shared with the actor: by name, or with its company (an active partner of the
    owner; that is re-checked per subject by `may_view`)."""
    return set(
        session.scalars(
            select(ReportShare.subject_id).where(
                ReportShare.subject_type == subject_type,
                or_(
                    ReportShare.user_id == actor.user_id,
                    ReportShare.company_id == actor.company_id,
                ),
            )
        )
    )


def may_view(
    session: Session,
    actor: Actor,
    subject_type: str,
    subject_id: uuid.UUID,
    company_id: uuid.UUID,
    owner_user_id: uuid.UUID | None,
) -> bool:
    if company_id == actor.company_id:
        if may_edit(actor, company_id, owner_user_id):
            return True
        return (
            session.scalar(
                select(ReportShare.id).where(
                    ReportShare.subject_type == subject_type,
                    ReportShare.subject_id == subject_id,
                    ReportShare.user_id == actor.user_id,
                )
            )
            is not None
        )
    shared = session.scalar(
        select(ReportShare.id).where(
            ReportShare.subject_type == subject_type,
            ReportShare.subject_id == subject_id,
            ReportShare.company_id == actor.company_id,
        )
    )
    # a revoked partnership ends the share at once
    return shared is not None and actor.company_id in partner_ids(session, company_id)


def may_edit(actor: Actor, company_id: uuid.UUID, owner_user_id: uuid.UUID | None) -> bool:
    """The owner; an admin of the owner's company only once the owner's account is gone."""
    if company_id != actor.company_id:
        return False
    return owner_user_id == actor.user_id or (owner_user_id is None and actor.has_role(Role.ADMIN))


# --- saved reports -------------------------------------------------------------------------


def to_out(session: Session, actor: Actor, report: SavedReport) -> SavedReportOut:
    company = session.get(Company, report.company_id)
    own = report.company_id == actor.company_id
    return SavedReportOut(
        id=report.id,
        name=report.name,
        definition=ReportIn.model_validate(report.definition),
        chart_type=report.chart_type,
        company_id=report.company_id,
        company_name=company.name if company is not None else "",
        owner_user_id=report.owner_user_id if own else None,
        shared_with=shares_of(session, REPORT, report.id) if own else None,
        can_edit=may_edit(actor, report.company_id, report.owner_user_id),
        version=report.version,
        created_at=report.created_at,
        updated_at=report.updated_at,
    )


def get(session: Session, actor: Actor, report_id: uuid.UUID) -> SavedReport:
    report = session.get(SavedReport, report_id)
    if report is None or not may_view(
        session, actor, REPORT, report.id, report.company_id, report.owner_user_id
    ):
        raise not_found("report")
    return report


def list_visible(session: Session, actor: Actor) -> list[SavedReport]:
    """Mine, my company's that I may see, and those shared with me or my company."""
    shared = shared_subject_ids(session, actor, REPORT)
    statement = select(SavedReport).where(
        or_(SavedReport.company_id == actor.company_id, SavedReport.id.in_(shared))
    )
    return [
        r
        for r in session.scalars(statement.order_by(SavedReport.name, SavedReport.id))
        if may_view(session, actor, REPORT, r.id, r.company_id, r.owner_user_id)
    ]


def _require_edit(actor: Actor, report: SavedReport) -> None:
    if not may_edit(actor, report.company_id, report.owner_user_id):
        raise Problem(403, "forbidden", "Forbidden", "Only the report's owner can change it.")


def create(session: Session, actor: Actor, data: SavedReportIn) -> SavedReport:
    check_shares(session, actor, data.shared_with)
    report = SavedReport(
        company_id=actor.company_id,
        owner_user_id=actor.user_id,
        name=data.name,
        definition=data.definition.model_dump(mode="json", exclude_defaults=True),
        chart_type=data.chart_type,
    )
    session.add(report)
    session.flush()
    set_shares(session, REPORT, report.id, data.shared_with)
    audit.record(session, actor, "report.created", "report", report.id, name=report.name)
    return report


def update(
    session: Session, actor: Actor, report_id: uuid.UUID, data: SavedReportIn, expected: int
) -> SavedReport:
    report = get(session, actor, report_id)
    _require_edit(actor, report)
    conditional.claim_version(session, report, expected, "report")
    check_shares(session, actor, data.shared_with)
    report.name = data.name
    report.definition = data.definition.model_dump(mode="json", exclude_defaults=True)
    report.chart_type = data.chart_type
    report.updated_at = utcnow()
    set_shares(session, REPORT, report.id, data.shared_with)
    audit.record(session, actor, "report.updated", "report", report.id, name=report.name)
    return report


def remove(session: Session, actor: Actor, report_id: uuid.UUID, expected: int) -> None:
    report = get(session, actor, report_id)
    _require_edit(actor, report)
    conditional.claim_version(session, report, expected, "report")
    audit.record(session, actor, "report.deleted", "report", report.id, name=report.name)
    set_shares(session, REPORT, report.id, SharedWith())
    session.delete(report)
    session.flush()


def run(session: Session, actor: Actor, report: SavedReport) -> ReportOut:
    """Run as the viewer: the engine's gate decides the numbers; a field the viewer cannot see
    answers the engine's 400 for the viewer, whatever the author may see."""
    return engine.run(session, actor, ReportIn.model_validate(report.definition))
