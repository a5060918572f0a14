"""Report exports (CSV, XLSX) and the QBR deck (PPTX) as users meet them: the files hold the
same numbers as the report run, are always computed as the downloader (a partner exporting a
shared report gets its own numbers), and "hide private fields" reaches them too."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pptx import Presentation

from tests.fixtures.builders import Member, make_company
from tests.fixtures.cosell import record
from tests.fixtures.reports import CANARY, partner_network
from tests.web.conftest import Browser
from tests.web.test_network_pages import signed_in

BY_STAGE: dict[str, Any] = {
    "kind": "opportunity",
    "group_by": ["stage"],
    "measures": [{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
}
TOTALS: dict[str, Any] = {
    "kind": "opportunity",
    "measures": [{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
}


def _network(client: TestClient) -> tuple[Member, Member]:
    return partner_network(client)


def _save(client: TestClient, who: Member, definition: dict[str, Any], **body: Any) -> str:
    response = client.post(
        "/api/v1/reports",
        json={"name": body.pop("name", "Deals by stage"), "definition": definition, **body},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _run(client: TestClient, who: Member, report_id: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/reports/{report_id}/run", headers=who.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _export(client: TestClient, who: Member, report_id: str, fmt: str, **params: Any) -> Any:
    return client.get(
        f"/api/v1/reports/{report_id}/export",
        params={"format": fmt, **params},
        headers=who.headers,
    )


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content))
    return [list(row) for row in book["Report"].iter_rows(values_only=True)]


def _expected(run: dict[str, Any]) -> list[list[str]]:
    """The run's rows as text: group labels, then each measure's value ('' for none)."""
    rows = [
        [r["group"][d]["label"] for d in run["group_by"]]
        + ["" if r["measures"][m] is None else str(r["measures"][m]) for m in run["measures"]]
        for r in run["rows"]
    ]
    total = [f"Total ({run['currency']})"] + [""] * (max(len(run["group_by"]), 1) - 1)
    total += [
        "" if run["totals"]["measures"][m] is None else str(run["totals"]["measures"][m])
        for m in run["measures"]
    ]
    return [*rows, total]


def test_csv_and_xlsx_hold_the_reports_rows_totals_and_currency(client: TestClient) -> None:
    acme, _ = _network(client)
    report_id = _save(client, acme, BY_STAGE)
    run = _run(client, acme, report_id)
    expected = _expected(run)
    assert len(expected) == 4  # three stages and the total

    response = _export(client, acme, report_id, "csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = _csv(response.content)
    assert lines[0] == ["Stage", "Count", "Sum of my amount"]
    assert lines[1 : 1 + len(expected)] == expected
    about = {line[0]: line[1] for line in lines[1 + len(expected) :] if line}
    assert about["Currency"] == run["currency"]
    assert about["Exchange rates"] == run["rate_date"]

    response = _export(client, acme, report_id, "xlsx")
    assert response.status_code == 200, response.text
    sheet = _xlsx(response.content)
    assert sheet[0] == ["Stage", "Count", "Sum of my amount"]
    assert len(sheet) == 1 + len(expected)
    for got, want in zip(sheet[1:], expected, strict=True):
        width = len(want) - len(run["measures"])
        assert list(got[:width]) == want[:width]
        assert [None if v is None else Decimal(str(v)) for v in got[width:]] == [
            None if w == "" else Decimal(w) for w in want[width:]
        ]
    about_sheet = load_workbook(io.BytesIO(response.content))["About"]
    about_rows = {r[0]: r[1] for r in about_sheet.iter_rows(values_only=True)}
    assert about_rows["Currency"] == run["currency"]

    assert _export(client, acme, report_id, "pdf").status_code == 422


def test_an_unsaved_definition_exports_as_run(client: TestClient) -> None:
    acme, _ = _network(client)
    run = client.post("/api/v1/reports/run", json=BY_STAGE, headers=acme.headers).json()
    response = client.post(
        "/api/v1/reports/run/export", params={"format": "csv"}, json=BY_STAGE, headers=acme.headers
    )
    assert response.status_code == 200, response.text
    assert _csv(response.content)[1:5] == _expected(run)


def test_a_partners_export_of_a_shared_report_holds_its_own_numbers_never_the_authors(
    client: TestClient,
) -> None:
    acme, globex = _network(client)
    report_id = _save(
        client, acme, BY_STAGE, shared_with={"users": [], "companies": [globex.company_id]}
    )
    mine = _export(client, acme, report_id, "csv")
    assert "777777.00" in mine.text

    for fmt in ("csv", "xlsx"):
        theirs = _export(client, globex, report_id, fmt)
        assert theirs.status_code == 200, theirs.text
        assert CANARY.encode() not in theirs.content
    lines = _csv(_export(client, globex, report_id, "csv").content)
    assert _expected(_run(client, globex, report_id)) == lines[1:3]
    assert "55.00" in lines[1]
    assert 777777.0 not in [
        v for row in _xlsx(_export(client, globex, report_id, "xlsx").content) for v in row
    ]

    stranger = make_company(client, "Stranger")
    for fmt in ("csv", "xlsx"):
        assert _export(client, stranger, report_id, fmt).status_code == 404
    missing = "00000000-0000-0000-0000-000000000001"
    assert _export(client, acme, missing, "csv").status_code == 404


def test_hide_private_removes_my_private_values_from_exports_and_the_deck(
    client: TestClient,
) -> None:
    acme, _ = _network(client)
    report_id = _save(client, acme, TOTALS)
    board = client.post(
        "/api/v1/dashboards",
        json={"name": "QBR", "panels": [{"report_id": report_id, "chart_type": "bar"}]},
        headers=acme.headers,
    ).json()
    assert "777807.00" in _export(client, acme, report_id, "csv").text
    # the query flag
    flagged = _export(client, acme, report_id, "csv", hide_private="true")
    assert flagged.status_code == 200, flagged.text
    assert "777807" not in flagged.text
    assert CANARY not in flagged.text

    response = client.patch(
        "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
    )
    assert response.status_code == 200, response.text
    for fmt in ("csv", "xlsx"):
        exported = _export(client, acme, report_id, fmt)
        assert exported.status_code == 200, exported.text
        assert b"777807" not in exported.content
    assert 777807.0 not in [
        v for row in _xlsx(_export(client, acme, report_id, "xlsx").content) for v in row
    ]
    deck = client.get(f"/api/v1/dashboards/{board['id']}/deck.pptx", headers=acme.headers)
    assert deck.status_code == 200
    values = [
        v
        for slide in Presentation(io.BytesIO(deck.content)).slides
        for shape in slide.shapes
        if shape.has_chart
        for plot in shape.chart.plots
        for series in plot.series
        for v in series.values
    ]
    assert values
    assert 777807.0 not in values
    texts = _texts(deck.content)
    assert "777807" not in texts
    assert "777,807" not in texts


def _texts(content: bytes) -> str:
    out: list[str] = []
    for slide in Presentation(io.BytesIO(content)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if shape.has_table:
                out.extend(c.text for row in shape.table.rows for c in row.cells)
    return "\n".join(out)


def _series(shape: Any) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    plot = shape.chart.plots[0]
    return list(plot.categories), [(s.name, list(s.values)) for s in plot.series]


def test_the_qbr_deck_has_a_title_slide_and_one_native_chart_per_panel(
    client: TestClient,
) -> None:
    acme, globex = _network(client)
    by_stage = _save(client, acme, BY_STAGE, name="By stage")
    count = _save(client, acme, {"kind": "opportunity", "measures": [{"op": "count"}]}, name="All")
    two_dims = _save(
        client,
        acme,
        {"kind": "opportunity", "group_by": ["stage", "partner"], "measures": [{"op": "count"}]},
        name="Stage by partner",
    )
    panels = [
        {"report_id": by_stage, "chart_type": "bar"},
        {"report_id": by_stage, "chart_type": "pie"},
        {"report_id": two_dims, "chart_type": "stacked_bar"},
        {"report_id": by_stage, "chart_type": "funnel"},
        {"report_id": count, "chart_type": "line"},
        {"report_id": by_stage, "chart_type": "table"},
    ]
    created = client.post(
        "/api/v1/dashboards",
        json={
            "name": "Q3 review",
            "panels": panels,
            "shared_with": {"users": [], "companies": [globex.company_id]},
        },
        headers=acme.headers,
    )
    assert created.status_code == 201, created.text
    board_id = created.json()["id"]
    run = client.post(f"/api/v1/dashboards/{board_id}/run", headers=acme.headers).json()

    response = client.get(f"/api/v1/dashboards/{board_id}/deck.pptx", headers=acme.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.presentationml"
    )
    slides = list(Presentation(io.BytesIO(response.content)).slides)
    assert len(slides) == 1 + len(panels)
    title = slides[0].shapes.title
    assert title is not None
    assert title.text == "Q3 review"
    assert "Acme" in _slide_text(slides[0])
    assert run["panels"][0]["result"]["currency"] in (_slide_text(slides[0]))

    by_stage_run = run["panels"][0]["result"]
    stage_labels = [r["group"]["stage"]["label"] for r in by_stage_run["rows"]]
    counts = [float(r["measures"]["count"]) for r in by_stage_run["rows"]]
    amounts = [float(r["measures"]["sum(mine.amount)"]) for r in by_stage_run["rows"]]
    charts = [[s for s in slide.shapes if s.has_chart] for slide in slides[1:]]
    for i in (0, 3):  # bar and funnel: both measures
        categories, series = _series(charts[i][0])
        assert categories == stage_labels
        assert series == [("Count", counts), ("Sum of my amount", amounts)]
    categories, series = _series(charts[1][0])  # pie: the first measure
    assert categories == stage_labels
    assert series == [("Count", counts)]
    stacked_run = run["panels"][2]["result"]
    categories, series = _series(charts[2][0])
    assert categories == list(
        dict.fromkeys(r["group"]["stage"]["label"] for r in stacked_run["rows"])
    )
    assert sum(v or 0 for _, values in series for v in values) == sum(
        r["measures"]["count"] for r in stacked_run["rows"]
    )
    categories, series = _series(charts[4][0])  # no dimension: the total
    assert categories == ["Total"]
    assert series == [("Count", [float(run["panels"][4]["result"]["totals"]["measures"]["count"])])]
    assert not charts[5]  # a table panel: a native table, no chart
    tables = [s for s in slides[6].shapes if s.has_table]
    assert tables
    assert tables[0].table.cell(1, 0).text == stage_labels[0]
    for slide, panel in zip(slides[1:], run["panels"], strict=True):
        assert slide.shapes.title is not None
        assert slide.shapes.title.text == panel["name"]
        assert "Exchange rates" in _slide_text(slide)

    # the partner's deck of the shared dashboard: its own numbers only
    theirs = client.get(f"/api/v1/dashboards/{board_id}/deck.pptx", headers=globex.headers)
    assert theirs.status_code == 200
    partner_slides = list(Presentation(io.BytesIO(theirs.content)).slides)
    assert len(partner_slides) == 1 + len(panels)
    _, series = _series(next(s for s in partner_slides[1].shapes if s.has_chart))
    assert series[1] == ("Sum of my amount", [55.0])
    assert CANARY not in _texts(theirs.content)

    stranger = make_company(client, "Stranger")
    assert (
        client.get(f"/api/v1/dashboards/{board_id}/deck.pptx", headers=stranger.headers).status_code
        == 404
    )


def _slide_text(slide: Any) -> str:
    return "\n".join(
        s.text_frame.text if s.has_text_frame else "" for s in slide.shapes
    ) + "\n".join(
        c.text for s in slide.shapes if s.has_table for row in s.table.rows for c in row.cells
    )


def test_a_panel_the_viewer_cannot_run_shows_its_reason(client: TestClient) -> None:
    acme, globex = _network(client)
    definition = {
        "kind": "opportunity",
        "measures": [{"op": "sum", "field": f"{globex.company_id}.amount"}],
    }
    report_id = _save(client, acme, definition, name="Their amounts")
    board = client.post(
        "/api/v1/dashboards",
        json={"name": "Mixed", "panels": [{"report_id": report_id}]},
        headers=acme.headers,
    ).json()
    run = client.post(f"/api/v1/dashboards/{board['id']}/run", headers=acme.headers).json()
    error = run["panels"][0]["error"]
    assert error, run
    deck = client.get(f"/api/v1/dashboards/{board['id']}/deck.pptx", headers=acme.headers)
    assert deck.status_code == 200
    slides = list(Presentation(io.BytesIO(deck.content)).slides)
    assert len(slides) == 2
    assert error in _slide_text(slides[1])
    assert not [s for s in slides[1].shapes if s.has_chart]


def test_default_dashboard_decks(client: TestClient) -> None:
    acme, globex = _network(client)
    response = client.get(
        f"/api/v1/dashboards/defaults/partners/{globex.company_id}/deck.pptx",
        headers=acme.headers,
    )
    assert response.status_code == 200, response.text
    slides = list(Presentation(io.BytesIO(response.content)).slides)
    assert slides[0].shapes.title is not None
    assert slides[0].shapes.title.text == "Partnership health: Globex"
    assert len(slides) == 5
    stranger = make_company(client, "Stranger")
    assert (
        client.get(
            f"/api/v1/dashboards/defaults/partners/{stranger.company_id}/deck.pptx",
            headers=acme.headers,
        ).status_code
        == 404
    )


def test_page_links_download_with_a_session(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, globex = _network(client)
    report_id = _save(
        client, acme, BY_STAGE, shared_with={"users": [], "companies": [globex.company_id]}
    )
    board = client.post(
        "/api/v1/dashboards",
        json={"name": "QBR", "panels": [{"report_id": report_id, "chart_type": "bar"}]},
        headers=acme.headers,
    ).json()
    browser = signed_in(new_browser, acme)
    links = browser.page(f"/reports/{report_id}").links()
    assert f"/reports/{report_id}/export?format=csv" in links
    assert f"/reports/{report_id}/export?format=xlsx" in links
    csv_file = browser.get(f"/reports/{report_id}/export?format=csv")
    assert csv_file.status_code == 200
    assert "777777.00" in csv_file.text
    xlsx_file = browser.get(f"/reports/{report_id}/export?format=xlsx")
    assert xlsx_file.status_code == 200
    assert _xlsx(xlsx_file.content)[0][0] == "Stage"

    deck_link = f"/dashboards/{board['id']}/deck.pptx"
    assert deck_link in browser.page(f"/dashboards/{board['id']}").links()
    deck = browser.get(deck_link)
    assert deck.status_code == 200
    assert len(Presentation(io.BytesIO(deck.content)).slides) == 2
    health = f"/reports/defaults/partners/{globex.company_id}"
    assert f"{health}/deck.pptx" in browser.page(health).links()
    assert browser.get(f"{health}/deck.pptx").status_code == 200

    partner = signed_in(new_browser, globex)
    theirs = partner.get(f"/reports/{report_id}/export?format=csv")
    assert theirs.status_code == 200
    assert CANARY not in theirs.text
    stranger = signed_in(new_browser, make_company(client, "Stranger"))
    assert stranger.get(f"/reports/{report_id}/export?format=csv").status_code == 404
    assert stranger.get(deck_link).status_code == 404


HOSTILE = (
    '=HYPERLINK("http://evil.example","Click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1)",
)


def _formula_free(content: bytes, quote_prefix: bool = True) -> list[tuple[str, Any]]:
    """Every text cell of every sheet: (cell, value), after checking none is a formula and
    (`quote_prefix`) every text a spreadsheet would run carries Excel's quote prefix, which
    keeps it text when someone edits the cell."""
    found = []
    for sheet in load_workbook(io.BytesIO(content)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    found.append((cell.coordinate, cell.value))
                    if quote_prefix and cell.value[:1] in "=+-@":
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    return found


def _hostile_deals(client: TestClient) -> Member:
    """A company with one deal at each hostile stage, amount 10."""
    acme = make_company(client, "Acme")
    for stage in HOSTILE:
        record(client, acme, "opportunity", f"Deal {stage}", stage=stage, amount=10)
    return acme


def test_report_exports_write_hostile_labels_as_text_never_as_formulas(
    client: TestClient,
) -> None:
    acme = _hostile_deals(client)
    report_id = _save(client, acme, BY_STAGE, name=HOSTILE[0])

    xlsx = _export(client, acme, report_id, "xlsx")
    assert xlsx.status_code == 200, xlsx.text
    texts = {value for _, value in _formula_free(xlsx.content)}
    assert set(HOSTILE) <= texts  # the exact labels, as text
    rows = _xlsx(xlsx.content)
    counts = {row[0]: row[1] for row in rows[1:]}
    assert counts[HOSTILE[1]] == 1
    assert isinstance(counts[HOSTILE[1]], int)  # numbers stay numbers
    assert [row[2] for row in rows[1:] if row[0] == HOSTILE[2]] == [10]

    lines = _csv(_export(client, acme, report_id, "csv").content)
    labels = [line[0] for line in lines[1:] if line]
    for stage in HOSTILE:
        assert "'" + stage in labels, labels
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_deck_charts_keep_hostile_labels_as_text_in_their_embedded_workbooks(
    client: TestClient,
) -> None:
    acme = _hostile_deals(client)
    by_stage = _save(client, acme, BY_STAGE, name="By stage")
    created = client.post(
        "/api/v1/dashboards",
        json={"name": "Hostile", "panels": [{"report_id": by_stage, "chart_type": "bar"}]},
        headers=acme.headers,
    )
    assert created.status_code == 201, created.text
    deck = client.get(f"/api/v1/dashboards/{created.json()['id']}/deck.pptx", headers=acme.headers)
    assert deck.status_code == 200, deck.text
    [chart] = [
        shape.chart
        for slide in Presentation(io.BytesIO(deck.content)).slides
        for shape in slide.shapes
        if shape.has_chart
    ]
    assert set(HOSTILE) <= set(chart.plots[0].categories)  # the axis shows the exact labels
    embedded = chart.part.chart_workbook.xlsx_part.blob
    texts = {value for _, value in _formula_free(embedded, quote_prefix=False)}
    assert set(HOSTILE) <= texts
