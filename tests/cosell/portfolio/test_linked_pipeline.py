"""The portfolio's linked pipeline: per solution, the pipeline (open) and revenue (won) of the
opportunities linked to it that the viewer may see, per currency, on the API and the page; an
opportunity the viewer may not see never counts (a canary amount)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.cosell.portfolio.test_portfolio import PORTFOLIO, link_deal, on_workflow, portfolio
from tests.fixtures.campaigns import link_solution
from tests.fixtures.cosell import join, record
from tests.fixtures.funds import signed_in
from tests.fixtures.ideas import world
from tests.fixtures.smtp import Inbox

CANARY = "765432.19"


def _money(amounts: list[dict[str, Any]]) -> dict[str, Decimal]:
    return {a["currency"]: Decimal(a["amount"]) for a in amounts}


def test_linked_pipeline_counts_what_the_viewer_sees(
    app: FastAPI, client: TestClient, inbox: Inbox
) -> None:
    w = world(client, inbox)
    solution = record(client, w.host, "solution", "Retail analytics pack")
    join(client, w.host, "solution", solution, w.a, w.b)
    on_workflow(client, w, solution, "business_review")
    host_deals = [
        (1000, "EUR", "open"), (2500, "EUR", "open"), (500, "USD", "won"), (300, "USD", "lost"),
    ]  # fmt: skip
    for value, currency, stage in host_deals:
        amount = {"value": value, "currency": currency}
        link_deal(client, w.host, solution, w.host, amount=amount, stage=stage)
    # partner B links its own deal, which it never shares with the host
    secret = record(client, w.b, "opportunity", "B's private deal",
                    amount={"value": CANARY, "currency": "GBP"})  # fmt: skip
    link_solution(client, w.b, solution, secret)

    expected_pipeline = {"EUR": sum(Decimal(v) for v, c, s in host_deals if s == "open")}
    expected_revenue = {"USD": sum(Decimal(v) for v, c, s in host_deals if s == "won")}
    rows = {r["id"]: r for r in portfolio(client, w.host)["items"]}
    linked = rows[solution]["linked_pipeline"]
    assert linked["opportunities"] == len(host_deals)  # B's deal is not the host's to count
    assert _money(linked["pipeline"]) == expected_pipeline
    assert _money(linked["revenue"]) == expected_revenue
    listed = client.get(PORTFOLIO, headers=w.host.headers)
    assert CANARY not in listed.text

    # B sees its own deal's amount, and none of the host's deals (never shared with it)
    b_rows = {r["id"]: r for r in portfolio(client, w.b)["items"]}
    b_linked = b_rows[solution]["linked_pipeline"]
    assert b_linked["opportunities"] == 1
    assert _money(b_linked["pipeline"]) == {"GBP": Decimal(CANARY)}
    assert b_linked["revenue"] == []

    with signed_in(app, w.host) as host:
        page = host.get("/solutions/portfolio").text
    assert "Linked pipeline" in page
    assert "3,500.00 EUR" in page
    assert "500.00 USD" in page
    assert CANARY not in page
    assert "765,432.19" not in page
