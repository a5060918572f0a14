"""Assertions shared by the API tests: the problem+json shape, and counting what was written."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, MetaData, func, select

from coterie.db import Base


def assert_problem(response: httpx.Response, status: int, slug: str | None) -> dict[str, Any]:
    """`response` is an RFC 9457 problem with this status and stable type (any type when `slug`
    is None); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert str(body["type"]).startswith("/problems/"), body
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def assert_invalid(
    response: httpx.Response, *paths: str, slug: str | None = "validation-error"
) -> None:
    """A 422 whose `errors[].path` names every one of `paths`."""
    body = assert_problem(response, 422, slug)
    named = {error["path"] for error in body["errors"]}
    for path in paths:
        assert path in named, f"{path} not among {named}"


def row_count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Base.metadata.tables[table]))
    return int(count or 0)


def row_counts(engine: Engine, *, except_tables: tuple[str, ...] = ()) -> dict[str, int]:
    """The number of rows of every table: equal before and after means nothing was written."""
    return {
        table: row_count(engine, table)
        for table in Base.metadata.tables
        if table not in except_tables
    }


def empty_all_tables(engine: Engine) -> None:
    """Start afresh inside one test (Hypothesis examples share the function-scoped client)."""
    metadata: MetaData = Base.metadata
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
