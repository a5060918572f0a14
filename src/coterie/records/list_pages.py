"""Record lists (accounts, leads, opportunities, ...): the table of what
`coterie.records.service.list_visible` returns (columns, filters, sort, a cursor), my saved
views of a list, and the list page's "New …" dialog (`coterie.records.new_record`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.fields import templates
from coterie.fields.kinds import KindInfo
from coterie.kit import text_input
from coterie.kit.problems import Problem
from coterie.models.workflow import SavedFilter
from coterie.records import (
    admission,
    new_record,
    participants,
    presenters,
    query,
    saved_filters,
    service,
    table,
)
from coterie.records.record_page import OPEN_STATUSES, _mine, _owner_name, _url
from coterie.records.schemas import RecordOut, SavedFilterIn
from coterie.web.forms import FORM_ERROR, FormFields, errors_from_validation
from coterie.web.paths import parse_id
from coterie.web.submit import flash_back, raise_on, submit
from coterie.web.templating import is_htmx, redirect, render

PAGE_SIZE = 25


@dataclass(frozen=True)
class Row:
    record: RecordOut
    owner_name: str
    participants: list[tuple[str, str]]  # (company name, status)
    values: dict[str, Any]  # column name -> display text (a datetime for the timestamps)
    partner_amounts: list[tuple[str, str]]  # (company name, amount)


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
    defaults: tuple[str, ...] = table.DEFAULT_COLUMNS  # the kind's columns before any choice

    def base(self) -> tuple[list[str], str, str]:
        if self.view is None:
            return list(self.defaults), "", ""
        return (
            saved_filters.columns_of(self.view) or list(self.defaults),
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
    defaults = tuple(table.default_columns(info.kind.value))
    state = TableState(list(defaults), "", "", view, defaults=defaults)
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
            state.cols = table.column_names(cols, info.kind.value)
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
    new_dialog: new_record.NewForm | None = None,
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
            "nf": new_dialog or new_record.new_form(session, actor, info),
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


def _save_view(
    request: Request, session: Session, actor: Actor, info: KindInfo, form: FormFields
) -> Response:
    cat = table.catalog(session, actor, info.kind.value)
    cols = table.column_names(form.text("cols"), info.kind.value)
    sort, filter_text = form.text("sort"), form.text("filter")
    state = TableState(
        [c.name for c in cat.chosen(cols)],
        sort,
        filter_text,
        defaults=tuple(table.default_columns(info.kind.value)),
    )
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
        defaults = tuple(table.default_columns(info.kind.value))
        state = TableState(list(defaults), "", "", defaults=defaults)
        return _list_page(request, session, actor, info, state=state, table_notice=message)

    return submit(
        session,
        delete,
        done=deleted,
        refused=flash_back(request, f"{_url(info)}?view={vid}"),
        passes=raise_on(404),
    )
