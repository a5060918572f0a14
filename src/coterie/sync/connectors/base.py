"""The connector contract: what the sync engine asks of a CRM, and nothing more.

A connector speaks one CRM's API. It knows nothing of Coterie's tables, the gate or the
mapping: the engine hands it CRM field names and CRM values (already transformed by the
mapping) and receives CRM field names and values back. Every call is synchronous and may
raise one of the `SyncError` subclasses below, which the engine turns into backoff, a conflict,
a dead item or a paused connection.

- Objects are named by the connector (`"sale.opportunity"`, `"Opportunity"`); `objects()`
  describes them and their fields, so the mapping editor offers them by label.
- The co-sell external id is Coterie's record id (a UUID string). `upsert` is keyed by it, so
  a write retried after a crash (remote committed, our link not yet saved) finds the record it
  created instead of creating a second one.
- Versions are opaque strings (Salesforce `SystemModstamp`, Tryton `_timestamp` or
  `write_date`). `upsert` with `expected_version` is conditional: a remote record changed since
  raises `RemoteConflict` carrying its current state; the engine merges and retries.
- `read_changes` pages through what changed since a `Cursor`, ordered by (modified_at,
  remote_id) so equal timestamps never straddle a page boundary unseen; the engine widens the
  starting point by the connection's overlap window and drops versions it has already seen.
- `upsert_many` and `find_candidates_many` are optional batch forms for the initial load; their
  defaults loop `upsert` and `find_candidates`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    BOOLEAN = "boolean"
    REFERENCE = "reference"  # points at another object of the same CRM (an account)


@dataclass(frozen=True)
class RemoteField:
    name: str
    label: str
    type: FieldType = FieldType.TEXT
    writable: bool = True
    required: bool = False
    choices: tuple[str, ...] = ()  # picklist values, in the CRM's order
    references: str | None = None  # the object a REFERENCE field points at


@dataclass(frozen=True)
class RemoteObject:
    """A CRM object the connector syncs, and the Coterie record kinds it may map to."""

    name: str
    label: str
    kinds: tuple[str, ...]  # e.g. ("lead", "opportunity")
    fields: tuple[RemoteField, ...]

    def field(self, name: str) -> RemoteField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class RemoteRef:
    """A value of a REFERENCE field: the other record's remote id on the same connection."""

    object: str
    remote_id: str


@dataclass(frozen=True)
class RemoteRecord:
    remote_id: str
    object: str
    values: dict[str, Any]
    """CRM field name -> value: str, int, float, Decimal, bool, date, datetime, None, RemoteRef."""
    version: str
    modified_at: datetime | None = None
    external_id: str | None = None  # the co-sell external id, when the CRM record carries one
    modified_by: str | None = None  # the CRM user who last wrote it, when the CRM says
    archived: bool = False


@dataclass(frozen=True)
class Tombstone:
    """A record that left the CRM since the cursor: deleted (hard) or archived (soft)."""

    remote_id: str
    object: str
    deleted_at: datetime | None = None
    archived: bool = False
    merged_into: str | None = None  # the surviving record when the CRM merged two


@dataclass(frozen=True)
class Cursor:
    """Where a change feed stands: a (modified_at, remote_id) position, or a CRM's own token."""

    since: datetime | None = None
    after_id: str | None = None
    token: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "after_id": self.after_id,
            "token": self.token,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Cursor:
        if not data:
            return cls()
        since = data.get("since")
        return cls(
            since=datetime.fromisoformat(since) if since else None,
            after_id=data.get("after_id"),
            token=data.get("token"),
        )


@dataclass(frozen=True)
class ChangePage:
    records: list[RemoteRecord]
    tombstones: list[Tombstone]
    cursor: Cursor  # where the next page (or the next run) starts
    more: bool  # another page is ready now


@dataclass(frozen=True)
class WriteResult:
    remote_id: str
    version: str
    created: bool
    values: dict[str, Any] = field(default_factory=dict)
    """The record's values as the CRM stored them after the write (for the shadow)."""


@dataclass(frozen=True)
class MatchProbe:
    """What the engine knows of a Coterie record when it looks for it in the CRM."""

    external_id: str
    name: str
    domain: str | None = None
    account_remote_id: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str  # unique per event (the inbox refuses a duplicate)
    object: str
    remote_id: str
    occurred_at: datetime | None
    deleted: bool = False


@dataclass(frozen=True)
class Capabilities:
    webhooks: bool = False
    tombstones: bool = False  # the feed reports deletes; else the engine probes linked ids
    conditional_update: bool = True  # upsert honours expected_version
    archive: bool = False  # records can be archived (soft-deleted) and restored
    daily_budget: bool = False  # the CRM meters API calls per day


@dataclass(frozen=True)
class CredentialField:
    """One input of the "connect" form; `secret` ones are never shown again once saved."""

    name: str
    label: str
    secret: bool = False
    placeholder: str = ""
    help: str = ""
    required: bool = True


@dataclass(frozen=True)
class Budget:
    """What the CRM says of its API budget after the last call (None where it says nothing)."""

    used: int | None = None
    limit: int | None = None


# --- errors -------------------------------------------------------------------------------


class SyncError(Exception):
    """Base of what a connector raises; the message is shown to the company's admins."""


