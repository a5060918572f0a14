"""Record links: a lead or opportunity attributed to a campaign, a record linked to a joint
solution. A link says nothing about who may see either end: every reader intersects it with the
gate on both ends (`coterie.cosell.campaigns.links`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow


class RecordLink(Base):
    """`from_record` (a lead, opportunity, plan or campaign) is linked to `to_record` (a campaign
    or a solution) by `relation`, as one company said. Unique per pair, relation and company:
    each company makes its own claims (one campaign per lead per company, see the service)."""

    __tablename__ = "record_links"
    __table_args__ = (
        UniqueConstraint(
            "from_record_id", "to_record_id", "relation", "linked_by_company_id",
            name="uq_record_links_pair",
        ),
        Index("ix_record_links_to", "to_record_id", "relation"),
        Index("ix_record_links_from", "from_record_id", "relation"),
        # one campaign per record per company: racing attributions cannot both land
        Index(
            "uq_record_links_one_campaign", "from_record_id", "linked_by_company_id",
            unique=True,
            sqlite_where=text("relation = 'campaign'"),
            postgresql_where=text("relation = 'campaign'"),
        ),
    )  # fmt: skip

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    from_record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    from_kind: Mapped[str] = mapped_column(String(20))
    to_record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    to_kind: Mapped[str] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(20))
    linked_by_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    linked_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
