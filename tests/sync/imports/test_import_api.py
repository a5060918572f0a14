"""Spreadsheet import over the API: upload, guessed mapping, dry run, run, re-run without
duplicates, refused rows with their column, encodings, caps, and privacy between companies."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import Workbook

from coterie.config import Settings
from tests.fixtures.builders import make_company
from tests.sync.imports.helpers import IMPORTS, outcomes, records, start, targets_of, upload

DEALS = (
    "Deal name;Customer;Website;Amount;Currency;Close date;Stage;Notes\n"
    "Initech renewal;Initech;initech.example;12.500,00;EUR;2027-03-31;Proposal;first\n"
    "Globex data platform;Globex;https://www.globex.example/;4,200.50;USD;15.04.2027;Qualify;\n"
    "Hooli security audit;Hooli;hooli.example;lots;EUR;2027-05-01;Qualify;\n"
    "Umbrella expansion;Umbrella;umbrella.example;900;EUR;03/04/2027;Qualify;\n"
)


def _mine(space_list: list[dict[str, object]]) -> dict[str, object]:
    return next(s for s in space_list if s["is_mine"])["fields"]  # type: ignore[return-value]


def test_a_file_is_mapped_checked_imported_and_reimported_without_duplicates(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme", currency="EUR")
    body = upload(client, acme, DEALS.encode())
    assert body["file_format"] == "csv"
    assert [c["header"] for c in body["columns"]][:3] == ["Deal name", "Customer", "Website"]
    assert targets_of(body) == [
        "title",
        "customer_name",
        "customer_domain",
        "amount",
        "currency",
        "close_date",
        "stage",
        "description",
    ]
    labels = {t["key"]: t["label"] for t in body["targets"]}
    assert labels["close_date"] == "Close date"
    assert body["preview"][0][0] == "Initech renewal"

    checked = start(client, acme, body["id"])
    assert checked["status"] == "checked"
    assert outcomes(checked) == [(2, "create"), (3, "create"), (4, "refused"), (5, "refused")]
    hooli, umbrella = checked["results"][2], checked["results"][3]
    assert (hooli["column"], hooli["reason"]) == ("Amount", "is not a number")
    assert umbrella["column"] == "Close date"
    assert "ambiguous" in umbrella["reason"]
    assert records(client, acme) == []  # a dry run writes nothing

    done = start(client, acme, body["id"], "run")
    assert done["status"] == "done"
    assert outcomes(done) == outcomes(checked)
    created = {r["title"]: r for r in records(client, acme)}
    assert set(created) == {"Initech renewal", "Globex data platform"}
    initech = created["Initech renewal"]
    assert initech["customer_domain"] == "initech.example"
    assert _mine(initech["spaces"])["amount"] == {"value": "12500.00", "currency": "EUR"}
    assert _mine(initech["spaces"])["close_date"] == "2027-03-31"
    globex = created["Globex data platform"]
    assert globex["customer_domain"] == "globex.example"
    assert _mine(globex["spaces"])["amount"] == {"value": "4200.50", "currency": "USD"}
    assert _mine(globex["spaces"])["close_date"] == "2027-04-15"

    # the same file again: nothing new, nothing changed
    again = upload(client, acme, DEALS.encode())
    rerun = start(client, acme, again["id"], "run")
    assert outcomes(rerun) == [(2, "unchanged"), (3, "unchanged"), (4, "refused"), (5, "refused")]
    assert len(records(client, acme)) == 2

    # a corrected file: the refused rows come in, a changed amount updates my space
    fixed = (
        DEALS.replace("12.500,00", "13.000,00")
        .replace(";lots;", ";1000;")
        .replace("03/04/2027", "2027-04-03")
    )
    third = upload(client, acme, fixed.encode())
    final = start(client, acme, third["id"], "run")
    assert outcomes(final) == [(2, "update"), (3, "unchanged"), (4, "create"), (5, "create")]
    assert final["results"][0]["fields"] == ["amount"]
    assert len(records(client, acme)) == 4
    # once imported, a run is not repeated (upload again instead)
    response = client.post(f"{IMPORTS}/{third['id']}/run", headers=acme.headers)
    assert response.status_code == 409


def test_refused_rows_download_with_their_reasons(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    body = upload(client, acme, DEALS.encode())
    start(client, acme, body["id"])
    response = client.get(f"{IMPORTS}/{body['id']}/refused.csv", headers=acme.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["Row"], r["Column"], r["Reason"]) for r in rows] == [
        ("4", "Amount", "is not a number"),
        ("5", "Close date", rows[1]["Reason"]),
    ]
    assert rows[0]["Deal name"] == "Hooli security audit"


def test_an_ambiguous_row_is_refused_with_its_candidates(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    for title in ("Northwind Traders", "Northwind Trading"):
        response = client.post("/api/v1/accounts", json={"title": title}, headers=acme.headers)
        assert response.status_code == 201
    body = upload(client, acme, b"Account name,Industry\nNorthwind Trade,retail\n", kind="account")
    assert targets_of(body) == ["title", "industry"]
    checked = start(client, acme, body["id"])
    (row,) = checked["results"]
    assert row["action"] == "refused"
    assert {c["title"] for c in row["candidates"]} == {"Northwind Traders", "Northwind Trading"}
    refused = client.get(f"{IMPORTS}/{body['id']}/refused.csv", headers=acme.headers).text
    assert "Northwind Traders" in refused


def test_bad_values_are_refused_with_the_column_that_holds_them(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    content = (
        "Title,Amount,Currency,Close date,Forecast,Owner,Website\n"
        "A,10,XYZ,2027-01-01,,,\n"
        "B,10,,2027-02-30,,,\n"
        "C,10.555,,,,,\n"
        "D,,,,maybe,,\n"
        "E,,,,,nobody@nowhere.example,\n"
        "F,,,,,,not a domain\n"
        ",5,,,,,\n"
        "H,EUR 1200,,,Best case,,\n"
    )
    body = upload(client, acme, content.encode())
    checked = start(client, acme, body["id"])
    refused = {(r["row"], r["column"]): r["reason"] for r in checked["results"] if r["reason"]}
    assert refused[(2, "Currency")] == "'XYZ' is not a currency code (such as EUR)"
    assert refused[(3, "Close date")] == "is not a real date"
    assert refused[(4, "Amount")] == "must have at most two decimal places"
    assert refused[(5, "Forecast")].startswith("must be one of")
    assert "not the e-mail of an active user" in refused[(6, "Owner")]
    assert "domain" in refused[(7, "Website")]
    assert refused[(8, "Title")] == "is required"
    assert outcomes(checked)[-1] == (9, "create")


def test_encodings_and_delimiters_are_recognised(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    text = "Name;Customer\nMüller Maschinenbau;Café Zürich\n"
    for content in (
        text.encode("utf-8"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),
        text.encode("cp1252"),
        text.replace(";", ",").encode("cp1252"),
    ):
        body = upload(client, acme, content)
        assert body["preview"] == [["Müller Maschinenbau", "Café Zürich"]]
    garbage = upload(client, acme, b"Name\n\x81\x8d\x8f\x90\x9d\n", status=422)
    assert garbage["errors"][0]["path"] == "file"
    assert "UTF-8" in garbage["detail"]


def test_an_xlsx_first_sheet_is_read_with_typed_cells(client: TestClient) -> None:
    from datetime import date

    acme = make_company(client, "Acme")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Opportunity name", "Amount", "Close date"])
    sheet.append(["Vandelay import", 1500.5, date(2027, 6, 30)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = upload(client, acme, buffer.getvalue(), filename="deals.xlsx")
    assert body["file_format"] == "xlsx"
    assert body["preview"] == [["Vandelay import", "1500.5", "2027-06-30"]]
    done = start(client, acme, body["id"], "run")
    assert outcomes(done) == [(2, "create")]


def test_files_over_the_caps_are_refused_clearly(client: TestClient, settings: Settings) -> None:
    acme = make_company(client, "Acme")
    settings.import_max_bytes = 100
    too_big = upload(client, acme, b"Name\n" + b"x" * 200 + b"\n", status=413)
    assert too_big["type"] == "/problems/file-too-large"
    settings.import_max_bytes = 1_000_000
    settings.import_max_rows = 3
    too_long = upload(client, acme, b"Name\na\nb\nc\nd\n", status=413)
    assert too_long["type"] == "/problems/too-many-rows"
    empty = upload(client, acme, b"Name\n", status=422)
    assert "no data rows" in empty["detail"]
    bad_kind = client.post(
        IMPORTS, params={"kind": "plan"}, content=b"Name\nx\n", headers=acme.headers
    )
    assert bad_kind.status_code == 422


def test_the_mapping_is_checked_with_field_paths(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    body = upload(client, acme, b"Name,Notes\nx,y\n")
    url = f"{IMPORTS}/{body['id']}/mapping"
    for columns, path in (
        (["title", "nonsense"], "body.columns[1]"),
        (["title", "title"], "body.columns[1]"),
        (["title"], "body.columns"),
    ):
        response = client.put(url, json={"columns": columns}, headers=acme.headers)
        assert response.status_code == 422, columns
        assert response.json()["errors"][0]["path"] == path
    response = client.put(url, json={"columns": [None, "description"]}, headers=acme.headers)
    assert response.status_code == 200
    refused = client.post(f"{IMPORTS}/{body['id']}/dry-run", headers=acme.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "body.columns"


def test_another_company_and_a_colleague_cannot_see_or_run_my_import(
    client: TestClient, inbox: object
) -> None:
    from tests.fixtures.builders import make_colleague

    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    colleague = make_colleague(client, acme, inbox=inbox)
    body = upload(client, acme, DEALS.encode())
    for stranger in (globex, colleague):
        for method, path in (
            ("GET", ""),
            ("POST", "/dry-run"),
            ("POST", "/run"),
            ("GET", "/refused.csv"),
        ):
            response = client.request(
                method, f"{IMPORTS}/{body['id']}{path}", headers=stranger.headers
            )
            assert response.status_code == 404, (method, path)
        listed = client.get(IMPORTS, headers=stranger.headers).json()
        assert listed == []
    # the colleague (a member) imports their own files
    own = upload(client, colleague, b"Name\nColleague deal\n")
    assert outcomes(start(client, colleague, own["id"], "run")) == [(2, "create")]
