"""A company's export of all its data: requested by an admin, built in the background into a
zip under the data directory, downloadable until it expires."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # done, then its file was deleted at expiry


UNFINISHED = (ExportStatus.QUEUED.value, ExportStatus.RUNNING.value)
_UNFINISHED_SQL = "status IN ('queued', 'running')"


class CompanyExport(Base):
    __tablename__ = "company_exports"
    __table_args__ = (
        Index("ix_company_exports_company_created", "company_id", "created_at"),
        # one export at a time per company, decided by the database (two racing requests: one
        # insert fails)
        Index(
            "uq_company_exports_one_unfinished",
            "company_id",
            unique=True,
            sqlite_where=text(_UNFINISHED_SQL),
            postgresql_where=text(_UNFINISHED_SQL),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default=ExportStatus.QUEUED.value)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    """Raised by each build that claims the export; a build whose attempt is no longer the
    current one (a rerun took over) stops writing."""
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    file_path: Mapped[str | None] = mapped_column(String(500))
    """Relative to the data directory."""
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def progress(self) -> int:
        """0 to 100."""
        if self.status in (ExportStatus.DONE.value, ExportStatus.EXPIRED.value):
            return 100
        if self.steps_total <= 0:
            return 0
        return min(99, self.steps_done * 100 // self.steps_total)
