"""Partnerships: the accepted (or pending, declined, revoked) link between two companies."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.models.company import Company


def pair_key(a: uuid.UUID, b: uuid.UUID) -> str:
    """The same key for (a, b) and (b, a): at most one open partnership per pair."""
    low, high = sorted((a.hex, b.hex))
    return f"{low}:{high}"


class Partnership(Base):
    __tablename__ = "partnerships"
    __table_args__ = (
        Index(
            "uq_partnerships_open_pair",
            "pair_key",
            unique=True,
            sqlite_where=text("status IN ('pending', 'active')"),
            postgresql_where=text("status IN ('pending', 'active')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    requester_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    recipient_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    pair_key: Mapped[str] = mapped_column(String(65), index=True)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )

    requester: Mapped[Company] = relationship(foreign_keys=[requester_company_id], lazy="joined")
    recipient: Mapped[Company] = relationship(foreign_keys=[recipient_company_id], lazy="joined")

    def other_company(self, company_id: uuid.UUID) -> Company:
        return self.recipient if self.requester_company_id == company_id else self.requester
