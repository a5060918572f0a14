"""Building a company export in the background (the worker's `exports.build` task).

`build_export` is idempotent: a finished (done, failed, expired) export is left alone; a queued
one, or a "running" one whose build died, is claimed by raising its `attempt` (one conditional
UPDATE), and a build whose attempt is no longer the current one stops at its next progress
update without touching the row or the file. Progress is written in short transactions of their
own; the zip is read in one read transaction, as the requesting admin (`contents`), written
to a partial file and renamed into place in the transaction that marks the export done and
queues the e-mail to the requester.
"""

from __future__ import annotations

import logging
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from coterie.auth.principal import Actor, background_actor
from coterie.company_export import contents, links, storage, zipfile_writer
from coterie.config import Settings
from coterie.db import session_scope, utcnow
from coterie.kit.words import file_size
from coterie.mail import delivery, messages
from coterie.models import Company, CompanyExport, User
from coterie.models.company_export import UNFINISHED, ExportStatus
from coterie.models.vocabulary import Role

log = logging.getLogger(__name__)
FAILED_UNEXPECTEDLY = (
    "The export could not be built. Ask for a new one; if it fails again, tell your Coterie "
    "operator (the server log has the details)."
)


class JobContext(Protocol):
    """What a worker task receives (`coterie.worker.queue.Jobs`)."""

    settings: Settings
    session_factory: sessionmaker[Session]


def build_task(context: JobContext, export_id: str) -> None:
    """The worker's `exports.build`: build the export `export_id`."""
    try:
        parsed = uuid.UUID(export_id)
    except ValueError:
        log.warning("exports.build: %r is no export id", export_id)
        return
    build_export(context.settings, context.session_factory, parsed)


class _SupersededError(Exception):
    """Another build of the same export took over."""


class _RefusedError(Exception):
    """The export must not be built; the message says why (shown to the company's admins)."""


def build_export(
    settings: Settings, session_factory: sessionmaker[Session], export_id: uuid.UUID
) -> None:
    """Build the export `export_id` (see the module doc); never raises for a failed build (the
    row says failed, with the reason)."""
    steps = contents.steps()
    claimed = _claim(session_factory, export_id, len(steps) + 1)
    if claimed is None:
        return
    company_id, attempt = claimed
    partial = storage.partial_path(settings, company_id, export_id, attempt)
    try:
        counts = _write(session_factory, export_id, attempt, partial, steps)
        _finish(settings, session_factory, export_id, attempt, partial, counts)
    except _SupersededError:
        partial.unlink(missing_ok=True)
    except _RefusedError as exc:
        partial.unlink(missing_ok=True)
        _fail(session_factory, export_id, attempt, str(exc))
    except Exception:
        log.exception("company export %s failed", export_id)
        partial.unlink(missing_ok=True)
        _fail(session_factory, export_id, attempt, FAILED_UNEXPECTEDLY)


