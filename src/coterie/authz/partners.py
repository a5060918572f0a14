"""Who a company works with: its active partnerships, as the rules and the gate read them.

Auto-share rules may only name partner companies, and lose them when a partnership ends; the
network's partnership use cases (`coterie.network.partnerships`) write these rows."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.models import Partnership
from coterie.models.vocabulary import PartnershipStatus


def involving(company_id: uuid.UUID) -> ColumnElement[bool]:
    """Partnerships of which `company_id` is a side (either one)."""
    return or_(
        Partnership.requester_company_id == company_id,
        Partnership.recipient_company_id == company_id,
    )


def partner_ids(session: Session, company_id: uuid.UUID) -> set[uuid.UUID]:
    """The companies with an active partnership with `company_id` (ids only: no profiles)."""
    rows = session.execute(
        select(Partnership.requester_company_id, Partnership.recipient_company_id).where(
            involving(company_id), Partnership.status == PartnershipStatus.ACTIVE.value
        )
    )
    return {recipient if requester == company_id else requester for requester, recipient in rows}
