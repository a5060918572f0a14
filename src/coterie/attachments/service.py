"""The use cases of attachments: attach, list, read, download and delete, through the gate.

Other domains call these with stable names (docs/attachments.md):

- `attach(session, actor, subject, upload, settings) -> Attachment`: checks the subject is
  attachable by the actor (404 hidden, 403 read-only), measures the upload against
  `attachments_max_bytes` (413), sniffs its type (422 `attachment-type-not-allowed`), scans it
  (422 `attachment-infected`, 503 when the scanner fails), stores it under a new key, adds the
  row and an audit entry. Does not commit. Nothing is stored when any check refuses.
- `list_for(session, principal, subject, limit=, cursor=) -> (rows, next_cursor)`: the files
  of a subject the principal may see (404 when it may not), oldest first.
- `get`, `open_content`: one attachment (and its content), 404 unless the principal may see its
  subject now. `delete`: by a user who may edit the record, of the uploader's company or the
  record's owner company; the caller removes the content after commit (`remove_content`;
  `committed.attach` / `committed.delete` do both steps for a request's whole write).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie import audit
from coterie.attachments import sniffing, subjects
from coterie.attachments.filenames import sanitise
from coterie.attachments.scanning import Infected, scanner_for
from coterie.attachments.schemas import AttachmentOut, AttachmentRef, Uploader
from coterie.attachments.storage import CHUNK, StoredFileMissingError, store_for
from coterie.attachments.subjects import Subject, SubjectRef
from coterie.auth.principal import Actor
from coterie.authz import gate, rls
from coterie.authz.principal import Principal
from coterie.config import Settings
from coterie.db import new_id, utcnow
from coterie.fields.kinds import KINDS
from coterie.kit import pagination
from coterie.kit.pagination import DEFAULT_LIMIT, SortKey
from coterie.kit.problems import Problem, forbidden, invalid, not_found
from coterie.kit.words import file_size
from coterie.models import Record, RecordAccess, User
from coterie.models.attachment import Attachment
from coterie.network.companies import names as company_names

log = logging.getLogger(__name__)
# ids are time-ordered UUIDv7s: by id is by upload time, and a cursor is one id
SORT = (SortKey(Attachment.id, is_uuid=True),)


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the uploader gave and a seekable binary stream."""

    filename: str
    stream: IO[bytes]


def download_url(attachment_id: uuid.UUID) -> str:
    """Where the API serves an attachment's content."""
    return f"/api/v1/attachments/{attachment_id}/content"


def too_large(max_bytes: int) -> Problem:
    return Problem(
        413,
        "attachment-too-large",
        "File too large",
        f"The file is larger than the limit of {file_size(max_bytes)}; nothing was stored.",
        errors=[{"path": "file", "message": "too large", "type": "attachment-too-large"}],
        max_bytes=max_bytes,
    )


def _measure(stream: IO[bytes], max_bytes: int) -> tuple[int, str]:
    """Size and SHA-256 of the stream, read in chunks; 413 as soon as it passes `max_bytes`."""
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        digest.update(chunk)
    stream.seek(0)
    return size, digest.hexdigest()


def _check_content(settings: Settings, upload: Upload, filename: str) -> str:
    sniffed = sniffing.sniff(upload.stream, filename)
    if sniffed.content_type is None:
        raise invalid(
            "file", f"{sniffed.refusal}; nothing was stored", slug="attachment-type-not-allowed"
        )
    scanner = scanner_for(settings)
    if scanner is not None:
        try:
            verdict = scanner.scan(upload.stream)
        except Exception as error:
            log.exception("attachment scanner failed")
            raise Problem(
                503,
                "attachment-scanner-unavailable",
                "Scanner unavailable",
                "The virus scanner could not check the file, so it was not stored. Try again "
                "later.",
            ) from error
        finally:
            upload.stream.seek(0)
        if isinstance(verdict, Infected):
            raise invalid(
                "file",
                f"the virus scanner refused the file ({verdict.reason}); nothing was stored",
                slug="attachment-infected",
            )
    return sniffed.content_type


