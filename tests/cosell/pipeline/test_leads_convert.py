"""Converting a lead: the opportunity keeps where it came from, who was on it and its plans;
a lead converts once."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from coterie.db import utcnow
from coterie.models.cosell import PlanRecord
from tests.fixtures.builders import Member, make_company, make_partnership
from tests.fixtures.pipeline import (
    LEADS,
    OPPS,
    accept_lead,
    make_lead,
    make_record,
    nominate,
    system_connection,
)
from tests.fixtures.workflows import try_move
from tests.kit.assertions import assert_invalid, assert_problem


def _link_to_plan(engine: Engine, plan_id: str, lead_id: str) -> None:
    with system_connection(engine) as connection:
        connection.execute(
            PlanRecord.__table__.insert().values(
                plan_id=uuid.UUID(plan_id),
                record_id=uuid.UUID(lead_id),
                kind="lead",
                role="pipeline",
                linked_at=utcnow(),
            )
        )


def _plans_of(engine: Engine, record_id: str) -> set[str]:
    with system_connection(engine) as connection:
        rows = connection.execute(
            select(PlanRecord.plan_id, PlanRecord.kind).where(
                PlanRecord.record_id == uuid.UUID(record_id)
            )
        )
        return {f"{row[0]}:{row[1]}" for row in rows}


def test_conversion_keeps_source_participants_and_plan_links(
    client: TestClient, engine: Engine
) -> None:
    acme, beta, gamma = (make_company(client, n) for n in ("Acme", "Beta", "Gamma"))
    make_partnership(client, acme, beta)
    make_partnership(client, acme, gamma)
    lead = make_lead(
        client, acme, "Globex expansion", "Globex", "globex.example", motion="referral"
    )
    nominate(client, acme, lead, beta, gamma)
    accept_lead(client, beta, lead)  # Gamma has not answered yet
    plan = make_record(client, acme, "plans", "FY27 joint plan")
    _link_to_plan(engine, plan, lead)

    # Beta, the receiver, converts: any active participant may
    converted = client.post(
        f"{LEADS}/{lead}/convert",
        json={"motion": "co-sell", "fields": {"amount": 50000, "stage": "Qualify"}},
        headers=beta.headers,
    )
    assert converted.status_code == 201, converted.text
    opportunity = converted.json()
    assert opportunity["kind"] == "opportunity"
    assert opportunity["title"] == "Globex expansion"
    assert opportunity["customer_domain"] == "globex.example"
    assert opportunity["motion"] == "co-sell"
    assert opportunity["owner_company_id"] == beta.company_id
    assert opportunity["source_company"] == {"id": acme.company_id, "name": "Acme"}
    assert opportunity["source_record_id"] == lead
    statuses = {p["company_name"]: p["status"] for p in opportunity["participants"]}
    assert statuses == {"Acme": "active", "Beta": "active", "Gamma": "invited"}
    mine = next(s for s in opportunity["spaces"] if s["is_mine"])
    assert mine["fields"]["stage"] == "Qualify"

    # the source company sees the opportunity and where it came from, with a space of its own
    seen = client.get(f"{OPPS}/{opportunity['id']}", headers=acme.headers)
    assert seen.status_code == 200
    assert seen.json()["source_company"]["name"] == "Acme"
    assert any(s["is_mine"] for s in seen.json()["spaces"])
    # Gamma is only invited: the invitation view, nothing more
    assert client.get(f"{OPPS}/{opportunity['id']}", headers=gamma.headers).status_code == 404
    invitations = client.get("/api/v1/record-invitations", headers=gamma.headers).json()
    assert opportunity["id"] in {i["record_id"] for i in invitations}

    assert _plans_of(engine, opportunity["id"]) == {f"{plan}:opportunity"}
    lead_now = client.get(f"{LEADS}/{lead}", headers=acme.headers).json()
    assert lead_now["joint_stage"] == "converted"

    again = client.post(f"{LEADS}/{lead}/convert", json={}, headers=acme.headers)
    assert_problem(again, 409, "lead-converted")
    listed = client.get(OPPS, headers=acme.headers).json()["items"]
    assert len(listed) == 1, "the refused conversion created nothing"


def test_conversion_needs_a_motion_and_a_visible_lead(client: TestClient) -> None:
    acme, outsider = make_company(client, "Acme"), make_company(client, "Outsider")
    lead = make_lead(client, acme, "No motion yet", "Hooli")
    assert_invalid(
        client.post(f"{LEADS}/{lead}/convert", json={}, headers=acme.headers), "body.motion"
    )
    bad_field = client.post(
        f"{LEADS}/{lead}/convert",
        json={"motion": "resell", "fields": {"nonsense": 1}},
        headers=acme.headers,
    )
    assert_invalid(bad_field, "body.fields.nonsense")
    hidden = client.post(
        f"{LEADS}/{lead}/convert", json={"motion": "resell"}, headers=outsider.headers
    )
    assert hidden.status_code == 404
    # nothing was half done by the refused attempts
    assert client.get(f"{LEADS}/{lead}", headers=acme.headers).json()["joint_stage"] is None
    assert client.get(OPPS, headers=acme.headers).json()["items"] == []
    done = client.post(
        f"{LEADS}/{lead}/convert", json={"motion": "resell", "title": "Hooli resale"},
        headers=acme.headers,
    )  # fmt: skip
    assert done.status_code == 201
    assert done.json()["title"] == "Hooli resale"
    assert done.json()["source_company"]["id"] == acme.company_id


def _patch_lead(client: TestClient, who: Member, lead: str, **core: Any) -> httpx.Response:
    version = client.get(f"{LEADS}/{lead}", headers=who.headers).json()["version"]
    return client.patch(
        f"{LEADS}/{lead}", json=core, headers={**who.headers, "If-Match": str(version)}
    )


def test_only_converting_a_lead_makes_it_converted(client: TestClient) -> None:
    acme = make_company(client, "Acme")
    # a client cannot create a lead as converted, however it spells it
    for stage in ("converted", " Converted ", "CONVERTED"):
        created = client.post(
            LEADS, json={"title": "Sneaky", "joint_stage": stage}, headers=acme.headers
        )
        assert_invalid(created, "body.joint_stage")
    assert client.get(LEADS, headers=acme.headers).json()["items"] == []
    # the word means nothing special on another kind
    make_record(client, acme, "opportunities", "Renamed", joint_stage="converted")

    # nor set it by a PATCH: the lead stays convertible
    lead = make_lead(client, acme, "Honest", "Hooli", joint_stage="qualified")
    assert_invalid(_patch_lead(client, acme, lead, joint_stage="converted"), "body.joint_stage")
    assert client.get(f"{LEADS}/{lead}", headers=acme.headers).json()["joint_stage"] == "qualified"
    done = client.post(f"{LEADS}/{lead}/convert", json={"motion": "resell"}, headers=acme.headers)
    assert done.status_code == 201, done.text

    # once converted, the joint stage stays: moving it away would let the lead convert again
    for stage in ("qualified", None):
        moved = _patch_lead(client, acme, lead, joint_stage=stage)
        assert_problem(moved, 409, "lead-converted")
    assert client.get(f"{LEADS}/{lead}", headers=acme.headers).json()["joint_stage"] == "converted"
    # the rest of a converted lead stays editable, and restating its stage changes nothing
    renamed = _patch_lead(client, acme, lead, title="Honest (won)", joint_stage="converted")
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["joint_stage"] == "converted"
    again = client.post(f"{LEADS}/{lead}/convert", json={"motion": "resell"}, headers=acme.headers)
    assert_problem(again, 409, "lead-converted")


def test_a_program_workflow_cannot_convert_a_lead_nor_move_a_converted_one(
    client: TestClient,
) -> None:
    host = make_company(client, "Host")
    program = make_record(client, host, "programs", "Lead programme")
    made = client.post(
        "/api/v1/workflows",
        json={
            "kind": "lead",
            "name": "Lead flow",
            "program_id": program,
            "stages": [
                {"key": "qualified", "name": "Qualified"},
                {"key": "converted", "name": "Converted", "category": "won"},
            ],
            "transitions": [{"from": "*", "to": "converted"}, {"from": "*", "to": "qualified"}],
        },
        headers=host.headers,
    )
    assert made.status_code == 201, made.text
    flow = made.json()["id"]

    def attached_lead(title: str) -> str:
        lead = make_lead(client, host, title, "Initech", joint_stage="qualified")
        done = client.post(f"{LEADS}/{lead}/workflows/{flow}/attach", headers=host.headers)
        assert done.status_code == 200, done.text
        return lead

    # a workflow stage named "converted" does not convert the lead: only conversion does
    lead = attached_lead("Through the flow")
    assert_invalid(try_move(client, host, "lead", lead, flow, "converted"), "body.to")
    assert client.get(f"{LEADS}/{lead}", headers=host.headers).json()["joint_stage"] == "qualified"
    # a converted lead's joint stage stays, through the workflow too
    converted = attached_lead("Converted first")
    done = client.post(
        f"{LEADS}/{converted}/convert", json={"motion": "resell"}, headers=host.headers
    )
    assert done.status_code == 201, done.text
    moved = try_move(client, host, "lead", converted, flow, "qualified")
    assert_problem(moved, 409, "lead-converted")
    stage = client.get(f"{LEADS}/{converted}", headers=host.headers).json()["joint_stage"]
    assert stage == "converted"
