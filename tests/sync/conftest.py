"""The sync tests' CRM: the in-memory connector (`tests.sync.memory_crm`) stands in for the
installed connectors, reset for each test."""

from __future__ import annotations

import pytest

from coterie.sync.connectors import registry
from tests.sync import memory_crm


def install_memory_crm(monkeypatch: pytest.MonkeyPatch) -> memory_crm.MemoryCrm:
    """Offer the in-memory CRM as the only installed connector (a fresh, empty one)."""
    crm = memory_crm.MemoryCrm()
    monkeypatch.setattr(memory_crm, "CRM", crm)
    monkeypatch.setattr(registry, "installed", lambda: {"memcrm": memory_crm.MemoryConnector})
    return crm


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> memory_crm.MemoryCrm:
    return install_memory_crm(monkeypatch)
