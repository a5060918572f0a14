"""What a record write announces, for the packages above `records` to react to.

`records` never imports its subscribers: `coterie.activity` logs changes and tells people,
`coterie.workflows` guards stages; both subscribe at start-up (`coterie.wiring.install`). Every
event is announced synchronously in the write's session and transaction, at the point of the
write where the subscriber used to be called, so behaviour and statements are unchanged:

- `record_creating`: the record is flushed; the creator's space holds its first values, not yet
  added to the session (a subscriber may still set them: the workflow's first stage).
- `record_created`: the record, its creator's participation and space are written and its grants
  computed (the creator's company sees it), nothing committed.
- `core_changing`: the owner is about to set these core fields (old values still on the record).
- `core_changed`: the core fields are set in memory, nothing flushed yet.
- `space_applied`: `values.apply` just wrote these keys into the space, nothing flushed (the
  ORM's attribute history still holds the old values).
- `space_changed`: a changed space is claimed (version bumped), before search and grants.
- `participant_status`: a company's participation changed (claimed in SQL; `before` is what
  it was, None for a first invitation).
- `notice`: these users are to be told (the subscriber keeps those who may see the record).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.kit.hooks import Hook
from coterie.models import Record, Space


@dataclass(frozen=True)
class RecordCreating:
    session: Session
    actor: Actor
    kind: str
    space: Space
    record: Record


@dataclass(frozen=True)
class RecordCreated:
    session: Session
    actor: Actor
    kind: str
    record: Record
    space: Space


@dataclass(frozen=True)
class CoreChanging:
    session: Session
    actor: Actor
    record: Record
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class CoreChanged:
    session: Session
    actor: Actor
    record: Record
    joint_stage_before: str | None


@dataclass(frozen=True)
class SpaceApplied:
    session: Session
    actor: Actor
    kind: str
    space: Space
    keys: Sequence[str]


@dataclass(frozen=True)
class SpaceChanged:
    session: Session
    actor: Actor
    kind: str
    space: Space
    stage_before: str | None


@dataclass(frozen=True)
class ParticipantStatus:
    session: Session
    actor: Actor
    kind: str
    record_id: uuid.UUID
    company_id: uuid.UUID
    before: str | None
    after: str


@dataclass(frozen=True)
class Notice:
    session: Session
    actor: Actor
    user_ids: Sequence[uuid.UUID]
    event: str
    kind: str
    record_id: uuid.UUID
    subject_id: uuid.UUID | None = None


record_creating: Hook[RecordCreating] = Hook("records.record_creating")
record_created: Hook[RecordCreated] = Hook("records.record_created")
core_changing: Hook[CoreChanging] = Hook("records.core_changing")
core_changed: Hook[CoreChanged] = Hook("records.core_changed")
space_applied: Hook[SpaceApplied] = Hook("records.space_applied")
space_changed: Hook[SpaceChanged] = Hook("records.space_changed")
participant_status: Hook[ParticipantStatus] = Hook("records.participant_status")
notice: Hook[Notice] = Hook("records.notice")
