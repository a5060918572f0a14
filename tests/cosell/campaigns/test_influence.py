"""Influence: per campaign (and per solution) the leads and opportunities linked to it, the open
pipeline and won revenue per currency, from the viewer's visible spaces only (its own amount,
else the amount the owner shares with it), never a hidden amount."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company
from tests.fixtures.campaigns import attribute, campaign, link_solution
from tests.fixtures.cosell import API, join, record, template

CANARY_AMOUNT = "987654.32"


def test_influence_counts_visible_records_and_visible_amounts(client: TestClient) -> None:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    summit = campaign(client, acme, "Cloud summit")
    solution = record(client, acme, "solution", "Secure cloud bundle")
    join(client, acme, "campaign", summit, beta)
    join(client, acme, "solution", solution, beta)
    open_deal = record(
        client, acme, "opportunity", "Open", amount={"value": 1000, "currency": "EUR"}
    )
    won_deal = record(
        client, acme, "opportunity", "Won", amount={"value": 500, "currency": "USD"}, stage="won"
    )
    lost_deal = record(client, acme, "opportunity", "Lost", amount=300, stage="lost")
    beta_deal = record(client, beta, "opportunity", "Beta's", amount=CANARY_AMOUNT)
    shared_deal = record(client, beta, "opportunity", "Beta's shared", amount=200)
    join(client, beta, "opportunity", beta_deal, acme)
    join(client, beta, "opportunity", shared_deal, acme)
    lead = record(client, acme, "lead", "Lead")
    for deal in (open_deal, won_deal, lost_deal, lead):
        attribute(client, acme, summit, deal)
        link_solution(client, acme, solution, deal)
    attribute(client, beta, summit, beta_deal)
    attribute(client, beta, summit, shared_deal)
    template(client, beta, "opportunity", amount={"companies": [acme.company_id]})

    seen = client.get(f"{API}/campaigns/{summit}/influence", headers=acme.headers).json()
    assert seen["leads"] == 1
    assert seen["opportunities"] == 5
    pipeline = {a["currency"]: Decimal(a["amount"]) for a in seen["pipeline"]}
    revenue = {a["currency"]: Decimal(a["amount"]) for a in seen["revenue"]}
    own_currency = "USD"
    # Acme's open EUR deal, Beta's two shared amounts (no Acme amount on them), not the lost one
    assert pipeline == {"EUR": Decimal(1000), own_currency: Decimal(200) + Decimal(CANARY_AMOUNT)}
    assert revenue == {"USD": Decimal(500)}

    # Beta stops sharing amounts with Acme: they leave Acme's figures, the deals still count
    template(client, beta, "opportunity", amount="private")
    seen = client.get(f"{API}/campaigns/{summit}/influence", headers=acme.headers)
    assert CANARY_AMOUNT not in seen.text
    assert seen.json()["opportunities"] == 5
    assert {a["currency"]: a["amount"] for a in seen.json()["pipeline"]} == {"EUR": "1000.00"}

    by_solution = client.get(f"{API}/solutions/{solution}/influence", headers=acme.headers).json()
    assert (by_solution["leads"], by_solution["opportunities"]) == (1, 3)
    # Beta sees none of Acme's deals: nothing of them counts for it
    beta_view = client.get(f"{API}/solutions/{solution}/influence", headers=beta.headers).json()
    assert (beta_view["leads"], beta_view["opportunities"], beta_view["pipeline"]) == (0, 0, [])
