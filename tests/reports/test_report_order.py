"""Groups in the order a partner manager expects: stages as the workflow orders them (never
alphabetically), enum options as the template orders them, the empty group last, in the API's
rows, the page's table and chart, the CSV and XLSX exports and the QBR deck's charts; and one
compact currency note per dashboard, not one per panel."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pptx import Presentation

from tests.fixtures.builders import Member, make_company
from tests.fixtures.cosell import rates, record
from tests.fixtures.workflows import workflow
from tests.web.conftest import Browser
from tests.web.html import Page
from tests.web.test_network_pages import signed_in

RUN = "/api/v1/reports/run"
BY_STAGE: dict[str, Any] = {
    "kind": "opportunity",
    "group_by": ["stage"],
    "measures": [{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
}
# the built-in pipeline's order, the empty stage last (alphabetically it would be
# Closed lost, Develop, No stage, Propose, Qualify)
PIPELINE_ORDER = ["Qualify", "Develop", "Propose", "Closed lost", "No stage"]


def _labels(result: dict[str, Any], dimension: str) -> list[str]:
    return [row["group"][dimension]["label"] for row in result["rows"]]


def _run(client: TestClient, who: Member, **body: Any) -> dict[str, Any]:
    response = client.post(RUN, json=body, headers=who.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _deals(client: TestClient, acme: Member) -> None:
    # made in an order that is neither alphabetical nor the pipeline's
    for title, stage, region in (
        ("Lost one", "lost", "apac"),
        ("Propose one", "propose", None),
        ("Develop one", "develop", "emea"),
        ("Qualify one", "qualify", "north-america"),
        ("No stage yet", None, "emea"),
    ):
        fields: dict[str, Any] = {"amount": 100}
        if stage:
            fields["stage"] = stage
        if region:
            fields["region"] = region
        record(client, acme, "opportunity", title, **fields)


def test_stages_follow_the_pipeline_and_options_the_template_with_the_empty_group_last(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    _deals(client, acme)
    assert _labels(_run(client, acme, **BY_STAGE), "stage") == PIPELINE_ORDER
    # regions in the template's order (North America, Latin America, EMEA, APAC), by label
    regions = _run(client, acme, group_by=["region"])
    assert _labels(regions, "region") == ["North America", "EMEA", "APAC", "Not set"]
    # the first dimension decides, then the next
    both = _run(client, acme, group_by=["region", "stage"])
    assert [tuple(g["label"] for g in row["group"].values()) for row in both["rows"]] == [
        ("North America", "Qualify"),
        ("EMEA", "Develop"),
        ("EMEA", "No stage"),
        ("APAC", "Closed lost"),
        ("Not set", "Propose"),
    ]


def test_a_company_workflow_orders_its_stages_and_others_come_after(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    _deals(client, acme)
    workflow(
        client,
        acme,
        kind="opportunity",
        name="Our pipeline",
        stages=[
            {"key": "propose", "name": "Proposal out"},
            {"key": "develop", "name": "Discovery"},
            {"key": "won", "name": "Signed", "category": "won"},
            {"key": "lost", "name": "Dropped", "category": "lost"},
        ],
    )
    result = _run(client, acme, **BY_STAGE)
    # the workflow's own order and names; "qualify" only in the built-in pipeline: after them
    assert _labels(result, "stage") == [
        "Proposal out",
        "Discovery",
        "Dropped",
        "Qualify",
        "No stage",
    ]


def test_exports_and_the_deck_keep_the_workflow_order(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    _deals(client, acme)
    response = client.post(
        RUN + "/export", params={"format": "csv"}, json=BY_STAGE, headers=acme.headers
    )
    assert response.status_code == 200, response.text
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [line[0] for line in lines[1 : 1 + len(PIPELINE_ORDER)]] == PIPELINE_ORDER
    xlsx = client.post(
        RUN + "/export", params={"format": "xlsx"}, json=BY_STAGE, headers=acme.headers
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content))["Report"]
    column = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert column[: len(PIPELINE_ORDER)] == PIPELINE_ORDER

    saved = client.post(
        "/api/v1/reports",
        json={"name": "By stage", "definition": BY_STAGE, "chart_type": "bar"},
        headers=acme.headers,
    )
    assert saved.status_code == 201, saved.text
    report_id = saved.json()["id"]
    board = client.post(
        "/api/v1/dashboards",
        json={
            "name": "QBR",
            "panels": [
                {"report_id": report_id, "chart_type": "bar"},
                {"report_id": report_id, "chart_type": "pie"},
            ],
        },
        headers=acme.headers,
    )
    assert board.status_code == 201, board.text
    deck = client.get(f"/api/v1/dashboards/{board.json()['id']}/deck.pptx", headers=acme.headers)
    assert deck.status_code == 200
    plots = [
        shape.chart.plots[0]
        for slide in Presentation(io.BytesIO(deck.content)).slides
        for shape in slide.shapes
        if shape.has_chart
    ]
    bar, pie = plots
    assert list(bar.categories) == PIPELINE_ORDER
    assert [s.name for s in bar.series] == ["Count", "Sum of my amount"]  # both measures
    assert list(pie.categories) == PIPELINE_ORDER[:-1]  # no "No stage" slice


def _charts(page: Page) -> list[dict[str, Any]]:
    return [
        json.loads(str(c.attrs["data-chart"]))
        for c in page.root.find_all("canvas")
        if "data-chart" in c.attrs
    ]


def _notes(page: Page) -> list[Any]:
    return [d for d in page.root.find_all("details") if "report-currency-note" in d.classes()]


def test_a_dashboard_has_one_currency_note_and_charts_plot_every_measure_in_order(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme", currency="EUR")
    rates(client, acme, ("USD", "0.92", "2026-12-01"), ("USD", "0.90", "2026-06-01"))
    _deals(client, acme)
    ids = []
    for name, chart in (("By stage", "bar"), ("Share", "pie"), ("Again", "funnel")):
        response = client.post(
            "/api/v1/reports",
            json={"name": name, "definition": BY_STAGE, "chart_type": chart},
            headers=acme.headers,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    board = client.post(
        "/api/v1/dashboards",
        json={"name": "QBR", "panels": [{"report_id": i} for i in ids]},
        headers=acme.headers,
    )
    assert board.status_code == 201, board.text
    browser = signed_in(new_browser, acme)
    page = browser.page(f"/dashboards/{board.json()['id']}")

    [note] = _notes(page)  # one note for three panels with amounts
    summary = note.find("summary").text
    assert "Amounts in EUR" in summary
    assert "1 Dec 2026" in summary  # the newest rate's first day, in the one date format
    assert "USD" in note.text
    assert "0.92" in note.text
    assert "1 older rate" in note.text
    assert page.main_text.count("each amount converted") == 0  # the old 60-word note is gone
    assert page.main_text.count("Amounts in EUR") == 1

    bar, pie, funnel = _charts(page)
    assert bar["labels"] == PIPELINE_ORDER
    assert [(d["label"], d["unit"]) for d in bar["datasets"]] == [
        ("Count", "count"),
        ("Sum of my amount", "money"),
    ]
    assert funnel["labels"] == PIPELINE_ORDER
    assert pie["labels"] == PIPELINE_ORDER[:-1]  # "No stage" is no slice; the table keeps it
    assert len(pie["datasets"]) == 1
    assert "No stage is not plotted as a slice" in page.main_text

    # the report page shows the note once too; a report of counts only needs none
    report = browser.page(f"/reports/{ids[0]}")
    assert len(_notes(report)) == 1
    [table] = [t for t in report.root.find_all("table") if "report-table" in t.classes()]
    body = table.find("tbody")
    assert body is not None
    assert [th.text.strip() for th in body.find_all("th")] == PIPELINE_ORDER
    counts = client.post(
        "/api/v1/reports",
        json={"name": "Counts", "definition": {"group_by": ["stage"]}, "chart_type": "bar"},
        headers=acme.headers,
    ).json()["id"]
    assert not _notes(browser.page(f"/reports/{counts}"))


def test_joint_stages_follow_the_program_workflow_of_a_program_the_viewer_sees(
    client: TestClient,
) -> None:
    host = make_company(client, "Host")
    program_id = record(client, host, "program", "Co-sell program")
    workflow(
        client,
        host,
        program_id=program_id,
        kind="opportunity",
        name="Joint pipeline",
        stages=[
            {"key": "sourced", "name": "Sourced"},
            {"key": "negotiation", "name": "In negotiation"},
            {"key": "closed", "name": "Closed", "category": "won"},
        ],
    )
    for title, stage in (
        ("C", "closed"),
        ("Unknown", "zz-custom"),
        ("N", "negotiation"),
        ("None", None),
        ("S", "sourced"),
    ):
        record(client, host, "opportunity", title, core={"joint_stage": stage} if stage else None)
    result = _run(client, host, group_by=["joint_stage"])
    assert _labels(result, "joint_stage") == [
        "Sourced",
        "In negotiation",
        "Closed",
        "zz-custom",  # no workflow names it: as stored
        "No stage",
    ]
    # a company that cannot see the program gets no names from it
    other = make_company(client, "Other")
    record(client, other, "opportunity", "Theirs", core={"joint_stage": "negotiation"})
    assert _labels(_run(client, other, group_by=["joint_stage"]), "joint_stage") == ["negotiation"]
