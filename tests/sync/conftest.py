"""The sync tests' CRM: the in-memory connector (`tests.sync.memory_crm`) stands in for the
installed connectors, reset for each test."""

from __future__ import annotations

import pytest

from tests.sync.memory_crm import MemoryCrm, install_memory_crm


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch) -> MemoryCrm:
    return install_memory_crm(monkeypatch)
