"""Attachments: files uploaded to a subject (a shared record, a comment, a fund claim...).

A row names its subject (`subject_kind`, `subject_id`) and the record the subject hangs on
(`record_kind`, `record_id`), so it is read only after the gate admitted that record and the
subject's own check (`coterie.attachments.subjects`) admitted the subject; PostgreSQL row-level
security keys it by the record's grants, or by the uploader's company (migration 0021). The
bytes live in a store (`coterie.attachments.storage`) under `storage_key`, never under a name
the uploader chose.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow


class Attachment(Base):
    """One uploaded file: its sanitised name, sniffed type, size, digest and where it is kept."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_subject", "subject_kind", "subject_id", "created_at"),
        Index("ix_attachments_record", "record_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID]
    record_kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
