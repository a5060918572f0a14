"""Is a bench data set what the app itself would have written? Checked through the app's code.

- The gate: `gate.visible` for a company returns exactly the records on which that company is an
  active participant (the viewers, and every company at the smoke scale or a sample otherwise),
  and the viewers see as many records as the generator promised.
- The grants: `grants.refresh_records` over a sample of records changes no `record_access` row.
- The field shares: compiling a sample of companies' templates as `templates.save` does changes
  no `field_shares` row.
- The search index: for that sample of records, `search_entries` holds exactly the rows
  `coterie.records.search` (`core_entries`, `space_entries`) would write.
- The history: for that sample, the last logged status of each invited partner and the last
  logged stage of each space are the current ones.

Every check runs in a transaction that is rolled back.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.dataset import KIND, Landmarks
from coterie.activity.changes import PARTICIPANT_PREFIX
from coterie.authz import gate, grants
from coterie.authz.guard import UNSAFE
from coterie.authz.principal import Principal
from coterie.models import (
    Company,
    FieldShare,
    Participant,
    Record,
    RecordAccess,
    Space,
    Template,
    User,
)
from coterie.models.activity import RecordChange
from coterie.models.search import SearchEntry
from coterie.records import search, templates
from coterie.records.kinds import ParticipantStatus


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class DatasetInconsistentError(RuntimeError):
    """The data set disagrees with the app's own gate, grants or template compilation."""


def _principal(session: Session, company_id: uuid.UUID) -> Principal:
    user_id = session.scalars(select(User.id).where(User.company_id == company_id).limit(1)).one()
    return Principal(company_id=company_id, user_id=user_id, hide_private=False)


def _gate_matches_participants(session: Session, company_id: uuid.UUID) -> tuple[int, int, int]:
    """(records the gate shows, records the company actively participates in, differences)."""
    statement = gate.visible(_principal(session, company_id), KIND).with_only_columns(Record.id)
    shown = set(session.scalars(statement))
    active = set(
        session.scalars(
            select(Participant.record_id)
            .join(Record, Record.id == Participant.record_id)
            .where(
                Participant.company_id == company_id,
                Participant.status == ParticipantStatus.ACTIVE.value,
                Record.kind == KIND,
            )
            .execution_options(**UNSAFE)
        )
    )
    return len(shown), len(active), len(shown ^ active)


def _search_entries(session: Session, record_ids: list[uuid.UUID]) -> Check:
    """The index rows of a sample of records are those `coterie.records.search` would write."""
    types = {
        (company_id, kind): search.custom_types_of(definition)
        for company_id, kind, definition in session.execute(
            select(Template.company_id, Template.kind, Template.definition)
        )
    }
    expected: Counter[tuple[object, ...]] = Counter()
    for record in session.scalars(
        select(Record).where(Record.id.in_(record_ids)).execution_options(**UNSAFE)
    ):
        values = {key: getattr(record, key) for key in search.CORE_FIELDS}
        for entry in search.core_entries(record.id, record.kind, values):
            expected[_entry_key(entry)] += 1
        for space in session.scalars(
            select(Space).where(Space.record_id == record.id).execution_options(**UNSAFE)
        ):
            standard = {key: getattr(space, key) for key in search.STANDARD_TEXT_FIELDS}
            entries = search.space_entries(
                record.id,
                record.kind,
                space.company_id,
                standard,
                space.custom or {},
                types.get((space.company_id, record.kind), {}),
            )
            for entry in entries:
                expected[_entry_key(entry)] += 1
    found: Counter[tuple[object, ...]] = Counter(
        tuple(row)
        for row in session.execute(
            select(
                SearchEntry.record_id,
                SearchEntry.kind,
                SearchEntry.owner_company_id,
                SearchEntry.field_key,
                SearchEntry.content,
                SearchEntry.terms,
            )
            .where(SearchEntry.record_id.in_(record_ids))
            .execution_options(**UNSAFE)
        )
    )
    differences = sum((expected - found).values()) + sum((found - expected).values())
    return Check(
        "search_entries = search.core_entries + space_entries",
        differences == 0 and bool(expected),
        f"{len(record_ids)} records, {sum(expected.values())} index rows, {differences} differ",
    )


def _entry_key(entry: dict[str, object]) -> tuple[object, ...]:
    return tuple(
        entry[key]
        for key in ("record_id", "kind", "owner_company_id", "field_key", "content", "terms")
    )


