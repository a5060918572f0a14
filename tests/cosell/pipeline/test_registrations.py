"""Deal registration: draft, submit, approve or reject by the registered-to company's admins and
managers, expiry computed and persisted, renewals within the limit, versions, visibility."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from coterie.cli import app as cli_app
from coterie.config import get_settings
from coterie.models.pipeline import DealRegistration
from tests.fixtures.builders import Member, make_colleague, make_company, make_partnership
from tests.fixtures.pipeline import OPPS, REGISTRATIONS, join, make_record, system_connection
from tests.fixtures.smtp import Inbox
from tests.fixtures.versions import etag
from tests.kit.assertions import assert_invalid, assert_problem


def _today() -> datetime:
    return datetime.now(UTC)


def _draft(client: TestClient, who: Member, opportunity: str, to: Member) -> dict[str, object]:
    response = client.post(
        f"{OPPS}/{opportunity}/registrations",
        json={"registered_to_company_id": to.company_id, "notes": "Found by our field team"},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def _act(
    client: TestClient,
    who: Member,
    rid: str,
    action: str,
    *,
    reader: Member | None = None,
    json: dict[str, str] | None = None,
) -> httpx.Response:
    """`who` submits, renews, approves or rejects, with If-Match: the registration's ETag as
    `reader` (default `who`) reads it now."""
    headers = {**who.headers, "If-Match": etag(client, reader or who, f"{REGISTRATIONS}/{rid}")}
    return client.post(f"{REGISTRATIONS}/{rid}/{action}", json=json, headers=headers)


def _set_expiry(engine: Engine, registration_id: str, days_from_today: int) -> None:
    with system_connection(engine) as connection:
        connection.execute(
            update(DealRegistration)
            .where(DealRegistration.id == uuid.UUID(registration_id))
            .values(expires_on=_today().date() + timedelta(days=days_from_today))
        )


def _stored_status(engine: Engine, registration_id: str) -> str:
    with system_connection(engine) as connection:
        return str(
            connection.scalar(
                select(DealRegistration.status).where(
                    DealRegistration.id == uuid.UUID(registration_id)
                )
            )
        )


def test_registration_lifecycle_and_who_may_do_what(client: TestClient, inbox: Inbox) -> None:
    reseller, vendor, outsider = (make_company(client, n) for n in ("Reseller", "Vendor", "Out"))
    make_partnership(client, reseller, vendor)
    vendor_member = make_colleague(client, vendor, "member", inbox=inbox)
    vendor_manager = make_colleague(client, vendor, "manager", inbox=inbox)
    opportunity = make_record(
        client, reseller, "opportunities", "Globex servers", customer_domain="globex.example"
    )

    assert_invalid(
        client.post(
            f"{OPPS}/{opportunity}/registrations",
            json={"registered_to_company_id": outsider.company_id},
            headers=reseller.headers,
        ),
        "body.registered_to_company_id",
        slug="not-a-partner",
    )
    draft = _draft(client, reseller, opportunity, vendor)
    assert draft["status"] == "draft"
    assert draft["registered_to_company_name"] == "Vendor"
    rid = str(draft["id"])
    duplicate = client.post(
        f"{OPPS}/{opportunity}/registrations",
        json={"registered_to_company_id": vendor.company_id},
        headers=reseller.headers,
    )
    assert_problem(duplicate, 409, "registration-exists")

    # the vendor is not on the opportunity yet: hidden means nonexistent
    assert client.get(f"{REGISTRATIONS}/{rid}", headers=vendor.headers).status_code == 404
    stale = client.post(
        f"{REGISTRATIONS}/{rid}/submit", headers={**reseller.headers, "If-Match": "7"}
    )
    assert_problem(stale, 412, "version-mismatch")
    submitted = client.post(
        f"{REGISTRATIONS}/{rid}/submit",
        headers={**reseller.headers, "If-Match": str(draft["version"])},
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert_problem(
        client.post(f"{REGISTRATIONS}/{rid}/submit", headers=reseller.headers),
        428,
        "precondition-required",
    )
    assert_problem(_act(client, reseller, rid, "submit"), 409, "invalid-transition")
    # submitting invited the vendor onto the opportunity; once it accepts it sees the registration
    invitations = client.get("/api/v1/record-invitations", headers=vendor.headers).json()
    assert [i["record_id"] for i in invitations] == [opportunity]
    client.post(
        f"{OPPS}/{opportunity}/participants/{vendor.company_id}/accept", headers=vendor.headers
    )
    mine = client.get(f"{REGISTRATIONS}?role=registered_to", headers=vendor.headers).json()
    assert [r["id"] for r in mine["items"]] == [rid]

    # a member of the vendor is on the record but may not decide: 403; the registering side: 403
    assert_problem(_act(client, vendor_member, rid, "approve"), 403, "forbidden")
    assert_problem(_act(client, reseller, rid, "approve"), 403, "forbidden")
    assert _act(client, outsider, rid, "approve", reader=reseller).status_code == 404
    approved = _act(client, vendor_manager, rid, "approve", json={"reason": "Welcome"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    assert body["expires_on"] == str(_today().date() + timedelta(days=90))
    assert body["reason"] == "Welcome"
    seen_by_reseller = client.get(f"{OPPS}/{opportunity}/registrations", headers=reseller.headers)
    assert [r["status"] for r in seen_by_reseller.json()] == ["approved"]
    assert_problem(
        _act(client, vendor, rid, "reject", json={"reason": "late"}), 409, "invalid-transition"
    )


def test_rejection_needs_a_reason_and_a_third_company_sees_no_registration(
    client: TestClient,
) -> None:
    reseller, vendor, distributor = (
        make_company(client, n) for n in ("Reseller", "Vendor", "Distributor")
    )
    make_partnership(client, reseller, vendor)
    make_partnership(client, reseller, distributor)
    opportunity = make_record(client, reseller, "opportunities", "Initech network")
    join(client, reseller, "opportunities", opportunity, vendor, distributor)
    rid = str(_draft(client, reseller, opportunity, vendor)["id"])
    assert _act(client, reseller, rid, "submit").status_code == 200

    assert_invalid(_act(client, vendor, rid, "reject", json={}), "body.reason")
    rejected = _act(client, vendor, rid, "reject", json={"reason": "REASON-we-have-a-direct-deal"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"

    # the distributor is on the opportunity but not on the registration
    assert client.get(f"{REGISTRATIONS}/{rid}", headers=distributor.headers).status_code == 404
    listed = client.get(f"{OPPS}/{opportunity}/registrations", headers=distributor.headers)
    assert listed.status_code == 200
    assert listed.json() == []
    assert client.get(REGISTRATIONS, headers=distributor.headers).json()["items"] == []
    assert (
        "REASON-we-have"
        not in client.get(f"{OPPS}/{opportunity}", headers=distributor.headers).text
    )
    # once the vendor leaves the opportunity it sees the registration no more
    client.delete(f"{OPPS}/{opportunity}/participants/{vendor.company_id}", headers=vendor.headers)
    assert client.get(f"{REGISTRATIONS}/{rid}", headers=vendor.headers).status_code == 404
    assert client.get(REGISTRATIONS, headers=vendor.headers).json()["items"] == []


def test_expiry_is_computed_and_persisted_and_renewals_are_limited(
    client: TestClient, app: FastAPI, engine: Engine
) -> None:
    reseller, vendor = make_company(client, "Reseller"), make_company(client, "Vendor")
    make_partnership(client, reseller, vendor)
    settings = client.put(
        "/api/v1/registration-settings",
        json={"expiry_days": 30, "renewal_days": 60, "max_renewals": 1},
        headers={**vendor.headers, "If-Match": "0"},
    )
    assert settings.status_code == 200, settings.text
    opportunity = make_record(client, reseller, "opportunities", "Hooli")
    join(client, reseller, "opportunities", opportunity, vendor)
    rid = str(_draft(client, reseller, opportunity, vendor)["id"])
    assert _act(client, reseller, rid, "submit").status_code == 200
    approved = _act(client, vendor, rid, "approve").json()
    assert approved["expires_on"] == str(_today().date() + timedelta(days=30))
    assert approved["renewals_left"] == 1

    _set_expiry(engine, rid, -1)
    for who in (reseller, vendor):
        assert client.get(f"{REGISTRATIONS}/{rid}", headers=who.headers).json()["status"] == (
            "expired"
        )
    expired = client.get(f"{REGISTRATIONS}?status=expired", headers=reseller.headers).json()
    assert [r["id"] for r in expired["items"]] == [rid]
    assert (
        client.get(f"{REGISTRATIONS}?status=approved", headers=reseller.headers).json()["items"]
        == []
    )
    assert _stored_status(engine, rid) == "approved"

    runner = CliRunner()
    env = {"COTERIE_DATABASE_URL": app.state.settings.database_url, "COTERIE_ENV": "test"}
    get_settings.cache_clear()
    try:
        first = runner.invoke(cli_app, ["registrations", "expire"], env=env)
        second = runner.invoke(cli_app, ["registrations", "expire"], env=env)
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "Expired 1 deal registration." in first.output
    assert "Expired 0 deal registrations." in second.output
    assert _stored_status(engine, rid) == "expired"

    renewed = _act(client, reseller, rid, "renew")
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["status"] == "submitted"
    assert renewed.json()["renewal_count"] == 1
    again = _act(client, vendor, rid, "approve").json()
    assert again["expires_on"] == str(_today().date() + timedelta(days=60))
    assert again["renewals_left"] == 0
    assert_problem(_act(client, reseller, rid, "renew"), 409, "renewal-limit")
    assert_problem(_act(client, vendor, rid, "renew"), 403, "forbidden")


def test_settings_are_for_admins_and_versioned(client: TestClient, inbox: Inbox) -> None:
    vendor = make_company(client, "Vendor")
    manager = make_colleague(client, vendor, "manager", inbox=inbox)
    defaults = client.get("/api/v1/registration-settings", headers=manager.headers)
    assert defaults.json() == {
        "expiry_days": 90, "renewal_days": 90, "max_renewals": 2, "version": 0
    }  # fmt: skip
    body = {"expiry_days": 45, "renewal_days": 30, "max_renewals": 3}
    assert_problem(
        client.put("/api/v1/registration-settings", json=body, headers=manager.headers),
        428,
        "precondition-required",
    )
    assert_problem(
        client.put(
            "/api/v1/registration-settings",
            json=body,
            headers={**manager.headers, "If-Match": "0"},
        ),
        403,
        "forbidden",
    )
    saved = client.put(
        "/api/v1/registration-settings", json=body, headers={**vendor.headers, "If-Match": "0"}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    stale = client.put(
        "/api/v1/registration-settings", json=body, headers={**vendor.headers, "If-Match": "0"}
    )
    assert_problem(stale, 412, "version-mismatch")
    assert_invalid(
        client.put(
            "/api/v1/registration-settings",
            json={**body, "expiry_days": 0},
            headers={**vendor.headers, "If-Match": "1"},
        ),
        "body.expiry_days",
    )


def test_the_approver_is_told_about_other_registrations_of_the_same_customer(
    client: TestClient,
) -> None:
    vendor, first, second = (make_company(client, n) for n in ("Vendor", "First", "Second"))
    make_partnership(client, first, vendor)
    make_partnership(client, second, vendor)
    ids = []
    for reseller in (first, second):
        opportunity = make_record(
            client, reseller, "opportunities", f"{reseller.email} Globex",
            customer_domain="globex.example",
        )  # fmt: skip
        join(client, reseller, "opportunities", opportunity, vendor)
        rid = str(_draft(client, reseller, opportunity, vendor)["id"])
        assert _act(client, reseller, rid, "submit").status_code == 200
        ids.append(rid)
    seen = client.get(f"{REGISTRATIONS}/{ids[1]}", headers=vendor.headers).json()
    assert [c["id"] for c in seen["conflicts"]] == [ids[0]]
    assert seen["conflicts"][0]["registering_company_name"] == "First"
    # the registering companies are not told about each other
    assert client.get(f"{REGISTRATIONS}/{ids[1]}", headers=second.headers).json()["conflicts"] == []