class RateLimited(SyncError):  # noqa: N818 (the contract's names)
    """The CRM refused for rate (HTTP 429, REQUEST_LIMIT_EXCEEDED): wait, then retry."""

    def __init__(self, message: str, retry_after: float | None = None, daily: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.daily = daily  # the daily budget is spent: pause the connection until it resets


class TransientError(SyncError):
    """A timeout, a 5xx, a dropped connection: the call may or may not have committed."""


class AuthExpired(SyncError):  # noqa: N818 (the contract's names)
    """Credentials refused or expired: the connection pauses until an admin reconnects."""


class PermissionDenied(SyncError):  # noqa: N818 (the contract's names)
    """The CRM user may not read or write this record (it exists, unlike RemoteNotFound)."""


class RemoteNotFound(SyncError):  # noqa: N818 (the contract's names)
    """The record is not (or no longer) in the CRM."""


class RemoteConflict(SyncError):  # noqa: N818 (the contract's names)
    """A conditional write found the record changed since `expected_version`."""

    def __init__(self, message: str, current: RemoteRecord | None = None):
        super().__init__(message)
        self.current = current


class UnknownField(SyncError):  # noqa: N818 (the contract's names)
    """The CRM no longer has a mapped field (removed from its schema)."""

    def __init__(self, message: str, field_name: str):
        super().__init__(message)
        self.field_name = field_name


class BadSignature(SyncError):  # noqa: N818 (the contract's names)
    """A pushed webhook whose signature does not verify: refused, never processed."""


class PermanentError(SyncError):
    """The CRM refused the write for good (validation): the item is dead until someone acts."""


# --- the contract -------------------------------------------------------------------------


class Connector(abc.ABC):
    """One CRM. Subclasses set the class attributes and implement the abstract methods."""

    kind: ClassVar[str]  # "tryton", "salesforce": the entry point's name
    label: ClassVar[str]  # "Tryton", "Salesforce"
    capabilities: ClassVar[Capabilities] = Capabilities()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()

    def __init__(self, credentials: Mapping[str, str]) -> None:
        self.credentials = dict(credentials)
        self.budget = Budget()

    @abc.abstractmethod
    def check(self) -> str:
        """Log in and read something cheap; a sentence for the admin ("Connected to ... as
        ..."), or raise AuthExpired / SyncError with what is wrong."""

    @abc.abstractmethod
    def objects(self) -> Sequence[RemoteObject]:
        """The objects this connector syncs, with their fields as the CRM describes them now."""

    @abc.abstractmethod
    def read_changes(self, obj: str, cursor: Cursor, limit: int) -> ChangePage:
        """Records (and tombstones) of `obj` changed at or after the cursor, at most `limit`,
        ordered by (modified_at, remote_id)."""

    @abc.abstractmethod
    def fetch(self, obj: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        """The current state of these records; an id missing from the answer was deleted (or
        raise PermissionDenied for one the CRM user may not read)."""

    @abc.abstractmethod
    def upsert(
        self,
        obj: str,
        external_id: str,
        values: Mapping[str, Any],
        *,
        remote_id: str | None = None,
        expected_version: str | None = None,
    ) -> WriteResult:
        """Create or update the record carrying `external_id` (or `remote_id` when the link
        knows it). With `expected_version`, a record changed since raises RemoteConflict.
        Must be idempotent: the same call repeated after an unknown outcome changes nothing
        more and creates nothing new."""

    @abc.abstractmethod
    def delete(self, obj: str, remote_id: str) -> None:
        """Delete (or archive, where the CRM archives) the record; already gone is success."""

    @abc.abstractmethod
    def find_candidates(self, obj: str, probe: MatchProbe, limit: int = 10) -> list[RemoteRecord]:
        """Records that may be the probe's: by external id, then domain, then similar name."""

    # --- optional batch calls (the initial load); the defaults loop the calls above --------

    def upsert_many(
        self, obj: str, rows: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult | SyncError]:
        """Create or update by external id, unconditionally, each row `(external_id, values)`;
        one result per row, in order: the write, or the error that refused that row. Errors
        that concern the whole call (RateLimited, AuthExpired, TransientError: the outcome is
        unknown) are raised instead. Idempotent like `upsert`."""
        results: list[WriteResult | SyncError] = []
        for external_id, values in rows:
            try:
                results.append(self.upsert(obj, external_id, values))
            except (RateLimited, AuthExpired, TransientError):
                raise
            except SyncError as error:
                results.append(error)
        return results

    def find_candidates_many(
        self, obj: str, probes: Sequence[MatchProbe], limit: int = 10
    ) -> dict[str, list[RemoteRecord]]:
        """`find_candidates` for each probe, keyed by its external id. A connector may answer
        in fewer calls, and may leave out records carrying another external id (the engine
        never links to those by name or domain)."""
        return {probe.external_id: self.find_candidates(obj, probe, limit) for probe in probes}

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, secret: str
    ) -> list[WebhookEvent]:
        """Verify the signature of a pushed event and parse it (BadSignature if it fails)."""
        raise SyncError(f"{self.label} does not push events")

    def record_url(self, obj: str, remote_id: str) -> str | None:
        """A link that opens the record in the CRM's own pages (the record page's "In your
        CRM" panel shows it), or None when the CRM has none. Built from the credentials alone:
        no call to the CRM."""
        return None

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections (sessions, HTTP pools)."""
