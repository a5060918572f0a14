"""The sync tests' CRM, held in memory behind the real connector contract: what the integrations,
webhook, conflict and record-link tests connect to while the Tryton and Salesforce connectors
live elsewhere.

It logs in with a URL, a user name and a password (only "right-password" is accepted), describes
an Opportunity object (with a picklist stage) and an Account object, stores records (a write that
names a stale version is refused, as a real CRM's would be), answers the change feed, builds deep
links, and verifies webhooks signed with HMAC-SHA256 of the body
(`X-Memcrm-Signature: <hex>`, body `{"events": [{"id", "object", "record_id", "deleted"}]}`).
Its data lives in `CRM`, shared by every connector instance the engine builds;
`install_memory_crm` (the sync tests' `crm` fixture) offers it as the only installed connector,
fresh and empty.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from coterie.sync.connectors import registry
from coterie.sync.connectors.base import (
    AuthExpired,
    BadSignature,
    Capabilities,
    ChangePage,
    Connector,
    CredentialField,
    Cursor,
    FieldType,
    MatchProbe,
    RemoteConflict,
    RemoteField,
    RemoteObject,
    RemoteRecord,
    SyncError,
    WebhookEvent,
    WriteResult,
)

KIND = "memcrm"
PASSWORD = "right-password"
STAGES = ("Prospecting", "Qualification", "Negotiation", "Closed Won", "Closed Lost")
SIGNATURE_HEADER = "x-memcrm-signature"

OBJECTS = (
    RemoteObject(
        name="Opportunity",
        label="Opportunity",
        kinds=("opportunity",),
        fields=(
            RemoteField("Name", "Opportunity Name", FieldType.TEXT, required=True),
            RemoteField("Amount", "Amount", FieldType.MONEY),
            RemoteField("CloseDate", "Close Date", FieldType.DATE),
            RemoteField("StageName", "Stage", FieldType.PICKLIST, choices=STAGES),
            RemoteField("AccountId", "Account", FieldType.REFERENCE, references="Account"),
            RemoteField("Description", "Description", FieldType.TEXT),
            RemoteField("NextStep", "Next Step", FieldType.TEXT),
            RemoteField("Partner_Amount__c", "Partner amount", FieldType.MONEY),
            RemoteField("LastModifiedBy", "Last Modified By", FieldType.TEXT, writable=False),
        ),
    ),
    RemoteObject(
        name="Account",
        label="Account",
        kinds=("account",),
        fields=(
            RemoteField("Name", "Account Name", FieldType.TEXT, required=True),
            RemoteField("Website", "Website", FieldType.TEXT),
            RemoteField("Description", "Description", FieldType.TEXT),
        ),
    ),
)


class MemoryCrm:
    """The CRM's data, shared by every connector instance (fresh per test): its records by
    remote id (ids are unique across objects), the user names it let in, and every write
    (remote id, values sent) in order."""

    def __init__(self) -> None:
        self.records: dict[str, RemoteRecord] = {}
        self.logins: list[str] = []
        self.writes: list[tuple[str, dict[str, Any]]] = []
        self._ids = itertools.count(1)
        self._versions = itertools.count(1)

    def new_id(self) -> str:
        return f"M{next(self._ids):06d}"

    def put(
        self, obj: str, remote_id: str, values: Mapping[str, Any], external_id: str | None = None
    ) -> RemoteRecord:
        """Save a record as the CRM's own users would: a new version, modified now."""
        record = RemoteRecord(
            remote_id=remote_id,
            object=obj,
            values=dict(values),
            version=f"v{next(self._versions)}",
            modified_at=datetime.now(UTC),
            external_id=external_id,
        )
        self.records[remote_id] = record
        return record

    def of(self, obj: str) -> list[RemoteRecord]:
        return [r for r in self.records.values() if r.object == obj]


CRM = MemoryCrm()


