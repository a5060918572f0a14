"""The import pages: upload a file (from the accounts, leads or opportunities list), map its
columns over a preview of the first rows, check it, import it, follow a large run's progress
(the result part refreshes itself with htmx), download the refused rows."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import UploadFile

from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import KINDS, Kind
from coterie.kit.problems import Problem
from coterie.models import SpreadsheetImport
from coterie.models.imports import UNFINISHED, ImportMode, ImportStatus
from coterie.sync.imports import reader, service
from coterie.web import csrf
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import problem_detail
from coterie.web.templating import redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
POLL_SECONDS = 1


def _info(kind: str) -> dict[str, str]:
    info = KINDS[Kind(kind)]
    return {"kind": kind, "plural": info.plural, "label": info.label}


def _page_context(
    session: DB, settings: Settings, actor: Actor, row: SpreadsheetImport
) -> dict[str, object]:
    out = service.to_out(session, actor, row, api=False)
    groups: dict[str, list[tuple[str, str]]] = {}
    for target in out.targets:
        groups.setdefault(target.group, []).append((target.key, target.label))
    labels = {t.key: t.label for t in out.targets}
    return {
        "nav": _info(row.kind)["plural"],
        "info": _info(row.kind),
        "imp": out,
        "groups": groups,
        "labels": labels,
        "busy": row.status in UNFINISHED,
        "editable": row.status not in (*UNFINISHED, ImportStatus.DONE.value),
        "poll_seconds": POLL_SECONDS,
        "background_rows": settings.import_background_rows,
    }


@router.get("/imports/new")
def new_import(
    request: Request, session: DB, actor: PageActor, kind: str = "opportunity"
) -> Response:
    kind = service.check_kind(kind if kind in service.KINDS else "opportunity")
    recent = service.list_for(session, actor, kind)
    return render(
        request,
        "imports/new.html",
        {
            "nav": _info(kind)["plural"],
            "info": _info(kind),
            "recent": recent,
            "counts": {r.id: service.summary(r) for r in recent},
        },
    )


@router.post("/imports")
async def upload(
    request: Request, session: DB, settings: AppSettings, actor: PageActor
) -> Response:
    form = await request.form(max_part_size=settings.import_max_bytes + 1)
    kind = str(form.get("kind") or "")
    back = f"/imports/new?kind={kind if kind in service.KINDS else 'opportunity'}"
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return redirect(request, back, "Choose a CSV or XLSX file to import.", "error")
    content = await upload_file.read(settings.import_max_bytes + 1)
    try:
        if len(content) > settings.import_max_bytes:
            raise reader.too_large(settings.import_max_bytes)
        row = service.upload(session, settings, actor, kind, upload_file.filename, content)
    except Problem as problem:
        session.rollback()
        return redirect(request, back, _upload_message(problem), "error")
    session.commit()
    return redirect(request, f"/imports/{row.id}")


def _upload_message(problem: Problem) -> str:
    detail = problem.detail.removeprefix("file: ")
    if problem.status == 422 and problem.errors:
        return f"This file cannot be imported: it {detail}."
    return detail


@router.get("/imports/{import_id}")
def import_page(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, import_id: str
) -> Response:
    row = service.get(session, actor, parse_id(import_id, "import"))
    return render(request, "imports/page.html", _page_context(session, settings, actor, row))


@router.get("/imports/{import_id}/status")
def import_status(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, import_id: str
) -> Response:
    """The result part alone: what the page's htmx polling swaps in while a run goes on."""
    row = service.get(session, actor, parse_id(import_id, "import"))
    return render(request, "imports/_result.html", _page_context(session, settings, actor, row))


@router.post("/imports/{import_id}")
async def map_and_start(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, import_id: str
) -> Response:
    parsed = parse_id(import_id, "import")
    form = await request.form()
    page = f"/imports/{parsed}"
    row = service.get(session, actor, parsed)
    columns: list[str | None] = [
        str(form.get(f"column_{i}") or "") or None for i in range(len(row.headers))
    ]
    action = str(form.get("action") or "dry_run")
    mode = ImportMode.IMPORT if action == "import" else ImportMode.DRY_RUN
    try:
        service.set_mapping(session, actor, parsed, columns)
        row = service.start(session, settings, actor, parsed, mode)
    except Problem as problem:
        session.rollback()
        return redirect(request, page, _mapping_message(problem, row), "error")
    session.commit()
    return redirect(request, page, _started_message(row))


def _mapping_message(problem: Problem, row: SpreadsheetImport) -> str:
    path = str((problem.errors or [{}])[0].get("path", ""))
    if path.startswith("body.columns["):
        index = int(path.removeprefix("body.columns[").split("]")[0])
        message = str((problem.errors or [{}])[0].get("message", problem.detail))
        return f"Column {row.headers[index]!r}: {message}."
    if path == "body.columns":
        return "Choose which column holds the title (the record's name) before going on."
    return problem_detail(problem)


def _started_message(row: SpreadsheetImport) -> str:
    if row.status in UNFINISHED:
        return "Started: this page follows its progress."
    counted = service.summary(row)
    if row.mode == ImportMode.DRY_RUN.value:
        return (
            f"Checked: {counted['created']} to create, {counted['updated']} to update, "
            f"{counted['unchanged']} unchanged, {counted['refused']} refused. Nothing was "
            "written yet."
        )
    return (
        f"Imported: {counted['created']} created, {counted['updated']} updated, "
        f"{counted['unchanged']} unchanged, {counted['refused']} refused."
    )


@router.get("/imports/{import_id}/refused.csv")
def refused_rows(session: DB, actor: PageActor, import_id: str) -> Response:
    row = service.get(session, actor, parse_id(import_id, "import"))
    return Response(
        service.refused_csv(row),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{service.refused_name(row)}"',
            "Cache-Control": "no-store",
        },
    )


def record_url(kind: str, record_id: uuid.UUID | None) -> str | None:
    return None if record_id is None else f"/{KINDS[Kind(kind)].plural}/{record_id}"
