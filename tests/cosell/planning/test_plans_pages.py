"""Co-selling pages driven like a browser: the plan, program and account panels loaded into the
record page with htmx, their forms, the exchange-rates settings page, and the proof that a
partner's unshared amount never reaches another company's HTML."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company
from tests.fixtures.cosell import fill, goal, join, link, plan, rates, record, template
from tests.web.conftest import Browser
from tests.web.html import Page, parse
from tests.web.test_network_pages import signed_in
from tests.web.test_record_pages import htmx

SECRET = "64646.46"


@pytest.fixture
def new_browser(app: FastAPI, client: TestClient) -> Iterator[Callable[[], Browser]]:
    """Visitors with their own cookie jars (as in tests/web; `client` cleans the database)."""
    opened: list[TestClient] = []

    def make() -> Browser:
        opened.append(TestClient(app, base_url="http://testserver"))
        return Browser(opened[-1])

    yield make
    for other in opened:
        other.close()


def panel(visitor: Browser, url: str, status: int = 200) -> Page:
    page_url = url.removesuffix("/cosell")
    response = visitor.get(url, headers=htmx(visitor, page_url))
    assert response.status_code == status, response.text[:2000]
    return parse(response.text)


def test_plan_panel_shows_goals_links_and_hides_unshared_amounts(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme", currency="USD")
    beta = make_company(client, "Beta", currency="EUR")
    template(
        client,
        acme,
        "opportunity",
        amount="participants",
        stage="participants",
        close_date="participants",
    )
    template(client, beta, "opportunity", stage="participants", close_date="participants")
    plan_id = plan(client, acme, "H1 plan", beta)
    deal = record(
        client,
        acme,
        "opportunity",
        "Shared deal",
        amount=1000,
        stage="develop",
        close_date="2026-02-10",
    )
    join(client, acme, "opportunity", deal, beta)
    fill(client, beta, "opportunity", deal, amount=SECRET, stage="develop", close_date="2026-02-11")
    link(client, acme, plan_id, deal)
    goal(
        client, beta, plan_id, metric="pipeline_value", target="100000", company_id=beta.company_id
    )

    acme_browser = signed_in(new_browser, acme)
    page = acme_browser.page(f"/plans/{plan_id}")
    rendered = page.root.by_id("cosell-panel")
    assert rendered is not None
    assert "hx-get" not in rendered.attrs  # rendered with the page, no loader
    assert SECRET not in page.text
    html = acme_browser.get(
        f"/plans/{plan_id}/cosell", headers=htmx(acme_browser, f"/plans/{plan_id}")
    ).text
    assert SECRET not in html
    assert "64646" not in html
    shown = parse(html)
    goals = shown.root.find_all("li", class_="goal")
    assert len(goals) == 1
    assert "1 not shared with you" in goals[0].text
    assert "Beta" in goals[0].text
    assert "Pipeline value" in goals[0].text
    assert "Shared deal" in shown.text

    beta_browser = signed_in(new_browser, beta)
    mine = panel(beta_browser, f"/plans/{plan_id}/cosell")
    assert "EUR 64,646.46" in mine.text  # Beta sees its own amount
    assert "not shared with you" not in mine.text

    # Acme adds a goal through the form; a bad target re-shows the form with the message
    headers = htmx(acme_browser, f"/plans/{plan_id}")
    form = shown.form(f"/plans/{plan_id}/cosell/goals")
    data = dict(form.fields()) | {"goal_metric": "closed_revenue", "goal_target": "lots"}
    refused = acme_browser.client.post(f"/plans/{plan_id}/cosell/goals", data=data, headers=headers)
    assert refused.status_code == 422
    refused_page = parse(refused.text)
    target_input = refused_page.root.by_id("f-goal-target")
    assert target_input is not None
    assert target_input.attrs.get("aria-invalid") == "true"
    data |= {"goal_target": "5000", "goal_scope": "joint"}
    added = acme_browser.client.post(f"/plans/{plan_id}/cosell/goals", data=data, headers=headers)
    assert added.status_code == 200, added.text[:2000]
    assert "Goal added." in added.text
    assert "Closed revenue" in parse(added.text).text

    # unlink the deal through its button
    response = acme_browser.client.post(
        f"/plans/{plan_id}/cosell/links/{deal}/delete", headers=headers
    )
    assert response.status_code == 200
    assert "No lead or opportunity you can see is on this plan yet." in parse(response.text).text


def test_pages_of_a_hidden_plan_are_not_found(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme")
    outsider = make_company(client, "Outsider")
    plan_id = plan(client, acme, "Secret plan TITLE")
    other = signed_in(new_browser, outsider)
    headers = htmx(other, "/plans")
    for url in (f"/plans/{plan_id}/cosell", f"/plans/{uuid.uuid4()}/cosell"):
        response = other.get(url, headers=headers)
        assert response.status_code == 404
        assert "Secret plan TITLE" not in response.text
    response = other.client.post(
        f"/plans/{plan_id}/cosell/goals",
        data={"goal_metric": "lead_count", "goal_target": "3"},
        headers=headers,
    )
    assert response.status_code == 404
    # a panel URL opened as a page goes to the record page
    own = signed_in(new_browser, acme)
    response = own.get(f"/plans/{plan_id}/cosell", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/plans/{plan_id}"


def test_program_panel_edits_the_profile_for_the_host_only(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    host = make_company(client, "Host")
    partner = make_company(client, "Partner")
    program_id = record(client, host, "program", "Marketplace program")
    join(client, host, "program", program_id, partner)
    host_browser = signed_in(new_browser, host)
    shown = panel(host_browser, f"/programs/{program_id}/cosell")
    form = shown.form(f"/programs/{program_id}/cosell/profile")
    data = dict(form.fields()) | {
        "program_type": "marketplace",
        "region": "apac",
        "status": "active",
    }
    response = host_browser.client.post(
        f"/programs/{program_id}/cosell/profile",
        data=data,
        headers=htmx(host_browser, f"/programs/{program_id}"),
    )
    assert response.status_code == 200
    assert "Profile saved." in response.text
    partner_view = panel(signed_in(new_browser, partner), f"/programs/{program_id}/cosell")
    assert "Marketplace" in partner_view.text
    assert "APAC" in partner_view.text
    assert not [f for f in partner_view.forms() if f.action.endswith("/cosell/profile")]


def test_account_panel_saves_the_plan_and_rolls_up(
    client: TestClient, new_browser: Callable[[], Browser]
) -> None:
    acme = make_company(client, "Acme", currency="USD")
    account = record(client, acme, "account", "Globex")
    record(
        client,
        acme,
        "opportunity",
        "Globex deal",
        core={"account_id": account},
        amount=2500,
        stage="won",
    )
    acme_browser = signed_in(new_browser, acme)
    shown = panel(acme_browser, f"/accounts/{account}/cosell")
    assert "USD 2,500.00" in shown.text
    form = shown.form(f"/accounts/{account}/cosell/plan")
    data = dict(form.fields()) | {
        "objectives": "Expand into the data team",
        "new_step_title": "Book the workshop",
        "new_step_owner": acme.user_id,
    }
    headers = htmx(acme_browser, f"/accounts/{account}")
    response = acme_browser.client.post(
        f"/accounts/{account}/cosell/plan", data=data, headers=headers
    )
    assert response.status_code == 200, response.text[:2000]
    saved = parse(response.text)
    assert "Account plan saved." in saved.text
    assert "Book the workshop" in saved.text
    assert saved.root.by_id("f-objectives") is not None
    # the same form again, now stale: a conflict message, nothing overwritten
    stale = acme_browser.client.post(f"/accounts/{account}/cosell/plan", data=data, headers=headers)
    assert stale.status_code == 412
    assert "Someone changed this since you opened it" in stale.text


def test_exchange_rates_page(client: TestClient, new_browser: Callable[[], Browser]) -> None:
    acme = make_company(client, "Acme", currency="USD")
    rates(client, acme, ("GBP", "1.25", "2026-01-01"))
    other = make_company(client, "Other", currency="USD")
    rates(client, other, ("JPY", "0.0067", "2026-01-01"))
    b = signed_in(new_browser, acme)
    page = b.page("/settings/exchange-rates")
    assert "GBP" in page.text
    assert "JPY" not in page.text
    refused = b.submit(
        "/settings/exchange-rates",
        "/settings/exchange-rates",
        {"currency": "EUR", "rate": "-1", "valid_from": "2026-01-01"},
    )
    assert refused.status_code == 422
    rate_input = parse(refused.text).root.by_id("f-rate")
    assert rate_input is not None
    assert rate_input.attrs.get("aria-invalid") == "true"
    saved = b.submit(
        "/settings/exchange-rates",
        "/settings/exchange-rates",
        {"currency": "eur", "rate": "1.1", "valid_from": "2026-01-01"},
    )
    assert saved.status_code == 200
    assert "1 EUR = 1.1 USD" in saved.text
    assert "EUR" in parse(saved.text).text
