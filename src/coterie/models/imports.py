"""A spreadsheet import of accounts, leads or opportunities (`coterie.sync.imports`): the file's
cells as uploaded, the column mapping its user chose, and the row-by-row outcome of its last dry
run or run. The cells live in the database, so a worker in another process reads them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow


class ImportStatus(StrEnum):
    READY = "ready"  # uploaded: map the columns, then check or import
    QUEUED = "queued"
    RUNNING = "running"
    CHECKED = "checked"  # a dry run finished: nothing was written
    DONE = "done"  # imported
    FAILED = "failed"


class ImportMode(StrEnum):
    DRY_RUN = "dry_run"
    IMPORT = "import"


UNFINISHED = (ImportStatus.QUEUED.value, ImportStatus.RUNNING.value)


class SpreadsheetImport(Base):
    __tablename__ = "spreadsheet_imports"
    __table_args__ = (
        Index("ix_spreadsheet_imports_user", "company_id", "user_id", "created_at"),
        Index("ix_spreadsheet_imports_status", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    """Who uploaded it: the only one who sees it, and whom it runs as."""
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(10))  # csv | xlsx
    headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    rows: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    """Every data row's cells as text (dates as YYYY-MM-DD), padded to the headers."""
    mapping: Mapped[list[str | None]] = mapped_column(JSON, default=list)
    """Per column: the target field key, or None (ignored)."""
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.READY.value)
    mode: Mapped[str] = mapped_column(String(20), default=ImportMode.DRY_RUN.value)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """One outcome per row processed by the last dry run or run (`runner.RowResult`)."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def progress(self) -> int:
        """0 to 100."""
        if self.status in (ImportStatus.CHECKED.value, ImportStatus.DONE.value):
            return 100
        if not self.rows:
            return 0
        return min(99, self.rows_done * 100 // len(self.rows))
