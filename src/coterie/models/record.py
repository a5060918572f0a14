"""Shared records and what hangs off them: participants, one space per company, templates.

A shared record (account, lead, opportunity, and later solution, campaign) has a small shared
core that every active participant sees, and one space per participating company holding that
company's own typed standard fields and custom fields. Who may read what is decided by
`coterie.authz`, never by queries written against these tables elsewhere.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, UTCDateTime, new_id, utcnow
from coterie.kit import conditional


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (Index("ix_records_kind_customer_domain", "kind", "customer_domain"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_domain: Mapped[str | None] = mapped_column(String(253))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("records.id", ondelete="SET NULL"), index=True
    )
    owner_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    motion: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    joint_stage: Mapped[str | None] = mapped_column(String(60))
    # where the deal came from: the company that sourced it and the record it was converted
    # from (no foreign keys: see migration 0009; an id that no longer resolves reads as absent)
    source_company_id: Mapped[uuid.UUID | None] = mapped_column()
    source_record_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Participant(Base):
    """A company on a record: invited, active, left or removed."""

    __tablename__ = "record_participants"
    __table_args__ = (
        Index("ix_record_participants_company_status", "company_id", "status"),
        # participants an auto-share rule added: re-applying a company's rules starts here
        Index(
            "ix_record_participants_rule_made",
            "invited_by_company_id",
            sqlite_where=text("source <> 'manual'"),
            postgresql_where=text("source <> 'manual'"),
        ),
    )

    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20))
    invited_by_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "manual", or the id of the auto-share rule that invited the company
    source: Mapped[str] = mapped_column(String(40), default="manual", server_default="manual")
    # the owner company let this participant admit companies to the record too (DESIGN must 8)
    can_admit: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class Proposal(Base):
    """A participant's proposal that another company join a record; the owner (or a company it
    delegated the right to) accepts it, which invites the company, or declines it.

    One row per (record, proposed company, proposing company): proposing again re-opens it.
    `source` is "manual", "registration", or the id of the proposer's auto-share rule (a rule
    never re-proposes what the owner declined). The proposed company never sees the row.
    """

    __tablename__ = "record_proposals"
    __table_args__ = (
        UniqueConstraint("record_id", "company_id", "proposed_by_company_id"),
        Index("ix_record_proposals_pending", "record_id", "status"),
        Index("ix_record_proposals_proposer", "proposed_by_company_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    record_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    proposed_by_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    proposed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(40), default="manual")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Space(Base):
    """One company's own data on a record: typed standard fields plus custom fields (JSON)."""

    __tablename__ = "record_spaces"

    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    stage: Mapped[str | None] = mapped_column(String(60))
    forecast_category: Mapped[str | None] = mapped_column(String(20))
    close_date: Mapped[date | None] = mapped_column(Date)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    region: Mapped[str | None] = mapped_column(String(40))
    industry: Mapped[str | None] = mapped_column(String(40))
    product: Mapped[str | None] = mapped_column(String(200))
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Template(Base):
    """A company's field definitions for one record kind (compiled into `FieldShare` rows).

    `definition` holds {"fields": [...], "retired": [...]}: the current fields and the removed
    custom fields, kept so a re-added key restores its values with its original type.
    """

    __tablename__ = "record_templates"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = conditional.versioned(version)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class FieldShare(Base):
    """Compiled from templates: field `field_key` of `owner_company_id`'s spaces of `kind` is
    shared with every participant (`audience_company_id` NULL) or with one named company.

    Private fields have no row. Masking in SQL asks this small table.
    """

    __tablename__ = "field_shares"
    __table_args__ = (
        Index("ix_field_shares_lookup", "kind", "field_key", "owner_company_id"),
        Index("ix_field_shares_owner", "owner_company_id", "kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    field_key: Mapped[str] = mapped_column(String(60))
    audience_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )


class RecordAccess(Base):
    """The grant table: who may read (and edit) which record, maintained on every write.

    `principal` is the nil UUID for "every member of the company" or a user id where the
    company's internal visibility rules decide per user. Lists start from this table.
    """

    __tablename__ = "record_access"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    principal: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    can_edit: Mapped[bool] = mapped_column(default=True)
    via: Mapped[str] = mapped_column(String(80), default="participant")
