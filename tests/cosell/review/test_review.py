"""The weekly pipeline review of a plan: movements per company, value deltas, history, and
nothing a partner kept private."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update

from coterie.models import Record
from coterie.models.activity import RecordChange
from coterie.models.cosell import PlanRecord
from tests.fixtures import cosell as c
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.web.conftest import Browser
from tests.web.test_network_pages import signed_in

API = "/api/v1"
CANARY_AMOUNT = 987654.32


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


def backdate(engine: Engine, plan_id: str, days: int = 30) -> None:
    """Pretend the plan's opportunities were created and linked `days` ago (history before the
    review period); only the test moves time like this."""
    then = datetime.now(UTC) - timedelta(days=days)
    linked = select(PlanRecord.record_id).where(PlanRecord.plan_id == uuid.UUID(plan_id))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        conn.execute(
            update(PlanRecord)
            .where(PlanRecord.plan_id == uuid.UUID(plan_id))
            .values(linked_at=then)
        )
        conn.execute(update(Record).where(Record.id.in_(linked)).values(created_at=then))
        conn.execute(update(RecordChange).where(RecordChange.record_id.in_(linked)).values(at=then))


def section(company: dict[str, Any], movement: str) -> list[dict[str, Any]]:
    found = next(s for s in company["sections"] if s["movement"] == movement)
    return list(found["items"])


def titles(company: dict[str, Any], movement: str) -> list[str]:
    return [item["title"] for item in section(company, movement)]


def review(client: TestClient, who: Member, plan_id: str, **query: str) -> Any:
    response = client.get(f"{API}/plans/{plan_id}/review", params=query, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def network(client: TestClient, engine: Engine) -> dict[str, Any]:
    """Vendor (owner of the plan and the deals, close dates private) and Partner (shares its
    stage and amount); five opportunities on the plan, four of them older than the review."""
    vendor = make_company(client, "Vendor")
    partner = make_company(client, "Partner")
    make_partnership(client, vendor, partner)
    c.template(
        client,
        vendor,
        "opportunity",
        amount="participants",
        stage="participants",
        close_date="private",
    )
    c.template(client, partner, "opportunity", amount="participants", stage="participants")
    plan_id = c.plan(client, vendor, "EMEA plan", partner)
    deals: dict[str, str] = {}
    for title, amount, stage, close in (
        ("Advancing", 1000, "qualify", "2041-03-15"),
        ("Slipping", CANARY_AMOUNT, "develop", "2041-03-01"),
        ("Winning", 3000, "negotiate", "2041-03-20"),
        ("Losing", 4000, "propose", "2041-03-22"),
    ):
        record_id = c.record(
            client, vendor, "opportunity", title, amount=amount, stage=stage, close_date=close
        )
        c.join(client, vendor, "opportunity", record_id, partner)
        c.link(client, vendor, plan_id, record_id)
        deals[title] = record_id
    c.fill(client, partner, "opportunity", deals["Advancing"], amount=500, stage="develop")
    backdate(engine, plan_id)
    # this week
    c.fill(client, vendor, "opportunity", deals["Advancing"], stage="propose", amount=1500)
    c.fill(client, vendor, "opportunity", deals["Slipping"], close_date="2041-05-01")
    c.fill(client, vendor, "opportunity", deals["Winning"], stage="won")
    c.fill(client, vendor, "opportunity", deals["Losing"], stage="lost")
    c.fill(client, partner, "opportunity", deals["Advancing"], stage="qualify", amount=400)
    fresh = c.record(client, vendor, "opportunity", "Fresh", amount=2500, stage="qualify")
    c.link(client, vendor, plan_id, fresh)
    return {"vendor": vendor, "partner": partner, "plan": plan_id, "deals": deals}


def test_owner_sees_each_movement_of_its_own_space_with_value_deltas(
    client: TestClient, network: dict[str, Any]
) -> None:
    body = review(client, network["vendor"], network["plan"])
    mine = body["companies"][0]
    assert mine["is_mine"] is True
    assert mine["company_name"] == "Vendor"
    assert titles(mine, "new") == ["Fresh"]
    assert titles(mine, "advanced") == ["Advancing"]
    assert titles(mine, "slipped") == ["Slipping"]
    assert titles(mine, "won") == ["Winning"]
    assert titles(mine, "lost") == ["Losing"]
    assert titles(mine, "regressed") == []
    advancing = section(mine, "advanced")[0]
    assert (advancing["stage_before"], advancing["stage_after"]) == ("Qualify", "Propose")
    assert advancing["delta"] == "500.00"
    slipped = section(mine, "slipped")[0]
    assert (slipped["close_date_before"], slipped["close_date_after"]) == (
        "2041-03-01",
        "2041-05-01",
    )
    new = section(mine, "new")[0]
    assert new["delta"] == "2500.00"  # all of a new deal's value is new pipeline
    # open pipeline: before = 1000 + 987654.32 + 3000 + 4000; after = 1500 + 987654.32 + 2500
    assert mine["open_pipeline_before"] == "995654.32"
    assert mine["open_pipeline_after"] == "991654.32"


def test_partner_numbers_appear_only_for_the_fields_it_shares(
    client: TestClient, network: dict[str, Any]
) -> None:
    body = review(client, network["vendor"], network["plan"])
    partner = body["companies"][1]
    assert partner["company_name"] == "Partner"
    assert partner["is_mine"] is False
    assert partner["fields"] == ["amount", "stage"]  # no close date: Partner does not share it
    assert titles(partner, "regressed") == ["Advancing"]  # develop -> qualify
    item = section(partner, "regressed")[0]
    assert item["delta"] == "-100.00"
    assert item["close_date_after"] is None


def test_partner_never_sees_what_the_owner_keeps_private(
    client: TestClient, network: dict[str, Any], new_browser: Callable[[], Browser]
) -> None:
    response = client.get(
        f"{API}/plans/{network['plan']}/review", headers=network["partner"].headers
    )
    assert response.status_code == 200
    vendor = next(co for co in response.json()["companies"] if co["company_name"] == "Vendor")
    assert vendor["fields"] == ["amount", "stage"]
    assert titles(vendor, "slipped") == []  # the close date is private to Vendor
    assert "2041" not in response.text
    assert "2041-03-01" not in response.text
    page = signed_in(new_browser, network["partner"]).page(f"/plans/{network['plan']}/review")
    assert "Pipeline review" in page.text
    assert "Slipped 0" in " ".join(page.text.split())
    assert "2041" not in page.text


def test_the_review_page_lists_movements_by_company(
    client: TestClient, network: dict[str, Any], new_browser: Callable[[], Browser]
) -> None:
    page = signed_in(new_browser, network["vendor"]).page(f"/plans/{network['plan']}/review")
    text = " ".join(page.text.split())
    assert "Vendor your numbers" in text
    assert "Partner as shared with Vendor" in text
    for count in ("Won 1", "Lost 1", "New 1", "Slipped 1", "Advanced 1"):
        assert count in text
    assert "Winning" in text


def test_a_past_period_is_rebuilt_from_the_change_log(
    client: TestClient, network: dict[str, Any]
) -> None:
    last_week = (datetime.now(UTC) - timedelta(days=7)).date()
    body = review(
        client,
        network["vendor"],
        network["plan"],
        start=(last_week - timedelta(days=6)).isoformat(),
        end=last_week.isoformat(),
    )
    mine = body["companies"][0]
    assert all(s["total"]["count"] == 0 for s in mine["sections"])
    # Fresh did not exist yet; the four older deals were open and worth what they were then
    assert body["opportunities"] == 4
    assert mine["open_pipeline_after"] == "995654.32"


def test_hide_private_fields_drops_my_private_movements(
    client: TestClient, network: dict[str, Any]
) -> None:
    vendor = network["vendor"]
    client.patch(
        f"{API}/me/preferences", json={"hide_private_fields": True}, headers=vendor.headers
    )
    body = review(client, vendor, network["plan"])
    mine = body["companies"][0]
    assert "close_date" not in mine["fields"]
    assert titles(mine, "slipped") == []
    assert (
        "2041-05-01"
        not in client.get(f"{API}/plans/{network['plan']}/review", headers=vendor.headers).text
    )


def test_outsiders_get_404_and_bad_ranges_422(
    client: TestClient, network: dict[str, Any], new_browser: Callable[[], Browser]
) -> None:
    outsider = make_company(client, "Outsider")
    url = f"{API}/plans/{network['plan']}/review"
    assert client.get(url, headers=outsider.headers).status_code == 404
    signed_in(new_browser, outsider).page(f"/plans/{network['plan']}/review", status=404)
    vendor = network["vendor"].headers
    bad = client.get(url, params={"start": "2026-03-02", "end": "2026-03-01"}, headers=vendor)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "query.start"
    too_long = client.get(url, params={"start": "2020-01-01", "end": "2026-03-01"}, headers=vendor)
    assert too_long.status_code == 422
