"""Shared-record pages: lists of accounts, leads and opportunities, and the record page.

Every read goes through `coterie.records.service` (`list_visible`, `read`, `my_invitations`),
which reads through the gate and masks in SQL; every write is one service call and one commit.
The page shows what the service returned and nothing else, so a partner's private fields and,
with "hide private fields" on, my own company's private values never reach the HTML.

The shared core and my space edit in place with htmx (the handlers answer a fragment) and work
as plain forms without it (POST-redirect-GET, or the full page with the form open on errors).
A stale version answers 409 with the latest values and what the refused save tried to change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.preferences import read as read_preferences
from coterie.auth.principal import Actor
from coterie.deps import DB
from coterie.fields import templates
from coterie.fields.kinds import KINDS, KindInfo, ParticipantStatus
from coterie.kit import text_input
from coterie.kit.preconditions import version_in
from coterie.kit.problems import Problem
from coterie.models.workflow import SavedFilter
from coterie.network.companies import names as company_names
from coterie.records import (
    admission,
    export,
    participants,
    presenters,
    query,
    saved_filters,
    service,
    table,
)
from coterie.records.presenters import FieldView, Inputs
from coterie.records.schemas import (
    RecordCreate,
    RecordOut,
    RecordPatch,
    SavedFilterIn,
    SpaceOut,
)
from coterie.web import csrf
from coterie.web.forms import (
    FORM_ERROR,
    FormFields,
    FormInput,
    errors_from_validation,
)
from coterie.web.paths import parse_id
from coterie.web.sessions import PageActor
from coterie.web.submit import flash_back, raise_on, submit
from coterie.web.templating import is_htmx, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])

PAGE_SIZE = 25
MAX_CURSOR = 500
Text = Annotated[str, Query(max_length=MAX_CURSOR)]
CORE_FIELDS = ("title", "customer_name", "customer_domain", "motion", "joint_stage", "description")
NULLABLE_CORE = frozenset({"customer_domain", "motion", "joint_stage"})
OPEN_STATUSES = frozenset({ParticipantStatus.ACTIVE.value, ParticipantStatus.INVITED.value})


def _hide_private(actor: Actor) -> bool:
    return read_preferences(actor.user.preferences).hide_private_fields


def _url(info: KindInfo, record_id: uuid.UUID | str | None = None, *parts: str) -> str:
    path = f"/{info.plural}"
    if record_id is not None:
        path += f"/{record_id}"
    return "/".join([path, *parts])


# -- lists ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    record: RecordOut
    owner_name: str
    participants: list[tuple[str, str]]  # (company name, status)
    values: dict[str, Any]  # column name -> display text (a datetime for the timestamps)
    partner_amounts: list[tuple[str, str]]  # (company name, amount)


def _owner_name(record: RecordOut) -> str:
    for p in record.participants:
        if p.company_id == record.owner_company_id:
            return p.company_name
    return ""


def _mine(record: RecordOut) -> SpaceOut | None:
    return next((s for s in record.spaces if s.is_mine), None)


def _cell(
    record: RecordOut,
    column: table.ColumnChoice,
    template: templates.CompanyTemplate,
    user_names: dict[str, str],
) -> Any:
    name = column.name
    if name in ("created_at", "updated_at"):
        return getattr(record, name)
    if name == "motion":
        return presenters.MOTION_LABELS.get(record.motion or "", record.motion) or presenters.EMPTY
    if name in table.CORE_COLUMNS:
        return getattr(record, name, None) or presenters.EMPTY
    if column.hidden or not column.key:
        return presenters.EMPTY
    if column.owner is None:
        space = _mine(record)
        definition = presenters.definition_for(template, column.key)
    else:
        space = next((s for s in record.spaces if s.company_id == column.owner), None)
        definition = presenters.definition_for(None, column.key)
    value = space.fields.get(column.key) if space is not None else None
    return presenters.display(value, definition, user_names)


def _row(
    record: RecordOut,
    columns: list[table.ColumnChoice],
    template: templates.CompanyTemplate,
    user_names: dict[str, str],
) -> Row:
    return Row(
        record=record,
        owner_name=_owner_name(record),
        participants=[
            (p.company_name, p.status) for p in record.participants if p.status in OPEN_STATUSES
        ],
        values={c.name: _cell(record, c, template, user_names) for c in columns},
        partner_amounts=[
            (s.company_name, presenters.money_text(s.fields["amount"]))
            for s in record.spaces
            if not s.is_mine and "amount" in s.fields
        ],
    )


@dataclass
class TableState:
    """What the table shows: its columns, filter and sort, over an optional saved view."""

    cols: list[str]
    sort: str
    filter: str
    view: SavedFilter | None = None
    builder: table.Builder | None = None  # the filter rows as submitted (None: from `filter`)

    def base(self) -> tuple[list[str], str, str]:
        if self.view is None:
            return list(table.DEFAULT_COLUMNS), "", ""
        return (
            saved_filters.columns_of(self.view) or list(table.DEFAULT_COLUMNS),
            saved_filters.sort_of(self.view) or "",
            _compact(saved_filters.condition_of(self.view)),
        )

    def query(self, **changes: str) -> str:
        """The shareable query string of this state (with `changes`), defaults left out."""
        cols, sort, filter_text = self.base()
        values: dict[str, str] = {}
        if self.view is not None:
            values["view"] = str(self.view.id)
        if self.cols != cols:
            values["cols"] = ",".join(self.cols)
        if self.sort != sort:
            values["sort"] = self.sort
        if self.filter != filter_text:
            values["filter"] = self.filter
        values |= changes
        return urlencode({k: v for k, v in values.items() if v or k in ("filter", "sort")})


def _compact(condition: dict[str, Any]) -> str:
    """A saved condition as the URL carries it ("" for none: `{"all": []}` matches all)."""
    if not condition or condition == {"all": []}:
        return ""
    return json.dumps(condition, separators=(",", ":"))


def _param(request: Request, name: str, max_length: int) -> str | None:
    value = request.query_params.get(name)
    return value[:max_length] if value is not None else None


def _table_state(
    request: Request, session: Session, actor: Actor, info: KindInfo, cat: table.Catalog
) -> TableState:
    """The table state a GET asks for: a saved view, then the URL's or the form's changes."""
    params = request.query_params
    view = None
    view_text = params.get("view", "")
    if view_text:
        view = saved_filters.get(
            session, actor, parse_id(view_text, "saved view")
        )  # 404 unless mine
        if view.kind != info.kind.value:
            view = None
    state = TableState(list(table.DEFAULT_COLUMNS), "", "", view)
    state.cols, state.sort, state.filter = state.base()
    if params.get("builder"):  # the table form: its columns and filter rows
        state.cols = [table.TITLE, *[c[:100] for c in params.getlist("col")[: table.MAX_COLUMNS]]]
        fields_ = params.getlist("ff")[: table.MAX_ROWS]
        ops = params.getlist("fo")[: table.MAX_ROWS]
        values = [v[:1000] for v in params.getlist("fv")[: table.MAX_ROWS]]
        action = params.get("row_action", "")
        if action.startswith("remove-") and action[7:].isdigit():
            index = int(action[7:])
            for items in (fields_, ops, values):
                if index < len(items):
                    del items[index]
        builder, compiled = table.compile_rows(
            params.get("match", "all"), fields_, ops, values, cat
        )
        if action == "add" and len(builder.rows) < table.MAX_ROWS:
            builder.rows.append(table.FilterRow())
        state.builder = builder
        state.filter = compiled
        if not builder.rows and not compiled:
            kept = _param(request, "filter", query.MAX_FILTER_LENGTH)  # one the rows could not show
            state.filter = kept or ""
    else:
        cols = _param(request, "cols", 3000)
        if cols is not None:
            state.cols = table.column_names(cols)
        filter_text = _param(request, "filter", query.MAX_FILTER_LENGTH)
        if filter_text is not None:
            state.filter = filter_text
    sort = _param(request, "sort", query.MAX_SORT_LENGTH)
    if sort is not None:
        state.sort = sort
    return state


def _view_choices(
    session: Session, actor: Actor, kind: str
) -> list[tuple[str, str, bool]]:  # (id, label, mine)
    found = saved_filters.list_readable(session, actor, kind)
    author_ids = {f.user_id for f in found if f.user_id != actor.user_id}
    names = presenters.colleague_names(session, actor) if author_ids else {}
    choices = []
    for saved in found:
        mine = saved.user_id == actor.user_id
        if mine:
            suffix = " (shared with my company)" if saved.shared_with_company else " (private)"
        else:
            suffix = f" (shared by {names.get(str(saved.user_id), 'a colleague')})"
        choices.append((str(saved.id), saved.name + suffix, mine))
    return choices


def _list_page(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    *,
    cursor: str = "",
    new_inputs: dict[str, Any] | None = None,
    new_errors: dict[str, str] | None = None,
    status_code: int = 200,
    state: TableState | None = None,
    view_errors: dict[str, str] | None = None,
    view_values: dict[str, str] | None = None,
    table_notice: str | None = None,
) -> Response:
    kind = info.kind.value
    notice = None
    cat = table.catalog(session, actor, kind)
    if state is None:
        state = _table_state(request, session, actor, info, cat)
    columns = cat.chosen(state.cols)
    builder = state.builder or table.read_filter(state.filter)
    records: list[RecordOut] = []
    next_cursor: str | None = None
    table_error: str | None = None
    if builder.errors:
        table_error = "Fix the filter rows marked below, then apply it again."
        status_code = max(status_code, 422)
    else:
        try:
            records, next_cursor = _list_records(session, actor, kind, state, cursor)
        except _StaleCursorError:
            notice = "That page link is no longer valid, so here is the first page."
            cursor = ""
            try:
                records, next_cursor = _list_records(session, actor, kind, state, "")
            except Problem as problem:
                session.rollback()  # PostgreSQL aborts a failed transaction
                table_error, status_code = table.problem_message(problem), problem.status
        except Problem as problem:
            session.rollback()  # PostgreSQL aborts a failed transaction
            table_error, status_code = table.problem_message(problem), problem.status
    if not builder.rows:
        builder.rows.append(table.FilterRow())
    template = templates.load(session, actor.company_id, kind)
    user_names = presenters.user_names_for(session, actor, records)
    sort_name, sort_descending = table.sort_state(state.sort)
    base = _url(info)
    table_url = f"{base}?{state.query()}" if state.query() else base
    context = {
        "info": info,
        "state": state,
        "catalog": cat,
        "columns": columns,
        "chosen_names": {c.name for c in columns},
        "builder": builder,
        "operators": table.OPERATORS,
        "sort_name": sort_name,
        "sort_descending": sort_descending,
        "sort_url": lambda name: f"{base}?{state.query(sort=table.next_sort(state.sort, name))}",
        "table_url": table_url,
        "rows": [_row(r, columns, template, user_names) for r in records],
        "next_url": f"{base}?{state.query(cursor=next_cursor)}" if next_cursor else None,
        "first_url": table_url if cursor else None,
        "notice": notice,
        "table_error": table_error,
        "table_notice": table_notice,
        "views": _view_choices(session, actor, kind),
        "view_errors": view_errors or {},
        "view_values": view_values or {},
    }
    headers = {"HX-Push-Url": table_url}
    if is_htmx(request) and request.headers.get("HX-Target") == "record-table":
        return render(
            request, "records/_table.html", context, status_code=status_code, headers=headers
        )
    new_fields = presenters.my_fields(
        template,
        None,
        hide_private=False,
        user_names={},
        company_names=company_names(session, presenters.audience_ids(template)),
    )
    invitations = [i for i in participants.my_invitations(session, actor) if i.kind == kind]
    proposals = [p for p in admission.awaiting_my_decision(session, actor) if p.kind == kind]
    return render(
        request,
        "records/list.html",
        context
        | {
            "nav": info.plural,
            "invitations": invitations,
            "proposals": proposals,
            "new_fields": new_fields,
            "new_open": bool(new_errors),
            "values": new_inputs or {},
            "errors": new_errors or {},
            "motions": presenters.motion_choices(),
            "colleagues": presenters.colleague_choices(session, actor),
        },
        status_code=status_code,
    )


class _StaleCursorError(Exception):
    """The cursor does not fit this list any more (edited, or made for another sort)."""


def _list_records(
    session: Session, actor: Actor, kind: str, state: TableState, cursor: str
) -> tuple[list[RecordOut], str | None]:
    filter_text, sort_text = state.filter or None, state.sort or None
    if cursor:
        try:
            return service.list_visible(
                session,
                actor,
                kind,
                limit=PAGE_SIZE,
                cursor=cursor,
                filter_text=filter_text,
                sort_text=sort_text,
            )
        except Problem as problem:
            session.rollback()  # PostgreSQL aborts a failed transaction
            if str(problem.extra.get("field", "")) or not problem.errors:
                raise
            if not str(problem.errors[0].get("path", "")).startswith("query.cursor"):
                raise
            raise _StaleCursorError from None
    return service.list_visible(
        session,
        actor,
        kind,
        limit=PAGE_SIZE,
        cursor=None,
        filter_text=filter_text,
        sort_text=sort_text,
    )


# -- saved views ------------------------------------------------------------------------------


def _save_view(
    request: Request, session: Session, actor: Actor, info: KindInfo, form: FormFields
) -> Response:
    cat = table.catalog(session, actor, info.kind.value)
    cols = table.column_names(form.text("cols"))
    sort, filter_text = form.text("sort"), form.text("filter")
    state = TableState([c.name for c in cat.chosen(cols)], sort, filter_text)
    values = {"name": form.text("name"), "shared": "1" if form.flag("shared") else ""}

    def again(errors: dict[str, str], status_code: int) -> Response:
        return _list_page(
            request,
            session,
            actor,
            info,
            state=state,
            view_errors=errors,
            view_values=values,
            status_code=status_code,
        )

    try:
        condition = text_input.loads(filter_text, "filter") if filter_text else {"all": []}
        data = SavedFilterIn.model_validate(
            {
                "kind": info.kind.value,
                "name": values["name"],
                "filter": condition,
                "shared_with_company": bool(values["shared"]),
                "columns": state.cols,
                "sort": sort or None,
            }
        )
    except ValueError as exc:  # bad JSON, or a ValidationError
        errors = errors_from_validation(exc) if isinstance(exc, ValidationError) else {}
        message = errors.get("name") or "This table's filter cannot be saved: clear it first."
        return again({"name" if "name" in errors else FORM_ERROR: message}, 422)

    def done(saved: SavedFilter) -> Response:
        message = f"View “{saved.name}” saved" + (
            ", shared with your company." if saved.shared_with_company else ", for you only."
        )
        if not is_htmx(request):
            return redirect(request, f"{_url(info)}?view={saved.id}", message)
        state.view = saved
        return _list_page(request, session, actor, info, state=state, table_notice=message)

    return submit(
        session,
        lambda: saved_filters.create(session, actor, data),
        done=done,
        refused=lambda problem: again({FORM_ERROR: table.problem_message(problem)}, problem.status),
    )


def _delete_view(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    view_id: str,
    form: FormFields,
) -> Response:
    vid = parse_id(view_id, "saved view")

    def delete() -> str:
        name = saved_filters.get(session, actor, vid).name
        saved_filters.delete(session, actor, vid, form.version())
        return name

    def deleted(name: str) -> Response:
        message = f"View “{name}” deleted."
        if not is_htmx(request):
            return redirect(request, _url(info), message)
        state = TableState(list(table.DEFAULT_COLUMNS), "", "")
        return _list_page(request, session, actor, info, state=state, table_notice=message)

    return submit(
        session,
        delete,
        done=deleted,
        refused=flash_back(request, f"{_url(info)}?view={vid}"),
        passes=raise_on(404),
    )


def _create(
    request: Request, session: Session, actor: Actor, info: KindInfo, form: FormFields
) -> Response:
    kind = info.kind.value
    template = templates.load(session, actor.company_id, kind)
    views = presenters.my_fields(
        template, None, hide_private=False, user_names={}, company_names={}
    )
    fields, inputs = presenters.new_values(views, form)
    core = {key: form.text(key) for key in CORE_FIELDS if key != "description"}
    core["description"] = presenters.multiline(form, "description")
    shown: dict[str, Any] = {**core, **inputs}

    def again(errors: dict[str, str]) -> Response:
        return _list_page(
            request, session, actor, info, new_inputs=shown, new_errors=errors, status_code=422
        )

    try:
        data = RecordCreate.model_validate(
            {
                "title": core["title"],
                "customer_name": core["customer_name"],
                "customer_domain": core["customer_domain"] or None,
                "motion": core["motion"] or None,
                "description": core["description"],
                "fields": fields,
            }
        )
    except ValidationError as exc:
        return again(errors_from_validation(exc))
    return submit(
        session,
        lambda: service.create(session, actor, kind, data),
        done=lambda record: redirect(
            request, _url(info, record.id), f"{info.label} “{data.title}” created."
        ),
        refused=lambda problem: again(presenters.field_errors(problem, inputs)),
    )


# -- the record page --------------------------------------------------------------------------


@dataclass
class RecordView:
    """Everything the record page and its fragments show, from one `service.read`."""

    info: KindInfo
    record: RecordOut
    template: templates.CompanyTemplate
    fields: list[FieldView]
    user_names: dict[str, str]

    @property
    def mine(self) -> SpaceOut | None:
        return _mine(self.record)

    def context(self) -> dict[str, Any]:
        record = self.record
        return {
            "info": self.info,
            "record": record,
            "owner_name": _owner_name(record),
            "motion_label": presenters.MOTION_LABELS.get(record.motion or "", record.motion),
            "mine": self.mine,
            "my_fields": self.fields,
            "hidden_count": sum(1 for f in self.fields if f.hidden),
            "partners": [
                (s, presenters.partner_fields(s, self.user_names))
                for s in record.spaces
                if not s.is_mine
            ],
        }


def _view(session: Session, actor: Actor, info: KindInfo, record_id: uuid.UUID) -> RecordView:
    kind = info.kind.value
    record = service.read(session, actor, kind, record_id)  # 404 when hidden
    template = templates.load(session, actor.company_id, kind)
    user_names = presenters.user_names_for(session, actor, [record])
    fields = presenters.my_fields(
        template,
        _mine(record),
        hide_private=_hide_private(actor),
        user_names=user_names,
        company_names=company_names(session, presenters.audience_ids(template)),
    )
    return RecordView(info, record, template, fields, user_names)


def _core_inputs(record: RecordOut) -> dict[str, str]:
    return {key: str(getattr(record, key) or "") for key in CORE_FIELDS}


def _space_inputs(fields: list[FieldView]) -> Inputs:
    inputs: Inputs = {}
    for view in fields:
        if not view.hidden:
            inputs.update(presenters.inputs_of(view))
    return inputs


@dataclass
class Panel:
    """The state of one editable panel (the core, or my space)."""

    editing: bool = False
    values: dict[str, Any] | None = None
    errors: dict[str, str] | None = None
    notice: str | None = None
    conflict: list[str] | None = None


def _panel_context(view: RecordView, core: Panel, space: Panel) -> dict[str, Any]:
    return view.context() | {
        "core": core,
        "core_values": core.values if core.values is not None else _core_inputs(view.record),
        "core_errors": core.errors or {},
        "space": space,
        "space_values": space.values if space.values is not None else _space_inputs(view.fields),
        "space_errors": space.errors or {},
    }


def _record_page(
    request: Request,
    session: Session,
    actor: Actor,
    view: RecordView,
    *,
    core: Panel | None = None,
    space: Panel | None = None,
    status_code: int = 200,
) -> Response:
    record = view.record
    admitting = admission.panel(session, actor, view.info.kind.value, record.id)
    on_record = {p.company_id for p in record.participants if p.status in OPEN_STATUSES}
    on_record |= {
        p.company_id
        for p in admitting.proposals
        if p.status == "pending" and p.proposed_by_company_id == actor.company_id
    }
    invitable = [
        (cid, name)
        for cid, name in presenters.partner_choices(session, actor)
        if uuid.UUID(cid) not in on_record
    ]
    return render(
        request,
        "records/record.html",
        _panel_context(view, core or Panel(), space or Panel())
        | {
            "nav": view.info.plural,
            "invitable": invitable,
            "admits": admitting.admits,
            "proposals": admitting.proposals,
            "owner_name": next(
                (
                    p.company_name
                    for p in record.participants
                    if p.company_id == record.owner_company_id
                ),
                "The owner",
            ),
            "colleagues": presenters.colleague_choices(session, actor),
        },
        status_code=status_code,
    )


def _fragment(
    request: Request,
    session: Session,
    actor: Actor,
    view: RecordView,
    which: str,
    panel: Panel,
    status_code: int = 200,
) -> Response:
    empty = Panel()
    core, space = (panel, empty) if which == "core" else (empty, panel)
    context = _panel_context(view, core, space)
    if which == "space":
        context["colleagues"] = presenters.colleague_choices(session, actor)
    return render(request, f"records/_{which}.html", context, status_code=status_code)


def _respond(
    request: Request,
    session: Session,
    actor: Actor,
    view: RecordView,
    which: str,
    panel: Panel,
    status_code: int,
) -> Response:
    """A refused or re-shown edit: the panel alone for htmx, else the page with it open."""
    if is_htmx(request):
        return _fragment(request, session, actor, view, which, panel, status_code)
    panels = {"core": panel} if which == "core" else {"space": panel}
    return _record_page(request, session, actor, view, status_code=status_code, **panels)


def _saved(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: uuid.UUID,
    which: str,
    message: str,
) -> Response:
    if is_htmx(request):
        view = _view(session, actor, info, record_id)
        return _fragment(request, session, actor, view, which, Panel(notice=message))
    return redirect(request, _url(info, record_id), message)


def _conflict_message(attempted: list[str]) -> list[str]:
    return attempted or ["none (you had not changed anything)"]


def _refused(problem: Problem, inputs: dict[str, Any], errors: dict[str, str]) -> Panel:
    """A refusal that is not about the input (403: read-only access) closes the form."""
    if problem.status == 403:
        return Panel(errors={FORM_ERROR: problem.detail})
    return Panel(True, inputs, errors)


def _save_core(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    form: FormFields,
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    view = _view(session, actor, info, rid)
    before = _core_inputs(view.record)
    submitted = {key: form.text(key) for key in CORE_FIELDS if key != "description"}
    submitted["description"] = presenters.multiline(form, "description")
    changed = {
        key: (value or None) if key in NULLABLE_CORE else value
        for key, value in submitted.items()
        if value != before[key]
    }
    version = version_in(form.text("version"))
    if version is None:
        errors = {FORM_ERROR: "This form lost its version number; reload the page and retry."}
        return _respond(request, session, actor, view, "core", Panel(True, submitted, errors), 422)
    try:
        patch = RecordPatch.model_validate(changed)
    except ValidationError as exc:
        panel = Panel(True, submitted, errors_from_validation(exc))
        return _respond(request, session, actor, view, "core", panel, 422)

    def refused(problem: Problem) -> Response:
        if problem.status == 412:
            latest = _view(session, actor, info, rid)
            attempted = [
                f"{key.replace('_', ' ').capitalize()}: {value or '—'}"
                for key, value in changed.items()
            ]
            panel = Panel(True, conflict=_conflict_message(attempted))
            return _respond(request, session, actor, latest, "core", panel, 409)
        errors = presenters.field_errors(problem, CORE_FIELDS)
        panel = _refused(problem, submitted, errors)
        return _respond(request, session, actor, view, "core", panel, problem.status)

    message = "Shared details saved." if changed else "Nothing changed."
    return submit(
        session,
        lambda: service.update_core(session, actor, kind, rid, patch, version),
        done=lambda _: _saved(request, session, actor, info, rid, "core", message),
        refused=refused,
        passes=raise_on(404),
    )


def _save_space(
    request: Request,
    session: Session,
    actor: Actor,
    info: KindInfo,
    record_id: str,
    form: FormFields,
) -> Response:
    kind = info.kind.value
    rid = parse_id(record_id, kind)
    view = _view(session, actor, info, rid)
    patch, inputs = presenters.changes(view.fields, form)
    version = version_in(form.text("version"))
    if version is None:
        errors = {FORM_ERROR: "This form lost its version number; reload the page and retry."}
        return _respond(request, session, actor, view, "space", Panel(True, inputs, errors), 422)

    def refused(problem: Problem) -> Response:
        if problem.status == 412:
            latest = _view(session, actor, info, rid)
            attempted = presenters.describe_changes(view.fields, patch, view.user_names)
            panel = Panel(True, conflict=_conflict_message(attempted))
            return _respond(request, session, actor, latest, "space", panel, 409)
        panel = _refused(problem, inputs, presenters.field_errors(problem, inputs))
        return _respond(request, session, actor, view, "space", panel, problem.status)

    message = "Your space is saved." if patch else "Nothing changed."
    return submit(
        session,
        lambda: service.update_my_space(session, actor, kind, rid, patch, version),
        done=lambda _: _saved(request, session, actor, info, rid, "space", message),
        refused=refused,
        passes=raise_on(404),
    )


# -- routes -----------------------------------------------------------------------------------


def _routes(info: KindInfo) -> APIRouter:
    routes = APIRouter()
    base = f"/{info.plural}"

    @routes.get(base)
    def list_page(request: Request, session: DB, actor: PageActor, cursor: Text = "") -> Response:
        return _list_page(request, session, actor, info, cursor=cursor)

    @routes.post(base)
    def create(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
        return _create(request, session, actor, info, form)

    @routes.post(base + "/views")
    def save_view(request: Request, session: DB, actor: PageActor, form: FormInput) -> Response:
        return _save_view(request, session, actor, info, form)

    @routes.post(base + "/views/{view_id}/delete")
    def delete_view(
        request: Request, session: DB, actor: PageActor, form: FormInput, view_id: str
    ) -> Response:
        return _delete_view(request, session, actor, info, view_id, form)

    @routes.get(base + "/export")
    def export_page(
        session: DB,
        actor: PageActor,
        export_format: Annotated[export.ExportFormat, Query(alias="format")] = "csv",
        filter_text: Annotated[str, Query(alias="filter", max_length=query.MAX_FILTER_LENGTH)] = "",
        sort_text: Annotated[str, Query(alias="sort", max_length=query.MAX_SORT_LENGTH)] = "",
    ) -> Response:
        """The list as CSV or XLSX for a signed-in user: the API's export, same gate and masks."""
        return export.export(
            session,
            actor,
            info,
            export_format,
            filter_text=filter_text or None,
            sort_text=sort_text or None,
        )

    @routes.get(base + "/{record_id}")
    def record_page(
        request: Request, session: DB, actor: PageActor, record_id: str, edit: Text = ""
    ) -> Response:
        view = _view(session, actor, info, parse_id(record_id, info.kind.value))
        owner = view.record.owner_company_id == actor.company_id
        return _record_page(
            request,
            session,
            actor,
            view,
            core=Panel(editing=edit == "core" and owner),
            space=Panel(editing=edit == "space" and view.mine is not None),
        )

    def panel_route(which: str, editing: bool) -> Callable[..., Response]:
        def show(request: Request, session: DB, actor: PageActor, record_id: str) -> Response:
            rid = parse_id(record_id, info.kind.value)
            if not is_htmx(request):  # a fragment URL opened as a page: show the whole page
                return redirect(request, _url(info, rid) + (f"?edit={which}" if editing else ""))
            view = _view(session, actor, info, rid)
            allowed = editing and (
                view.record.owner_company_id == actor.company_id
                if which == "core"
                else view.mine is not None
            )
            return _fragment(request, session, actor, view, which, Panel(allowed))

        return show

    for which in ("core", "space"):
        routes.add_api_route(f"{base}/{{record_id}}/{which}", panel_route(which, False))
        routes.add_api_route(f"{base}/{{record_id}}/{which}/edit", panel_route(which, True))

    @routes.post(base + "/{record_id}/core")
    def save_core(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        return _save_core(request, session, actor, info, record_id, form)

    @routes.post(base + "/{record_id}/space")
    def save_space(
        request: Request, session: DB, actor: PageActor, form: FormInput, record_id: str
    ) -> Response:
        return _save_space(request, session, actor, info, record_id, form)

    return routes


for _info in KINDS.values():
    router.include_router(_routes(_info))
