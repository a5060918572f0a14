"""Return on a fund: leads, pipeline and revenue influenced per currency unit paid, from the
influence figures per campaign that campaign attribution gives (here built by hand and plugged
into the seam `roi.install_influence`, as the app will plug in `cosell.campaigns.influence`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coterie.authz.principal import Principal
from coterie.funds import roi
from coterie.funds.roi import Influence, returns
from tests.fixtures.campaigns import attribute, campaign
from tests.fixtures.cosell import join, record
from tests.fixtures.funds import FUNDS, act, allot, budget, day, fund_request, network, signed_in
from tests.fixtures.funds import claim as claim_funds


def test_returns_per_unit_paid() -> None:
    figures = [Influence(10, 300_000_00, 50_000_00), Influence(20, 200_000_00, 50_000_00)]
    result = returns(2_000_00, figures)
    assert (result.leads, result.pipeline_cents, result.revenue_cents) == (
        30,
        500_000_00,
        100_000_00,
    )
    assert result.leads_per_thousand == Decimal("15.00")
    assert result.per_unit(result.pipeline_cents) == Decimal("250.00")
    assert result.per_unit(result.revenue_cents) == Decimal("50.00")
    nothing_paid = returns(0, figures)
    assert nothing_paid.leads_per_thousand is None
    assert nothing_paid.per_unit(1) is None


@pytest.fixture
def asked() -> Iterator[list[list[uuid.UUID]]]:
    """Attribution figures built by hand: every campaign influenced 30 leads, 500,000 of
    pipeline and 100,000 of revenue; records which campaign ids it was asked about."""
    calls: list[list[uuid.UUID]] = []

    def influence(
        session: Session, principal: Principal, campaign_ids: list[uuid.UUID], currency: str
    ) -> Mapping[uuid.UUID, Influence]:
        calls.append(list(campaign_ids))
        return {c: Influence(30, 500_000_00, 100_000_00) for c in campaign_ids}

    installed = roi.installed_influence()
    roi.install_influence(influence)
    try:
        yield calls
    finally:
        roi.uninstall_influence()
        if installed is not None:
            roi.install_influence(installed)


def test_roi_of_a_budget_counts_only_campaigns_the_funder_sees(
    client: TestClient, asked: list[list[uuid.UUID]]
) -> None:
    net = network(client)
    b = budget(client, net)
    allot(client, net.host, b["id"], net.partner)
    allot(client, net.host, b["id"], net.other)
    shown = record(client, net.partner, "campaign", "Retail CIO webinars")
    join(client, net.partner, "campaign", shown, net.host)
    hidden = record(client, net.other, "campaign", "Other partner's own campaign")
    req = fund_request(client, net.partner, b["id"], "2000.00", submit=True, campaign_id=shown)
    other = fund_request(client, net.other, b["id"], "1000.00", submit=True, campaign_id=hidden)
    for r in (req, other):
        url = f"{FUNDS}/requests/{r['id']}/approve"
        assert (
            act(client, net.host, url, {"approved_amount": r["requested_amount"]}).status_code
            == 200
        )
    claim = claim_funds(client, net.partner, req["id"], "2000.00").json()
    act(client, net.host, f"{FUNDS}/claims/{claim['id']}/approve")
    paid = act(client, net.host, f"{FUNDS}/claims/{claim['id']}/pay",
               {"payment_reference": "PAY-1", "paid_on": day(0)})  # fmt: skip
    assert paid.status_code == 200, paid.text

    got = client.get(f"{FUNDS}/budgets/{b['id']}/roi", headers=net.host.headers).json()
    assert got["connected"] is True
    assert (got["paid"], got["leads"], got["pipeline"]) == ("2000.00", 30, "500000.00")
    assert (got["leads_per_thousand"], got["pipeline_per_unit"], got["revenue_per_unit"]) == (
        "15.00", "250.00", "50.00",
    )  # fmt: skip
    assert asked == [[uuid.UUID(shown)]]  # the campaign the host may not see was never asked
    # the partner does not get the funder's return figures
    assert (
        client.get(f"{FUNDS}/budgets/{b['id']}/roi", headers=net.partner.headers).status_code == 404
    )


def test_roi_says_when_attribution_is_not_connected(client: TestClient) -> None:
    net = network(client)
    b = budget(client, net)
    installed = roi.installed_influence()
    roi.uninstall_influence()
    try:
        got = client.get(f"{FUNDS}/budgets/{b['id']}/roi", headers=net.host.headers).json()
    finally:
        if installed is not None:
            roi.install_influence(installed)
    assert got["connected"] is False
    assert got["pipeline_per_unit"] is None


CANARY_AMOUNT = "876543.21"


def test_roi_from_campaign_attribution_in_the_budgets_currency(
    app: FastAPI, client: TestClient
) -> None:
    """The installed source (`funds.attribution`): the host's campaign, a lead the partner
    attributes, the host's open and won deals; a USD deal counts once the host has rates; the
    other partner's campaign, which the host may not see, adds nothing (a canary amount)."""
    net = network(client)
    b = budget(client, net)  # EUR; the host's own currency is USD
    allot(client, net.host, b["id"], net.partner)
    allot(client, net.host, b["id"], net.other)
    summit = campaign(client, net.host, "Retail CIO summit")
    join(client, net.host, "campaign", summit, net.partner)
    lead = record(client, net.partner, "lead", "Retail CIO from the summit")
    join(client, net.partner, "lead", lead, net.host)
    attribute(client, net.partner, summit, lead)

    def deal(title: str, value: int, currency: str, **extra: str) -> str:
        amount = {"value": value, "currency": currency}
        return record(client, net.host, "opportunity", title, amount=amount, **extra)

    deals = [deal("Open EUR", 40000, "EUR"), deal("Won EUR", 10000, "EUR", stage="won"),
             deal("Open USD", 1100, "USD")]  # fmt: skip
    for deal in deals:
        attribute(client, net.host, summit, deal)
    hidden = campaign(client, net.other, "Other partner's own campaign")
    secret = record(client, net.other, "opportunity", "Secret",
                    amount={"value": CANARY_AMOUNT, "currency": "EUR"}, stage="won")  # fmt: skip
    attribute(client, net.other, hidden, secret)

    req = fund_request(client, net.partner, b["id"], "2000.00", submit=True, campaign_id=summit)
    other = fund_request(client, net.other, b["id"], "1000.00", submit=True, campaign_id=hidden)
    for r in (req, other):
        url = f"{FUNDS}/requests/{r['id']}/approve"
        assert (
            act(client, net.host, url, {"approved_amount": r["requested_amount"]}).status_code
            == 200
        )
    for who, r, cents in ((net.partner, req, "2000.00"), (net.other, other, "1000.00")):
        made = claim_funds(client, who, r["id"], cents).json()
        act(client, net.host, f"{FUNDS}/claims/{made['id']}/approve")
        paid = act(client, net.host, f"{FUNDS}/claims/{made['id']}/pay",
                   {"payment_reference": "PAY-1", "paid_on": day(0)})  # fmt: skip
        assert paid.status_code == 200, paid.text
    paid_total = Decimal("3000.00")

    url = f"{FUNDS}/budgets/{b['id']}/roi"
    got = client.get(url, headers=net.host.headers)
    assert CANARY_AMOUNT not in got.text
    body = got.json()
    # without a EUR rate the USD deal cannot be brought to EUR: left out, and said so
    assert (body["leads"], body["pipeline"], body["revenue"]) == (1, "40000.00", "10000.00")
    assert body["not_converted"] == ["USD"]
    with signed_in(app, net.host) as host:
        page = host.get(f"/funds/budgets/{b['id']}").text
    assert "Amounts in USD are not counted" in page

    rates = client.put(
        "/api/v1/exchange-rates",
        json=[{"currency": "EUR", "rate": "1.10", "valid_from": day(-10)}],
        headers=net.host.headers,
    )
    assert rates.status_code == 200, rates.text
    body = client.get(url, headers=net.host.headers).json()
    pipeline = Decimal(40000) + Decimal(1100) / Decimal("1.10")  # 1 EUR = 1.10 USD
    revenue = Decimal(10000)
    assert body["not_converted"] == []
    assert (body["paid"], body["leads"]) == (f"{paid_total:.2f}", 1)
    assert Decimal(body["pipeline"]) == pipeline
    assert Decimal(body["revenue"]) == revenue
    assert Decimal(body["leads_per_thousand"]) == (1 * 1000 / paid_total).quantize(Decimal("0.01"))
    assert Decimal(body["pipeline_per_unit"]) == (pipeline / paid_total).quantize(Decimal("0.01"))
    assert Decimal(body["revenue_per_unit"]) == (revenue / paid_total).quantize(Decimal("0.01"))

    with signed_in(app, net.host) as host:
        page = host.get(f"/funds/budgets/{b['id']}").text
    assert "41,000.00 EUR" in page
    assert "10,000.00 EUR" in page
    assert f"{(pipeline / paid_total).quantize(Decimal('0.01'))} per EUR paid" in page
    assert CANARY_AMOUNT not in page
    assert "876,543.21" not in page
