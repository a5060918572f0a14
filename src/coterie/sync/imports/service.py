"""Spreadsheet import use cases: upload, read, map, start a dry run or the run, the refused
rows as CSV. An import is its uploader's alone: anyone else gets 404. Nothing here commits,
except what `start` leaves to the caller (a small run is done before it returns)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.db import utcnow
from coterie.fields import templates
from coterie.kit import jobs
from coterie.kit.problems import Problem, invalid, not_found
from coterie.kit.spreadsheets import csv_cell
from coterie.models import SpreadsheetImport
from coterie.models.imports import UNFINISHED, ImportMode, ImportStatus
from coterie.sync.imports import reader, runner, targets
from coterie.sync.imports.schemas import (
    ColumnOut,
    Counts,
    ImportOut,
    RowResultOut,
    TargetOut,
)

KINDS = ("account", "lead", "opportunity")
PREVIEW_ROWS = 5
SHOWN = 20


def check_kind(kind: str, path: str = "query.kind") -> str:
    if kind not in KINDS:
        raise invalid(path, f"must be one of {', '.join(KINDS)}")
    return kind


def upload(
    session: Session,
    settings: Settings,
    actor: Actor,
    kind: str,
    filename: str,
    content: bytes,
) -> SpreadsheetImport:
    """Read the file (caps, encodings, delimiters) and keep its cells with a guessed mapping."""
    check_kind(kind)
    name = (filename or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    sheet = reader.read(
        name, content, max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows
    )
    available = targets.targets(kind, templates.load(session, actor.company_id, kind))
    row = SpreadsheetImport(
        company_id=actor.company_id,
        user_id=actor.user_id,
        kind=kind,
        filename=name,
        file_format=sheet.file_format,
        headers=sheet.headers,
        rows=sheet.rows,
        mapping=targets.guess(sheet.headers, available, kind),
        status=ImportStatus.READY.value,
        mode=ImportMode.DRY_RUN.value,
        attempt=0,
        rows_done=0,
        results=[],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def get(session: Session, actor: Actor, import_id: uuid.UUID) -> SpreadsheetImport:
    """One of the actor's imports; anyone else's answers 404."""
    row = session.get(SpreadsheetImport, import_id)
    if row is None or row.user_id != actor.user_id or row.company_id != actor.company_id:
        raise not_found("import")
    return row


def list_for(session: Session, actor: Actor, kind: str | None = None) -> list[SpreadsheetImport]:
    statement = select(SpreadsheetImport).where(
        SpreadsheetImport.company_id == actor.company_id,
        SpreadsheetImport.user_id == actor.user_id,
    )
    if kind is not None:
        statement = statement.where(SpreadsheetImport.kind == check_kind(kind))
    return list(session.scalars(statement.order_by(SpreadsheetImport.id.desc()).limit(SHOWN)))


def _busy(row: SpreadsheetImport) -> None:
    if row.status in UNFINISHED:
        raise Problem(
            409, "import-running", "Import running", "This import is running: wait for it."
        )
    if row.status == ImportStatus.DONE.value:
        raise Problem(
            409,
            "import-done",
            "Already imported",
            "This file was imported. To import it again, upload it again: rows already "
            "imported are recognised and updated or left alone.",
        )


def set_mapping(
    session: Session, actor: Actor, import_id: uuid.UUID, columns: list[str | None]
) -> SpreadsheetImport:
    """Which field each column fills (422 with the column's path when one cannot)."""
    row = get(session, actor, import_id)
    _busy(row)
    available = {
        t.key
        for t in targets.targets(row.kind, templates.load(session, actor.company_id, row.kind))
    }
    if len(columns) != len(row.headers):
        raise invalid("body.columns", f"must have one entry per column ({len(row.headers)})")
    seen: dict[str, int] = {}
    for index, key in enumerate(columns):
        if key is None or key == "":
            continue
        path = f"body.columns[{index}]"
        if key not in available:
            raise invalid(path, f"{key!r} is not a field you can import into")
        if key in seen:
            raise invalid(path, f"{row.headers[seen[key]]!r} already fills this field")
        seen[key] = index
    row.mapping = [key or None for key in columns]
    if row.status in (ImportStatus.CHECKED.value, ImportStatus.FAILED.value):
        row.status = ImportStatus.READY.value  # the last dry run was of another mapping
        row.results = []
        row.rows_done = 0
    return row


def start(
    session: Session, settings: Settings, actor: Actor, import_id: uuid.UUID, mode: ImportMode
) -> SpreadsheetImport:
    """Start a dry run or the run: done before returning when the file is small, else queued
    for the worker once the caller commits."""
    row = get(session, actor, import_id)
    _busy(row)
    if targets.TITLE not in row.mapping:
        raise invalid("body.columns", "one column must fill the title (the record's name)")
    row.mode = mode.value
    row.results = []
    row.rows_done = 0
    row.error = None
    row.finished_at = None
    row.started_at = utcnow()
    if len(row.rows) > settings.import_background_rows:
        row.status = ImportStatus.QUEUED.value
        jobs.after_commit(session, runner.RUN_TASK, str(row.id))
        return row
    row.status = ImportStatus.RUNNING.value
    runner.run_rows(session, actor, row, len(row.rows))
    runner.finish(session, actor, row)
    return row


def refused_csv(row: SpreadsheetImport) -> str:
    """The refused rows with their reasons, then the file's own columns (safe from formulas)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Row", "Column", "Reason", "Candidates", *row.headers])
    for result in row.results:
        if result["action"] != runner.REFUSED:
            continue
        candidates = "; ".join(
            f"{c['title']} ({c['customer_name'] or c['customer_domain'] or ''}) id {c['record_id']}"
            for c in result.get("candidates", [])
        )
        cells = row.rows[result["row"] - runner.FIRST_ROW]
        writer.writerow(
            [
                result["row"],
                csv_cell(result.get("column") or ""),
                csv_cell(result["reason"]),
                csv_cell(candidates),
                *(csv_cell(cell) for cell in cells),
            ]
        )
    return out.getvalue()


def to_out(session: Session, actor: Actor, row: SpreadsheetImport, api: bool = True) -> ImportOut:
    available = targets.targets(row.kind, templates.load(session, actor.company_id, row.kind))
    results = [RowResultOut.model_validate(r) for r in row.results]
    counted = runner.counts(row.results)
    prefix = "/api/v1/imports" if api else "/imports"
    return ImportOut(
        id=row.id,
        kind=row.kind,
        filename=row.filename,
        file_format=row.file_format,
        status=row.status,
        mode=row.mode,
        progress=row.progress,
        rows_total=len(row.rows),
        rows_done=row.rows_done,
        columns=[
            ColumnOut(index=i, header=h, target=row.mapping[i] if i < len(row.mapping) else None)
            for i, h in enumerate(row.headers)
        ],
        targets=[
            TargetOut(key=t.key, label=t.label, group=t.group, required=t.required)
            for t in available
        ],
        preview=row.rows[:PREVIEW_ROWS],
        counts=Counts(**counted),
        results=results,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        refused_rows_url=f"{prefix}/{row.id}/refused.csv" if counted["refused"] else None,
    )


def refused_name(row: SpreadsheetImport) -> str:
    stem = row.filename.rsplit(".", 1)[0] or "import"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem)[:80]
    return f"{safe}-refused-rows.csv"


def summary(row: SpreadsheetImport) -> dict[str, Any]:
    return runner.counts(row.results)
