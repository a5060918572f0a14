"""A CRM held in memory, behind the real connector contract: enough for the engine to push to,
fetch from and merge with, and to build deep links. Its records live in `STORES[name]` (the
credentials name the store), so every connector the engine builds sees the same CRM."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from coterie.sync.connectors import registry
from coterie.sync.connectors.base import (
    ChangePage,
    Connector,
    Cursor,
    MatchProbe,
    RemoteConflict,
    RemoteObject,
    RemoteRecord,
    WriteResult,
)

KIND = "memorycrm"
_versions = itertools.count(1)


@dataclass
class Store:
    records: dict[str, RemoteRecord] = field(default_factory=dict)
    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def put(self, obj: str, remote_id: str, values: dict[str, Any]) -> RemoteRecord:
        record = RemoteRecord(remote_id, obj, dict(values), f"v{next(_versions)}")
        self.records[remote_id] = record
        return record


STORES: dict[str, Store] = {}


class MemoryCrm(Connector):
    kind = KIND
    label = "Memory CRM"

    @property
    def store(self) -> Store:
        return STORES.setdefault(self.credentials["store"], Store())

    def check(self) -> str:
        return "Connected to memory"

    def objects(self) -> Sequence[RemoteObject]:
        return [RemoteObject("Opportunity", "Opportunity", ("opportunity",), ())]

    def read_changes(self, obj: str, cursor: Cursor, limit: int) -> ChangePage:
        return ChangePage([], [], cursor, False)

    def fetch(self, obj: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        return [self.store.records[r] for r in remote_ids if r in self.store.records]

    def upsert(
        self,
        obj: str,
        external_id: str,
        values: Mapping[str, Any],
        *,
        remote_id: str | None = None,
        expected_version: str | None = None,
    ) -> WriteResult:
        current = self.store.records.get(remote_id or "")
        if current is not None and expected_version and current.version != expected_version:
            raise RemoteConflict("changed", current)
        merged = {**(current.values if current else {}), **values}
        rid = remote_id or f"M{len(self.store.records) + 1:03d}"
        saved = self.store.put(obj, rid, merged)
        self.store.writes.append((rid, dict(values)))
        return WriteResult(rid, saved.version, current is None, dict(saved.values))

    def delete(self, obj: str, remote_id: str) -> None:
        self.store.records.pop(remote_id, None)

    def find_candidates(self, obj: str, probe: MatchProbe, limit: int = 10) -> list[RemoteRecord]:
        return list(self.store.records.values())[:limit]

    def record_url(self, obj: str, remote_id: str) -> str | None:
        return f"https://crm.example/{obj}/{remote_id}"


@pytest.fixture(name="memory_crm")
def memory_crm_fixture(monkeypatch: pytest.MonkeyPatch) -> Store:
    """The memory CRM installed as a connector (as an entry point would), with an empty store."""
    try:
        others = dict(registry.installed())
    except ImportError:  # a connector declared in the package metadata is not importable here
        others = {}
    monkeypatch.setattr(registry, "installed", lambda: {**others, KIND: MemoryCrm})
    store = Store()
    monkeypatch.setitem(STORES, "test", store)
    return store
