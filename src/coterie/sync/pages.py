"""Settings > Integrations (admins): connect a CRM from a form built from the connector's
credential fields (with a "Test connection" button answering in place), then, per connection,
its status, recent runs, dead pushes, conflicts, webhook address, actions, and the mapping
editor (`coterie.sync.editor`), which re-draws itself with htmx as selects change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.config import Settings
from coterie.deps import DB, AppSettings
from coterie.fields.kinds import KINDS, Kind
from coterie.kit.problems import Problem, not_found
from coterie.models.sync import SyncConnection, SyncMapping
from coterie.sync import editor, localfields, service, status
from coterie.sync.connectors import registry
from coterie.sync.connectors.base import Connector, RemoteObject
from coterie.sync.connectors.registry import UnknownConnector, connector_class
from coterie.web import csrf
from coterie.web.forms import FormFields, FormInput, errors_from_problem
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, flash_done, problem_detail, raise_on, submit
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

PAGE = "/settings/integrations"


def _kind_label(kind: str) -> str:
    try:
        return KINDS[Kind(kind)].label
    except ValueError:
        return kind.capitalize()


def _connector(kind: str) -> type[Connector]:
    try:
        return connector_class(kind)
    except UnknownConnector:
        raise not_found("connector") from None


def _credentials(form: FormFields, cls: type[Connector]) -> dict[str, str]:
    return {f.name: form.text(f"cred-{f.name}", strip=not f.secret) for f in cls.credential_fields}


def _field_errors(problem: Problem) -> dict[str, str]:
    """Problem paths as the form's input names (`credentials.url` -> `cred-url`)."""
    errors = errors_from_problem(problem)
    return {
        (f"cred-{k.removeprefix('credentials.')}" if k.startswith("credentials.") else k): v
        for k, v in errors.items()
    }


# --- the list and the connect form ----------------------------------------------------------


@router.get(PAGE)
def integrations(request: Request, session: DB, actor: PageActor) -> Response:
    service.require_admin(actor)
    rows = status.overview(session, actor.company_id)
    return render(
        request,
        "settings/integrations.html",
        {
            "nav": "settings",
            "tab": "integrations",
            "connectors": registry.installed(),
            "rows": rows,
        },
    )


def _connect_page(
    request: Request,
    cls: type[Connector],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    tested: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "settings/integration_connect.html",
        {
            "nav": "settings",
            "tab": "integrations",
            "cls": cls,
            "values": values or {"name": cls.label},
            "errors": errors or {},
            "tested": tested,
        },
        status_code=status_code,
    )


@router.get(PAGE + "/connect/{kind}")
def connect_form(request: Request, actor: PageActor, kind: str) -> Response:
    service.require_admin(actor)
    return _connect_page(request, _connector(kind))


def _public_values(form: FormFields, cls: type[Connector]) -> dict[str, str]:
    """What the form shows again: never a secret."""
    values = {"name": form.text("name")}
    values |= {
        f"cred-{f.name}": form.text(f"cred-{f.name}") for f in cls.credential_fields if not f.secret
    }
    return values


@router.post(PAGE + "/connect/{kind}/test")
def connect_test(request: Request, actor: PageActor, form: FormInput, kind: str) -> Response:
    """The connector's sentence, or its refusal next to the field: a fragment for htmx, the
    form again without JavaScript. Nothing is saved."""
    cls = _connector(kind)
    try:
        sentence = service.try_credentials(actor, kind, _credentials(form, cls))
        result: dict[str, Any] = {"ok": True, "message": sentence, "errors": {}}
    except Problem as problem:
        if problem.status == 403:
            raise
        result = {"ok": False, "message": problem.detail, "errors": _field_errors(problem)}
    if is_htmx(request):
        return render(request, "settings/_integration_tested.html", result)
    return _connect_page(
        request,
        cls,
        values=_public_values(form, cls),
        errors=result["errors"],
        tested=result["message"] if result["ok"] else None,
        status_code=200 if result["ok"] else 422,
    )


@router.post(PAGE + "/connect/{kind}")
def connect(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    form: FormInput,
    kind: str,
) -> Response:
    cls = _connector(kind)
    name = form.text("name")
    if not name:
        return _connect_page(
            request,
            cls,
            values=_public_values(form, cls),
            errors={"name": "Give the connection a name."},
            status_code=422,
        )
    return submit(
        session,
        lambda: service.connect(session, settings, actor, kind, name, _credentials(form, cls)),
        done=lambda row: redirect(
            request,
            f"{PAGE}/{row.id}",
            f"Connected to {cls.label}. Check how fields are matched below, then press “Sync now”.",
        ),
        refused=lambda problem: _connect_page(
            request,
            cls,
            values=_public_values(form, cls),
            errors=_field_errors(problem),
            status_code=problem.status,
        ),
        passes=lambda problem: problem.status == 403,
    )


