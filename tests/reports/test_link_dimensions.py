"""Reports by campaign and by joint solution, built from record links: each group holds the
records linked to a campaign or solution the viewer sees, a record linked to two solutions is
in both groups and counted once in the totals (checked against a naive oracle computed here),
and a campaign the viewer cannot see never shows, by title or id, in groups, labels, filters
or exports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company
from tests.fixtures.campaigns import attribute, campaign, link_solution
from tests.fixtures.cosell import join, record
from tests.web.conftest import Browser
from tests.web.html import Page
from tests.web.test_network_pages import signed_in

RUN = "/api/v1/reports/run"
CANARY = "CANARY-beta-secret-campaign"
MEASURES = [{"op": "count"}, {"op": "sum", "field": "mine.amount"}]

# title, amount, stage, the solutions (S1, S2) and campaign (C1, C2) Acme links it to
DEALS: tuple[tuple[str, int, str, tuple[str, ...], str | None], ...] = (
    ("D1", 1000, "develop", ("S1",), "C1"),
    ("D2", 2500, "won", ("S1", "S2"), "C1"),
    ("D3", 700, "propose", ("S2",), "C2"),
    ("D4", 300, "won", (), "C2"),
    ("D5", 50, "develop", ("S1", "S2"), None),
    ("D6", 10, "lost", (), None),
)


def _run(client: TestClient, who: Member, **body: Any) -> dict[str, Any]:
    response = client.post(RUN, json={"kind": "opportunity", "measures": MEASURES, **body},
                           headers=who.headers)  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def _groups(result: dict[str, Any], dim: str) -> dict[str, tuple[int, Decimal]]:
    return {
        row["group"][dim]["label"]: (
            row["measures"]["count"],
            Decimal(row["measures"]["sum(mine.amount)"] or 0),
        )
        for row in result["rows"]
    }


def _options(page: Page, name: str) -> list[tuple[str, str]]:
    """The (value, text) options of the select called `name`."""
    select = next(s for s in page.root.find_all("select") if s.attrs.get("name") == name)
    return [(str(o.attrs.get("value", "")), o.text.strip()) for o in select.find_all("option")]


def _world(client: TestClient) -> tuple[Member, Member, dict[str, str]]:
    acme, beta = make_company(client, "Acme"), make_company(client, "Beta")
    hubs = {
        "S1": record(client, acme, "solution", "Bundle one"),
        "S2": record(client, acme, "solution", "Bundle two"),
        "C1": campaign(client, acme, "Summit"),
        "C2": campaign(client, acme, "Webinar"),
    }
    ids: dict[str, str] = {}
    for title, amount, stage, solutions, chosen in DEALS:
        ids[title] = record(client, acme, "opportunity", title, amount=amount, stage=stage)
        for s in solutions:
            link_solution(client, acme, hubs[s], ids[title])
        if chosen:
            attribute(client, acme, hubs[chosen], ids[title])
    # Beta, on D6 and D1, attributes them to its own campaign, which Acme does not see
    secret = campaign(client, beta, CANARY)
    for title in ("D6", "D1"):
        join(client, acme, "opportunity", ids[title], beta)
    attribute(client, beta, secret, ids["D6"])
    hubs["secret"] = secret
    return acme, beta, {**hubs, **ids}


def _oracle(index: int, names: dict[str, str], empty: str) -> dict[str, tuple[int, Decimal]]:
    """Plain Python over DEALS: per linked hub (index 3: solutions, 4: campaign) the count and
    sum of the deals linked to it; deals linked to none in the empty group."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for deal in DEALS:
        linked = deal[index] if index == 3 else ((deal[4],) if deal[4] else ())
        for hub in linked or (None,):
            label = names[hub] if hub else empty
            found[label][0] += 1
            found[label][1] += int(deal[1])
    return {k: (v[0], Decimal(v[1])) for k, v in found.items()}


