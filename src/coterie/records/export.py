"""Exports of shared records as CSV or XLSX: the caller's visible rows and fields, masked exactly
like the list.

An export runs as the caller's principal through the same list query as `GET /{plural}`
(`records.query`: the gate, `?filter=` and `?sort=`), reading BATCH_SIZE records at a time by
keyset (each group of PARTNERS_PER_STATEMENT partners' columns read for the batch by a statement
of its own), and writes rows out as they come: CSV as a generator of chunks, XLSX with openpyxl's
write-only mode into a spooled temporary file that is then streamed in chunks. Memory stays flat
however many rows there are.

Columns, one row per record: the shared core (`id`, `title`, `customer_name`, `customer_domain`,
`motion`, `joint_stage`, `owner_company_name`, `created_at`, `updated_at`), then "My <label>" for
each field of the caller's own template it may see (its private fields disappear while "hide
private fields" is on), then "<Partner name>: <label>" for each field a partner company shares
with the caller's company (`field_shares`), for the partners that actively participate in at
least one exported record, in the partner's template order. The column set comes from templates
and shares only, never from values; every value comes from the same masked SQL expression the
gate uses (`authz.fields.masked`). Money fields get a second column "... currency".

Formula injection: every cell is written by `coterie.kit.spreadsheets` (a CSV text cell that a
spreadsheet would run gets a leading `'`; XLSX text is a string cell, never a formula).
"""

from __future__ import annotations

import csv
import io
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from coterie.auth.principal import Actor
from coterie.authz import fields, gate
from coterie.db import utcnow
from coterie.kit.spreadsheets import Cell, csv_cell, xlsx_cell
from coterie.models import Company, Record, RecordAccess
from coterie.records import query
from coterie.records.fields import FieldDefinition, FieldType
from coterie.records.kinds import KindInfo

BATCH_SIZE = 1000
PARTNERS_PER_STATEMENT = 40
"""Partner companies whose columns one statement joins. A company with hundreds of partners on
its rows would otherwise need one statement outer-joining hundreds of spaces, deeper than
SQLAlchemy can compile (RecursionError from about 300, found by the benchmark)."""
SPOOL_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Column:
    header: str
    expression: ColumnElement[Any] | Any
    convert: Callable[[Any], Cell]
    # the resolver whose spaces a partner column's statement joins; None: the list query's own
    resolver: query.FieldResolver | None = None


# --- values ------------------------------------------------------------------------------------


def _text(value: Any) -> Cell:
    return None if value is None else str(value)


def _same(value: Any) -> Cell:
    cell: Cell = value
    return cell


def _decimal(value: Any) -> Cell:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(value)


def _iso_date(value: Any) -> Cell:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return _text(value)


def _number(value: Any) -> Cell:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _text(value)
    return value


def _options(value: Any) -> Cell:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return _text(value)


def _boolean(value: Any) -> Cell:
    return value if isinstance(value, bool) else _text(value)


def _money_value(value: Any) -> Cell:
    return _decimal(value.get("value")) if isinstance(value, dict) else _text(value)


def _money_currency(value: Any) -> Cell:
    return _text(value.get("currency")) if isinstance(value, dict) else None


_CUSTOM: dict[FieldType, Callable[[Any], Cell]] = {
    FieldType.NUMBER: _number,
    FieldType.DATE: _iso_date,
    FieldType.BOOL: _boolean,
    FieldType.MULTI_ENUM: _options,
}
_STANDARD: dict[str, Callable[[Any], Cell]] = {
    "amount": _decimal,
    "close_date": _same,
    "owner": _text,
}


# --- columns -----------------------------------------------------------------------------------


def _core_columns() -> list[Column]:
    owner_name = (
        select(Company.name)
        .where(Company.id == Record.owner_company_id)
        .correlate(Record)
        .scalar_subquery()
    )
    return [
        Column("id", RecordAccess.record_id, _text),
        Column("title", Record.title, _text),
        Column("customer_name", Record.customer_name, _text),
        Column("customer_domain", Record.customer_domain, _text),
        Column("motion", Record.motion, _text),
        Column("joint_stage", Record.joint_stage, _text),
        Column("owner_company_name", owner_name, _text),
        Column("created_at", Record.created_at, _same),
        Column("updated_at", Record.updated_at, _same),
    ]


def _space_columns(
    resolver: query.FieldResolver, owner: uuid.UUID, prefix: str, *, apart: bool = False
) -> list[Column]:
    """The columns of `owner`'s visible fields; `apart`: read by a statement of their own
    (joining `resolver`'s spaces), not by the list query."""
    template = resolver.template_of(owner)
    visible = resolver.visible_keys(owner)
    result: list[Column] = []
    for definition in template.fields:
        if definition.key not in visible:
            continue
        field = resolver.space_field(owner, definition.key)
        result.extend(_field_columns(field, definition, prefix))
    if apart:
        result = [replace(column, resolver=resolver) for column in result]
    return result


def _field_columns(
    field: query.ResolvedField, definition: FieldDefinition, prefix: str
) -> list[Column]:
    header = f"{prefix}{definition.label or definition.key}"
    if definition.is_standard:
        columns = [
            Column(header, field.display_value, _STANDARD.get(definition.key, _text)),
        ]
        if field.currency_value is not None:
            columns.append(Column(f"{header} currency", field.currency_value, _text))
        return columns
    if definition.type == FieldType.MONEY:
        return [
            Column(header, field.display_value, _money_value),
            Column(f"{header} currency", field.display_value, _money_currency),
        ]
    convert = _CUSTOM.get(definition.type, _text) if definition.type else _text
    return [Column(header, field.display_value, convert)]


