"""`coterie sync status` and `coterie sync run` on a connected company (in-process, configured
by environment variables like a shell), and the credentials key commands."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.records import create_record
from tests.sync.engine.conftest import Connected
from tests.test_cli import flat, run

DEAL = {"amount": 1000, "close_date": "2030-03-31", "stage": "Qualify"}


def _env(app: FastAPI) -> dict[str, str]:
    secret = app.state.settings.secret_key
    return {"COTERIE_SECRET_KEY": secret.get_secret_value()}  # unseals the credentials


def test_status_then_run_then_status(
    app: FastAPI, client: TestClient, connected: Connected, tmp_path: Path
) -> None:
    url = app.state.settings.database_url
    create_record(client, connected.admin, "Acme renewal", **DEAL)
    connected.fake.org.create(
        "Opportunity", Name="Soylent rollout", StageName="Prospecting", CloseDate="2030-03-31"
    )
    before = run(["sync", "status"], url, tmp_path, env=_env(app))
    assert before.exit_code == 0, before.output
    assert "Salesforce" in before.output
    assert "Northwind Cloud" in before.output
    assert "never" in before.output

    ran = run(["sync", "run", "--connection", str(connected.connection_id)], url, tmp_path,
              env=_env(app))  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert "1 created here" in flat(ran.output)
    assert "done" in ran.output

    missing = run(["sync", "run", "--connection", "not-an-id"], url, tmp_path, env=_env(app))
    assert missing.exit_code == 1
    assert "is not a connection id" in flat(missing.output)


def test_a_new_key_rotates_every_credential(
    app: FastAPI, connected: Connected, tmp_path: Path
) -> None:
    url = app.state.settings.database_url
    new = run(["sync", "new-key"], url, tmp_path).output.strip()
    Fernet(new.encode())  # a usable key
    # the documented move to configured keys: the new key alone, under the same signing secret,
    # whose derived key (always tried last) still reads what it encrypted
    rotated = run(
        ["sync", "rotate-keys"], url, tmp_path, env={**_env(app), "COTERIE_SYNC_KEYS": new}
    )
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted the credentials of 1 connection" in flat(rotated.output)
    only_new = run(["sync", "status"], url, tmp_path, env={"COTERIE_SYNC_KEYS": new})
    assert only_new.exit_code == 0  # status reads no credentials; the run below does
    ran = run(["sync", "run"], url, tmp_path, env={"COTERIE_SYNC_KEYS": new})
    assert ran.exit_code == 0, ran.output
    assert "error" not in flat(ran.output)  # unsealed with the new key alone