def _claim(
    factory: sessionmaker[Session], export_id: uuid.UUID, total: int
) -> tuple[uuid.UUID, int] | None:
    with session_scope(factory) as session:
        row = session.get(CompanyExport, export_id)
        if row is None or row.status not in UNFINISHED:
            return None
        claimed = session.execute(
            update(CompanyExport)
            .where(
                CompanyExport.id == export_id,
                CompanyExport.attempt == row.attempt,
                CompanyExport.status.in_(UNFINISHED),
            )
            .values(
                status=ExportStatus.RUNNING.value,
                attempt=row.attempt + 1,
                started_at=utcnow(),
                steps_done=0,
                steps_total=total,
                error=None,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return row.company_id, row.attempt + 1


def _progress(
    factory: sessionmaker[Session], export_id: uuid.UUID, attempt: int, done: int
) -> None:
    with session_scope(factory) as session:
        result = session.execute(
            update(CompanyExport)
            .where(
                CompanyExport.id == export_id,
                CompanyExport.attempt == attempt,
                CompanyExport.status == ExportStatus.RUNNING.value,
            )
            .values(steps_done=done)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise _SupersededError


def _reader_actor(session: Session, row: CompanyExport) -> Actor:
    """The requesting admin, as the export reads: still an active admin of the company, with
    "hide private fields" off (the company's private values are its own data)."""
    user = session.get(User, row.requested_by_user_id) if row.requested_by_user_id else None
    if (
        user is None
        or not user.is_active
        or user.company_id != row.company_id
        or user.role != Role.ADMIN.value
    ):
        raise _RefusedError(
            "The admin who asked for this export no longer is one: it was not built. Another "
            "admin can ask for a new one."
        )
    return background_actor(session, user, "export", show_private=True)


def _write(
    factory: sessionmaker[Session],
    export_id: uuid.UUID,
    attempt: int,
    partial: Path,
    steps: list[contents.Step],
) -> dict[str, int]:
    partial.parent.mkdir(parents=True, exist_ok=True)
    session = factory()
    try:
        if session.get_bind().dialect.name == "postgresql":
            # one snapshot for the whole zip: counts and rows agree across files
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        row = session.get(CompanyExport, export_id)
        if row is None:
            raise _SupersededError
        reader = contents.Reader(session, _reader_actor(session, row))
        counts: dict[str, int] = {}
        files: list[str] = []
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for index, step in enumerate(steps, start=1):
                counts.update(step.write(reader, archive))
                _progress(factory, export_id, attempt, index)
            files = [info.filename for info in archive.infolist()]
            manifest = _manifest(session, row, reader.actor, counts, files)
            zipfile_writer.write_document(archive, "manifest.json", manifest)
        return counts
    finally:
        session.rollback()
        session.close()


def _manifest(
    session: Session,
    row: CompanyExport,
    actor: Actor,
    counts: dict[str, int],
    files: list[str],
) -> dict[str, Any]:
    company = session.get(Company, row.company_id)
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return {
        "format": "coterie-company-export/1",
        "export_id": str(row.id),
        "company": {
            "id": str(row.company_id),
            "name": company.name if company else "",
            "domain": company.domain if company else "",
        },
        "requested_by": {
            "id": str(actor.user_id),
            "name": actor.user.name,
            "email": actor.user.email,
        },
        "requested_at": row.created_at.isoformat(),
        "generated_at": utcnow().isoformat(),
        "schema_revision": revision,
        "counts": counts,
        "files": files,
        "notes": (
            "Read as the company: its own records and spaces, and of partners' spaces only the "
            "fields they share with the company. JSON arrays; CSV is RFC 4180, UTF-8, and a "
            "text cell that a spreadsheet would run as a formula starts with a quote (')."
        ),
    }


def _human_datetime(value: Any) -> str:
    return f"{value.day} {value:%b %Y, %H:%M}"


def _finish(
    settings: Settings,
    factory: sessionmaker[Session],
    export_id: uuid.UUID,
    attempt: int,
    partial: Path,
    counts: dict[str, int],
) -> None:
    with session_scope(factory) as session:
        row = session.get(CompanyExport, export_id, with_for_update=True)
        if row is None or row.attempt != attempt or row.status != ExportStatus.RUNNING.value:
            raise _SupersededError
        now = utcnow()
        relative = storage.relative_path(row.company_id, row.id)
        final = storage.absolute(settings, relative)
        size = partial.stat().st_size
        row.status = ExportStatus.DONE.value
        row.file_path = relative
        row.size_bytes = size
        row.counts = counts
        row.steps_done = row.steps_total
        row.finished_at = now
        row.expires_at = now + timedelta(hours=settings.export_ttl_hours)
        requester = (
            session.get(User, row.requested_by_user_id) if row.requested_by_user_id else None
        )
        company = session.get(Company, row.company_id)
        if requester is not None and company is not None:
            delivery.queue(
                session,
                messages.company_export_ready(
                    requester.email,
                    requester.name,
                    company.name,
                    links.page_url(settings, row.id),
                    _human_datetime(row.expires_at),
                    file_size(size),
                ),
                topic="company_export",
                company_id=row.company_id,
                key=f"company_export:{row.id}",
            )
        session.flush()
        partial.replace(final)  # the row is locked (written) until the commit that follows


def _fail(factory: sessionmaker[Session], export_id: uuid.UUID, attempt: int, reason: str) -> None:
    with session_scope(factory) as session:
        session.execute(
            update(CompanyExport)
            .where(CompanyExport.id == export_id, CompanyExport.attempt == attempt)
            .values(status=ExportStatus.FAILED.value, error=reason, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
