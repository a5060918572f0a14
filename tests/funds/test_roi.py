"""Return on a fund: leads, pipeline and revenue influenced per currency unit paid, from the
influence figures per campaign that campaign attribution gives (here built by hand and plugged
into the seam `roi.install_influence`, as the app will plug in `cosell.campaigns.influence`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coterie.authz.principal import Principal
from coterie.funds import roi
from coterie.funds.roi import Influence, returns
from tests.fixtures.cosell import join, record
from tests.fixtures.funds import FUNDS, act, allot, budget, day, fund_request, network
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
        session: Session, principal: Principal, campaign_ids: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, Influence]:
        calls.append(list(campaign_ids))
        return {c: Influence(30, 500_000_00, 100_000_00) for c in campaign_ids}

    roi.install_influence(influence)
    try:
        yield calls
    finally:
        roi.uninstall_influence()


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
    got = client.get(f"{FUNDS}/budgets/{b['id']}/roi", headers=net.host.headers).json()
    assert got["connected"] is False
    assert got["pipeline_per_unit"] is None
