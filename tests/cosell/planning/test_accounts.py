"""Accounts: the joint account plan (objectives, owners, next steps) any participant edits, and
the account-to-opportunity roll-up over what the viewer may see, in its currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_colleague, make_company
from tests.fixtures.cosell import API, fill, join, rates, record, template
from tests.fixtures.smtp import Inbox

ACME_SECRET = "1234.56"  # Acme keeps its amounts private from Beta


def test_roll_up_equals_a_hand_computation(client: TestClient) -> None:
    acme = make_company(client, "Acme", currency="USD")
    beta = make_company(client, "Beta", currency="EUR")
    template(client, acme, "opportunity", stage="participants")
    template(client, beta, "opportunity", amount="participants", close_date="participants")
    rates(client, acme, ("EUR", "1.10", "2026-01-01"))
    account = record(client, acme, "account", "Globex")
    join(client, acme, "account", account, beta)
    opp = "opportunity"

    def deal(who: Any, title: str, joint_stage: str | None, **fields: Any) -> str:
        core = {"account_id": account, "joint_stage": joint_stage}
        return record(client, who, opp, title, core=core, **fields)

    x1 = deal(acme, "X1", "discovery", amount=ACME_SECRET, stage="develop", close_date="2026-02-01")
    join(client, acme, opp, x1, beta)
    fill(client, beta, opp, x1, amount=500, close_date="2026-02-01")
    deal(
        acme,
        "X2",
        "discovery",
        amount={"value": "200", "currency": "EUR"},
        stage="won",
        close_date="2026-03-01",
    )
    x3 = deal(beta, "X3", "proposal", amount=1000, close_date="2026-03-01")
    join(client, beta, opp, x3, acme)
    fill(client, acme, opp, x3, amount=300, stage="lost", close_date="2026-03-01")
    deal(beta, "X4 Beta only", "proposal", amount=777)
    deal(acme, "X5", None, amount={"value": "50", "currency": "GBP"})
    record(client, acme, opp, "Elsewhere", amount=99999)  # another account: not rolled up

    response = client.get(f"{API}/accounts/{account}/rollup", headers=acme.headers)
    assert response.status_code == 200, response.text
    r = response.json()
    assert r["currency"] == "USD"
    assert (r["count"], r["open_count"], r["won_count"], r["lost_count"]) == (4, 2, 1, 1)

    def buckets(items: list[dict[str, Any]]) -> dict[str | None, tuple[int, Decimal]]:
        return {b["key"]: (b["count"], Decimal(b["my_amount"])) for b in items}

    # X2: 200 EUR at 1.10 = 220 USD; X5's GBP has no rate
    assert buckets(r["by_joint_stage"]) == {
        "discovery": (2, Decimal(ACME_SECRET) + Decimal("220")),
        "proposal": (1, Decimal("300")),
        None: (1, Decimal("0")),
    }
    assert buckets(r["by_my_category"]) == {
        "open": (2, Decimal(ACME_SECRET)),
        "won": (1, Decimal("220")),
        "lost": (1, Decimal("300")),
    }
    assert Decimal(r["my_total"]) == Decimal(ACME_SECRET) + Decimal("520")
    assert r["my_hidden_count"] == 0
    assert [(u["currency"], Decimal(u["amount"])) for u in r["my_unconverted"]] == [
        ("GBP", Decimal("50"))
    ]
    # Beta shares its amounts: X1 500 EUR + X3 1000 EUR at 1.10; X4 is not Acme's to see
    [partner] = r["partners"]
    assert partner["company_id"] == beta.company_id
    assert (partner["count"], Decimal(partner["total"])) == (2, Decimal("1650.00"))

    seen_by_beta = client.get(f"{API}/accounts/{account}/rollup", headers=beta.headers)
    b = seen_by_beta.json()
    assert b["count"] == 3  # X1, X3, X4
    assert b["partners"] == []  # Acme shares no amount with Beta
    assert ACME_SECRET not in seen_by_beta.text
    assert "1234" not in seen_by_beta.text
    # Beta has no stage of its own on these deals: all open in its own pipeline
    assert b["open_count"] == 3
    assert Decimal(b["my_total"]) == Decimal("2277")


def test_roll_up_with_hide_private_counts_my_amounts_as_hidden(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    account = record(client, acme, "account", "Initech")
    record(client, acme, "opportunity", "Deal", core={"account_id": account}, amount=4242.42)
    client.patch(f"{API}/me/preferences", json={"hide_private_fields": True}, headers=acme.headers)
    response = client.get(f"{API}/accounts/{account}/rollup", headers=acme.headers)
    r = response.json()
    assert (r["count"], r["my_hidden_count"], Decimal(r["my_total"])) == (1, 1, Decimal(0))
    assert "4242" not in response.text


def test_account_plan_objectives_owners_next_steps(client: TestClient, inbox: Inbox) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    account = record(client, acme, "account", "Globex")
    join(client, acme, "account", account, beta)
    template(client, acme, "account", owner="participants")
    fill(client, acme, "account", account, owner=acme.user_id)
    url = f"{API}/accounts/{account}/plan"
    fresh = client.get(url, headers=beta.headers).json()
    assert fresh["version"] == 0
    assert fresh["objectives"] == ""
    assert fresh["next_steps"] == []
    owners = {o["company_id"]: o["user_id"] for o in fresh["owners"]}
    assert owners == {acme.company_id: acme.user_id, beta.company_id: None}

    body = {
        "objectives": "## Land the data platform\n- two workshops",
        "next_steps": [
            {"title": "Book workshop", "owner_user_id": acme.user_id, "due_date": "2026-02-01"},
            {"title": "Send proposal", "owner_user_id": beta.user_id, "done": True},
        ],
    }
    saved = client.put(url, json=body, headers={**beta.headers, "If-Match": "0"})
    assert saved.status_code == 200, saved.text
    plan = saved.json()
    assert plan["version"] == 1
    assert plan["updated_by_company_id"] == beta.company_id
    steps = plan["next_steps"]
    assert [(s["title"], s["owner_company_id"], s["done"]) for s in steps] == [
        ("Book workshop", acme.company_id, False),
        ("Send proposal", beta.company_id, True),
    ]
    assert all(s["owner_name"] for s in steps)
    # Acme edits on top of Beta's version, keeping the step ids
    steps[0]["done"] = True
    edited = {
        "objectives": plan["objectives"],
        "next_steps": [
            {k: s[k] for k in ("id", "title", "owner_user_id", "due_date", "done")} for s in steps
        ],
    }
    again = client.put(url, json=edited, headers={**acme.headers, "If-Match": "1"})
    assert again.status_code == 200
    assert [s["id"] for s in again.json()["next_steps"]] == [s["id"] for s in steps]
    stale = client.put(url, json=body, headers={**beta.headers, "If-Match": "1"})
    assert stale.status_code == 412

    stranger = make_company(client, "Stranger")
    colleague = make_colleague(client, stranger, inbox=inbox)
    bad = client.put(
        url,
        json={"next_steps": [{"title": "x"}, {"title": "y", "owner_user_id": colleague.user_id}]},
        headers={**acme.headers, "If-Match": "2"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "body.next_steps.1.owner_user_id"
    for method, path, payload in (
        ("GET", "plan", None),
        ("PUT", "plan", body),
        ("GET", "rollup", None),
    ):
        response = client.request(
            method,
            f"{API}/accounts/{account}/{path}",
            json=payload,
            headers={**stranger.headers, "If-Match": "2"},
        )
        assert response.status_code == 404, (method, path)
        assert "workshop" not in response.text
