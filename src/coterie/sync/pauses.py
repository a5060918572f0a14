"""A connection told to wait by its CRM: a rate limit (429 with Retry-After, Salesforce's
REQUEST_LIMIT_EXCEEDED) pauses every run and push of the connection until the time it gives;
a spent daily budget until the next UTC midnight. Shown on the status page."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from coterie.db import utcnow, writing_session
from coterie.models.sync import SyncConnection
from coterie.sync.connectors.base import Connector, RateLimited

DEFAULT_WAIT = timedelta(seconds=60)


def until(exc: RateLimited, now: datetime) -> datetime:
    if exc.daily:
        return datetime.combine(now.date() + timedelta(days=1), time(0, 5), tzinfo=now.tzinfo)
    if exc.retry_after is not None:
        return now + timedelta(seconds=max(exc.retry_after, 1))
    return now + DEFAULT_WAIT


def pause_for(
    factory: sessionmaker[Session], connection_id: uuid.UUID, exc: RateLimited
) -> datetime:
    now = utcnow()
    resume = until(exc, now)
    with writing_session(factory) as session:
        session.execute(
            update(SyncConnection)
            .where(SyncConnection.id == connection_id)
            .values(paused_until=resume, last_error=f"The CRM asked us to wait: {exc}")
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return resume


def spend(connector: Connector, daily_budget: int | None) -> None:
    """Past the connection's own daily budget of API calls (as the CRM counts them), stop as
    the CRM itself would (RateLimited, daily): the rest of the day's calls are left to the
    company's other integrations. No budget of ours, or a CRM that does not count: nothing."""
    used = connector.budget.used
    if daily_budget is not None and used is not None and used >= daily_budget:
        raise RateLimited(
            f"this connection's daily budget of {daily_budget} API calls is spent ({used} used)",
            daily=True,
        )
