"""Marketing development funds (MDF): budgets, allocations per partner, fund requests, claims
against approved requests, and the funding company's private notes.

A budget belongs to its funding company (usually a program's host). A fund request and its
claims involve exactly two companies, the requester and the funder, both named on every row;
`coterie.funds.access` is the one place that reads these tables, always as one of them. The
amounts a budget has committed and paid are columns that change only in the same SQL statement
that claims them (`committed + :amount <= total`), so concurrent approvals never over-commit.

Amounts are integers in cents (hundredths of the currency unit), so every sum and every
comparison in SQL is exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class FundBudget(Base):
    """A funding company's budget for a program, a named period and a currency."""

    __tablename__ = "fund_budgets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    period_name: Mapped[str] = mapped_column(String(60))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    committed_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = conditional.versioned(version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class FundAllocation(Base):
    """A partner company's share of a budget: it may request from the budget; `cap` (optional)
    bounds what approvals commit for it."""

    __tablename__ = "fund_allocations"
    __table_args__ = (UniqueConstraint("budget_id", "partner_company_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    budget_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fund_budgets.id", ondelete="CASCADE"), index=True
    )
    partner_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    # the budget's funding company, repeated so that row-level security reads it without
    # joining the budget (whose own policy reads the allocations)
    funder_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    cap_cents: Mapped[int | None] = mapped_column(BigInteger)
    committed_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = conditional.versioned(version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FundRequest(Base):
    """A partner's request for funds from a budget, and the funder's decision on it."""

    __tablename__ = "fund_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    budget_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fund_budgets.id", ondelete="CASCADE"), index=True
    )
    requester_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    funder_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    activity: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL"), index=True
    )
    requested_amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    expected_pipeline_cents: Mapped[int | None] = mapped_column(BigInteger)
    contribution_pct: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    claim_deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    approved_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    decision_message: Mapped[str | None] = mapped_column(Text)
    claimed_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    extension_status: Mapped[str | None] = mapped_column(String(20))
    extension_deadline: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = conditional.versioned(version)


class FundClaim(Base):
    """A claim against an approved fund request: what the partner spent, with proof."""

    __tablename__ = "fund_claims"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fund_requests.id", ondelete="CASCADE"), index=True
    )
    requester_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    funder_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    decision_message: Mapped[str | None] = mapped_column(Text)
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    paid_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = conditional.versioned(version)


class FundNote(Base):
    """The funding company's internal note on a request (e.g. why it approved less): private
    to `company_id`, never shown to the requester."""

    __tablename__ = "fund_notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fund_requests.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
