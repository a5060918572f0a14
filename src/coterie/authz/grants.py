"""The grant materializer: keeps `record_access` equal to what participants and rules say, in
the same transaction as the write that changed access.

Every active participant company gets one company-wide row per record (what its admins, and all
its members when it has no visibility rules, read); companies in per-user mode also get per-user
rows from their visibility rules (`authz.rules`). `after_write` is the one entry point for record
writes: auto-share first (it may invite or remove companies), then company-wide rows, then
per-user rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from coterie.authz import rls, rules
from coterie.authz.guard import GATE
from coterie.authz.principal import AUTO_SHARE, COMPANY_WIDE, has_rules, per_user_kinds
from coterie.fields.kinds import ParticipantStatus
from coterie.models import Participant, RecordAccess

CHUNK = 5000


def _pairs(rows: Iterable[Any]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    return {(row[0], row[1]) for row in rows}


def refresh_record(session: Session, record_id: uuid.UUID, kind: str) -> None:
    """Recompute the company-wide grants of one record from its participants."""
    refresh_records(session, [record_id], kind)


@rls.unsafe_system_maintenance
def refresh_records(session: Session, record_ids: Sequence[uuid.UUID], kind: str) -> None:
    """Recompute the company-wide grants of many records, set-based (a few queries a chunk).

    A company that is no longer an active participant loses every row of the record, per-user
    rows included."""
    session.flush()
    for start in range(0, len(record_ids), CHUNK):
        chunk = list(record_ids[start : start + CHUNK])
        active = _pairs(
            session.execute(
                select(Participant.record_id, Participant.company_id)
                .where(
                    Participant.record_id.in_(chunk),
                    Participant.status == ParticipantStatus.ACTIVE.value,
                )
                .execution_options(**GATE)
            )
        )
        existing = _pairs(
            session.execute(
                select(RecordAccess.record_id, RecordAccess.company_id)
                .where(RecordAccess.record_id.in_(chunk))
                .distinct()
                .execution_options(**GATE)
            )
        )
        for record_id, company_id in existing - active:
            session.execute(
                delete(RecordAccess).where(
                    RecordAccess.record_id == record_id, RecordAccess.company_id == company_id
                )
            )
        company_wide = _pairs(
            session.execute(
                select(RecordAccess.record_id, RecordAccess.company_id)
                .where(
                    RecordAccess.record_id.in_(chunk),
                    RecordAccess.principal == COMPANY_WIDE,
                )
                .execution_options(**GATE)
            )
        )
        new = sorted(active - company_wide)
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
                    for record_id, company_id in new
                ],
            )


def active_companies(session: Session, record_id: uuid.UUID) -> set[uuid.UUID]:
    return {company_id for _, company_id in active_companies_of(session, [record_id])}


def active_companies_of(
    session: Session, record_ids: Sequence[uuid.UUID]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(record id, company id) of every active participant of many records, a chunk a query."""
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for start in range(0, len(record_ids), CHUNK):
        pairs |= _pairs(
            session.execute(
                select(Participant.record_id, Participant.company_id)
                .where(
                    Participant.record_id.in_(record_ids[start : start + CHUNK]),
                    Participant.status == ParticipantStatus.ACTIVE.value,
                )
                .execution_options(**GATE)
            )
        )
    return pairs


def after_write(
    session: Session,
    record_id: uuid.UUID,
    kind: str,
    *,
    rule_companies: set[uuid.UUID] | None = None,
    acting_user_id: uuid.UUID | None = None,
    participants_changed: bool = True,
) -> None:
    """Bring grants and rule-made participants of one record up to date after a write.

    `rule_companies`: whose rules may have changed their verdict (by default every active
    participant: a change to the shared core can affect anyone's rules; a space write affects
    only its company's, since rules read the core and their owner's own space).
    `participants_changed=False` (a core or space write) skips the company-wide refresh unless
    an auto-share rule invited or withdrew a company.
    """
    session.flush()
    active: set[uuid.UUID] | None = None
    if rule_companies is None:
        with rls.unsafe_system_scope(session):
            active = active_companies(session, record_id)
        rule_companies = active
    for company_id in sorted(rule_companies):
        if has_rules(session, company_id, kind, AUTO_SHARE) and rules.apply_auto_share(
            session, company_id, kind, [record_id], acting_user_id=acting_user_id
        ):
            participants_changed = True
    if participants_changed:
        with rls.unsafe_system_scope(session):
            refresh_record(session, record_id, kind)
            active = active_companies(session, record_id)
        per_user = active
    else:
        # nobody joined or left: only the companies whose rules looked at the change
        per_user = rule_companies if active is None else rule_companies & active
    for company_id in sorted(per_user):
        if kind in per_user_kinds(session, company_id):
            rules.refresh_visibility(session, company_id, kind, [record_id])
