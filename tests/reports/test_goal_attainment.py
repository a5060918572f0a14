"""The `goal_attainment` measure: a plan's goals' live progress over their targets, as each
viewer sees it. Every figure is a hand computation over the records and values the viewer may
see, in its currency; a partner's private amount counts as hidden and appears nowhere; the
measure is refused (422 with a field path) without a plan scope, in compare mode or over a
kind goals do not measure."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.cosell import (
    API,
    fill,
    goal,
    h1_opportunities,
    join,
    link,
    plan,
    rates,
    record,
    template,
)
from tests.web.conftest import Browser
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

RUN = f"{API}/reports/run"
SHARED = "participants"
GA = "goal_attainment"
# Beta's private amounts: distinctive, so a leak would show in any response body
BETA_O1 = "31337.11"
BETA_O3 = "531.11"


@dataclass
class World:
    acme: Member  # USD, owns the plan, shares amount, stage, close date and region
    beta: Member  # EUR, keeps its amounts private, shares stage, close date and region
    plan_id: str
    opps: dict[str, str]


def world(client: TestClient) -> World:
    acme = make_company(client, "Acme", currency="USD")
    beta = make_company(client, "Beta", currency="EUR")
    template(
        client, acme, "opportunity", amount=SHARED, stage=SHARED, close_date=SHARED, region=SHARED
    )
    template(client, beta, "opportunity", stage=SHARED, close_date=SHARED, region=SHARED)
    rates(client, acme, ("EUR", "1.10", "2026-01-01"))
    rates(client, beta, ("USD", "0.90", "2026-01-01"))
    plan_id = plan(client, acme, "H1 plan", beta)  # 2026-01-01 .. 2026-06-30
    opp = "opportunity"
    o = h1_opportunities(client, acme, beta, BETA_O3)
    join(client, acme, opp, o["o1"], beta)
    fill(client, beta, opp, o["o1"], amount=BETA_O1, stage="negotiate", close_date="2026-02-20")
    join(client, acme, opp, o["o2"], beta)
    join(client, beta, opp, o["o3"], acme)
    fill(
        client,
        acme,
        opp,
        o["o3"],
        amount=100,
        stage="qualify",
        close_date="2026-05-01",
        region="apac",
    )
    for key in ("o1", "o2", "o4"):
        link(client, acme, plan_id, o[key])
    link(client, beta, plan_id, o["o3"])
    return World(acme, beta, plan_id, o)


def run(client: TestClient, who: Member, **body: Any) -> dict[str, Any]:
    response = client.post(RUN, json=body, headers=who.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def refused(client: TestClient, who: Member, **body: Any) -> list[str]:
    """The field paths of a 422 problem."""
    response = client.post(RUN, json=body, headers=who.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [str(e["path"]) for e in response.json()["errors"]]


def ratio(achieved: str, target: str) -> str:
    return str((Decimal(achieved) / Decimal(target)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def rows(result: dict[str, Any], dimension: str) -> dict[str | None, dict[str, Any]]:
    return {r["group"][dimension]["value"]: r for r in result["rows"]}


def test_joint_goal_attainment_equals_a_hand_computation_for_each_viewer(
    client: TestClient,
) -> None:
    w = world(client)
    goal(client, w.acme, w.plan_id, metric="pipeline_value", target="10000")
    body: dict[str, Any] = {"plan_id": w.plan_id, "measures": [{"op": "count"}, {"op": GA}]}

    # Acme: O1 1000 + O4 700 open in the period (O2 is won); O3 is Beta's record, measured in
    # Beta's space, whose amount Beta keeps private: hidden, never counted
    mine = run(client, w.acme, **body)
    assert mine["measures"] == ["count", GA]
    assert mine["totals"]["measures"] == {"count": 4, GA: "0.1700"}
    assert mine["totals"]["hidden"] == {GA: 1}
    assert mine["currency"] == "USD"
    assert any("joint goals for pipeline value" in n for n in mine["notes"])

    # Beta (EUR): O1 is Acme's 1000 USD at Beta's 0.90 = 900; O3 its own 531.11; O4 does not
    # exist for it. The 10000 USD target at Beta's rate on the period's last day: 9000 EUR
    theirs = run(client, w.beta, **body)
    assert theirs["totals"]["measures"] == {"count": 3, GA: ratio("1431.11", "9000")}
    assert theirs["totals"]["measures"][GA] == "0.1590"
    assert theirs["totals"]["hidden"] == {GA: 0}
    assert theirs["currency"] == "EUR"

    for response in (
        client.post(RUN, json=body, headers=w.acme.headers),
        client.post(RUN, json={**body, "group_by": ["region"]}, headers=w.acme.headers),
    ):
        assert BETA_O1 not in response.text
        assert BETA_O3 not in response.text


def test_rows_read_the_slice_goal_of_their_group(client: TestClient) -> None:
    w = world(client)
    goal(client, w.acme, w.plan_id, metric="pipeline_value", target="10000")
    response = client.post(
        f"{API}/plans/{w.plan_id}/goals",
        json={
            "metric": "pipeline_value",
            "breakdown": {"dimension": "region", "targets": {"emea": "2000", "apac": "1000"}},
        },
        headers=w.acme.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = {
        "plan_id": w.plan_id,
        "group_by": ["region"],
        "measures": [{"op": "count"}, {"op": GA}],
    }
    mine = run(client, w.acme, **body)
    by_region = rows(mine, "region")
    assert set(by_region) == {"emea", "north-america", "apac"}
    # emea: O1 1000 + O4 700 over 2000
    assert by_region["emea"]["measures"] == {"count": 2, GA: "0.8500"}
    assert by_region["emea"]["hidden"] == {GA: 0}
    # apac: O3 is Beta's, in apac by Beta's shared region, its amount private: 0 and 1 hidden
    assert by_region["apac"]["measures"][GA] == "0.0000"
    assert by_region["apac"]["hidden"] == {GA: 1}
    # no goal for north-america
    assert by_region["north-america"]["measures"][GA] is None
    # totals: the overall goal, not the slices added up
    assert mine["totals"]["measures"][GA] == "0.1700"

    # Beta groups by its own region: only O3 has one (apac); 531.11 EUR over 1000 USD at 0.90
    theirs = run(client, w.beta, **body)
    beta_rows = rows(theirs, "region")
    assert beta_rows["apac"]["measures"][GA] == ratio(BETA_O3, "900") == "0.5901"
    assert beta_rows[None]["measures"][GA] is None  # O1, O2 have no Beta region

    # grouped by a dimension the goals are not broken down by: no row values, a note
    by_stage = run(client, w.acme, **{**body, "group_by": ["stage"]})
    assert all(r["measures"][GA] is None for r in by_stage["rows"])
    assert by_stage["totals"]["measures"][GA] == "0.1700"
    assert any("rows show no attainment" in n for n in by_stage["notes"])


def test_quarter_slices_match_close_quarter_groups_and_no_overall_goal_means_no_total(
    client: TestClient,
) -> None:
    w = world(client)
    response = client.post(
        f"{API}/plans/{w.plan_id}/goals",
        json={
            "metric": "pipeline_value",
            "breakdown": {"dimension": "quarter", "targets": {"2026-Q1": "2000", "2026-Q2": "50"}},
        },
        headers=w.acme.headers,
    )
    assert response.status_code == 201, response.text
    result = run(
        client, w.acme, plan_id=w.plan_id, group_by=["close_quarter"], measures=[{"op": GA}]
    )
    quarters = rows(result, "close_quarter")
    assert quarters["2026-Q1"]["measures"][GA] == "0.8500"  # O1 1000 + O4 700 over 2000
    assert quarters["2026-Q2"]["measures"][GA] == "0.0000"  # O3: Beta's amount, hidden
    assert quarters["2026-Q2"]["hidden"] == {GA: 1}
    assert result["totals"]["measures"][GA] is None
    assert any("no overall goal" in n for n in result["notes"])


def test_hide_private_removes_my_own_private_amounts(client: TestClient) -> None:
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
    goal(client, delta, plan_id, metric="pipeline_value", target="100000")
    body: dict[str, Any] = {"plan_id": plan_id, "measures": [{"op": GA}]}
    assert run(client, delta, **body)["totals"]["measures"][GA] == "0.9877"

    hidden = client.post(RUN, json={**body, "hide_private": True}, headers=delta.headers)
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["totals"]["measures"][GA] == "0.0000"
    assert hidden.json()["totals"]["hidden"] == {GA: 1}
    assert "98765" not in hidden.text

    # the user's preference does the same
    preference = client.patch(
        f"{API}/me/preferences", json={"hide_private_fields": True}, headers=delta.headers
    )
    assert preference.status_code == 200, preference.text
    assert run(client, delta, **body)["totals"]["measures"][GA] == "0.0000"


def test_currency_conversion_with_dated_rates_and_unconverted_amounts(client: TestClient) -> None:
    gamma = make_company(client, "Gamma", currency="USD")
    rates(client, gamma, ("EUR", "1.10", "2026-01-01"), ("EUR", "1.20", "2026-03-01"))
    plan_id = plan(client, gamma, "Solo")
    for title, amount, currency, day in (
        ("Before the change", "1000", "EUR", "2026-02-28"),  # 1100.00
        ("On the change", "1000", "EUR", "2026-03-01"),  # 1200.00
        ("No GBP rate", "50", "GBP", "2026-03-10"),
    ):
        rid = record(
            client,
            gamma,
            "opportunity",
            title,
            stage="develop",
            close_date=day,
            amount={"value": amount, "currency": currency},
        )
        link(client, gamma, plan_id, rid)
    goal(client, gamma, plan_id, metric="pipeline_value", target="5000", currency="EUR")
    result = run(client, gamma, plan_id=plan_id, measures=[{"op": GA}])
    # 2300 USD over 5000 EUR at the rate of the period's last day (1.20): 6000 USD
    assert result["totals"]["measures"][GA] == ratio("2300", "6000") == "0.3833"
    assert result["totals"]["unconverted"] == {
        GA: [{"currency": "GBP", "count": 1, "sum": "50.00"}]
    }

    # a target in a currency Gamma has no rate for: no ratio is guessed, a note says why
    other = plan(client, gamma, "GBP target")
    goal(client, gamma, other, metric="pipeline_value", target="1000", currency="GBP")
    unrated = run(client, gamma, plan_id=other, measures=[{"op": GA}])
    assert unrated["totals"]["measures"][GA] is None
    assert any("no exchange rate from GBP" in n for n in unrated["notes"])


def test_company_goals_when_the_plan_has_no_joint_goal_and_metric_choice(
    client: TestClient,
) -> None:
    w = world(client)
    goal(
        client,
        w.acme,
        w.plan_id,
        metric="opportunity_count",
        target="8",
        company_id=w.acme.company_id,
    )
    # Acme's own goal: its spaces of O1, O2, O3, O4 close in the period: 4 of 8
    mine = run(client, w.acme, plan_id=w.plan_id, measures=[{"op": GA}])
    assert mine["totals"]["measures"][GA] == "0.5000"
    assert any("your company's goals for number of opportunities" in n for n in mine["notes"])
    # Beta has no goal of its own and the plan no joint one: no value, a note
    theirs = run(client, w.beta, plan_id=w.plan_id, measures=[{"op": GA}])
    assert theirs["totals"]["measures"][GA] is None
    assert any("no joint" in n for n in theirs["notes"])

    # two metrics among the joint goals: the measure must name one
    goal(client, w.acme, w.plan_id, metric="closed_revenue", target="4000")
    goal(client, w.acme, w.plan_id, metric="pipeline_value", target="10000")
    assert refused(client, w.acme, plan_id=w.plan_id, measures=[{"op": GA}]) == [
        "body.measures.0.field"
    ]
    named = run(
        client,
        w.acme,
        plan_id=w.plan_id,
        measures=[{"op": GA, "field": "closed_revenue"}, {"op": GA, "field": "pipeline_value"}],
    )
    assert named["totals"]["measures"] == {
        "goal_attainment(closed_revenue)": "0.5000",  # O2 2000 won over 4000
        "goal_attainment(pipeline_value)": "0.1700",
    }


def test_plan_scope_narrows_the_records_and_is_checked(client: TestClient) -> None:
    w = world(client)
    record(client, w.acme, "opportunity", "Not on the plan", amount=5)
    assert run(client, w.acme)["totals"]["measures"]["count"] == 5
    assert run(client, w.acme, plan_id=w.plan_id)["totals"]["measures"]["count"] == 4
    outsider = make_company(client, "Outsider")
    assert refused(client, outsider, plan_id=w.plan_id) == ["body.plan_id"]
    unknown = "00000000-0000-0000-0000-00000000abcd"
    assert refused(client, w.acme, plan_id=unknown) == ["body.plan_id"]
    # the plan's response does not depend on whether it exists
    assert (
        client.post(RUN, json={"plan_id": w.plan_id}, headers=outsider.headers).json()["detail"]
        == client.post(RUN, json={"plan_id": unknown}, headers=outsider.headers).json()["detail"]
    )


def test_goal_attainment_is_refused_with_field_paths(client: TestClient) -> None:
    w = world(client)
    goal(client, w.acme, w.plan_id, metric="pipeline_value", target="10000")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"measures": [{"op": "count"}, {"op": GA}]}, "body.measures.1"),
        (
            {"plan_id": w.plan_id, "compare": "previous_quarter", "measures": [{"op": GA}]},
            "body.measures.0",
        ),
        ({"plan_id": w.plan_id, "kind": "account", "measures": [{"op": GA}]}, "body.measures.0"),
        (
            {"plan_id": w.plan_id, "measures": [{"op": GA, "field": "lead_count"}]},
            "body.measures.0.field",
        ),
        (
            {"plan_id": w.plan_id, "measures": [{"op": GA, "field": "velocity"}]},
            "body.measures.0.field",
        ),
    ]
    for body, path in cases:
        assert refused(client, w.acme, **body) == [path], body


def test_a_dashboard_plan_filter_scopes_goal_attainment_for_each_viewer(
    client: TestClient,
) -> None:
    w = world(client)
    make_partnership(client, w.acme, w.beta)
    goal(client, w.acme, w.plan_id, metric="pipeline_value", target="10000")
    saved = client.post(
        f"{API}/reports",
        json={
            "name": "Attainment",
            "definition": {"kind": "opportunity", "measures": [{"op": GA}]},
            "shared_with": {"users": [], "companies": [w.beta.company_id]},
        },
        headers=w.acme.headers,
    )
    assert saved.status_code == 201, saved.text
    board = client.post(
        f"{API}/dashboards",
        json={
            "name": "Plan board",
            "panels": [{"report_id": saved.json()["id"]}],
            "filters": {"plan": w.plan_id},
            "shared_with": {"users": [], "companies": [w.beta.company_id]},
        },
        headers=w.acme.headers,
    )
    assert board.status_code == 201, board.text
    url = f"{API}/dashboards/{board.json()['id']}/run"
    for who, expected in ((w.acme, "0.1700"), (w.beta, "0.1590")):
        response = client.post(url, headers=who.headers)
        assert response.status_code == 200, response.text
        panel = response.json()["panels"][0]
        assert panel["error"] is None, panel
        assert panel["result"]["totals"]["measures"][GA] == expected
    # without a plan in the bar the panel says why it has no numbers
    unscoped = client.post(url, json={}, headers=w.acme.headers).json()["panels"][0]
    assert unscoped["result"] is None
    assert "plan_id" in unscoped["error"]


def test_the_xlsx_export_shows_attainment_as_a_percentage(client: TestClient) -> None:
    w = world(client)
    goal(client, w.acme, w.plan_id, metric="pipeline_value", target="10000")
    response = client.post(
        f"{RUN}/export",
        params={"format": "xlsx"},
        json={"plan_id": w.plan_id, "measures": [{"op": "count"}, {"op": GA}]},
        headers=w.acme.headers,
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["Report"]
    assert [c.value for c in sheet[1]][1:] == ["Count", "Goal attainment"]
    total = sheet[2]
    assert total[2].value == 0.17
    assert total[2].number_format == "0.00%"


def test_the_builder_chooses_the_plan_and_previews_goal_attainment(
    app: FastAPI, client: TestClient
) -> None:
    w = world(client)
    goal(client, w.acme, w.plan_id, metric="pipeline_value", target="10000")
    with TestClient(app, base_url="http://testserver") as page_client:
        browser = signed_in(lambda: Browser(page_client), w.acme)
        builder = browser.page("/reports/new")
        [select] = [e for e in builder.root.iter("select") if e.attrs.get("name") == "plan_id"]
        offered = [o.attrs.get("value") for o in select.iter("option") if o.attrs.get("value")]
        assert offered == [w.plan_id]  # the plans the user sees are offered
        form = {
            "name": "H1 attainment",
            "kind": "opportunity",
            "chart_type": "table",
            "plan_id": w.plan_id,
            "measures": ["count", GA],
        }
        preview = browser.client.post(
            "/reports/preview", data=form, headers=htmx(browser, "/reports/new")
        )
        assert preview.status_code == 200, preview.text
        assert "17.0%" in preview.text  # 0.1700, the hand computation of the API test above
        assert BETA_O3 not in preview.text

        # without the plan the builder says why, at the measures
        unscoped = browser.client.post(
            "/reports/preview",
            data={**form, "plan_id": ""},
            headers=htmx(browser, "/reports/new"),
        )
        assert unscoped.status_code == 200
        assert "scoped to one plan" in unscoped.text
        assert "17.0%" not in unscoped.text

        # saved with the plan, the report keeps it
        saved = browser.submit("/reports/new", "/reports/new", form)
        assert saved.status_code == 200, saved.text[:2000]
        report_id = saved.url.path.rsplit("/", 1)[-1]
        stored = client.get(f"{API}/reports/{report_id}", headers=w.acme.headers).json()
        assert stored["definition"]["plan_id"] == w.plan_id
