"""Shared records as subjects: one subject kind per record kind, named like the kind.

Who sees a record's files: whoever the gate lets see the record. Who attaches: a user of a
company actively on the record with edit rights on it (`gate.require_edit`, then the company's
own participation must be active: an invited company that has not accepted cannot).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coterie.attachments import subjects
from coterie.attachments.subjects import Subject, SubjectKind
from coterie.auth.principal import Actor
from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.fields.kinds import KINDS, KindInfo, ParticipantStatus
from coterie.kit.problems import Problem, forbidden


def _subject_kind(info: KindInfo) -> SubjectKind:
    kind = info.kind.value

    def readable(session: Session, principal: Principal, record_id: uuid.UUID) -> Subject | None:
        try:
            gate.check(session, principal, kind, record_id)
        except Problem:
            return None
        return Subject(kind, record_id, kind, record_id)

    def attachable(session: Session, actor: Actor, record_id: uuid.UUID) -> Subject:
        principal = actor.principal
        gate.require_edit(session, principal, kind, record_id)
        _, participant = gate.my_participation(session, principal, kind, record_id)
        if participant.status != ParticipantStatus.ACTIVE:
            raise forbidden("Only a company taking part in the record can attach files to it.")
        return Subject(kind, record_id, kind, record_id)

    return SubjectKind(kind, info.label.lower(), readable, attachable)


def install() -> None:
    """Register every record kind as a subject kind (from `coterie.wiring.install`)."""
    for info in KINDS.values():
        subjects.register(_subject_kind(info))
