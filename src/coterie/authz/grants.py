"""The grant materializer: keeps `record_access` equal to what the rules say, in the same
transaction as the write that changed access (participant added, accepted, removed, left).

Today every member of an active participant company reads the record (one company-wide row);
company-internal visibility rules will add per-user rows through the same function.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from coterie.authz.guard import GATE
from coterie.authz.principal import COMPANY_WIDE
from coterie.models import Participant, RecordAccess
from coterie.records.kinds import ParticipantStatus


def refresh_record(session: Session, record_id: uuid.UUID, kind: str) -> None:
    """Recompute every grant of one record from its participants."""
    session.flush()
    active = set(
        session.scalars(
            select(Participant.company_id)
            .where(
                Participant.record_id == record_id,
                Participant.status == ParticipantStatus.ACTIVE.value,
            )
            .execution_options(**GATE)
        )
    )
    existing = set(
        session.scalars(
            select(RecordAccess.company_id)
            .where(RecordAccess.record_id == record_id)
            .execution_options(**GATE)
        )
    )
    gone = existing - active
    if gone:
        session.execute(
            delete(RecordAccess).where(
                RecordAccess.record_id == record_id, RecordAccess.company_id.in_(gone)
            )
        )
    new = active - existing
    if new:
        session.execute(
            insert(RecordAccess),
            [
                {
                    "company_id": company_id,
                    "kind": kind,
                    "principal": COMPANY_WIDE,
                    "record_id": record_id,
                    "can_edit": True,
                    "via": "participant",
                }
                for company_id in sorted(new)
            ],
        )
