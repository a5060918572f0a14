"""Teams and access rules: a company's attribute-based policies, stored as data.

Visibility rules decide which of the company's own users see (or edit) which records; once a
company has one for a kind, its non-admin users see only what some rule grants them (plus the
records they created or own). Auto-share rules invite a partner company onto records that match.
Rules are compiled into grants (`record_access`) and participants when they are saved and when
a record changes, never evaluated per row at read time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (Index("uq_teams_company_name", "company_id", "name", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AccessRule(Base):
    __tablename__ = "access_rules"
    __table_args__ = (Index("ix_access_rules_company_kind", "company_id", "kind", "type"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))  # "visibility" | "auto_share"
    name: Mapped[str] = mapped_column(String(200))
    condition: Mapped[dict[str, Any]] = mapped_column(JSON)
    # visibility: {"users": [...], "teams": [...]}; auto_share: {"companies": [...]}
    grantees: Mapped[dict[str, Any]] = mapped_column(JSON)
    permission: Mapped[str] = mapped_column(String(10), default="view")
    partnership_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE")
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
