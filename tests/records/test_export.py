"""Exports: the caller's visible rows and fields as CSV and XLSX, masked exactly like the list,
never a private value of a partner, safe to open in a spreadsheet, and streamed in batches."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import insert
from sqlalchemy.orm import Session

from coterie.authz import grants
from coterie.authz.principal import Principal
from coterie.db import make_engine, new_id
from coterie.kit import spreadsheets
from coterie.models import FieldShare, Participant, Record, Space
from coterie.records import export, query
from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import OPPS, create_record, fill_space, put_template, share_record
from tests.kit.assertions import assert_invalid, assert_problem

EXPORT = f"{OPPS}/export"
CANARY = "CANARY-7d1f0c"


def _csv(client: TestClient, who: Member, **params: Any) -> list[dict[str, str]]:
    response = client.get(EXPORT, params={"format": "csv", **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


def _xlsx_rows(content: bytes) -> tuple[list[str], list[dict[str, Any]], Any]:
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = [str(h) for h in values[0]]
    return header, [dict(zip(header, row, strict=True)) for row in values[1:]], sheet


def _xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode() for name in archive.namelist())


def _partner_world(client: TestClient) -> tuple[Member, Member, dict[str, str]]:
    """Acme shares stage and notes with participants and keeps amount, margin and a secret
    note private; Globex takes part in two of Acme's three deals."""
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    put_template(
        client,
        acme,
        {"key": "stage", "visibility": "participants"},
        {"key": "amount", "visibility": "private"},
        {"key": "notes", "type": "text", "visibility": "participants"},
        {"key": "margin", "type": "number", "visibility": "private"},
        {"key": "secret", "type": "text", "label": "Secret note", "visibility": "private"},
    )
    ids = {
        "shared": create_record(
            client, acme, "Shared", stage="Won", amount=1234.5, notes="hi", secret=CANARY,
            margin=987654321,
        ),
        "bare": create_record(client, acme, "Bare", secret=CANARY),
        "private": create_record(
            client, acme, "Acme only", stage="Lost", notes="mine", secret=CANARY
        ),
    }  # fmt: skip
    share_record(client, acme, ids["shared"], globex)
    share_record(client, acme, ids["bare"], globex)
    return acme, globex, ids


def test_csv_holds_visible_rows_and_fields_masked_like_the_list(client: TestClient) -> None:
    acme, globex, ids = _partner_world(client)

    rows = _csv(client, globex)
    assert {row["id"] for row in rows} == {ids["shared"], ids["bare"]}
    header = list(rows[0])
    assert header[:9] == [
        "id", "title", "customer_name", "customer_domain", "motion", "joint_stage",
        "owner_company_name", "created_at", "updated_at",
    ]  # fmt: skip
    assert "Acme: Stage" in header
    assert "Acme: Notes" in header
    for hidden in ("Acme: Amount", "Acme: Margin", "Acme: Secret note", "Acme: Region"):
        assert hidden not in header

    listed = {item["id"]: item for item in client.get(OPPS, headers=globex.headers).json()["items"]}
    for row in rows:
        item = listed[row["id"]]
        assert row["title"] == item["title"]
        assert row["owner_company_name"] == "Acme"
        assert datetime.fromisoformat(row["created_at"]) == datetime.fromisoformat(
            item["created_at"]
        )
        acme_fields = next(s for s in item["spaces"] if s["company_id"] == acme.company_id)
        assert row["Acme: Stage"] == acme_fields["fields"].get("stage", "")
        assert row["Acme: Notes"] == acme_fields["fields"].get("notes", "")

    # the owner sees its own private fields, by label, and the currency of its amount
    own = {row["id"]: row for row in _csv(client, acme)}
    assert set(own) == set(ids.values())
    assert own[ids["shared"]]["My Amount"] == "1234.50"
    assert own[ids["shared"]]["My Amount currency"] == "USD"
    assert own[ids["shared"]]["My Margin"] == "987654321"
    assert own[ids["shared"]]["My Secret note"] == CANARY
    assert not any(h.startswith("Globex: ") for h in own[ids["shared"]])  # shares nothing


def test_a_private_canary_never_reaches_a_partners_files(client: TestClient) -> None:
    _, globex, _ = _partner_world(client)
    for params in (
        {},
        {"sort": "-title"},
        {"filter": json.dumps({"field": "customer_domain", "op": "is_null"})},
    ):
        response = client.get(EXPORT, params={"format": "csv", **params}, headers=globex.headers)
        assert response.status_code == 200
        assert CANARY not in response.text
        assert "987654321" not in response.text
        assert "1234.5" not in response.text
        response = client.get(EXPORT, params={"format": "xlsx", **params}, headers=globex.headers)
        assert response.status_code == 200
        text = _xlsx_text(response.content)
        assert CANARY not in text
        assert "987654321" not in text
        assert "1234.5" not in text


