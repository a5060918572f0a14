"""Company exports: ask for one (admins; one at a time per company), list and read them, check
a download, and delete the files of expired ones (the worker's periodic `exports.cleanup`)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from coterie import audit
from coterie.auth.principal import Actor
from coterie.company_export import links, storage
from coterie.company_export.builder import JobContext
from coterie.company_export.schemas import CompanyExportOut, RequestedBy
from coterie.config import Settings
from coterie.db import session_scope, utcnow
from coterie.kit import jobs
from coterie.kit.pagination import SortKey, check_limit, decode_cursor, encode_cursor
from coterie.kit.problems import Problem, not_found
from coterie.models import CompanyExport, User
from coterie.models.company_export import UNFINISHED, ExportStatus
from coterie.models.vocabulary import Role

log = logging.getLogger(__name__)
BUILD_TASK = "exports.build"
# a queued export not started this long after it was asked for lost its wake-up; a running one
# started this long ago lost its worker (a build of the largest company takes minutes)
QUEUED_GRACE = timedelta(minutes=2)
RUNNING_GRACE = timedelta(minutes=30)
CURSOR_KEYS = (SortKey(CompanyExport.id, is_uuid=True),)


def require_admin(actor: Actor) -> None:
    actor.require_role(Role.ADMIN, "export the company's data")


def in_progress(session: Session, company_id: uuid.UUID) -> CompanyExport | None:
    return session.scalar(
        select(CompanyExport).where(
            CompanyExport.company_id == company_id, CompanyExport.status.in_(UNFINISHED)
        )
    )


def _busy(running: CompanyExport) -> Problem:
    return Problem(
        409,
        "export-in-progress",
        "An export is already being built",
        "Your company's data is already being exported: wait for that export to finish (you "
        "will get an e-mail), then ask again if you need a newer one.",
        export_id=str(running.id),
    )


def request(session: Session, actor: Actor) -> CompanyExport:
    """Queue an export of the actor's company (409 while another is queued or running); the
    build starts once the caller's transaction commits."""
    require_admin(actor)
    running = in_progress(session, actor.company_id)
    if running is not None:
        raise _busy(running)
    row = CompanyExport(
        company_id=actor.company_id,
        requested_by_user_id=actor.user_id,
        status=ExportStatus.QUEUED.value,
        attempt=0,
        steps_done=0,
        steps_total=0,
        counts={},
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():  # the one-unfinished index decides a race
            session.add(row)
            session.flush()
    except IntegrityError:
        running = in_progress(session, actor.company_id)
        if running is None:  # pragma: no cover (the other one finished in between)
            raise
        raise _busy(running) from None
    audit.record(session, actor, "company.export_requested", "company_export", row.id)
    jobs.after_commit(session, BUILD_TASK, str(row.id))
    return row


def list_for(
    session: Session, actor: Actor, *, limit: int, cursor: str | None
) -> tuple[list[CompanyExport], str | None]:
    """The company's exports, newest first (admins)."""
    require_admin(actor)
    check_limit(limit)
    statement = select(CompanyExport).where(CompanyExport.company_id == actor.company_id)
    if cursor:
        (before,) = decode_cursor(cursor, CURSOR_KEYS)
        statement = statement.where(CompanyExport.id < before)
    # ids are time-ordered (UUIDv7): newest first is descending id
    rows = list(session.scalars(statement.order_by(CompanyExport.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor([rows[limit - 1].id])


def get(session: Session, actor: Actor, export_id: uuid.UUID) -> CompanyExport:
    """One of the company's exports (admins); another company's answers 404."""
    require_admin(actor)
    row = session.get(CompanyExport, export_id)
    if row is None or row.company_id != actor.company_id:
        raise not_found("export")
    return row


def is_downloadable(row: CompanyExport, now: datetime | None = None) -> bool:
    return (
        row.status == ExportStatus.DONE.value
        and row.expires_at is not None
        and row.expires_at > (now or utcnow())
        and row.file_path is not None
    )


def _gone(detail: str) -> Problem:
    return Problem(410, "export-expired", "Export expired", detail)


def file_to_download(
    session: Session, settings: Settings, actor: Actor, export_id: uuid.UUID, token: str
) -> tuple[Path, str]:
    """The file of a finished export and its download name: the caller is an admin of the
    export's company (else 404), the link's token is this export's (else 400), and the export
    has not expired (else 410). The download is audited: the caller commits."""
    row = get(session, actor, export_id)
    links.check(settings, export_id, token)
    if row.status == ExportStatus.EXPIRED.value or (
        row.status == ExportStatus.DONE.value and not is_downloadable(row)
    ):
        expired = f" on {_human(row.expires_at)} (UTC)" if row.expires_at else ""
        raise _gone(
            f"This export expired{expired} and its file was deleted. Ask for a new one in "
            "Settings, Data export."
        )
    if row.status != ExportStatus.DONE.value or row.file_path is None:
        raise Problem(
            409, "export-not-ready", "Export not ready", "This export is not finished yet."
        )
    path = storage.absolute(settings, row.file_path)
    if not path.is_file():
        raise _gone("This export's file is no longer there. Ask for a new one.")
    # who took the company's data out, and when: in the audit log (the caller commits)
    audit.record(session, actor, "company.export_downloaded", "company_export", row.id)
    created = row.created_at.strftime("%Y-%m-%d")
    return path, storage.download_name(actor.company.domain, row.id, created)


def _human(value: datetime | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y, %H:%M}"


def to_out(session: Session, settings: Settings, row: CompanyExport) -> CompanyExportOut:
    user = session.get(User, row.requested_by_user_id) if row.requested_by_user_id else None
    return CompanyExportOut(
        id=row.id,
        status=ExportStatus(row.status).value,
        progress=row.progress,
        requested_by=RequestedBy(
            user_id=user.id if user else None, name=user.name if user else "A former user"
        ),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        expires_at=row.expires_at,
        size_bytes=row.size_bytes,
        counts=row.counts or {},
        error=row.error,
        download_url=links.api_url(settings, row.id) if is_downloadable(row) else None,
    )


def cleanup_expired(
    settings: Settings, session_factory: sessionmaker[Session], now: datetime | None = None
) -> int:
    """Delete the files of exports past their expiry (marked expired) and partial files no
    build is writing any more; how many exports expired. Idempotent."""
    now = now or utcnow()
    expired = 0
    with session_scope(session_factory) as session:
        due = session.scalars(
            select(CompanyExport).where(
                CompanyExport.status == ExportStatus.DONE.value, CompanyExport.expires_at <= now
            )
        ).all()
        for row in due:
            if row.file_path:
                storage.absolute(settings, row.file_path).unlink(missing_ok=True)
            row.status = ExportStatus.EXPIRED.value
            row.file_path = None
            expired += 1
        _remove_orphaned_partials(session, settings)
    return expired


def _remove_orphaned_partials(session: Session, settings: Settings) -> None:
    folder = settings.data_dir.resolve() / storage.FOLDER
    if not folder.is_dir():
        return
    for partial in folder.glob("*/*.partial"):
        export_part, _, attempt_part = partial.name.removesuffix(".partial").partition(".")
        try:
            row = session.get(CompanyExport, uuid.UUID(export_part))
            attempt = int(attempt_part)
        except ValueError:
            continue
        if row is None or row.status != ExportStatus.RUNNING.value or row.attempt != attempt:
            partial.unlink(missing_ok=True)


def cleanup_task(context: JobContext) -> None:
    """The worker's periodic `exports.cleanup`."""
    count = cleanup_expired(context.settings, context.session_factory)
    if count:
        log.info("deleted the files of %d expired company export(s)", count)


def stuck(session_factory: sessionmaker[Session], now: datetime) -> list[uuid.UUID]:
    """Exports whose build never started (the wake-up was lost) or never finished (its worker
    died): the worker's sweeper queues their build again (a build takes over from an older
    attempt, `builder`)."""
    with session_factory() as session:
        return list(
            session.scalars(
                select(CompanyExport.id).where(
                    or_(
                        and_(
                            CompanyExport.status == ExportStatus.QUEUED.value,
                            CompanyExport.created_at < now - QUEUED_GRACE,
                        ),
                        and_(
                            CompanyExport.status == ExportStatus.RUNNING.value,
                            CompanyExport.started_at < now - RUNNING_GRACE,
                        ),
                    )
                )
            )
        )
