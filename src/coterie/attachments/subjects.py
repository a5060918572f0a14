"""What a file can be attached to: the registry of subject kinds.

An attachment belongs to one *subject*: a shared record of any kind (registered by
`record_subjects`, one subject kind per record kind, named like the kind: "opportunity"), a
comment on a record ("comment", registered by `coterie.activity` at start-up through
`coterie.wiring`), or whatever another domain registers the same way (a fund claim,
"fund_claim").

The contract a domain fulfils to register a subject kind (`register(SubjectKind(...))`, once,
from `coterie.wiring.install`):

- `name`: a short stable key (at most 40 characters), stored in `attachments.subject_kind`.
- `label`: what a person calls one ("comment", "fund claim"), used in messages.
- `readable(session, principal, subject_id) -> Subject | None`: the subject if the principal
  may see it *now*, read through the gate (`coterie.authz.gate`); None otherwise. Hidden and
  nonexistent must look the same: both None, and the caller answers 404. The files of a subject
  are visible exactly to those who may see the subject, so this one check decides who sees them.
- `attachable(session, actor, subject_id) -> Subject`: the subject if the actor may attach files
  to it; raise `kit.problems.not_found` when the actor may not see it, `forbidden` (403) when it
  may see but not attach (e.g. read-only access to the record).
- `Subject.record_kind` / `record_id`: the shared record the subject hangs on. Every attachment
  row names that record, so the gate (and row-level security on PostgreSQL) filters attachments
  by the record's grants before the subject's own check runs, and the files of a record vanish
  for a company the moment it leaves the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.authz.principal import Principal
from coterie.kit.problems import not_found

NAME_LENGTH = 40


@dataclass(frozen=True)
class Subject:
    """One thing a file hangs on, as a check of its kind found it."""

    kind: str
    id: uuid.UUID
    record_kind: str
    record_id: uuid.UUID


@dataclass(frozen=True)
class SubjectRef:
    """A subject named by a caller (kind and id), not yet checked."""

    kind: str
    id: uuid.UUID


Readable = Callable[[Session, Principal, uuid.UUID], Subject | None]
Attachable = Callable[[Session, Actor, uuid.UUID], Subject]


@dataclass(frozen=True)
class SubjectKind:
    """A kind of subject and the two checks that decide who sees and who attaches."""

    name: str
    label: str
    readable: Readable
    attachable: Attachable


_kinds: dict[str, SubjectKind] = {}


def register(kind: SubjectKind) -> None:
    """Register `kind` (again under the same name: the last registration wins)."""
    if not kind.name or len(kind.name) > NAME_LENGTH:
        raise ValueError(f"a subject kind's name has 1 to {NAME_LENGTH} characters: {kind.name!r}")
    _kinds[kind.name] = kind


def registered() -> dict[str, SubjectKind]:
    """Every registered subject kind by name."""
    return dict(_kinds)


def kind_named(name: str) -> SubjectKind:
    """The registered kind called `name`; 404 for an unknown one (nothing to attach to)."""
    found = _kinds.get(name)
    if found is None:
        raise not_found("subject")
    return found


def readable(session: Session, principal: Principal, ref: SubjectRef) -> Subject:
    """The subject if the principal may see it now; 404 otherwise (hidden = nonexistent)."""
    kind = kind_named(ref.kind)
    subject = kind.readable(session, principal, ref.id)
    if subject is None:
        raise not_found(kind.label)
    return subject


def attachable(session: Session, actor: Actor, ref: SubjectRef) -> Subject:
    """The subject if the actor may attach files to it (404 hidden, 403 read-only)."""
    return kind_named(ref.kind).attachable(session, actor, ref.id)
