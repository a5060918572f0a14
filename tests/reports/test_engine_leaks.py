"""Reports never show what the viewer may not see: hidden fields are refused as dimensions and
filters, a one-record group shows only visible values, private fields vanish with 'hide private
fields', partner amounts count only where shared, and malformed definitions are 422 with paths."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company
from tests.fixtures.cosell import rates
from tests.fixtures.records import create_record, fill_space, put_template, share_record
from tests.reports.test_engine import RUN, by_group, money, report


def refused(client: TestClient, who: Member, status: int, path: str, **body: Any) -> None:
    response = client.post(RUN, json=body, headers=who.headers)
    assert response.status_code == status, response.text
    problem = response.json()
    if status == 400:
        assert problem["type"] == "/problems/field-not-visible"
    assert path in [e["path"] for e in problem["errors"]], problem


def _network(client: TestClient) -> tuple[Member, Member, str]:
    """Acme owns a deal shared with Beta; Beta shares its region and amount, keeps its stage
    and tier private."""
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    put_template(
        client,
        beta,
        {"key": "amount", "visibility": "participants"},
        {"key": "region", "visibility": "participants"},
        {"key": "stage", "visibility": "private"},
        {"key": "close_date", "visibility": "private"},
        {
            "key": "tier",
            "type": "enum",
            "visibility": "private",
            "options": [{"key": "gold", "label": "Gold"}],
        },
    )
    deal = create_record(client, acme, "Deal", amount=money("10"))
    share_record(client, acme, deal, beta)
    fill_space(
        client, beta, deal, amount=money("700"), region="emea", stage="secret-stage", tier="gold"
    )
    return acme, beta, deal


def test_partner_fields_not_shared_are_refused_and_shared_ones_masked(client: TestClient) -> None:
    acme, beta, _ = _network(client)
    for name in (f"{beta.company_id}.stage", f"{beta.company_id}.tier", "nonsense.key"):
        refused(client, acme, 400, "body.group_by.0", group_by=[name])
        refused(
            client,
            acme,
            400,
            "body.filters.0.field",
            filters=[{"field": name, "op": "is_not_null"}],
        )
    result = report(
        client,
        acme,
        group_by=[f"{beta.company_id}.region"],
        measures=[{"op": "count"}, {"op": "sum", "field": f"{beta.company_id}.amount"}],
    )
    # one record, one group: only the shared region and the shared amount show
    assert [row["group"] for row in result["rows"]] == [
        {f"{beta.company_id}.region": {"value": "emea", "label": "EMEA"}}  # a label, not the key
    ]
    assert result["totals"]["measures"][f"sum({beta.company_id}.amount)"] == "700.00"
    assert "secret-stage" not in str(result)
    assert "gold" not in str(result)


def test_a_company_not_on_the_record_sees_nothing_of_it(client: TestClient) -> None:
    _, beta, _ = _network(client)
    stranger = make_company(client, "Stranger")
    result = report(client, stranger, group_by=["region"], measures=[{"op": "count"}])
    assert result["rows"] == []
    assert result["totals"]["measures"] == {"count": 0}
    # a company it has no shared record with has no fields for it, even shared ones
    refused(client, stranger, 400, "body.group_by.0", group_by=[f"{beta.company_id}.region"])
    refused(
        client,
        stranger,
        400,
        "body.measures.0.field",
        measures=[{"op": "sum", "field": f"{beta.company_id}.amount"}],
    )
    assert "700" not in str(report(client, stranger, measures=[{"op": "count"}]))


def test_partner_amount_counts_only_where_shared_and_active(client: TestClient) -> None:
    acme, beta, _ = _network(client)
    second = create_record(client, acme, "Second", amount=money("5"))
    share_record(client, acme, second, beta)
    fill_space(client, beta, second, amount=money("300"))
    third = create_record(client, acme, "Third")
    share_record(client, acme, third, beta)
    # Beta leaves the second deal: its amount there no longer counts
    response = client.delete(
        f"/api/v1/opportunities/{second}/participants/{beta.company_id}", headers=beta.headers
    )
    assert response.status_code == 204
    field = f"{beta.company_id}.amount"
    result = report(client, acme, measures=[{"op": "sum", "field": field}, {"op": "count"}])
    assert result["totals"]["measures"] == {f"sum({field})": "700.00", "count": 3}
    assert result["totals"]["hidden"] == {f"sum({field})": 2}


def test_hide_private_removes_my_private_values_everywhere(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    put_template(
        client,
        acme,
        {"key": "amount", "visibility": "private"},
        {"key": "region", "visibility": "private"},
        {"key": "stage", "visibility": "participants"},
        {"key": "forecast_category", "visibility": "participants"},
    )
    create_record(client, acme, "A", amount=money("123"), region="emea", stage="won")
    body: dict[str, Any] = {
        "group_by": ["stage"],
        "measures": [
            {"op": "count"},
            {"op": "sum", "field": "mine.amount"},
            {"op": "weighted_pipeline"},
        ],
    }
    shown = report(client, acme, **body)
    assert shown["totals"]["measures"]["sum(mine.amount)"] == "123.00"
    for how in ("request", "preference"):
        if how == "request":
            hidden = report(client, acme, **body, hide_private=True)
        else:
            response = client.patch(
                "/api/v1/me/preferences", json={"hide_private_fields": True}, headers=acme.headers
            )
            assert response.status_code == 200
            hidden = report(client, acme, **body)
        assert hidden["totals"]["measures"] == {
            "count": 1,
            "sum(mine.amount)": None,
            "weighted_pipeline": None,
        }
        assert "123" not in str(hidden)
        assert any("private" in note for note in hidden["notes"])
        # only hidden measures and no grouping: an answer with nothing in it, not an error
        alone = report(
            client, acme, measures=[{"op": "sum", "field": "mine.amount"}], hide_private=True
        )
        assert alone["totals"]["measures"] == {"sum(mine.amount)": None}
        assert by_group(hidden, "stage")["won"]["group"]["stage"]["label"] == "Closed won"
        refused(client, acme, 400, "body.group_by.0", group_by=["region"], hide_private=True)
        refused(
            client,
            acme,
            400,
            "body.filters.0.field",
            filters=[{"field": "mine.amount", "op": "gt", "value": 1}],
            hide_private=True,
        )


def test_accounts_the_viewer_may_not_see_read_not_visible(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    response = client.post(
        "/api/v1/accounts", json={"title": "Beta's secret account"}, headers=beta.headers
    )
    assert response.status_code == 201, response.text
    hidden_account = response.json()["id"]
    response = client.post(
        "/api/v1/opportunities",
        json={"title": "Deal", "account_id": hidden_account},
        headers=beta.headers,
    )
    assert response.status_code == 201, response.text
    deal = response.json()["id"]
    share_record(client, beta, deal, acme)
    result = report(client, acme, group_by=["account"])
    assert [row["group"]["account"] for row in result["rows"]] == [
        {"value": "not-visible", "label": "Not visible"}
    ]
    assert hidden_account not in str(result)
    assert "secret" not in str(result)
    mine = report(client, beta, group_by=["account"])
    assert [row["group"]["account"] for row in mine["rows"]] == [
        {"value": hidden_account, "label": "Beta's secret account"}
    ]


def test_malformed_definitions_are_422_with_paths(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"group_by": ["colour"]}, "body.group_by.0"),
        ({"group_by": ["region", "region"]}, "body.group_by.1"),
        ({"group_by": ["mine.amount"]}, "body.group_by.0"),
        ({"measures": [{"op": "count"}, {"op": "sum"}]}, "body.measures.1.field"),
        ({"measures": [{"op": "sum", "field": "mine.stage"}]}, "body.measures.0.field"),
        ({"measures": [{"op": "median"}]}, "body.measures.0.op"),
        ({"measures": [{"op": "count", "field": "mine.amount"}]}, "body.measures.0.field"),
        ({"measures": []}, "body.measures"),
        ({"kind": "unicorn"}, "body.kind"),
        ({"quarter": "2026-Q5"}, "body.quarter"),
        ({"filters": [{"field": "mine.amount", "op": "near"}]}, "body.filters.0.op"),
    ]
    for body, path in cases:
        response = client.post(RUN, json=body, headers=acme.headers)
        assert response.status_code == 422, (body, response.text)
        assert path in [e["path"] for e in response.json()["errors"]], (body, response.text)
    assert client.post(RUN, json={}).status_code == 401


def test_a_hidden_partner_close_date_never_picks_the_rate(client: TestClient) -> None:
    acme = make_company(client, "Acme", currency="USD")
    beta = make_company(client, "Beta", currency="EUR")
    today = date.today().isoformat()
    rates(client, acme, ("EUR", "1.5", "2000-01-01"), ("EUR", "3", today))
    put_template(
        client,
        beta,
        {"key": "amount", "visibility": "participants"},
        {"key": "close_date", "visibility": "private"},
    )
    deal = create_record(client, acme, "Deal")
    share_record(client, acme, deal, beta)
    fill_space(client, beta, deal, amount=money("100", "EUR"), close_date="2020-05-05")
    field = f"{beta.company_id}.amount"
    body: dict[str, Any] = {"measures": [{"op": "sum", "field": field}]}
    # the close date is Beta's secret: today's rate (3), not the one of 2020 (1.5)
    assert report(client, acme, **body)["totals"]["measures"] == {f"sum({field})": "300.00"}
    put_template(
        client,
        beta,
        {"key": "amount", "visibility": "participants"},
        {"key": "close_date", "visibility": "participants"},
    )
    assert report(client, acme, **body)["totals"]["measures"] == {f"sum({field})": "150.00"}