# --- one connection ---------------------------------------------------------------------------


def _objects(
    settings: Settings, connection: SyncConnection
) -> tuple[list[RemoteObject], str | None]:
    try:
        return service.remote_objects(settings, connection), None
    except Problem as problem:
        return [], problem.detail


def _mapping_context(
    session: Session,
    actor: Actor,
    connection: SyncConnection,
    mapping: SyncMapping,
    objects: list[RemoteObject],
    draft: editor.Draft | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    draft = draft or editor.from_mapping(mapping)
    fields = localfields.catalog(session, actor, mapping.kind)
    local = localfields.by_ref(fields)
    obj = next((o for o in objects if o.name == draft.remote_object), None)
    return {
        "connection": connection,
        "mapping": mapping,
        "kind_label": _kind_label(mapping.kind),
        "draft": draft,
        "obj": obj,
        "objects": [o for o in objects if mapping.kind in o.kinds],
        "rows": editor.views(draft, obj, local),
        "groups": editor.local_groups(fields),
        "errors": errors or {},
        "directions": editor.DIRECTIONS,
        "owners": editor.OWNERS,
        "on_crm_delete": editor.ON_CRM_DELETE,
        "on_coterie_delete": editor.ON_COTERIE_DELETE,
        "base": f"{PAGE}/{connection.id}/mappings/{mapping.id}",
    }


def _detail(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    connection: SyncConnection,
    *,
    editing: dict[uuid.UUID, tuple[editor.Draft | None, dict[str, str]]] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    editing = editing or {}
    row = next(r for r in status.overview(session, actor.company_id) if r.id == connection.id)
    objects, objects_error = _objects(settings, connection)
    try:
        cls: type[Connector] | None = connector_class(connection.kind)
    except UnknownConnector:
        cls = None
    mappings = [
        _mapping_context(session, actor, connection, m, objects, *editing.get(m.id, (None, None)))
        for m in service.mappings(session, actor, connection.id)
    ]
    return render(
        request,
        "settings/integration.html",
        {
            "nav": "settings",
            "tab": "integrations",
            "connection": connection,
            "row": row,
            "cls": cls,
            "runs": service.runs(session, actor, connection.id, service.RUNS_SHOWN),
            "mappings": mappings,
            "objects_error": objects_error,
            "admin_options": [(str(u.id), u.name) for u in service.run_as_choices(session, actor)],
            "webhook_url": service.webhook_url(settings, connection),
            "webhook_secret": service.webhook_secret(settings, connection),
            "settings_values": service.settings_of(settings, connection),
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _connection(session: Session, actor: Actor, connection_id: str) -> SyncConnection:
    return service.get(session, actor, parse_id(connection_id, "connection"))


@router.get(PAGE + "/{connection_id}")
def connection_page(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, connection_id: str
) -> Response:
    connection = _connection(session, actor, connection_id)
    return _detail(request, session, settings, actor, connection)


@router.post(PAGE + "/{connection_id}/test")
def test_connection(
    request: Request, session: DB, settings: AppSettings, actor: PageActor, connection_id: str
) -> Response:
    connection = _connection(session, actor, connection_id)
    result = service.test(session, settings, actor, connection.id)
    session.commit()
    if is_htmx(request):
        return render(
            request,
            "settings/_integration_tested.html",
            {"ok": result.ok, "message": result.message},
        )
    return redirect(
        request, f"{PAGE}/{connection.id}", result.message, "success" if result.ok else "error"
    )


def _action(
    request: Request,
    session: Session,
    connection_id: str,
    use_case: Callable[[uuid.UUID], object],
    message: str,
    *,
    back: str | None = None,
) -> Response:
    """Run one of the connection's buttons: a flash on the connection's page (or `back`)."""
    target = parse_id(connection_id, "connection")
    back = back or f"{PAGE}/{connection_id}"
    return submit(
        session,
        lambda: use_case(target),
        done=flash_done(request, back, message),
        refused=flash_back(request, back, problem_detail),
        passes=raise_on(403, 404),
    )


@router.post(PAGE + "/{connection_id}/sync-now")
def sync_now(request: Request, session: DB, actor: PageActor, connection_id: str) -> Response:
    return _action(
        request,
        session,
        connection_id,
        lambda target: service.sync_now(session, actor, target),
        "The sync is running: refresh this page in a moment to see its counts.",
    )


@router.post(PAGE + "/{connection_id}/pause")
def pause(request: Request, session: DB, actor: PageActor, connection_id: str) -> Response:
    return _action(
        request,
        session,
        connection_id,
        lambda target: service.set_paused(session, actor, target, True),
        "Paused: nothing is read from or written to the CRM until you resume.",
    )


@router.post(PAGE + "/{connection_id}/resume")
def resume(request: Request, session: DB, actor: PageActor, connection_id: str) -> Response:
    return _action(
        request,
        session,
        connection_id,
        lambda target: service.set_paused(session, actor, target, False),
        "Resumed: the sync catches up with what changed meanwhile.",
    )


@router.post(PAGE + "/{connection_id}/retry-dead")
def retry_dead(request: Request, session: DB, actor: PageActor, connection_id: str) -> Response:
    return _action(
        request,
        session,
        connection_id,
        lambda target: service.retry_dead(session, actor, target),
        "The failed pushes are queued again.",
    )


@router.post(PAGE + "/{connection_id}/run-as")
def run_as(
    request: Request, session: DB, actor: PageActor, form: FormInput, connection_id: str
) -> Response:
    chosen = form.text("run_as_user_id")
    return _action(
        request,
        session,
        connection_id,
        lambda target: service.set_run_as(session, actor, target, parse_id(chosen, "user")),
        "The sync now reads and writes as the admin you chose.",
    )


@router.post(PAGE + "/{connection_id}/delete")
def delete(request: Request, session: DB, actor: PageActor, connection_id: str) -> Response:
    return _action(
        request,
        session,
        connection_id,
        lambda target: service.delete(session, actor, target),
        "The connection is deleted; records stay on both sides.",
        back=PAGE,
    )


@router.post(PAGE + "/{connection_id}/reconnect")
def reconnect(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    form: FormInput,
    connection_id: str,
) -> Response:
    connection = _connection(session, actor, connection_id)
    cls = _connector(connection.kind)
    given = _credentials(form, cls)
    return submit(
        session,
        lambda: service.reconnect(session, settings, actor, connection.id, given),
        done=flash_done(request, f"{PAGE}/{connection.id}", "Reconnected: the sync is running."),
        refused=lambda problem: _detail(
            request,
            session,
            settings,
            actor,
            _connection(session, actor, connection_id),
            values=_public_values(form, cls),
            errors=_field_errors(problem),
            status_code=problem.status,
        ),
        passes=raise_on(403, 404),
    )


# --- the mapping editor ---------------------------------------------------------------------------


def _mapping(
    session: Session, actor: Actor, connection_id: str, mapping_id: str
) -> tuple[SyncConnection, SyncMapping]:
    connection = _connection(session, actor, connection_id)
    mapping, _ = service.get_mapping(session, actor, parse_id(mapping_id, "mapping"), connection.id)
    return connection, mapping


@router.post(PAGE + "/{connection_id}/mappings/{mapping_id}/editor")
def redraw_editor(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    form: FormInput,
    connection_id: str,
    mapping_id: str,
) -> Response:
    """The editor drawn again from the form as it stands (a row added or removed, a field
    chosen): nothing is saved."""
    connection, mapping = _mapping(session, actor, connection_id, mapping_id)
    draft = editor.from_form(form, form.text("op"))
    if not is_htmx(request):
        return _detail(
            request, session, settings, actor, connection, editing={mapping.id: (draft, {})}
        )
    objects, _ = _objects(settings, connection)
    context = _mapping_context(session, actor, connection, mapping, objects, draft)
    return render(request, "settings/_integration_mapping.html", {"m": context})


@router.post(PAGE + "/{connection_id}/mappings/{mapping_id}")
def save_mapping(
    request: Request,
    session: DB,
    settings: AppSettings,
    actor: PageActor,
    form: FormInput,
    connection_id: str,
    mapping_id: str,
) -> Response:
    connection, mapping = _mapping(session, actor, connection_id, mapping_id)
    version = form.version()
    draft = editor.from_form(form)
    data, errors = editor.to_input(draft)

    def again(found: dict[str, str], status_code: int) -> Response:
        shown = None if status_code in (412, 428) else draft  # stale: show what is saved now
        return _detail(
            request,
            session,
            settings,
            actor,
            _connection(session, actor, connection_id),
            editing={mapping.id: (shown, found)},
            status_code=status_code,
        )

    if data is None:
        return again(errors, 422)
    kind = _kind_label(mapping.kind)
    return submit(
        session,
        lambda: service.update_mapping(session, settings, actor, mapping.id, version, data),
        done=lambda _row: redirect(
            request, f"{PAGE}/{connection.id}#mapping-{mapping.id}", f"{kind} mapping saved."
        ),
        refused=lambda problem: again(errors_from_problem(problem), problem.status),
        passes=raise_on(403, 404),
    )
