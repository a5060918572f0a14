"""Saved filters: a user's named list filters (the `records.query` language), optionally
shared with the user's company. Only their author edits or deletes them; other companies never
see them. A filter is validated on save as its author (a field the author cannot see is
refused), and applied as the viewer when used, so it never shows more than the viewer may see.

A saved filter is also a saved *view* of a record table: it may keep the table's columns and sort.
Those are stored in the same JSON column under the reserved key `$view` (the condition language
refuses a `$` key, so no condition can collide with it) and given back as `columns` and `sort`;
`filter` is always the bare condition, as before.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.kit import conditional
from coterie.kit.problems import Problem, forbidden, invalid, not_found
from coterie.models.workflow import SavedFilter
from coterie.records import query, table
from coterie.workflows.schemas import SavedFilterIn, SavedFilterOut

VIEW_KEY = "$view"


def condition_of(saved: SavedFilter) -> dict[str, Any]:
    """The saved condition, without the view's columns and sort."""
    return {key: value for key, value in dict(saved.filter).items() if key != VIEW_KEY}


def _view(saved: SavedFilter) -> dict[str, Any]:
    view = dict(saved.filter).get(VIEW_KEY)
    return view if isinstance(view, dict) else {}


def columns_of(saved: SavedFilter) -> list[str] | None:
    columns = _view(saved).get("columns")
    if not isinstance(columns, list):
        return None
    return [str(c) for c in columns]


def sort_of(saved: SavedFilter) -> str | None:
    sort = _view(saved).get("sort")
    return sort if isinstance(sort, str) and sort else None


def _stored(data: SavedFilterIn) -> dict[str, Any]:
    view: dict[str, Any] = {}
    if data.columns is not None:
        view["columns"] = list(data.columns)
    if data.sort:
        view["sort"] = data.sort
    return data.filter | ({VIEW_KEY: view} if view else {})


def out(saved: SavedFilter, actor: Actor) -> SavedFilterOut:
    return SavedFilterOut(
        id=saved.id,
        kind=saved.kind,
        name=saved.name,
        filter=condition_of(saved),
        shared_with_company=saved.shared_with_company,
        columns=columns_of(saved),
        sort=sort_of(saved),
        user_id=saved.user_id,
        mine=saved.user_id == actor.user_id,
        version=saved.version,
        created_at=saved.created_at,
        updated_at=saved.updated_at,
    )


def text_of(saved: SavedFilter) -> str:
    return json.dumps(condition_of(saved))


def _check(session: Session, actor: Actor, data: SavedFilterIn) -> None:
    text = json.dumps(data.filter)
    if len(text) > query.MAX_FILTER_LENGTH:
        raise invalid("body.filter", f"must be at most {query.MAX_FILTER_LENGTH} characters")
    principal = actor.principal
    try:
        listing = query.build(
            session, principal, data.kind.value, filter_text=text, sort_text=data.sort
        )
    except Problem as problem:
        if problem.errors:  # re-point the error at the body
            for error in problem.errors:
                path = str(error.get("path", ""))
                error["path"] = path.replace("query.filter", "body.filter").replace(
                    "query.sort", "body.sort"
                )
            problem.detail = problem.detail.replace("query.filter", "body.filter").replace(
                "query.sort", "body.sort"
            )
        raise
    for index, name in enumerate(data.columns or []):
        if name not in table.DISPLAY_COLUMNS:
            listing.resolver.resolve(name, f"body.columns.{index}")  # 400 unless visible


def list_readable(session: Session, actor: Actor, kind: str | None = None) -> list[SavedFilter]:
    statement = (
        select(SavedFilter)
        .where(
            SavedFilter.company_id == actor.company_id,
            or_(SavedFilter.user_id == actor.user_id, SavedFilter.shared_with_company.is_(True)),
        )
        .order_by(SavedFilter.kind, SavedFilter.name, SavedFilter.id)
    )
    if kind is not None:
        statement = statement.where(SavedFilter.kind == kind)
    return list(session.scalars(statement))


def get(session: Session, actor: Actor, filter_id: uuid.UUID) -> SavedFilter:
    saved = session.get(SavedFilter, filter_id)
    if (
        saved is None
        or saved.company_id != actor.company_id
        or (saved.user_id != actor.user_id and not saved.shared_with_company)
    ):
        raise not_found("saved filter")
    return saved


def create(session: Session, actor: Actor, data: SavedFilterIn) -> SavedFilter:
    _check(session, actor, data)
    now = utcnow()
    saved = SavedFilter(
        company_id=actor.company_id,
        user_id=actor.user_id,
        kind=data.kind.value,
        name=data.name,
        filter=_stored(data),
        shared_with_company=data.shared_with_company,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(saved)
    session.flush()
    audit.record(session, actor, "saved_filter.created", "saved_filter", saved.id, kind=saved.kind)
    return saved


def _own(session: Session, actor: Actor, filter_id: uuid.UUID) -> SavedFilter:
    saved = get(session, actor, filter_id)
    if saved.user_id != actor.user_id:
        raise forbidden("Only the colleague who saved a filter changes it.")
    return saved


def update(
    session: Session, actor: Actor, filter_id: uuid.UUID, data: SavedFilterIn, expected: int
) -> SavedFilter:
    saved = _own(session, actor, filter_id)
    _check(session, actor, data)
    conditional.claim_version(session, saved, expected, "saved filter")
    saved.kind = data.kind.value
    saved.name = data.name
    saved.filter = _stored(data)
    saved.shared_with_company = data.shared_with_company
    saved.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "saved_filter.updated", "saved_filter", saved.id, kind=saved.kind)
    return saved


def delete(session: Session, actor: Actor, filter_id: uuid.UUID, expected: int) -> None:
    saved = _own(session, actor, filter_id)
    conditional.claim_version(session, saved, expected, "saved filter")
    audit.record(session, actor, "saved_filter.deleted", "saved_filter", saved.id, kind=saved.kind)
    session.delete(saved)
    session.flush()
