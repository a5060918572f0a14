"""The search route: `GET /api/v1/search?q=`, records and fields the caller may see that match
(`coterie.records.search` keeps hidden fields out of matching, paging and snippets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB
from coterie.fields.kinds import Kind
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.records import search
from coterie.records.search import SearchHit

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    response_model=Page[SearchHit],
    summary="Search the records I may see, in the fields I may see",
    description=(
        "Every word must be found in some field of the record that you may see (the shared "
        "core, your own space's fields as your template shows them, and the fields partners "
        "share with you); the last word, and any word ending in `*`, matches as a prefix. "
        "Case and accents are ignored; punctuation separates words. Newest records first."
    ),
)
def search_records(
    actor: ApiActor,
    session: DB,
    q: Annotated[str, Query(min_length=1, max_length=search.MAX_QUERY)],
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[SearchHit]:
    items, next_cursor = search.search(
        session,
        actor,
        q,
        kind=kind.value if kind is not None else None,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=items, next_cursor=next_cursor)
