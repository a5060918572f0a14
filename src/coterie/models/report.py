"""Saved reports, dashboards and whom they are shared with.

A saved report stores a report *definition* (the engine's `ReportIn` as JSON), never numbers:
whoever opens it runs it as themselves. Shares name colleagues (users of the owner's company) or
partner companies (every user of the company); they are not record-keyed (a definition names no
shared record), so they carry no row-level-security policy: the service filters by owner and
share, and the engine's gate decides what each viewer's numbers are made of.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class SavedReport(Base):
    __tablename__ = "saved_reports"
    __table_args__ = (Index("ix_saved_reports_company", "company_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    chart_type: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Dashboard(Base):
    __tablename__ = "dashboards"
    __table_args__ = (Index("ix_dashboards_company", "company_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    # [{"report_id": "...", "chart_type": "bar"}, ...] in display order
    panels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # {"plan": id | null, "program": id | null, "partner": company id | null, "region": str | null}
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportShare(Base):
    """One grantee of a saved report or dashboard: a colleague (`user_id`) or a partner company
    (`company_id`), exactly one of the two."""

    __tablename__ = "report_shares"
    __table_args__ = (
        Index("ix_report_shares_subject", "subject_type", "subject_id"),
        Index("ix_report_shares_user", "user_id"),
        Index("ix_report_shares_company", "company_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subject_type: Mapped[str] = mapped_column(String(20))  # "report" | "dashboard"
    subject_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
