"""Campaigns: a record kind whose template starts with its own fields (objective, audience,
channel, dates, expected leads and pipeline), private until the company shares them, with an
end date never before the start date."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.builders import make_company
from tests.fixtures.campaigns import campaign, share_campaign_fields
from tests.fixtures.cosell import API, fill, join
from tests.fixtures.versions import my_space

CANARY = "CANARY-expected-pipeline-objective"


def test_a_campaign_keeps_its_own_fields_and_partners_see_only_shared_ones(
    client: TestClient,
) -> None:
    acme = make_company(client, "Acme")
    beta = make_company(client, "Beta")
    template = client.get(f"{API}/templates/campaign", headers=acme.headers).json()
    by_key = {f["key"]: f for f in template["fields"]}
    assert by_key["channel"]["type"] == "enum"
    assert [o["key"] for o in by_key["channel"]["options"]] == [
        "webinar", "event", "email", "paid_digital", "content", "field_marketing", "other",
    ]  # fmt: skip
    assert by_key["starts_on"]["label"] == "Start date"
    assert by_key["expected_pipeline"]["type"] == "money"

    campaign_id = campaign(
        client,
        acme,
        "Cloud summit",
        objective=CANARY,
        audience="IT leaders",
        channel="event",
        starts_on="2026-03-01",
        ends_on="2026-03-31",
        expected_leads=40,
        expected_pipeline={"value": "250000", "currency": "EUR"},
    )
    join(client, acme, "campaign", campaign_id, beta)
    mine = client.get(f"{API}/campaigns/{campaign_id}", headers=acme.headers).json()
    own = next(s for s in mine["spaces"] if s["is_mine"])["fields"]
    assert own["channel"] == "event"
    assert own["ends_on"] == "2026-03-31"
    assert own["expected_pipeline"] == {"value": "250000.00", "currency": "EUR"}

    seen = client.get(f"{API}/campaigns/{campaign_id}", headers=beta.headers)
    assert seen.status_code == 200
    assert CANARY not in seen.text  # every campaign field is private until shared
    assert "250000" not in seen.text

    share_campaign_fields(client, acme, "channel", "starts_on", "ends_on")
    seen = client.get(f"{API}/campaigns/{campaign_id}", headers=beta.headers)
    acme_space = next(s for s in seen.json()["spaces"] if s["company_id"] == acme.company_id)
    assert acme_space["fields"] == {
        "channel": "event", "starts_on": "2026-03-01", "ends_on": "2026-03-31",
    }  # fmt: skip
    assert CANARY not in seen.text
    assert "250000" not in seen.text


def test_an_end_date_before_the_start_is_refused_with_its_path(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    body = {"title": "Backwards", "fields": {"starts_on": "2026-05-01", "ends_on": "2026-04-30"}}
    refused = client.post(f"{API}/campaigns", json=body, headers=acme.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "body.fields.ends_on"
    listed = client.get(f"{API}/campaigns", headers=acme.headers).json()
    assert listed["items"] == []  # no partial write

    campaign_id = campaign(client, acme, "Spring webinar", starts_on="2026-05-01")
    url = f"{API}/campaigns/{campaign_id}"
    moved = client.patch(
        f"{url}/spaces/mine",
        json={"fields": {"ends_on": "2026-04-01"}},  # before the stored start date
        headers=my_space(client, acme, url),
    )
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["path"] == "body.fields.ends_on"
    fill(client, acme, "campaign", campaign_id, ends_on="2026-05-01")  # the same day is fine
    wrong = client.post(
        f"{API}/campaigns",
        json={"title": "Odd", "fields": {"channel": "carrier-pigeon"}},
        headers=acme.headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["path"] == "body.fields.channel"