def attach(
    session: Session, actor: Actor, subject: SubjectRef, upload: Upload, settings: Settings
) -> Attachment:
    """Store `upload` as a file of `subject` (see the module docstring for every refusal)."""
    found = subjects.attachable(session, actor, subject)
    filename = sanitise(upload.filename)
    if not filename:
        raise invalid("file", "choose a file with a name", slug="attachment-missing")
    size, sha256 = _measure(upload.stream, settings.attachments_max_bytes)
    if size == 0:
        raise invalid("file", "the file is empty; nothing was stored", slug="attachment-empty")
    content_type = _check_content(settings, upload, filename)
    attachment_id = new_id()
    key = attachment_id.hex
    store_for(settings).put(key, upload.stream, content_type=content_type)
    row = Attachment(
        id=attachment_id,
        subject_kind=found.kind,
        subject_id=found.id,
        record_kind=found.record_kind,
        record_id=found.record_id,
        company_id=actor.company_id,
        uploaded_by_user_id=actor.user_id,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=sha256,
        storage_key=key,
        created_at=utcnow(),
    )
    session.add(row)
    audit.record(
        session,
        actor,
        "attachment.uploaded",
        "attachment",
        attachment_id,
        on_kind=found.kind,
        on_id=str(found.id),
        record_id=str(found.record_id),
        filename=filename,
        size=size,
        sha256=sha256,
        content_type=content_type,
    )
    session.flush()
    return row


def _on_visible_records(principal: Principal) -> ColumnElement[bool]:
    """The attachment's record is one the principal may read now (whatever its kind)."""
    return or_(
        *(
            and_(
                Attachment.record_kind == kind.value,
                Attachment.record_id.in_(gate.visible_ids(principal, kind)),
            )
            for kind in KINDS
        )
    )


def _visible(principal: Principal) -> Select[Attachment]:
    return (
        select(Attachment)
        .where(_on_visible_records(principal))
        .execution_options(**rls.as_company(principal.company_id))
    )


