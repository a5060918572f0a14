"""Partner programs, joint sales plans and what hangs off them, and dated exchange rates.

Programs and plans are shared records (kinds `program` and `plan`): participants, spaces and
visibility come from the record core and the gate. These tables add what is particular to them,
keyed by the record id, and are read only after the gate has admitted the record.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class ProgramDetails(Base):
    """What a partner program is: type, region, dates, status. The host is the record's owner."""

    __tablename__ = "program_details"

    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    program_type: Mapped[str] = mapped_column(String(20), default="co-sell")
    region: Mapped[str | None] = mapped_column(String(40))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = conditional.versioned(version)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class PlanDetails(Base):
    """A joint sales plan's period, status and (optionally) the program it belongs to."""

    __tablename__ = "plan_details"

    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    program_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL"), index=True
    )
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = conditional.versioned(version)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class PlanRecord(Base):
    """A record linked to a plan: pipeline (leads, opportunities) or a nominated target account.

    The link itself says nothing about visibility: readers intersect it with the gate."""

    __tablename__ = "plan_records"
    __table_args__ = (Index("ix_plan_records_record", "record_id"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default="pipeline")  # or "target_account"
    linked_by_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
    linked_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanGoal(Base):
    """One goal of a plan: a metric, a target for a period, for one participant company or
    joint (`company_id` NULL), optionally one slice of a breakdown (region, industry, product,
    quarter). Progress is never stored: it is computed per viewer from the records it may see."""

    __tablename__ = "plan_goals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    metric: Mapped[str] = mapped_column(String(30))
    target: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))  # value metrics only
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    breakdown_dimension: Mapped[str | None] = mapped_column(String(20))
    breakdown_value: Mapped[str | None] = mapped_column(String(200))
    created_by_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)


class AccountPlan(Base):
    """The joint account plan of an account record: objectives and next steps, edited by any
    active participant. Next steps are kept here as a JSON list of
    {id, title, owner_user_id, owner_company_id, due_date, done}."""

    __tablename__ = "account_plans"

    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    objectives: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_by_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )


class ExchangeRate(Base):
    """One company's rate for a currency from a date on: 1 unit of `currency` is `rate` units of
    the company's own currency. Each company keeps its own table (its "currency view")."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint("company_id", "currency", "valid_from", name="uq_exchange_rates_day"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    valid_from: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