def _history(session: Session, record_ids: list[uuid.UUID]) -> Check:
    """The change log agrees with the rows it describes, for a sample of records: the last
    logged status of each participant (other than the owner) is its status, and the last
    logged stage of each space is its stage."""
    status = {
        (row.record_id, f"{PARTICIPANT_PREFIX}{row.company_id}"): row.status
        for row in session.execute(
            select(Participant.record_id, Participant.company_id, Participant.status)
            .join(Record, Record.id == Participant.record_id)
            .where(
                Participant.record_id.in_(record_ids),
                Participant.company_id != Record.owner_company_id,
            )
            .execution_options(**UNSAFE)
        )
    }
    stages = {
        (row.record_id, row.company_id): row.stage
        for row in session.execute(
            select(Space.record_id, Space.company_id, Space.stage)
            .where(Space.record_id.in_(record_ids))
            .execution_options(**UNSAFE)
        )
    }
    last: dict[tuple[object, ...], object] = {}
    for row in session.execute(
        select(
            RecordChange.record_id,
            RecordChange.company_id,
            RecordChange.field_key,
            RecordChange.new_value,
        )
        .where(RecordChange.record_id.in_(record_ids))
        .order_by(RecordChange.at, RecordChange.id)
        .execution_options(**UNSAFE)
    ):
        if row.company_id is None:
            last[(row.record_id, row.field_key)] = row.new_value
        elif row.field_key == "stage":
            last[(row.record_id, row.company_id)] = row.new_value
    wrong = sum(1 for key, value in status.items() if last.get(key) != value)
    wrong += sum(
        1 for key, value in last.items() if len(key) == 2 and key in stages and stages[key] != value
    )
    return Check(
        "record_changes = participations and stages",
        wrong == 0 and bool(last),
        f"{len(record_ids)} records, {len(last)} logged values, {len(status)} participations, "
        f"{wrong} disagree",
    )


def verify(
    factory: sessionmaker[Session], landmarks: Landmarks, *, every_company: bool, seed: int = 7
) -> list[Check]:
    """Run the checks; raise `DatasetInconsistentError` when one fails."""
    rng = random.Random(seed)  # noqa: S311 (sampling, not secrets)
    checks: list[Check] = []
    with factory() as session:
        companies = list(session.scalars(select(Company.id).order_by(Company.id)))
        viewers = {
            "large viewer": landmarks.large_company,
            "small viewer": landmarks.small_company,
        }
        for label, company_id in viewers.items():
            shown, active, differences = _gate_matches_participants(session, company_id)
            promised = (
                landmarks.large_visible if label == "large viewer" else landmarks.small_visible
            )
            checks.append(
                Check(
                    f"gate.visible = active participations ({label})",
                    differences == 0 and shown == promised,
                    f"gate {shown}, active participant on {active}, generator promised "
                    f"{promised}, differences {differences}",
                )
            )
        others = [c for c in companies if c not in viewers.values()]
        sample = others if every_company else rng.sample(others, min(10, len(others)))
        mismatched = 0
        for company_id in sample:
            _, _, differences = _gate_matches_participants(session, company_id)
            mismatched += differences > 0
        checks.append(
            Check(
                "gate.visible = active participations (other companies)",
                mismatched == 0,
                f"{len(sample)} companies checked, {mismatched} differ",
            )
        )
        session.rollback()

        # the small viewer's records, a slice of the large viewer's, and a few companies' own
        owners = rng.sample(others, min(5, len(others)))
        record_ids = list(
            session.scalars(
                select(Participant.record_id)
                .where(Participant.company_id == landmarks.small_company)
                .execution_options(**UNSAFE)
            )
        )
        record_ids += session.scalars(
            select(Participant.record_id)
            .where(Participant.company_id == landmarks.large_company)
            .order_by(Participant.record_id)
            .limit(300)
            .execution_options(**UNSAFE)
        )
        owned_rows = session.execute(
            select(Record.id, Record.kind)
            .where(Record.owner_company_id.in_(owners))
            .execution_options(**UNSAFE)
        ).all()
        record_ids += [row.id for row in owned_rows if row.kind == KIND]
        # the index and history checks also cover the owners' leads and plans
        others_sample = [row.id for row in owned_rows if row.kind != KIND]
        grant_rows = (
            select(RecordAccess.company_id, RecordAccess.principal, RecordAccess.record_id)
            .where(RecordAccess.record_id.in_(record_ids))
            .execution_options(**UNSAFE)
        )
        before = set(session.execute(grant_rows))
        grants.refresh_records(session, sorted(set(record_ids)), KIND)
        session.flush()
        after = set(session.execute(grant_rows))
        checks.append(
            Check(
                "record_access = grants.refresh_records",
                before == after,
                f"{len(set(record_ids))} records, {len(before)} grant rows, "
                f"{len(before ^ after)} would change",
            )
        )
        session.rollback()

        changed = 0
        template_sample = [landmarks.large_company, landmarks.small_company]
        template_sample += rng.sample(others, min(20, len(others)))
        for company_id in template_sample:
            rows = select(FieldShare.field_key, FieldShare.audience_company_id).where(
                FieldShare.owner_company_id == company_id, FieldShare.kind == KIND
            )
            before_shares = Counter(session.execute(rows))
            # what templates.save does after validating (a private helper, used read-only here)
            templates._compile_shares(
                session, company_id, templates.load(session, company_id, KIND)
            )
            session.flush()
            changed += Counter(session.execute(rows)) != before_shares
        checks.append(
            Check(
                "field_shares = compiled templates",
                changed == 0,
                f"{len(template_sample)} companies, {changed} differ",
            )
        )
        session.rollback()
        sample_ids = sorted(set(record_ids))[:400] + others_sample[:200]
        checks.append(_search_entries(session, sample_ids))
        checks.append(_history(session, sample_ids))
        session.rollback()
    failed = [c for c in checks if not c.ok]
    if failed:
        raise DatasetInconsistentError(
            "; ".join(f"{check.name}: {check.detail}" for check in failed)
        )
    return checks
