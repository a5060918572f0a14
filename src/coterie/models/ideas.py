"""Ideas proposed to a partner program (a joint solution or a campaign), their endorsements,
and each program's rule of who sees its ideas.

Rows are keyed by the program record and read only after the gate has admitted the program
(`coterie.cosell.ideas.visibility`); on PostgreSQL row-level security lets a company read them
only while it holds a grant on the program.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class Idea(Base):
    """One proposal: what, for whom, with which partners, worth how much to the proposer; its
    triage by the program's host (`status`: open, accepted, declined), claimed in SQL."""

    __tablename__ = "ideas"
    __table_args__ = (Index("ix_ideas_program_created", "program_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    program_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # solution or campaign
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    target_customers: Mapped[str] = mapped_column(Text)
    partner_company_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    expected_pipeline: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    proposer_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    proposer_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default="open")
    decline_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    record_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdeaEndorsement(Base):
    """One user's endorsement of an idea (at most one per user)."""

    __tablename__ = "idea_endorsements"

    idea_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    program_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProgramIdeaSettings(Base):
    """Who sees a program's ideas, as its host chose (no row: every company in the program)."""

    __tablename__ = "program_idea_settings"

    program_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    visibility: Mapped[str] = mapped_column(String(20), default="program")
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
