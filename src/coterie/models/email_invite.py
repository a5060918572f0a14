"""Invitations by e-mail of someone not yet on the network: onto a partnership with the inviting
company, or onto one shared record. Redeemed once, with a signed, expiring token, by signing up
a company (`coterie.invites`)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coterie.db import Base, new_id
from coterie.models.invitation import SingleUseLink


class EmailInvite(SingleUseLink, Base):
    """One invitation sent to `email` by a user of `company_id`: to partner (`target`
    "partnership") or to join the record `record_id` of `kind` ("record"), redeemed once
    (`SingleUseLink`)."""

    __tablename__ = "email_invites"
    __table_args__ = (Index("ix_email_invites_company_created", "company_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    company_name: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE")
    )
    kind: Mapped[str | None] = mapped_column(String(20))
    accepted_company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL")
    )
