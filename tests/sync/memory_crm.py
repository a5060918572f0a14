"""A small CRM held in memory, behind the real connector contract: what the integrations tests
connect to while the Tryton and Salesforce connectors live elsewhere.

It logs in with a URL, a user name and a password (only "right-password" is accepted), describes
an Opportunity object (with a picklist stage) and an Account object, stores records, answers
the change feed, and verifies webhooks signed with HMAC-SHA256 of the body
(`X-Memcrm-Signature: <hex>`, body `{"events": [{"id", "object", "record_id", "deleted"}]}`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

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
    RemoteField,
    RemoteObject,
    RemoteRecord,
    SyncError,
    WebhookEvent,
    WriteResult,
)

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
    """The CRM's data, shared by every connector instance (reset per test)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, RemoteRecord]] = {o.name: {} for o in OBJECTS}
        self.logins: list[str] = []
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"M{next(self._ids):06d}"


CRM = MemoryCrm()


class MemoryConnector(Connector):
    kind: ClassVar[str] = "memcrm"
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
                for r in CRM.records[obj].values()
                if since is None or (r.modified_at is not None and r.modified_at > since)
            ),
            key=lambda r: (r.modified_at or datetime.min.replace(tzinfo=UTC), r.remote_id),
        )[:limit]
        last = changed[-1] if changed else None
        next_cursor = Cursor(since=last.modified_at, after_id=last.remote_id) if last else cursor
        return ChangePage(records=changed, tombstones=[], cursor=next_cursor, more=False)

    def fetch(self, obj: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        return [CRM.records[obj][i] for i in remote_ids if i in CRM.records[obj]]

    def upsert(
        self,
        obj: str,
        external_id: str,
        values: Mapping[str, Any],
        *,
        remote_id: str | None = None,
        expected_version: str | None = None,
    ) -> WriteResult:
        existing = CRM.records[obj].get(remote_id or "") or next(
            (r for r in CRM.records[obj].values() if r.external_id == external_id), None
        )
        now = datetime.now(UTC)
        merged = {**(existing.values if existing else {}), **values}
        record = RemoteRecord(
            remote_id=existing.remote_id if existing else CRM.new_id(),
            object=obj,
            values=merged,
            version=now.isoformat(),
            modified_at=now,
            external_id=external_id,
        )
        CRM.records[obj][record.remote_id] = record
        return WriteResult(record.remote_id, record.version, existing is None, merged)

    def delete(self, obj: str, remote_id: str) -> None:
        CRM.records[obj].pop(remote_id, None)

    def find_candidates(self, obj: str, probe: MatchProbe, limit: int = 10) -> list[RemoteRecord]:
        return [
            r
            for r in CRM.records[obj].values()
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


def sign(secret: str, body: bytes) -> dict[str, str]:
    return {
        SIGNATURE_HEADER: hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "content-type": "application/json",
    }