def test_xlsx_opens_with_typed_cells(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "score", "type": "number"},
        {"key": "renewal", "type": "bool"},
        {"key": "kickoff", "type": "date"},
        {"key": "tags", "type": "multi_enum", "options": [
            {"key": "cloud", "label": "Cloud"}, {"key": "data", "label": "Data"},
        ]},
        {"key": "fee", "type": "money"},
    )  # fmt: skip
    first = create_record(
        client, acme, "=1+2", amount=1234.5, close_date="2026-03-01", score=2.5, renewal=True,
        kickoff="2026-02-02", tags=["data", "cloud"], fee={"value": "99.90", "currency": "EUR"},
        stage="@risk",
    )  # fmt: skip
    second = create_record(client, acme, "Plain")

    response = client.get(EXPORT, params={"format": "xlsx"}, headers=acme.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == export.MEDIA_TYPES["xlsx"]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="opportunities-')
    assert disposition.endswith('.xlsx"')
    header, rows, sheet = _xlsx_rows(response.content)
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {first, second}
    row = by_id[first]
    assert row["title"] == "=1+2"  # text, never a formula
    for column in ("title", "My Stage"):
        cell = sheet.cell(row=rows.index(row) + 2, column=header.index(column) + 1)
        assert cell.data_type == "s"
        assert cell.quotePrefix  # and it stays text when someone edits the cell
    assert row["My Stage"] == "@risk"
    assert row["My Amount"] == 1234.5
    assert row["My Amount currency"] == "USD"
    assert row["My Close date"] == datetime(2026, 3, 1)
    assert row["My Score"] == 2.5
    assert row["My Renewal"] is True
    assert row["My Kickoff"] == datetime(2026, 2, 2)
    assert row["My Tags"] == "cloud; data"
    assert row["My Fee"] == 99.9
    assert row["My Fee currency"] == "EUR"
    created = row["created_at"]
    assert isinstance(created, datetime)
    assert abs(created.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(hours=1)
    empty = by_id[second]
    assert empty["My Amount"] is None
    assert empty["My Renewal"] is None


def test_csv_cells_cannot_run_as_formulas(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "=HYPERLINK(evil)", domain="evil.example", email="x@evil.example")
    put_template(client, globex, {"key": "stage", "visibility": "participants"})
    titles = ["=SUM(A1)", "+1", "-2", "@cmd", "plain"]
    for title in titles:
        record_id = create_record(client, acme, title, stage="-5")
        share_record(client, acme, record_id, globex)
        fill_space(client, globex, record_id, stage="=1")
    acme_rows = _csv(client, acme)
    assert sorted(row["title"] for row in acme_rows) == sorted(
        ["'=SUM(A1)", "'+1", "'-2", "'@cmd", "plain"]
    )
    assert {row["My Stage"] for row in acme_rows} == {"'-5"}
    partner_header = "'=HYPERLINK(evil): Stage"
    assert {row[partner_header] for row in acme_rows} == {"'=1"}
    # text fields strip outer whitespace on input; any tab or CR that reaches a cell is quoted
    assert spreadsheets.csv_cell("\tcmd") == "'\tcmd"
    assert spreadsheets.csv_cell("\r=1") == "'\r=1"
    assert spreadsheets.csv_cell(-5) == "-5"  # numbers are ours, never quoted
    assert spreadsheets.csv_cell(Decimal("-5.50")) == "-5.50"


def test_hide_private_fields_drops_own_private_columns(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "amount", "visibility": "private"},
        {"key": "stage", "visibility": "participants"},
        {"key": "secret", "type": "text", "visibility": "private"},
    )
    create_record(client, acme, "Deal", amount=500, stage="Won", secret=CANARY)
    hide = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
    )
    assert hide.status_code == 200
    (row,) = _csv(client, acme)
    assert row["My Stage"] == "Won"
    assert "My Amount" not in row
    assert "My Secret" not in row
    response = client.get(EXPORT, params={"format": "xlsx"}, headers=acme.headers)
    assert CANARY not in _xlsx_text(response.content)
    assert CANARY not in client.get(EXPORT, headers=acme.headers).text  # csv is the default


