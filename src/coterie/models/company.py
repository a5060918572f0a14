"""Companies: the tenants and the nodes of the network, with their public profile."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coterie.db import Base, UTCDateTime, new_id, utcnow


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # lower-cased, for sort/search
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    industry: Mapped[str | None] = mapped_column(String(40), index=True)
    hq_country: Mapped[str | None] = mapped_column(String(2))
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    website: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region_rows: Mapped[list[CompanyRegion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CompanyRegion.region"
    )
    partner_type_rows: Mapped[list[CompanyPartnerType]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CompanyPartnerType.partner_type"
    )

    @property
    def regions(self) -> list[str]:
        return [row.region for row in self.region_rows]

    @property
    def partner_types(self) -> list[str]:
        return [row.partner_type for row in self.partner_type_rows]

    def set_regions(self, regions: list[str]) -> None:
        self.region_rows = [CompanyRegion(region=r) for r in sorted(set(regions))]

    def set_partner_types(self, partner_types: list[str]) -> None:
        self.partner_type_rows = [
            CompanyPartnerType(partner_type=t) for t in sorted(set(partner_types))
        ]


class CompanyRegion(Base):
    __tablename__ = "company_regions"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class CompanyPartnerType(Base):
    __tablename__ = "company_partner_types"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    partner_type: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