def list_for(
    session: Session,
    principal: Principal,
    subject: SubjectRef,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> tuple[list[Attachment], str | None]:
    """A page of the subject's files, oldest first; 404 when the subject is hidden."""
    found = subjects.readable(session, principal, subject)
    statement = _visible(principal).where(
        Attachment.subject_kind == found.kind, Attachment.subject_id == found.id
    )
    return pagination.paginate(
        session,
        statement,
        SORT,
        limit=limit,
        cursor=cursor,
        key_of=lambda row: (row.id,),
    )


def for_subjects(
    session: Session, principal: Principal, readable: Iterable[Subject]
) -> dict[uuid.UUID, list[Attachment]]:
    """The files of subjects the caller has already checked as readable (e.g. the comments of
    a timeline page), by subject id, oldest first."""
    wanted = {(s.kind, s.id) for s in readable}
    if not wanted:
        return {}
    statement = (
        _visible(principal)
        .where(
            or_(
                *(
                    and_(Attachment.subject_kind == kind, Attachment.subject_id == sid)
                    for kind, sid in wanted
                )
            )
        )
        .order_by(Attachment.id)
    )
    found: dict[uuid.UUID, list[Attachment]] = {}
    for row in session.scalars(statement):
        found.setdefault(row.subject_id, []).append(row)
    return found


def refs_for(
    session: Session, principal: Principal, readable: Iterable[Subject]
) -> dict[uuid.UUID, list[AttachmentRef]]:
    """`for_subjects` as the short form other resources embed (a comment's files)."""
    return {
        subject_id: [
            AttachmentRef(
                id=r.id,
                filename=r.filename,
                content_type=r.content_type,
                size=r.size,
                download_url=download_url(r.id),
            )
            for r in rows
        ]
        for subject_id, rows in for_subjects(session, principal, readable).items()
    }


def uploaded_by_company(
    session: Session, principal: Principal, *, after: uuid.UUID | None, limit: int
) -> list[Attachment]:
    """The principal's company's own uploads on records it may still see, by id (the company
    data export lists their metadata)."""
    statement = _visible(principal).where(Attachment.company_id == principal.company_id)
    if after is not None:
        statement = statement.where(Attachment.id > after)
    return list(session.scalars(statement.order_by(Attachment.id).limit(limit)))


def get(session: Session, principal: Principal, attachment_id: uuid.UUID) -> Attachment:
    """The attachment if the principal may see its subject now; 404 otherwise."""
    row = session.scalars(_visible(principal).where(Attachment.id == attachment_id)).first()
    if row is None:
        raise not_found("attachment")
    kind = subjects.registered().get(row.subject_kind)
    if kind is None or kind.readable(session, principal, row.subject_id) is None:
        raise not_found("attachment")
    return row


def open_content(
    session: Session, principal: Principal, attachment_id: uuid.UUID, settings: Settings
) -> tuple[Attachment, Iterator[bytes]]:
    """The attachment and its content in chunks (404 as `get`; 410 if the store lost it)."""
    row = get(session, principal, attachment_id)
    try:
        chunks = store_for(settings).chunks(row.storage_key)
    except StoredFileMissingError as missing:
        raise Problem(
            410, "attachment-content-gone", "Gone", "The file's content is no longer stored."
        ) from missing
    return row, chunks


def may_delete(session: Session, actor: Actor, row: Attachment) -> bool:
    """The actor may edit the record and is of the uploader's company or the record's owner."""
    try:
        record = gate.require_edit(session, actor.principal, row.record_kind, row.record_id)
    except Problem:
        return False
    return actor.company_id in (row.company_id, record.owner_company_id)


def delete(session: Session, actor: Actor, attachment_id: uuid.UUID) -> Attachment:
    """Remove the attachment's row (the caller removes its content once this commits)."""
    row = get(session, actor.principal, attachment_id)
    if not may_delete(session, actor, row):
        raise forbidden(
            "Only the company that uploaded a file, or the record's owner, can delete it."
        )
    session.delete(row)
    audit.record(
        session,
        actor,
        "attachment.deleted",
        "attachment",
        row.id,
        on_kind=row.subject_kind,
        on_id=str(row.subject_id),
        record_id=str(row.record_id),
        filename=row.filename,
        sha256=row.sha256,
    )
    session.flush()
    return row


def remove_content(settings: Settings, storage_key: str) -> None:
    """Remove stored content after its row is gone (or was never committed); logs failures."""
    try:
        store_for(settings).delete(storage_key)
    except Exception:
        log.exception("could not remove attachment content %s", storage_key)


def present(session: Session, actor: Actor, rows: Sequence[Attachment]) -> list[AttachmentOut]:
    """Metadata of rows the actor was allowed to read, with who uploaded them."""
    if not rows:
        return []
    people = {
        r[0]: r[1]
        for r in session.execute(
            select(User.id, User.name).where(
                User.id.in_({r.uploaded_by_user_id for r in rows if r.uploaded_by_user_id})
            )
        )
    }
    companies = company_names(session, (r.company_id for r in rows))
    owners = _owners(session, actor.principal, rows)
    editable = _editable(session, actor.principal, rows)
    return [
        AttachmentOut(
            id=r.id,
            subject_kind=r.subject_kind,
            subject_id=r.subject_id,
            record_kind=r.record_kind,
            record_id=r.record_id,
            filename=r.filename,
            content_type=r.content_type,
            size=r.size,
            sha256=r.sha256,
            uploaded_by=Uploader(
                user_id=r.uploaded_by_user_id if r.uploaded_by_user_id in people else None,
                name=people.get(r.uploaded_by_user_id, "A former user")
                if r.uploaded_by_user_id
                else "A former user",
                company_id=r.company_id,
                company_name=companies.get(r.company_id, ""),
            ),
            created_at=r.created_at,
            is_mine=r.company_id == actor.company_id,
            can_delete=r.record_id in editable
            and actor.company_id in (r.company_id, owners.get(r.record_id)),
            download_url=download_url(r.id),
        )
        for r in rows
    ]


def _owners(
    session: Session, principal: Principal, rows: Sequence[Attachment]
) -> dict[uuid.UUID, uuid.UUID]:
    owners: dict[uuid.UUID, uuid.UUID] = {}
    for kind in {r.record_kind for r in rows}:
        ids = {r.record_id for r in rows if r.record_kind == kind}
        for record in session.scalars(gate.visible(principal, kind).where(Record.id.in_(ids))):
            owners[record.id] = record.owner_company_id
    return owners


def _editable(session: Session, principal: Principal, rows: Sequence[Attachment]) -> set[uuid.UUID]:
    editable: set[uuid.UUID] = set()
    for kind in {r.record_kind for r in rows}:
        ids = {r.record_id for r in rows if r.record_kind == kind}
        statement = gate.visible_ids(principal, kind).where(
            RecordAccess.record_id.in_(ids), RecordAccess.can_edit.is_(True)
        )
        editable.update(session.scalars(statement))
    return editable