def test_export_applies_filter_and_sort_and_refuses_what_the_list_refuses(
    client: TestClient,
) -> None:
    acme, globex, ids = _partner_world(client)
    stage = f"{acme.company_id}.stage"
    won = json.dumps({"field": stage, "op": "eq", "value": "Won"})
    assert [row["id"] for row in _csv(client, globex, filter=won)] == [ids["shared"]]
    ordered = _csv(client, acme, sort="title")
    assert [row["title"] for row in ordered] == ["Acme only", "Bare", "Shared"]
    ordered = _csv(client, acme, sort="-mine.stage")
    assert [row["title"] for row in ordered] == ["Shared", "Acme only", "Bare"]

    hidden = json.dumps({"field": f"{acme.company_id}.margin", "op": "gt", "value": 0})
    for export_format in ("csv", "xlsx"):
        params = {"format": export_format, "filter": hidden}
        response = client.get(EXPORT, params=params, headers=globex.headers)
        body = assert_problem(response, 400, "field-not-visible")
        assert f"{acme.company_id}.margin" in body["detail"]
        response = client.get(
            EXPORT, params={"format": export_format, "sort": f"{acme.company_id}.amount"},
            headers=globex.headers,
        )  # fmt: skip
        assert_problem(response, 400, "field-not-visible")
    malformed = client.get(EXPORT, params={"filter": "{oops"}, headers=globex.headers)
    assert_invalid(malformed, "query.filter", slug="invalid-condition")
    unknown = client.get(EXPORT, params={"format": "pdf"}, headers=globex.headers)
    assert_invalid(unknown, "query.format")
    assert client.get(EXPORT).status_code == 401


def _bulk_records(
    database_url: str, owner: Member, partner: Member, n: int
) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
    """`n` opportunities of `owner` written straight to the database (as the tables' owner),
    every 10th shared with `partner`, then their grants computed as a write would."""
    engine = make_engine(database_url)
    owner_id, partner_id = uuid.UUID(owner.company_id), uuid.UUID(partner.company_id)
    ids = [new_id() for _ in range(n)]
    shared = set(ids[::10])
    start = datetime.now(UTC)
    try:
        with Session(engine) as session:
            session.execute(
                insert(Record),
                [
                    {
                        "id": record_id, "kind": "opportunity", "title": f"Bulk {i:05d}",
                        "customer_name": "", "owner_company_id": owner_id, "description": "",
                        "version": 1, "created_at": start + timedelta(microseconds=i),
                        "updated_at": start,
                    }
                    for i, record_id in enumerate(ids)
                ],
            )  # fmt: skip
            people = [(r, owner_id) for r in ids] + [(r, partner_id) for r in sorted(shared)]
            session.execute(
                insert(Participant),
                [
                    {
                        "record_id": r, "company_id": c, "status": "active",
                        "invited_by_company_id": owner_id, "invited_at": start,
                        "responded_at": start, "source": "manual",
                    }
                    for r, c in people
                ],
            )  # fmt: skip
            session.execute(
                insert(Space),
                [
                    {
                        "record_id": r, "company_id": c, "version": 1,
                        "amount": Decimal(i) if c == owner_id else None,
                        "currency": "USD" if c == owner_id else None,
                        "stage": f"s{i % 7}" if c == owner_id else "partner",
                        "custom": {}, "updated_at": start,
                    }
                    for i, (r, c) in enumerate(people)
                ],
            )  # fmt: skip
            session.execute(
                insert(FieldShare),
                [{"owner_company_id": owner_id, "kind": "opportunity", "field_key": "stage",
                  "audience_company_id": None}],
            )  # fmt: skip
            grants.refresh_records(session, ids, "opportunity")
            session.commit()
    finally:
        engine.dispose()
    return ids, shared


def test_thousands_of_rows_export_in_keyset_batches(
    client: TestClient, app: FastAPI, database_url: str
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    n = 2 * export.BATCH_SIZE + 345
    ids, shared = _bulk_records(database_url, acme, globex, n)

    rows = _csv(client, acme, sort="-mine.amount")
    assert len(rows) == n
    assert [row["id"] for row in rows] == [str(r) for r in reversed(ids)]
    assert [row["My Amount"] for row in rows[:2]] == [f"{n - 1}.00", f"{n - 2}.00"]
    partner_rows = _csv(client, globex)
    assert {row["id"] for row in partner_rows} == {str(r) for r in shared}
    assert {row["Acme: Stage"] for row in partner_rows} <= {f"s{i}" for i in range(7)}
    assert "My Amount" in partner_rows[0]
    assert not any(row["My Amount"] for row in partner_rows)

    response = client.get(EXPORT, params={"format": "xlsx"}, headers=acme.headers)
    assert response.status_code == 200
    _, xlsx_rows, _ = _xlsx_rows(response.content)
    assert [row["id"] for row in xlsx_rows] == sorted(str(r) for r in ids)

    # the rows come from the database BATCH_SIZE at a time, through the gate
    session: Session = app.state.session_factory()
    try:
        principal = Principal(uuid.UUID(acme.company_id), uuid.UUID(acme.user_id), False)
        listing = query.build(session, principal, "opportunity", sort_text="mine.amount")
        spec = export.columns(session, listing)
        sizes = [len(batch) for batch in export.rows(session, listing, spec)]
        assert sizes == [export.BATCH_SIZE, export.BATCH_SIZE, 345]
        chunks = list(
            export.csv_chunks([c.header for c in spec], export.rows(session, listing, spec))
        )
        assert len(chunks) == 4  # the header, then one chunk per batch
    finally:
        session.close()
