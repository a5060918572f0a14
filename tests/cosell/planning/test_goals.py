"""Plan goals and their live progress: every number equals a hand computation over the records
the viewer may see, in the viewer's currency; a partner's unshared amount counts as hidden and
never appears; hide-private hides the viewer's own private amounts; outsiders get 404."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.builders import Member, make_company
from tests.fixtures.cosell import (
    API,
    fill,
    goal,
    goals_of,
    h1_opportunities,
    join,
    link,
    plan,
    rates,
    record,
    template,
)
from tests.fixtures.versions import at_version

SHARED = "participants"
# a partner's private amounts: distinctive, so a leak would show in any response body
BETA_O1 = "31337.11"
BETA_O2 = "42424.22"
BETA_O3 = "53535.33"


@dataclass
class World:
    acme: Member  # USD, owns the plan, shares its amounts
    beta: Member  # EUR, keeps its amounts private, shares stage and close date
    plan_id: str
    opps: dict[str, str]


def world(client: TestClient) -> World:
    acme = make_company(client, "Acme", currency="USD")
    beta = make_company(client, "Beta", currency="EUR")
    template(
        client,
        acme,
        "opportunity",
        amount=SHARED,
        stage=SHARED,
        close_date=SHARED,
        region=SHARED,
    )
    template(client, beta, "opportunity", stage=SHARED, close_date=SHARED, region=SHARED)
    rates(client, acme, ("EUR", "1.10", "2026-01-01"), ("EUR", "1.20", "2026-03-01"))
    rates(client, beta, ("USD", "0.90", "2026-01-01"), ("USD", "0.80", "2026-02-15"))
    plan_id = plan(client, acme, "H1 plan", beta)
    opp = "opportunity"
    o = h1_opportunities(client, acme, beta, BETA_O3)
    o.update(
        {
            "o5": record(
                client, acme, opp, "O5", amount=900, stage="lost", close_date="2026-04-01"
            ),
            "o6": record(
                client, acme, opp, "O6", amount=5000, stage="develop", close_date="2026-08-01"
            ),
        }
    )
    join(client, acme, opp, o["o1"], beta)
    fill(client, beta, opp, o["o1"], amount=BETA_O1, stage="negotiate", close_date="2026-02-20")
    join(client, acme, opp, o["o2"], beta)
    fill(client, beta, opp, o["o2"], amount=BETA_O2, stage="won", close_date="2026-03-05")
    join(client, beta, opp, o["o3"], acme)
    fill(client, acme, opp, o["o3"], amount=100, stage="qualify", close_date="2026-05-01")
    join(client, acme, opp, o["o5"], beta)
    for key in ("o1", "o2", "o4", "o5", "o6"):
        link(client, acme, plan_id, o[key])
    link(client, beta, plan_id, o["o3"])
    return World(acme, beta, plan_id, o)


def progress(client: TestClient, who: Member, plan_id: str, goal_id: str) -> dict[str, Any]:
    found: dict[str, Any] = goals_of(client, who, plan_id)[goal_id]["progress"]
    return found


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def test_joint_pipeline_value_equals_a_hand_computation_for_each_viewer(
    client: TestClient,
) -> None:
    w = world(client)
    g = goal(client, w.acme, w.plan_id, metric="pipeline_value", target="100000")
    assert g["company_id"] is None
    assert g["currency"] == "USD"
    assert (g["period_start"], g["period_end"]) == ("2026-01-01", "2026-06-30")

    # Acme: O1 1000 + O4 700 (open, in period); O2 won, O5 lost, O6 after the period;
    # O3 is Beta's: its stage and close date say it counts, its amount is private -> hidden
    mine = progress(client, w.acme, w.plan_id, g["id"])
    assert money(mine["achieved"]) == Decimal("1700.00")
    assert (mine["count"], mine["hidden_count"]) == (2, 1)
    assert mine["currency"] == "USD"
    assert money(mine["target"]) == Decimal("100000")
    assert mine["target_rate"] is None
    assert mine["percent"] == 1.7

    # Beta (EUR): O1 is Acme's 1000 USD at Beta's rate on 10 Feb (0.90) = 900; O3 its own;
    # O4 is invisible to Beta and does not exist for it
    theirs = progress(client, w.beta, w.plan_id, g["id"])
    assert money(theirs["achieved"]) == Decimal("900.00") + Decimal(BETA_O3)
    assert (theirs["count"], theirs["hidden_count"]) == (2, 0)
    assert theirs["currency"] == "EUR"
    # the USD target at Beta's rate on the last day of the period (0.80 from 15 Feb)
    assert money(theirs["target"]) == Decimal("80000.00")
    assert theirs["target_rate"] == {
        "currency": "USD",
        "rate": "0.8000000000",
        "valid_from": "2026-02-15",
    }
    assert [(r["currency"], r["valid_from"]) for r in theirs["rates_used"]] == [
        ("USD", "2026-01-01")
    ]
    assert theirs["percent"] == round(float((Decimal("900") + Decimal(BETA_O3)) / 800), 1)


def test_closed_revenue_and_opportunity_count(client: TestClient) -> None:
    w = world(client)
    won = goal(client, w.acme, w.plan_id, metric="closed_revenue", target="4000")
    count = goal(client, w.acme, w.plan_id, metric="opportunity_count", target="10")
    revenue = progress(client, w.acme, w.plan_id, won["id"])
    assert money(revenue["achieved"]) == Decimal("2000.00")  # O2 only; O3's stage is not won
    assert (revenue["count"], revenue["hidden_count"], revenue["percent"]) == (1, 0, 50.0)
    opportunities = progress(client, w.acme, w.plan_id, count["id"])
    # O1, O2, O3, O4, O5 close in the period (O3 by Beta's shared close date); O6 after it
    assert (opportunities["achieved"], opportunities["count"]) == ("5", 5)
    assert opportunities["currency"] is None
    assert opportunities["percent"] == 50.0


def test_company_goals_measure_that_company_space_and_hide_what_it_does_not_share(
    client: TestClient,
) -> None:
    w = world(client)
    acme_goal = goal(
        client,
        w.acme,
        w.plan_id,
        metric="pipeline_value",
        target="2000",
        company_id=w.acme.company_id,
    )
    beta_goal = goal(
        client,
        w.beta,
        w.plan_id,
        metric="pipeline_value",
        target="100000",
        company_id=w.beta.company_id,
    )
    assert beta_goal["currency"] == "EUR"  # the setting company's currency by default
    acme_view = progress(client, w.acme, w.plan_id, acme_goal["id"])
    # Acme's own spaces: O1 1000, O3 100 (its own qualify stage), O4 700
    assert money(acme_view["achieved"]) == Decimal("1800.00")
    assert acme_view["count"] == 3

    # Beta's goal as Acme sees it: O1 and O3 would count but Beta keeps amounts private
    hidden = progress(client, w.acme, w.plan_id, beta_goal["id"])
    assert (hidden["count"], hidden["hidden_count"]) == (0, 2)
    assert money(hidden["achieved"]) == 0
    assert hidden["unconverted"] == []
    # ... and as Beta sees it: its own amounts
    own = progress(client, w.beta, w.plan_id, beta_goal["id"])
    assert money(own["achieved"]) == Decimal(BETA_O1) + Decimal(BETA_O3)

    for path in ("goals", "progress", "records"):
        body = client.get(f"{API}/plans/{w.plan_id}/{path}", headers=w.acme.headers).text
        for secret in (BETA_O1, BETA_O2, BETA_O3, "31337", "42424", "53535"):
            assert secret not in body, (path, secret)


def test_breakdowns_by_region_and_by_quarter(client: TestClient) -> None:
    w = world(client)
    emea = goal(
        client,
        w.acme,
        w.plan_id,
        metric="pipeline_value",
        target="1000",
        company_id=w.acme.company_id,
        breakdown_dimension="region",
        breakdown_value="emea",
    )
    assert money(progress(client, w.acme, w.plan_id, emea["id"])["achieved"]) == Decimal("1700")
    response = client.post(
        f"{API}/plans/{w.plan_id}/goals",
        json={
            "metric": "pipeline_value",
            "breakdown": {"dimension": "quarter", "targets": {"2026-Q1": "1500", "2026-Q2": 1000}},
        },
        headers=w.acme.headers,
    )
    assert response.status_code == 201, response.text
    slices = {g["breakdown_value"]: g for g in response.json()["items"]}
    assert set(slices) == {"2026-Q1", "2026-Q2"}
    q1, q2 = slices["2026-Q1"]["progress"], slices["2026-Q2"]["progress"]
    assert money(q1["achieved"]) == Decimal("1700.00")
    assert q1["hidden_count"] == 0
    assert money(q2["achieved"]) == 0
    assert q2["hidden_count"] == 1
    # Beta sees the same Q2 slice with its own O3 amount
    assert money(progress(client, w.beta, w.plan_id, slices["2026-Q2"]["id"])["achieved"]) == (
        Decimal(BETA_O3)
    )


def test_lead_count_over_the_leads_each_viewer_may_see(client: TestClient) -> None:
    w = world(client)
    l1 = record(client, w.acme, "lead", "Shared lead", region="emea")
    join(client, w.acme, "lead", l1, w.beta)
    l2 = record(client, w.acme, "lead", "Acme lead", region="apac")
    l3 = record(client, w.beta, "lead", "Beta lead")
    link(client, w.acme, w.plan_id, l1)
    link(client, w.acme, w.plan_id, l2)
    link(client, w.beta, w.plan_id, l3)
    # leads count by the day they were created: a period around today
    body = {
        "metric": "lead_count",
        "target": 4,
        "period_start": "2020-01-01",
        "period_end": "2099-12-31",
    }
    joint = goal(client, w.acme, w.plan_id, **body)
    assert progress(client, w.acme, w.plan_id, joint["id"])["achieved"] == "2"  # l1, l2
    assert progress(client, w.beta, w.plan_id, joint["id"])["achieved"] == "2"  # l1, l3
    emea = goal(
        client,
        w.acme,
        w.plan_id,
        **body,
        company_id=w.acme.company_id,
        breakdown_dimension="region",
        breakdown_value="emea",
    )
    assert progress(client, w.acme, w.plan_id, emea["id"])["achieved"] == "1"
    # the plan period (H1 2026) does not contain today's leads
    in_period = goal(client, w.acme, w.plan_id, metric="lead_count", target=4)
    assert progress(client, w.acme, w.plan_id, in_period["id"])["count"] == 0


def test_conversion_uses_the_rate_valid_on_the_close_date_and_lists_unconverted(
    client: TestClient,
) -> None:
    gamma = make_company(client, "Gamma", currency="USD")
    rates(client, gamma, ("EUR", "1.10", "2026-01-01"), ("EUR", "1.20", "2026-03-01"))
    plan_id = plan(client, gamma, "Solo", start="2025-12-01", end="2026-06-30")
    opp = "opportunity"
    for title, amount, currency, day in (
        ("Before the change", "1000", "EUR", "2026-02-28"),  # 1.10
        ("On the change", "1000", "EUR", "2026-03-01"),  # 1.20
        ("No GBP rate", "50", "GBP", "2026-03-10"),
        ("Before any rate", "1000", "EUR", "2025-12-31"),
    ):
        rid = record(
            client,
            gamma,
            opp,
            title,
            stage="develop",
            close_date=day,
            amount={"value": amount, "currency": currency},
        )
        link(client, gamma, plan_id, rid)
    g = goal(client, gamma, plan_id, metric="pipeline_value", target="5000", currency="EUR")
    p = progress(client, gamma, plan_id, g["id"])
    assert money(p["achieved"]) == Decimal("2300.00")
    assert p["count"] == 4
    assert p["hidden_count"] == 0
    assert [(u["currency"], money(u["amount"]), u["count"]) for u in p["unconverted"]] == [
        ("EUR", Decimal("1000"), 1),
        ("GBP", Decimal("50"), 1),
    ]
    assert [(r["currency"], money(r["rate"]), r["valid_from"]) for r in p["rates_used"]] == [
        ("EUR", Decimal("1.1"), "2026-01-01"),
        ("EUR", Decimal("1.2"), "2026-03-01"),
    ]
    assert money(p["target"]) == Decimal("6000.00")  # 5000 EUR at the rate of 30 June
    assert p["percent"] == round(2300 / 6000 * 100, 1)


def test_hide_private_turns_my_own_private_amounts_into_hidden(client: TestClient) -> None:
    delta = make_company(client, "Delta", currency="USD")  # amounts private (the default)
    template(client, delta, "opportunity", stage=SHARED, close_date=SHARED)
    plan_id = plan(client, delta, "Private plan")
    rid = record(
        client,
        delta,
        "opportunity",
        "Secret",
        amount="98765.43",
        stage="develop",
        close_date="2026-02-02",
    )
    link(client, delta, plan_id, rid)
    g = goal(client, delta, plan_id, metric="pipeline_value", target="1000")
    assert money(progress(client, delta, plan_id, g["id"])["achieved"]) == Decimal("98765.43")
    hide = client.patch(
        f"{API}/me/preferences", json={"hide_private_fields": True}, headers=delta.headers
    )
    assert hide.status_code == 200, hide.text
    response = client.get(f"{API}/plans/{plan_id}/goals", headers=delta.headers)
    p = response.json()["items"][0]["progress"]
    assert (p["count"], p["hidden_count"], money(p["achieved"])) == (0, 1, Decimal(0))
    assert "98765" not in response.text


def test_who_edits_which_goal(client: TestClient) -> None:
    w = world(client)
    joint = client.post(
        f"{API}/plans/{w.plan_id}/goals",
        json={"metric": "closed_revenue", "target": 5},
        headers=w.beta.headers,
    )
    assert joint.status_code == 403  # joint goals: the plan's owner
    for_acme = client.post(
        f"{API}/plans/{w.plan_id}/goals",
        json={"metric": "closed_revenue", "target": 5, "company_id": w.acme.company_id},
        headers=w.beta.headers,
    )
    assert for_acme.status_code == 422
    assert for_acme.json()["errors"][0]["path"] == "body.company_id"
    beta_goal = goal(
        client,
        w.beta,
        w.plan_id,
        metric="opportunity_count",
        target=3,
        company_id=w.beta.company_id,
    )
    url = f"{API}/plans/{w.plan_id}/goals/{beta_goal['id']}"
    assert client.patch(url, json={"target": 4}, headers=at_version(w.acme, 1)).status_code == 403
    assert client.delete(url, headers=at_version(w.acme, 1)).status_code == 403
    blind = client.patch(url, json={"target": 4}, headers=w.beta.headers)
    assert blind.status_code == 428
    assert blind.json()["type"] == "/problems/precondition-required"
    changed = client.patch(url, json={"target": 4}, headers={**w.beta.headers, "If-Match": "1"})
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.json()["target"] == "4.00"
    assert changed.json()["can_edit"] is True
    stale = client.patch(url, json={"target": 6}, headers={**w.beta.headers, "If-Match": "1"})
    assert stale.status_code == 412
    assert client.delete(url, headers={**w.beta.headers, "If-Match": "1"}).status_code == 412
    assert client.delete(url, headers={**w.beta.headers, "If-Match": "2"}).status_code == 204
    assert beta_goal["id"] not in goals_of(client, w.acme, w.plan_id)


def test_goal_input_is_checked_with_field_paths(client: TestClient) -> None:
    w = world(client)
    url = f"{API}/plans/{w.plan_id}/goals"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"metric": "opportunity_count", "target": "2.5"}, "body.target"),
        ({"metric": "opportunity_count", "target": 2, "currency": "EUR"}, "body.currency"),
        ({"metric": "pipeline_value", "target": 1, "currency": "XXQ"}, "body.currency"),
        ({"metric": "pipeline_value", "target": -1}, "body.target"),
        ({"metric": "pipeline_value"}, "body.target"),
        (
            {
                "metric": "pipeline_value",
                "target": 1,
                "period_start": "2026-05-01",
                "period_end": "2026-04-01",
            },
            "body.period_end",
        ),
        (
            {
                "metric": "pipeline_value",
                "target": 1,
                "breakdown_dimension": "region",
                "breakdown_value": "mars",
            },
            "body.breakdown_value",
        ),
        (
            {
                "metric": "pipeline_value",
                "breakdown": {"dimension": "quarter", "targets": {"2026-Q5": 1}},
            },
            "body.breakdown.targets.2026-Q5",
        ),
        ({"metric": "velocity", "target": 1}, "body.metric"),
    ]
    for body, path in cases:
        response = client.post(url, json=body, headers=w.acme.headers)
        assert response.status_code == 422, (body, response.text)
        assert path in [e["path"] for e in response.json()["errors"]], (body, response.text)
    assert goals_of(client, w.acme, w.plan_id) == {}  # nothing half-written


def test_companies_not_on_the_plan_get_404_everywhere(client: TestClient) -> None:
    w = world(client)
    outsider = make_company(client, "Outsider")
    invited = make_company(client, "Invited only")
    response = client.post(
        f"{API}/plans/{w.plan_id}/participants",
        json={"company_id": invited.company_id},
        headers=w.acme.headers,
    )
    assert response.status_code == 201
    g = goal(client, w.acme, w.plan_id, metric="pipeline_value", target=10)
    base = f"{API}/plans/{w.plan_id}"
    calls: list[tuple[str, str, Any]] = [
        ("GET", f"{base}/goals", None),
        ("POST", f"{base}/goals", {"metric": "pipeline_value", "target": 1}),
        ("GET", f"{base}/goals/{g['id']}", None),
        ("PATCH", f"{base}/goals/{g['id']}", {"target": 1}),
        ("DELETE", f"{base}/goals/{g['id']}", None),
        ("GET", f"{base}/progress", None),
        ("GET", f"{base}/profile", None),
        ("PUT", f"{base}/profile", {"status": "closed"}),
        ("GET", f"{base}/records", None),
        ("POST", f"{base}/records", {"record_id": w.opps["o1"]}),
        ("POST", f"{base}/target-accounts", {"account_id": w.opps["o1"]}),
        ("DELETE", f"{base}/records/{w.opps['o1']}", None),
    ]
    for who in (outsider, invited):
        for method, url, body in calls:
            headers = at_version(who, 1)  # writes are conditional: refused for who they are
            response = client.request(method, url, json=body, headers=headers)
            assert response.status_code == 404, (method, url, response.text)
            assert "31337" not in response.text
            assert "O1" not in response.text
    assert g["id"] in goals_of(client, w.acme, w.plan_id)


def test_goal_quarters_outside_1900_to_2999_are_refused_not_a_server_error(
    client: TestClient,
) -> None:
    w = world(client)
    url = f"{API}/plans/{w.plan_id}/goals"
    for quarter in ("9999-Q4", "0000-Q1", "3000-Q1", "1899-Q4"):
        one = {
            "metric": "pipeline_value",
            "target": 1,
            "breakdown_dimension": "quarter",
            "breakdown_value": quarter,
        }
        response = client.post(url, json=one, headers=w.acme.headers)
        assert response.status_code == 422, (quarter, response.text)
        assert response.json()["errors"][0]["path"] == "body.breakdown_value"
        assert "2999" in response.json()["errors"][0]["message"]
        several = {
            "metric": "pipeline_value",
            "breakdown": {"dimension": "quarter", "targets": {"2026-Q1": 1, quarter: 2}},
        }
        response = client.post(url, json=several, headers=w.acme.headers)
        assert response.status_code == 422, (quarter, response.text)
        assert response.json()["errors"][0]["path"] == f"body.breakdown.targets.{quarter}"
    assert goals_of(client, w.acme, w.plan_id) == {}  # nothing half-written
    edge = {
        "metric": "pipeline_value",
        "target": 1,
        "breakdown_dimension": "quarter",
        "breakdown_value": "2999-Q4",
    }
    assert client.post(url, json=edge, headers=w.acme.headers).status_code == 201
