"""The connection's status badge (`settings/_integration_status.html`): "Waiting for the CRM"
while the CRM asked Coterie to slow down, the connection's own status otherwise."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from coterie.db import utcnow
from coterie.sync.status import ConnectionStatusRow
from coterie.web.templating import templates

ROW = ConnectionStatusRow(
    id=uuid.uuid4(),
    company_id=uuid.uuid4(),
    company_name="Acme",
    kind="memcrm",
    label="Memory CRM",
    name="Acme CRM",
    status="active",
    paused_until=None,
    last_run_at=None,
    last_success_at=None,
    last_error=None,
    linked=0,
    waiting=0,
    open_conflicts=0,
    queued=0,
    dead=0,
)


def _badge(row: ConnectionStatusRow) -> str:
    return templates.get_template("settings/_integration_status.html").render(r=row)


@pytest.mark.parametrize(
    ("status", "until", "shown"),
    [
        ("active", None, "Active"),
        ("active", timedelta(minutes=5), "Waiting for the CRM"),
        ("active", timedelta(minutes=-5), "Active"),  # the wait is over
        ("paused", timedelta(minutes=5), "Paused"),
        ("error", timedelta(minutes=5), "Needs reconnecting"),
    ],
)
def test_the_badge_says_why_nothing_syncs(status: str, until: timedelta | None, shown: str) -> None:
    paused_until = utcnow() + until if until is not None else None
    row = dataclasses.replace(ROW, status=status, paused_until=paused_until)
    assert shown in _badge(row)
    assert row.throttled == (until is not None and until > timedelta(0))
