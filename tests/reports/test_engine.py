"""Reports run through the gate: groups, measures, filters and totals over what the viewer may
see, with amounts converted to its currency by hand-checkable rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company
from tests.fixtures.cosell import rates
from tests.fixtures.records import create_record, put_template, share_record

RUN = "/api/v1/reports/run"


def report(client: TestClient, who: Member, **body: Any) -> dict[str, Any]:
    response = client.post(RUN, json=body, headers=who.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def by_group(result: dict[str, Any], dimension: str) -> dict[str | None, dict[str, Any]]:
    return {row["group"][dimension]["value"]: row for row in result["rows"]}


def money(value: str, currency: str = "USD") -> dict[str, str]:
    return {"value": value, "currency": currency}


def test_grouped_counts_sums_and_totals_over_my_records(client: TestClient) -> None:
    acme = make_company(client, "Acme", currency="USD")
    other = make_company(client, "Other", currency="USD")
    create_record(client, acme, "A", amount=money("100"), region="emea", stage="qualify")
    create_record(client, acme, "B", amount=money("50.50"), region="emea", stage="won")
    create_record(client, acme, "C", amount=money("10"), region="apac", stage="lost")
    create_record(client, other, "Not mine", amount=money("999"), region="emea")
    result = report(
        client,
        acme,
        group_by=["region"],
        measures=[
            {"op": "count"},
            {"op": "sum", "field": "mine.amount"},
            {"op": "avg", "field": "mine.amount"},
            {"op": "max", "field": "mine.amount"},
            {"op": "win_rate"},
        ],
    )
    rows = by_group(result, "region")
    assert set(rows) == {"emea", "apac"}
    assert rows["emea"]["measures"] == {
        "count": 2,
        "sum(mine.amount)": "150.50",
        "avg(mine.amount)": "75.25",
        "max(mine.amount)": "100.00",
        "win_rate": "1.0000",
    }
    assert rows["apac"]["measures"]["win_rate"] == "0.0000"
    assert result["totals"]["measures"]["count"] == 3  # the other company's record is not seen
    assert result["totals"]["measures"]["sum(mine.amount)"] == "160.50"
    assert result["totals"]["measures"]["win_rate"] == "0.5000"
    assert result["currency"] == "USD"
    assert "close date" in result["rate_date"]


def test_currency_conversion_by_hand(client: TestClient) -> None:
    acme = make_company(client, "Acme", currency="USD")
    rates(client, acme, ("EUR", "1.10", "2026-01-01"), ("EUR", "1.20", "2026-04-01"))
    # closes before the second rate: 100 EUR * 1.10 = 110.00
    create_record(client, acme, "Q1", amount=money("100", "EUR"), close_date="2026-02-15")
    # closes on the day the second rate starts: 100 EUR * 1.20 = 120.00
    create_record(client, acme, "Q2", amount=money("100", "EUR"), close_date="2026-04-01")
    # before any EUR rate: not converted, reported apart
    create_record(client, acme, "Old", amount=money("40", "EUR"), close_date="2025-06-30")
    # no GBP rate at all
    create_record(client, acme, "GBP", amount=money("7.25", "GBP"), close_date="2026-05-01")
    # the viewer's own currency converts at 1
    create_record(client, acme, "USD", amount=money("5"), close_date="2026-05-01")
    result = report(
        client,
        acme,
        group_by=["close_quarter"],
        measures=[{"op": "sum", "field": "mine.amount"}, {"op": "count"}],
    )
    rows = by_group(result, "close_quarter")
    assert set(rows) == {"2025-Q2", "2026-Q1", "2026-Q2"}, result["rows"]
    assert rows["2026-Q1"]["measures"]["sum(mine.amount)"] == "110.00"
    assert rows["2026-Q2"]["measures"]["sum(mine.amount)"] == "125.00"
    assert rows["2026-Q2"]["unconverted"]["sum(mine.amount)"] == [
        {"currency": "GBP", "count": 1, "sum": "7.25"}
    ]
    assert rows["2025-Q2"]["measures"]["sum(mine.amount)"] is None
    assert rows["2025-Q2"]["unconverted"]["sum(mine.amount)"] == [
        {"currency": "EUR", "count": 1, "sum": "40.00"}
    ]
    totals = result["totals"]
    assert totals["measures"] == {"sum(mine.amount)": "235.00", "count": 5}
    assert totals["unconverted"]["sum(mine.amount)"] == [
        {"currency": "EUR", "count": 1, "sum": "40.00"},
        {"currency": "GBP", "count": 1, "sum": "7.25"},
    ]


def test_partner_groups_count_a_record_in_each_but_totals_once(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    gamma = make_company(client, "Gamma")
    both = create_record(client, acme, "Both", amount=money("10"))
    share_record(client, acme, both, beta, gamma)
    only_beta = create_record(client, acme, "Beta only", amount=money("20"))
    share_record(client, acme, only_beta, beta)
    invited = create_record(client, acme, "Gamma invited", amount=money("40"))
    share_record(client, acme, invited, gamma, accepted=False)
    create_record(client, acme, "Alone", amount=money("30"))
    result = report(
        client,
        acme,
        group_by=["partner"],
        measures=[{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
    )
    rows = by_group(result, "partner")
    assert rows[beta.company_id]["group"]["partner"]["label"] == "Beta"
    assert rows[beta.company_id]["measures"] == {"count": 2, "sum(mine.amount)": "30.00"}
    assert rows[gamma.company_id]["measures"] == {"count": 1, "sum(mine.amount)": "10.00"}
    assert rows[None]["group"]["partner"]["label"] == "No partner"
    assert rows[None]["measures"] == {"count": 2, "sum(mine.amount)": "70.00"}
    assert result["totals"]["measures"] == {"count": 4, "sum(mine.amount)": "100.00"}


def test_filters_and_weighted_pipeline(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    create_record(client, acme, "P", amount=money("100"), forecast_category="pipeline")
    create_record(client, acme, "C", amount=money("100"), forecast_category="commit")
    create_record(client, acme, "B", amount=money("1000"), forecast_category="best_case")
    create_record(client, acme, "N", amount=money("100"))
    result = report(client, acme, measures=[{"op": "weighted_pipeline"}, {"op": "count"}])
    # 100*0.1 + 100*0.9 + 1000*0.5 + 100*0 = 600
    assert result["totals"]["measures"] == {"weighted_pipeline": "600.00", "count": 4}
    filtered = report(
        client,
        acme,
        measures=[{"op": "count"}],
        filters=[{"field": "mine.amount", "op": "lte", "value": 100}],
    )
    assert filtered["totals"]["measures"] == {"count": 3}
    single = report(
        client,
        acme,
        measures=[{"op": "count"}],
        filters={"field": "mine.forecast_category", "op": "eq", "value": "commit"},
    )
    assert single["totals"]["measures"] == {"count": 1}


def test_quarter_compare_and_cycle_time(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    create_record(client, acme, "Q3 a", amount=money("100"), close_date="2026-07-10", region="emea")
    create_record(client, acme, "Q3 b", amount=money("50"), close_date="2026-09-30", region="apac")
    create_record(client, acme, "Q2", amount=money("30"), close_date="2026-06-30", region="emea")
    create_record(client, acme, "Q1", amount=money("1"), close_date="2026-01-01", region="emea")
    result = report(
        client,
        acme,
        group_by=["region"],
        measures=[{"op": "count"}, {"op": "sum", "field": "mine.amount"}],
        quarter="2026-Q3",
        compare="previous_quarter",
    )
    assert result["period"] == "2026-Q3"
    assert result["totals"]["measures"] == {"count": 2, "sum(mine.amount)": "150.00"}
    assert result["previous"]["period"] == "2026-Q2"
    assert result["previous"]["totals"]["measures"] == {"count": 1, "sum(mine.amount)": "30.00"}
    assert result["totals"]["delta"] == {"count": 1, "sum(mine.amount)": "120.00"}
    rows = by_group(result, "region")
    assert rows["emea"]["delta"] == {"count": 0, "sum(mine.amount)": "70.00"}
    assert rows["apac"]["delta"] == {"count": 1, "sum(mine.amount)": None}  # nothing before

    won = create_record(client, acme, "Won", stage="won", close_date="2099-01-11")
    cycle = report(client, acme, measures=[{"op": "avg_cycle_days"}])
    created = client.get(f"/api/v1/opportunities/{won}", headers=acme.headers).json()
    expected = (date(2099, 1, 11) - date.fromisoformat(created["created_at"][:10])).days
    assert cycle["totals"]["measures"] == {"avg_cycle_days": f"{expected}.0"}


def test_core_owner_stage_and_custom_enum_dimensions_have_labels(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "owner", "visibility": "private"},
        {"key": "stage", "visibility": "private"},
        {
            "key": "tier",
            "type": "enum",
            "visibility": "private",
            "options": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}],
        },
    )
    for title, motion, tier in (
        ("A", "co-sell", "gold"),
        ("B", "resell", "gold"),
        ("C", None, None),
    ):
        response = client.post(
            "/api/v1/opportunities",
            json={
                "title": title,
                "motion": motion,
                "fields": {"owner": acme.user_id, "stage": "propose", "tier": tier},
            },
            headers=acme.headers,
        )
        assert response.status_code == 201, response.text
    result = report(client, acme, group_by=["motion", "owner", "stage"])
    owner = (acme.user_id, f"Admin {acme.email.split('@')[0].removeprefix('admin')}")
    assert [
        tuple((g["value"], g["label"]) for g in row["group"].values()) for row in result["rows"]
    ] == [
        (("co-sell", "Co-sell"), owner, ("propose", "Propose")),
        (("resell", "Resell"), owner, ("propose", "Propose")),
        ((None, "Not set"), owner, ("propose", "Propose")),
    ]
    tiers = by_group(report(client, acme, group_by=["mine.tier"]), "mine.tier")
    assert {k: v["measures"]["count"] for k, v in tiers.items()} == {"gold": 2, None: 1}
    sources = report(client, acme, group_by=["source_company", "joint_stage"])
    assert [row["measures"]["count"] for row in sources["rows"]] == [3]


def test_quarters_outside_1900_to_2999_are_refused_with_the_field_path(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    create_record(client, acme, "First", close_date="1900-02-01")
    create_record(client, acme, "Last", close_date="2999-12-31")
    for quarter in ("0000-Q1", "0001-Q1", "1899-Q4", "3000-Q1", "9999-Q4"):
        for extra in ({}, {"compare": "previous_quarter"}):
            response = client.post(RUN, json={"quarter": quarter, **extra}, headers=acme.headers)
            assert response.status_code == 422, (quarter, response.text)
            [error] = response.json()["errors"]
            assert error["path"] == "body.quarter"
            assert "from 1900 to 2999" in error["message"]
    # the ends of the range work, and so does the quarter before the first one
    last = report(client, acme, quarter="2999-Q4", compare="previous_quarter")
    assert last["totals"]["measures"] == {"count": 1}
    assert last["previous"]["period"] == "2999-Q3"
    first = report(client, acme, quarter="1900-Q1", compare="previous_quarter")
    assert first["totals"]["measures"] == {"count": 1}
    assert first["previous"]["period"] == "1899-Q4"
    assert first["previous"]["totals"]["measures"] == {"count": 0}