def _partner_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names of partner companies (the public directory); a name two of them share
    gets its company id appended, so headers stay unique."""
    found = session.execute(select(Company.id, Company.name).where(Company.id.in_(ids)))
    names: dict[uuid.UUID, str] = {row.id: row.name for row in found}
    taken: dict[str, int] = {}
    for name in names.values():
        taken[name.casefold()] = taken.get(name.casefold(), 0) + 1
    return {
        company_id: f"{name} ({company_id})" if taken[name.casefold()] > 1 else name
        for company_id, name in names.items()
    }


def columns(session: Session, listing: query.ListQuery) -> list[Column]:
    """The export's columns for this caller and list query (see the module docstring)."""
    resolver = listing.resolver
    principal = resolver.principal
    result = _core_columns()
    result.extend(_space_columns(resolver, principal.company_id, "My "))
    sharing = {owner for owner, keys in resolver.shares.items() if keys}
    if not sharing:
        return result
    on_rows = fields.active_partners(
        session, principal, resolver.kind, listing.statement(RecordAccess.record_id)
    )
    partners = sharing & on_rows
    names = _partner_names(session, partners)
    ordered = sorted(partners, key=lambda c: (names.get(c, "").casefold(), str(c)))
    group = resolver
    for index, partner in enumerate(ordered):
        # partners' spaces are joined by statements of their own, a group of partners each
        if index % PARTNERS_PER_STATEMENT == 0:
            group = query.FieldResolver(session, principal, resolver.kind)
        prefix = f"{names.get(partner, partner)}: "
        result.extend(_space_columns(group, partner, prefix, apart=True))
    return result


def rows(
    session: Session, listing: query.ListQuery, spec: Sequence[Column]
) -> Iterator[list[list[Cell]]]:
    """The export's rows, BATCH_SIZE at a time, in the list's order (keyset pages). The list
    query reads the core and the caller's own columns; each group of partners' columns is read
    for the batch's records by a statement of its own (the gate's select joined to those
    partners' spaces, as the list query joins them), and put in place by record id."""
    own = [i for i, column in enumerate(spec) if column.resolver is None]
    groups: dict[int, tuple[query.FieldResolver, list[int]]] = {}
    for i, column in enumerate(spec):
        if column.resolver is not None:
            groups.setdefault(id(column.resolver), (column.resolver, []))[1].append(i)
    expressions = [spec[i].expression for i in own] + [RecordAccess.record_id]
    for batch in listing.batches(session, expressions, BATCH_SIZE):
        ids = [row[-1] for row in batch]
        found = [
            (positions, _group_values(session, listing, resolver, spec, positions, ids))
            for resolver, positions in groups.values()
        ]
        out: list[list[Cell]] = []
        for row in batch:
            cells: list[Cell] = [None] * len(spec)
            for position, value in zip(own, row, strict=False):
                cells[position] = spec[position].convert(value)
            for positions, by_record in found:
                values = by_record.get(row[-1], ())
                for j, position in enumerate(positions):
                    cells[position] = spec[position].convert(values[j] if values else None)
            out.append(cells)
        yield out


def _group_values(
    session: Session,
    listing: query.ListQuery,
    resolver: query.FieldResolver,
    spec: Sequence[Column],
    positions: Sequence[int],
    ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, tuple[Any, ...]]:
    """Record id -> the values of the columns at `positions` (one group of partners)."""
    if not ids:
        return {}
    statement = gate.visible(listing.principal, resolver.kind).with_only_columns(
        RecordAccess.record_id, *(spec[i].expression for i in positions)
    )
    statement = resolver.join(statement).where(RecordAccess.record_id.in_(ids))
    return {row[0]: tuple(row[1:]) for row in session.execute(statement)}


# --- CSV ---------------------------------------------------------------------------------------


def csv_chunks(header: Sequence[str], batches: Iterable[list[list[Cell]]]) -> Iterator[bytes]:
    """CSV (RFC 4180, UTF-8) as one chunk for the header and one per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(h) for h in header])
    yield _drain(buffer)
    for batch in batches:
        writer.writerows([csv_cell(value) for value in row] for row in batch)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


# --- XLSX --------------------------------------------------------------------------------------


def xlsx_chunks(
    title: str, header: Sequence[str], batches: Iterable[list[list[Cell]]]
) -> Iterator[bytes]:
    """An XLSX workbook with one sheet, built row by row in write-only mode into a spooled
    temporary file (memory up to SPOOL_BYTES, then disk), then streamed in chunks."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header_cells = []
    for text in header:
        cell = xlsx_cell(sheet, text)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for batch in batches:
        for row in batch:
            sheet.append([xlsx_cell(sheet, value) for value in row])
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk


# --- the response ------------------------------------------------------------------------------


def filename(info: KindInfo, export_format: ExportFormat) -> str:
    return f"{info.plural}-{utcnow().date().isoformat()}.{export_format}"


def export(
    session: Session,
    actor: Actor,
    info: KindInfo,
    export_format: ExportFormat,
    *,
    filter_text: str | None,
    sort_text: str | None,
) -> StreamingResponse:
    """The export as a streaming response. Bad filters and sorts fail here, before streaming
    starts (400/422); rows are read while the response streams, in the request's session."""
    principal = actor.principal
    listing = query.build(
        session, principal, info.kind.value, filter_text=filter_text, sort_text=sort_text
    )
    spec = columns(session, listing)
    header = [column.header for column in spec]
    batches = rows(session, listing, spec)
    body = (
        csv_chunks(header, batches)
        if export_format == "csv"
        else xlsx_chunks(info.plural, header, batches)
    )
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[export_format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename(info, export_format)}"',
            "Cache-Control": "no-store",
        },
    )
