"""The company data export lists the metadata of the company's own uploads (never content, never
a partner's files)."""

from __future__ import annotations

import csv
import io
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.company_export.helpers import exported, members
from tests.fixtures.activity import make_deal
from tests.fixtures.attachments import uploaded
from tests.fixtures.smtp import Inbox

CANARY = "CANARY-export-5e1f"


def test_the_export_lists_my_uploads_and_not_my_partners(
    client: TestClient, app: FastAPI, inbox: Inbox
) -> None:
    deal = make_deal(client, inbox)
    mine = uploaded(client, deal.acme, deal.record_id, "our deck.txt", f"{CANARY}\n".encode())
    theirs = uploaded(client, deal.globex, deal.record_id, "their-notes.txt", b"globex\n")
    _, zip_bytes = exported(client, app, deal.acme)
    files = members(zip_bytes)
    listed = json.loads(files["attachments.json"])
    assert [a["id"] for a in listed] == [mine["id"]]
    assert listed[0]["sha256"] == mine["sha256"]
    rows = list(csv.DictReader(io.StringIO(files["attachments.csv"].decode())))
    assert [(r["filename"], r["record_id"]) for r in rows] == [("our deck.txt", deal.record_id)]
    everything = b"".join(files.values())
    assert CANARY.encode() not in everything  # metadata only
    assert theirs["filename"].encode() not in files["attachments.json"]
