"""What a company export holds: everything of the company's own, and of partners only what they
share with it now. The canary technique of the gate tests: a partner writes unique strings into
a private field, a field shared only with a third company, an internal comment and an unshared
report; none of them occurs in any byte of the export, while what it shares does."""

from __future__ import annotations

import csv
import io
import json
import secrets
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.company_export.helpers import exported, members
from tests.fixtures.builders import make_company, make_partnership
from tests.fixtures.records import OPPS, create_record, fill_space, put_template, share_record
from tests.fixtures.smtp import Inbox, link_in, text_of


def test_the_export_holds_no_byte_a_partner_did_not_share_with_the_company(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    acme = make_company(client, "Acme")
    globex = make_company(client, "Globex")
    initech = make_company(client, "Initech")
    make_partnership(client, acme, globex)
    make_partnership(client, acme, initech)
    make_partnership(client, globex, initech)
    canary = {name: f"canary-{name}-{secrets.token_hex(6)}" for name in ("private", "third")}
    canary["comment"] = f"canary-comment-{secrets.token_hex(6)}"
    canary["report"] = f"canary-report-{secrets.token_hex(6)}"
    shared = f"shared-with-acme-{secrets.token_hex(6)}"
    acme_private = f"acme-own-private-{secrets.token_hex(6)}"

    put_template(
        client,
        acme,
        {"key": "amount", "visibility": "participants"},
        {"key": "acme_notes", "label": "Acme notes", "type": "text", "visibility": "private"},
    )
    put_template(
        client,
        globex,
        {"key": "amount", "visibility": "participants"},
        {"key": "stage", "visibility": "private"},
        {"key": "pitch", "label": "Pitch", "type": "text", "visibility": "participants"},
        {"key": "secret", "label": "Secret", "type": "text", "visibility": "private"},
        {
            "key": "for_initech",
            "label": "For Initech",
            "type": "text",
            "visibility": {"companies": [initech.company_id]},
        },
    )
    record_id = create_record(client, acme, "Orbit deal", amount=100, acme_notes=acme_private)
    share_record(client, acme, record_id, globex, initech)
    fill_space(
        client,
        globex,
        record_id,
        amount=777,
        stage="Negotiate",
        pitch=shared,
        secret=canary["private"],
        for_initech=canary["third"],
    )
    internal = client.post(
        f"{OPPS}/{record_id}/comments",
        json={"body": canary["comment"], "audience": "company"},
        headers=globex.headers,
    )
    assert internal.status_code == 201, internal.text
    public = client.post(
        f"{OPPS}/{record_id}/comments", json={"body": "Kick-off on Monday"}, headers=globex.headers
    )
    assert public.status_code == 201, public.text
    report = client.post(
        "/api/v1/reports",
        json={
            "name": canary["report"],
            "definition": {"kind": "opportunity", "measures": [{"op": "count"}]},
        },
        headers=globex.headers,
    )
    assert report.status_code == 201, report.text
    # Initech sees Globex's field for it: the canary is real data, only not Acme's to see
    seen_by_initech = client.get(f"{OPPS}/{record_id}", headers=initech.headers).text
    assert canary["third"] in seen_by_initech

    resource, zip_bytes = exported(client, app, acme)

    files = members(zip_bytes)
    everything = b"".join([zip_bytes, *files.values(), *(name.encode() for name in files)])
    for name, value in canary.items():
        assert value.encode() not in everything, f"the {name} canary leaked into the export"
    assert shared.encode() in files["records/opportunities.json"]
    assert acme_private.encode() in files["records/opportunities.json"]  # the company's own
    assert b"Kick-off on Monday" in files["comments.json"]

    # the CSV: Acme's own fields, then the partner's shared ones, one row per record
    rows = list(csv.DictReader(io.StringIO(files["records/opportunities.csv"].decode())))
    assert len(rows) == 1
    assert rows[0]["title"] == "Orbit deal"
    assert rows[0]["My Acme notes"] == acme_private
    assert rows[0]["Globex: Pitch"] == shared
    assert rows[0]["Globex: Amount"] == "777.00"
    assert not any(header.startswith("Globex: Secret") for header in rows[0])

    manifest: dict[str, Any] = json.loads(files["manifest.json"])
    assert manifest["company"]["name"] == "Acme"
    assert manifest["requested_by"]["email"] == acme.email
    assert manifest["counts"]["opportunities"] == 1
    assert manifest["counts"]["comments"] == 1
    assert manifest["schema_revision"]
    assert resource["counts"] == manifest["counts"]
    assert resource["size_bytes"] == len(zip_bytes)

    mail = inbox.wait_for(acme.email)
    assert mail["Subject"] == "Your Acme data export is ready"
    link = link_in(mail, f"/settings/data-export/{resource['id']}/download")
    assert "token=" in link
    assert "Download it by" in text_of(mail)
