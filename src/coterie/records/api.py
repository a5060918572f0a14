"""Shared-record routes, the same for every kind (/accounts, /leads, /opportunities), and
templates (who is on a record: `participants_api`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from coterie.auth.dependencies import ApiActor
from coterie.deps import DB
from coterie.fields import templates
from coterie.fields.kinds import KINDS, Kind, KindInfo
from coterie.fields.templates import TemplateOut
from coterie.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from coterie.kit.preconditions import PRECONDITION_RESPONSES, expected_version, set_etag
from coterie.records import export, query, service
from coterie.records import templates as template_writes
from coterie.records.schemas import (
    RecordCreate,
    RecordOut,
    RecordPatch,
    SpacePatch,
)
from coterie.records.templates import TemplateIn

router = APIRouter()

FilterParam = Annotated[
    str | None,
    Query(
        alias="filter",
        max_length=query.MAX_FILTER_LENGTH,
        description=(
            "A condition as JSON, e.g. "
            '{"all": [{"field": "mine.amount", "op": "gte", "value": 10000}, '
            '{"field": "motion", "op": "eq", "value": "co-sell"}]}. Fields: the core (title, '
            "customer_name, customer_domain, motion, joint_stage, owner_company, created_at, "
            "updated_at), mine.<key> (my space), <company_id>.<key> (a partner's shared field)."
        ),
    ),
]
SortParam = Annotated[
    str | None,
    Query(
        alias="sort",
        max_length=query.MAX_SORT_LENGTH,
        description="Field names, comma-separated, '-' for descending; NULLs last, then id. "
        "E.g. -mine.amount,title",
    ),
]
FIELD_NOT_VISIBLE: dict[int | str, dict[str, Any]] = {
    400: {"description": "Filter or sort on a field you cannot see (/problems/field-not-visible)"}
}


TemplateVersion = Annotated[
    int, expected_version("the template's ETag from GET /api/v1/templates/{kind} (0: none yet)")
]


def _kind_routes(info: KindInfo) -> APIRouter:
    kind = info.kind.value
    routes = APIRouter(prefix=f"/{info.plural}", tags=[info.plural])

    @routes.post(
        "",
        response_model=RecordOut,
        status_code=status.HTTP_201_CREATED,
        summary=f"Create an {kind}" if kind[0] in "aeiou" else f"Create a {kind}",
    )
    def create(body: RecordCreate, actor: ApiActor, session: DB, response: Response) -> RecordOut:
        record = service.create(session, actor, kind, body)
        session.commit()
        out = service.read(session, actor, kind, record.id)
        set_etag(response, out.version)
        return out

    @routes.get(
        "",
        response_model=Page[RecordOut],
        summary=f"{info.label}s I may see, masked; filter and sort on fields I may see",
        responses=FIELD_NOT_VISIBLE,
    )
    def list_records(
        actor: ApiActor,
        session: DB,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=query.MAX_CURSOR_LENGTH)] = None,
        filter_text: FilterParam = None,
        sort_text: SortParam = None,
    ) -> Page[RecordOut]:
        items, next_cursor = service.list_visible(
            session,
            actor,
            kind,
            limit=limit,
            cursor=cursor,
            filter_text=filter_text,
            sort_text=sort_text,
        )
        return Page(items=items, next_cursor=next_cursor)

    @routes.get(
        "/count",
        response_model=query.RecordCount,
        summary=f"How many {info.plural} I may see match the filter",
        responses=FIELD_NOT_VISIBLE,
    )
    def count_records(
        actor: ApiActor, session: DB, filter_text: FilterParam = None
    ) -> query.RecordCount:
        return query.RecordCount(
            count=service.count_visible(session, actor, kind, filter_text=filter_text)
        )

    @routes.get(
        "/export",
        response_class=StreamingResponse,
        summary=f"My visible {info.plural} and fields as CSV or XLSX, masked like the list",
        responses={
            200: {
                "description": "The file, streamed (Content-Disposition: attachment)",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    export.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                },
            },
            **FIELD_NOT_VISIBLE,
        },
    )
    def export_records(
        actor: ApiActor,
        session: DB,
        export_format: Annotated[export.ExportFormat, Query(alias="format")] = "csv",
        filter_text: FilterParam = None,
        sort_text: SortParam = None,
    ) -> StreamingResponse:
        return export.export(
            session, actor, info, export_format, filter_text=filter_text, sort_text=sort_text
        )

    @routes.get("/{record_id}", response_model=RecordOut, summary=f"One {kind}, masked")
    def get(record_id: uuid.UUID, actor: ApiActor, session: DB, response: Response) -> RecordOut:
        out = service.read(session, actor, kind, record_id)
        set_etag(response, out.version)
        return out

    record_version = expected_version(f"the record's ETag from GET /api/v1/{info.plural}/{{id}}")
    space_version = expected_version(
        f"your space's version (the `version` of your space in GET /api/v1/{info.plural}/{{id}})"
    )

    @routes.patch(
        "/{record_id}",
        response_model=RecordOut,
        summary="Edit the shared core (owner company; If-Match: the record's ETag)",
        responses=PRECONDITION_RESPONSES,
    )
    def patch(
        record_id: uuid.UUID,
        body: RecordPatch,
        actor: ApiActor,
        session: DB,
        response: Response,
        expected: int = record_version,
    ) -> RecordOut:
        service.update_core(session, actor, kind, record_id, body, expected)
        session.commit()
        out = service.read(session, actor, kind, record_id)
        set_etag(response, out.version)
        return out

    @routes.patch(
        "/{record_id}/spaces/mine",
        response_model=RecordOut,
        summary="Edit my company's own space (If-Match: my space's version)",
        responses=PRECONDITION_RESPONSES,
    )
    def patch_my_space(
        record_id: uuid.UUID,
        body: SpacePatch,
        actor: ApiActor,
        session: DB,
        expected: int = space_version,
    ) -> RecordOut:
        service.update_my_space(session, actor, kind, record_id, body.fields, expected)
        session.commit()
        return service.read(session, actor, kind, record_id)

    return routes


for _info in KINDS.values():
    router.include_router(_kind_routes(_info))


@router.get("/templates/{kind}", response_model=TemplateOut, tags=["templates"])
def get_template(kind: Kind, actor: ApiActor, session: DB, response: Response) -> TemplateOut:
    template = templates.load(session, actor.company_id, kind.value)
    set_etag(response, template.version)
    return template.out()


@router.put(
    "/templates/{kind}",
    response_model=TemplateOut,
    tags=["templates"],
    summary="Replace my company's template for a kind (admins; If-Match: its ETag, 0 at first)",
    responses=PRECONDITION_RESPONSES,
)
def put_template(
    kind: Kind,
    body: TemplateIn,
    actor: ApiActor,
    session: DB,
    response: Response,
    expected: TemplateVersion,
) -> TemplateOut:
    template = template_writes.save(session, actor, kind.value, body, expected)
    session.commit()
    set_etag(response, template.version)
    return template.out()
