"""A company's dated exchange rates (its "currency view"): list, save, delete.

Rates are a company's own settings, not shared-record data, so they are read with a plain
company filter; no other company ever sees them. Saving upserts by (currency, valid_from);
admins only. Nothing here commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.cosell.schemas import RateIn, RateOut
from coterie.db import utcnow
from coterie.kit.problems import invalid, not_found
from coterie.models.cosell import ExchangeRate
from coterie.models.vocabulary import Role

MAX_RATES = 200


def list_rates(session: Session, company_id: uuid.UUID) -> list[RateOut]:
    rows = session.scalars(
        select(ExchangeRate)
        .where(ExchangeRate.company_id == company_id)
        .order_by(ExchangeRate.currency, ExchangeRate.valid_from.desc())
    )
    return [
        RateOut(
            id=r.id,
            currency=r.currency,
            rate=r.rate,
            valid_from=r.valid_from,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def save_rates(session: Session, actor: Actor, entries: list[RateIn], path: str = "body") -> int:
    """Add or replace the given rates (same currency and day: replaced). Returns how many."""
    actor.require_role(Role.ADMIN, "change exchange rates")
    if len(entries) > MAX_RATES:
        raise invalid(path, f"at most {MAX_RATES} rates at once")
    own = actor.company.currency
    seen: set[tuple[str, object]] = set()
    for i, entry in enumerate(entries):
        if entry.currency == own:
            raise invalid(f"{path}.{i}.currency", f"is your own currency ({own}): its rate is 1")
        key = (entry.currency, entry.valid_from)
        if key in seen:
            raise invalid(f"{path}.{i}.valid_from", "the same currency and day appear twice")
        seen.add(key)
    existing = {
        (r.currency, r.valid_from): r
        for r in session.scalars(
            select(ExchangeRate).where(ExchangeRate.company_id == actor.company_id)
        )
    }
    now = utcnow()
    for entry in entries:
        row = existing.get((entry.currency, entry.valid_from))
        if row is None:
            row = ExchangeRate(
                company_id=actor.company_id, currency=entry.currency, valid_from=entry.valid_from
            )
            session.add(row)
        row.rate = entry.rate
        row.updated_at = now
        row.updated_by_user_id = actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "exchange_rates.saved",
        "exchange_rates",
        actor.company_id,
        rates=[f"{e.currency}@{e.valid_from.isoformat()}={e.rate}" for e in entries],
    )
    return len(entries)


def delete_rate(session: Session, actor: Actor, rate_id: uuid.UUID) -> None:
    actor.require_role(Role.ADMIN, "change exchange rates")
    row = session.scalars(
        select(ExchangeRate).where(
            ExchangeRate.id == rate_id, ExchangeRate.company_id == actor.company_id
        )
    ).first()
    if row is None:
        raise not_found("exchange rate")
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor,
        "exchange_rates.deleted",
        "exchange_rates",
        actor.company_id,
        rate=f"{row.currency}@{row.valid_from.isoformat()}",
    )
