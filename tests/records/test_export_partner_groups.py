"""An export reads partners' columns by groups of partners, each group by a statement of its own
(a company with hundreds of partners would otherwise need a join too deep to compile): the file
is the same however the partners are grouped, and still masked."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from coterie.records import export
from tests.fixtures.builders import Member, make_company
from tests.fixtures.records import OPPS, create_record, fill_space, put_template, share_record

CANARY = "CANARY-b41e"


def _csv(client: TestClient, who: Member) -> list[dict[str, str]]:
    response = client.get(f"{OPPS}/export", params={"format": "csv"}, headers=who.headers)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def test_partner_columns_are_the_same_in_groups_of_one(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = make_company(client, "Acme")
    partners = [make_company(client, name) for name in ("Globex", "Initech", "Umbrella")]
    for partner in partners:
        put_template(
            client,
            partner,
            {"key": "stage", "visibility": "participants"},
            {"key": "secret", "type": "text", "visibility": "private"},
        )
    shared = create_record(client, acme, "Shared with all")
    share_record(client, acme, shared, *partners)
    for n, partner in enumerate(partners):
        fill_space(client, partner, shared, stage=f"stage {n}", secret=CANARY)
    other = create_record(client, acme, "Shared with Initech only")
    share_record(client, acme, other, partners[1])
    fill_space(client, partners[1], other, stage="initech only")

    together = _csv(client, acme)
    monkeypatch.setattr(export, "PARTNERS_PER_STATEMENT", 1)
    apart = _csv(client, acme)

    assert apart == together
    by_id = {row["id"]: row for row in apart}
    assert by_id[shared]["Globex: Stage"] == "stage 0"
    assert by_id[shared]["Initech: Stage"] == "stage 1"
    assert by_id[shared]["Umbrella: Stage"] == "stage 2"
    assert by_id[other]["Initech: Stage"] == "initech only"
    assert by_id[other]["Globex: Stage"] == ""  # Globex is not on that record
    assert CANARY not in "".join(value for row in apart for value in row.values())