class MemoryConnector(Connector):
    kind: ClassVar[str] = KIND
    label: ClassVar[str] = "Memory CRM"
    capabilities: ClassVar[Capabilities] = Capabilities(webhooks=True)
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField(
            "url", "Server address", placeholder="https://crm.example.com", help="Where you sign in"
        ),
        CredentialField("username", "User name", placeholder="integration@example.com"),
        CredentialField("password", "Password", secret=True),
    )

    def check(self) -> str:
        url = self.credentials.get("url", "")
        if not url.startswith(("http://", "https://")):
            raise SyncError(f"No CRM answers at “{url}”: check the address.")
        if self.credentials.get("password") != PASSWORD:
            raise AuthExpired("The CRM refused this user name and password.")
        CRM.logins.append(self.credentials["username"])
        return f"Connected to {url} as {self.credentials['username']}."

    def objects(self) -> Sequence[RemoteObject]:
        return OBJECTS

    def read_changes(self, obj: str, cursor: Cursor, limit: int) -> ChangePage:
        since = cursor.since
        changed = sorted(
            (
                r
                for r in CRM.of(obj)
                if since is None or (r.modified_at is not None and r.modified_at > since)
            ),
            key=lambda r: (r.modified_at or datetime.min.replace(tzinfo=UTC), r.remote_id),
        )[:limit]
        last = changed[-1] if changed else None
        next_cursor = Cursor(since=last.modified_at, after_id=last.remote_id) if last else cursor
        return ChangePage(records=changed, tombstones=[], cursor=next_cursor, more=False)

    def fetch(self, obj: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        found = (CRM.records.get(i) for i in remote_ids)
        return [r for r in found if r is not None and r.object == obj]

    def upsert(
        self,
        obj: str,
        external_id: str,
        values: Mapping[str, Any],
        *,
        remote_id: str | None = None,
        expected_version: str | None = None,
    ) -> WriteResult:
        existing = next(iter(self.fetch(obj, [remote_id] if remote_id else [])), None) or next(
            (r for r in CRM.of(obj) if r.external_id == external_id), None
        )
        if existing is not None and expected_version and existing.version != expected_version:
            raise RemoteConflict("changed", existing)
        merged = {**(existing.values if existing else {}), **values}
        saved = CRM.put(obj, existing.remote_id if existing else CRM.new_id(), merged, external_id)
        CRM.writes.append((saved.remote_id, dict(values)))
        return WriteResult(saved.remote_id, saved.version, existing is None, merged)

    def delete(self, obj: str, remote_id: str) -> None:
        if remote_id in CRM.records and CRM.records[remote_id].object == obj:
            del CRM.records[remote_id]

    def find_candidates(self, obj: str, probe: MatchProbe, limit: int = 10) -> list[RemoteRecord]:
        return [
            r
            for r in CRM.of(obj)
            if r.external_id == probe.external_id or r.values.get("Name") == probe.name
        ][:limit]

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, secret: str
    ) -> list[WebhookEvent]:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
            raise BadSignature("the signature does not match")
        data = json.loads(body)
        return [
            WebhookEvent(
                event_id=str(e["id"]),
                object=str(e["object"]),
                remote_id=str(e["record_id"]),
                occurred_at=None,
                deleted=bool(e.get("deleted", False)),
            )
            for e in data["events"]
        ]

    def record_url(self, obj: str, remote_id: str) -> str | None:
        return f"https://crm.example/{obj}/{remote_id}"


def sign(secret: str, body: bytes) -> dict[str, str]:
    return {
        SIGNATURE_HEADER: hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "content-type": "application/json",
    }


def install_memory_crm(monkeypatch: pytest.MonkeyPatch) -> MemoryCrm:
    """Offer the in-memory CRM as the only installed connector (a fresh, empty one), as an entry
    point would."""
    crm = MemoryCrm()
    monkeypatch.setattr(f"{__name__}.CRM", crm)
    monkeypatch.setattr(registry, "installed", lambda: {KIND: MemoryConnector})
    return crm