def test_pipeline_by_solution_counts_each_record_once_in_totals(client: TestClient) -> None:
    acme, _beta, ids = _world(client)
    result = _run(client, acme, group_by=["solution"])
    names = {"S1": "Bundle one", "S2": "Bundle two"}
    assert _groups(result, "solution") == _oracle(3, names, "No solution")
    total_amount = sum(Decimal(d[1]) for d in DEALS)
    assert result["totals"]["measures"]["count"] == len(DEALS)  # D2 and D5 once each
    assert Decimal(result["totals"]["measures"]["sum(mine.amount)"]) == total_amount
    assert sum(c for c, _ in _groups(result, "solution").values()) > len(DEALS)
    assert any("counted in each" in note for note in result["notes"])

    by_both = _run(client, acme, group_by=["solution", "stage"])
    assert by_both["totals"]["measures"]["count"] == len(DEALS)
    filtered = _run(
        client, acme, group_by=["campaign"],
        filters=[{"field": "solution", "op": "eq", "value": ids["S2"]}],
    )  # fmt: skip
    assert _groups(filtered, "campaign") == {
        "Summit": (1, Decimal(2500)), "Webinar": (1, Decimal(700)), "No campaign": (1, Decimal(50)),
    }  # fmt: skip
    assert filtered["totals"]["measures"]["count"] == 3


def test_pipeline_by_campaign_hides_campaigns_the_viewer_cannot_see(client: TestClient) -> None:
    acme, beta, ids = _world(client)
    result = _run(client, acme, group_by=["campaign"])
    names = {"C1": "Summit", "C2": "Webinar"}
    assert _groups(result, "campaign") == _oracle(4, names, "No campaign")
    assert result["totals"]["measures"]["count"] == len(DEALS)
    text = str(result)
    assert CANARY not in text
    assert ids["secret"] not in text

    # filtering on the hidden campaign matches nothing, exactly like an unknown id
    hidden = _run(client, acme, filters=[{"field": "campaign", "op": "eq", "value": ids["secret"]}])
    assert hidden["totals"]["measures"]["count"] == 0
    bad = client.post(
        RUN,
        json={"kind": "opportunity", "measures": MEASURES,
              "filters": [{"field": "campaign", "op": "eq", "value": "nope"}]},
        headers=acme.headers,
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "body.filters.0.value"

    # Beta sees D1 and D6 only: D6 in its own campaign, D1 in none it sees (Acme's are hidden)
    seen = _run(client, beta, group_by=["campaign"])
    assert {k: v[0] for k, v in _groups(seen, "campaign").items()} == {
        CANARY: 1, "No campaign": 1,
    }  # fmt: skip
    assert "Summit" not in str(seen)

    exported = client.post(
        "/api/v1/reports/run/export?format=csv",
        json={"kind": "opportunity", "group_by": ["campaign"], "measures": MEASURES},
        headers=acme.headers,
    )
    assert exported.status_code == 200, exported.text
    assert "Campaign" in exported.text  # the dimension's label heads its column
    assert "Summit" in exported.text
    assert CANARY not in exported.text
    assert ids["secret"] not in exported.text


def test_the_builder_offers_campaign_and_solution_filters_of_visible_ones_only(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme, _beta, ids = _world(client)
    browser = signed_in(new_browser, acme)
    row = browser.page("/reports/filter-row?kind=opportunity&index=0")
    fields = dict(_options(row, "filter.0.field"))
    assert fields["campaign"] == "Campaign"
    assert fields["solution"] == "Joint solution"
    chosen = browser.page("/reports/filter-row?kind=opportunity&index=0&field=campaign")
    assert set(_options(chosen, "filter.0.value")) >= {(ids["C1"], "Summit")}
    assert CANARY not in chosen.text
    assert ids["secret"] not in chosen.text
    accounts = dict(_options(browser.page("/reports/filter-row?kind=account"), "filter.0.field"))
    assert "campaign" not in accounts  # accounts are attributed to no campaign
    builder = browser.page("/reports/new")
    dims = dict(_options(builder, "group_by.0"))
    assert dims["campaign"] == "Campaign"
    assert dims["solution"] == "Joint solution"
