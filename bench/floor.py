"""The framework floor of the HTTP figures: a bare Starlette app, served by uvicorn like the app,
that runs the raw SQL of each measured route without authentication, authorization, masking,
ORM or Pydantic, and answers JSON.

- `GET /list`: the first page of 50 opportunities (`SELECT ... FROM records ORDER BY id LIMIT
  50`) and their spaces, unmasked;
- `GET /record/{id}`: a primary-key read of the record, its participants and its spaces;
- `GET /report?company=<id>`: the hand-written `GROUP BY region` (count, sum of the amount) over
  that company's own spaces.

Endpoints are plain `def`s (run in the thread pool, like the app's sync routes) on a
SQLAlchemy engine made by `coterie.db.make_engine` (same driver and pool as the app). It
connects as the tables' owner (`COTERIE_BENCH_FLOOR_DATABASE_URL`), so row-level security does
not apply: the floor reads what it asks for, as a query written without authorization would.

Serve it with `uvicorn bench.floor:create_floor --factory`.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coterie.db import make_engine

URL_VARIABLE = "COTERIE_BENCH_FLOOR_DATABASE_URL"
PAGE = 50
KIND = "opportunity"

LIST_SQL = text(
    "SELECT id, kind, title, customer_name, customer_domain, account_id, owner_company_id, "
    "motion, description, joint_stage, version, created_at, updated_at FROM records "
    "WHERE kind = :kind ORDER BY id LIMIT :limit"
)
SPACES_SQL = text(
    "SELECT record_id, company_id, version, amount, currency, stage, forecast_category, "
    "close_date, owner_user_id, region, industry, product, custom FROM record_spaces "
    "WHERE record_id = ANY(:ids) ORDER BY record_id, company_id"
)
RECORD_SQL = text(
    "SELECT id, kind, title, customer_name, customer_domain, account_id, owner_company_id, "
    "motion, description, joint_stage, version, created_at, updated_at FROM records "
    "WHERE id = :id"
)
PARTICIPANTS_SQL = text(
    "SELECT company_id, status, invited_by_company_id, invited_at, responded_at "
    "FROM record_participants WHERE record_id = :id ORDER BY company_id"
)
REPORT_SQL = text(
    "SELECT s.region, count(*) AS count, sum(s.amount) AS amount FROM record_spaces s "
    "JOIN records r ON r.id = s.record_id WHERE s.company_id = :company AND r.kind = :kind "
    "GROUP BY s.region ORDER BY s.region"
)


def _default(value: Any) -> str:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _json(content: Any, status_code: int = 200) -> Response:
    body = json.dumps(content, default=_default, separators=(",", ":"))
    return Response(body, status_code=status_code, media_type="application/json")


def create_floor(engine: Engine | None = None) -> Starlette:
    """The floor app; its engine comes from `COTERIE_BENCH_FLOOR_DATABASE_URL` unless given."""
    if engine is None:
        url = os.environ.get(URL_VARIABLE, "")
        if not url:
            raise RuntimeError(f"{URL_VARIABLE} is not set")
        engine = make_engine(url)
    bound = engine

    def healthz(_request: Request) -> Response:
        with bound.connect() as connection:
            connection.execute(text("SELECT 1"))
        return _json({"status": "ok"})

    def list_page(_request: Request) -> Response:
        with bound.connect() as connection:
            rows = connection.execute(LIST_SQL, {"kind": KIND, "limit": PAGE}).mappings().all()
            ids = [row["id"] for row in rows]
            spaces = connection.execute(SPACES_SQL, {"ids": ids}).mappings().all()
        by_record: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for space in spaces:
            by_record.setdefault(space["record_id"], []).append(dict(space))
        items = [{**row, "spaces": by_record.get(row["id"], [])} for row in rows]
        return _json({"items": items, "next_cursor": None})

    def record(request: Request) -> Response:
        try:
            record_id = uuid.UUID(request.path_params["record_id"])
        except ValueError:
            return _json({"status": 404}, 404)
        with bound.connect() as connection:
            row = connection.execute(RECORD_SQL, {"id": record_id}).mappings().first()
            if row is None:
                return _json({"status": 404}, 404)
            participants = connection.execute(PARTICIPANTS_SQL, {"id": record_id}).mappings()
            spaces = connection.execute(SPACES_SQL, {"ids": [record_id]}).mappings()
            body = {
                **row,
                "participants": [dict(p) for p in participants],
                "spaces": [dict(s) for s in spaces],
            }
        return _json(body)

    def report(request: Request) -> Response:
        try:
            company = uuid.UUID(request.query_params.get("company", ""))
        except ValueError:
            return _json({"status": 422}, 422)
        with bound.connect() as connection:
            rows = connection.execute(REPORT_SQL, {"company": company, "kind": KIND}).mappings()
            groups = [dict(r) for r in rows]
        return _json(
            {
                "rows": groups,
                "totals": {
                    "count": sum(int(g["count"]) for g in groups),
                    "amount": sum((g["amount"] or Decimal(0) for g in groups), Decimal(0)),
                },
            }
        )

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/list", list_page),
            Route("/record/{record_id}", record),
            Route("/report", report),
        ]
    )
