"""The Salesforce connector: Account, Opportunity and Lead over the REST API (simple-salesforce).

- Change feed: one SOQL `queryAll` keyset on (SystemModstamp, Id), paged with queryMore, gives
  changed records and recycle-bin tombstones (IsDeleted, MasterRecordId after a merge) in one
  order; at the end of a run `getDeleted` adds hard deletes (records emptied from the bin).
- Writes: upsert by the external id `Coterie_Id__c` (idempotent: a retry finds the record it
  created); with a known remote id and an expected version, a PATCH with If-Unmodified-Since,
  412 -> RemoteConflict with the current record. Each write is one `composite` call (the write
  and a read of the stored record), so the version and stored values come back with it.
  `upsert_many` sends up to 200 records per sObject Collections call.
- Limits: `Sforce-Limit-Info` -> `budget`; 429 / REQUEST_LIMIT_EXCEEDED -> RateLimited.
- Pushes: Salesforce signs nothing itself; the customer's Flow or Apex posts the JSON described
  in `parse_webhook`, signed with the connection's webhook secret.

Tests and the benchmark reach a fake org through the constructor's `session=`, or, where the
engine builds the connector itself as `cls(credentials)`, by replacing the module-level
`session_factory` (pytest's monkeypatch) with one returning a session bound to the fake.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError
from simple_salesforce.format import format_soql

from coterie.sync.connectors.base import (
    AuthExpired,
    BadSignature,
    Budget,
    Capabilities,
    ChangePage,
    Connector,
    CredentialField,
    Cursor,
    FieldType,
    MatchProbe,
    PermanentError,
    PermissionDenied,
    RateLimited,
    RemoteConflict,
    RemoteField,
    RemoteNotFound,
    RemoteObject,
    RemoteRecord,
    RemoteRef,
    SyncError,
    Tombstone,
    TransientError,
    UnknownField,
    WebhookEvent,
    WriteResult,
)

API_VERSION = "59.0"
EXTERNAL_ID = "Coterie_Id__c"
WEBHOOK_HEADER = "X-Coterie-Signature"
REPLAY_WINDOW = timedelta(minutes=5)

session_factory: Callable[[], requests.Session] = requests.Session
"""Builds the HTTP session of a connector made without `session=` (tests replace it)."""

KINDS: dict[str, tuple[str, ...]] = {
    "Account": ("account",),
    "Opportunity": ("lead", "opportunity"),
    "Lead": ("lead",),
}
NAME_FIELD = {"Account": "Name", "Opportunity": "Name", "Lead": "Company"}
# fields the connector reads itself; never offered for mapping
SYSTEM_FIELDS = {
    "Id",
    "IsDeleted",
    "MasterRecordId",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    EXTERNAL_ID,
}
TYPES = {
    "currency": FieldType.MONEY,
    "double": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "int": FieldType.NUMBER,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "picklist": FieldType.PICKLIST,
    "boolean": FieldType.BOOLEAN,
    "reference": FieldType.REFERENCE,
}
STOP_WORDS = {"inc", "ltd", "llc", "gmbh", "sas", "the", "and", "corp", "co", "plc", "ag", "sa"}
_NO_COLUMN = re.compile(r"No such column '([^']+)'")


def sf_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_sf_datetime(text: str) -> datetime:
    """2030-01-07T09:00:00.000+0000 (Salesforce) or any ISO 8601 with an offset."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class SalesforceConnector(Connector):
    kind: ClassVar[str] = "salesforce"
    label: ClassVar[str] = "Salesforce"
    capabilities: ClassVar[Capabilities] = Capabilities(
        webhooks=True, tombstones=True, conditional_update=True, archive=True, daily_budget=True
    )
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField(
            "instance_url",
            "Instance URL",
            placeholder="https://yourcompany.my.salesforce.com",
            help="Your My Domain address; with a username login it may stay empty.",
            required=False,
        ),
        CredentialField(
            "access_token",
            "Access token",
            secret=True,
            help="An OAuth access token of the integration user; or fill in the login below.",
            required=False,
        ),
        CredentialField("username", "Username", required=False),
        CredentialField("password", "Password", secret=True, required=False),
        CredentialField("security_token", "Security token", secret=True, required=False),
        CredentialField(
            "domain",
            "Login domain",
            placeholder="login",
            help='"login" for production, "test" for a sandbox.',
            required=False,
        ),
    )
    objects_synced: ClassVar[tuple[str, ...]] = ("Account", "Opportunity", "Lead")

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(credentials)
        self.session = session or session_factory()
        self.session.hooks["response"].append(self._observe)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.server_time: datetime | None = None  # from the last answer's Date header
        self._retry_after: float | None = None
        self._client: Salesforce | None = None
        self._describe: dict[str, dict[str, dict[str, Any]]] = {}

    # --- the client and its answers -----------------------------------------------------------

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        info = response.headers.get("Sforce-Limit-Info", "")
        if match := re.search(r"(?:^|[^-])api-usage=(\d+)/(\d+)", info):
            self.budget = Budget(used=int(match.group(1)), limit=int(match.group(2)))
        retry = response.headers.get("Retry-After")
        self._retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
        if stamp := response.headers.get("Date"):
            with contextlib.suppress(TypeError, ValueError):
                self.server_time = parsedate_to_datetime(stamp).astimezone(UTC)

    @property
    def sf(self) -> Salesforce:
        if self._client is None:
            self._client = self._login()
        return self._client

    def _login(self) -> Salesforce:
        creds = self.credentials
        try:
            if creds.get("access_token"):
                if not creds.get("instance_url"):
                    raise AuthExpired("An access token needs the instance URL")
                return Salesforce(
                    instance_url=creds["instance_url"],
                    session_id=creds["access_token"],
                    session=self.session,
                    version=API_VERSION,
                )
            if creds.get("username") and creds.get("password"):
                return Salesforce(
                    username=creds["username"],
                    password=creds["password"],
                    security_token=creds.get("security_token", ""),
                    domain=creds.get("domain") or "login",
                    session=self.session,
                    version=API_VERSION,
                )
        except SalesforceAuthenticationFailed as error:
            raise AuthExpired(f"Salesforce refused the login: {error.message}") from None
        except requests.RequestException as error:
            raise TransientError(f"Salesforce did not answer the login: {error}") from None
        raise AuthExpired("Salesforce needs an access token or a username and password")

    def _call(self, action: Callable[[], Any]) -> Any:
        """Run one client call; turn Salesforce's answers into the contract's errors."""
        try:
            return action()
        except SalesforceError as error:
            raise self._translate(error) from None
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TransientError(f"Salesforce did not answer: {error}") from None

    def _translate(self, error: SalesforceError) -> SyncError:
        status = int(error.status or 0)
        content = error.content
        first: dict[str, Any] = {}
        if isinstance(content, list) and content and isinstance(content[0], dict):
            first = content[0]
        code = str(first.get("errorCode") or first.get("statusCode") or "")
        message = str(first.get("message") or content)
        return self._error(status, code, message)

    def _error(self, status: int, code: str, message: str) -> SyncError:
        text = f"Salesforce: {code or status}: {message}"
        if status == 429:
            return RateLimited(text, retry_after=self._retry_after)
        if code == "REQUEST_LIMIT_EXCEEDED":
            daily = "TotalRequests" in message
            return RateLimited(text, retry_after=self._retry_after, daily=daily)
        if status == 401 or code == "INVALID_SESSION_ID":
            return AuthExpired(text)
        if status >= 500 or code in {"SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"}:
            return TransientError(text)
        if code in {"INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE"}:
            self._describe.clear()
            match = _NO_COLUMN.search(message)
            return UnknownField(text, match.group(1) if match else "")
        if code in {"INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY"}:
            return PermissionDenied(text)
        if status == 404 or code in {"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_ID_FIELD"}:
            return RemoteNotFound(text)
        if status == 403:
            return PermissionDenied(text)
        return PermanentError(text)

    # --- schema ------------------------------------------------------------------------------

    def _fields(self, obj: str) -> dict[str, dict[str, Any]]:
        if obj not in KINDS:
            raise PermanentError(f"Salesforce object {obj} is not synced by Coterie")
        if obj not in self._describe:
            described = self._call(lambda: getattr(self.sf, obj).describe())
            self._describe[obj] = {f["name"]: f for f in described["fields"]}
        return self._describe[obj]

    def _select(self, obj: str) -> list[str]:
        fields = self._fields(obj)
        names = [
            "Id",
            "IsDeleted",
            "SystemModstamp",
            "LastModifiedById",
            *[n for n in ("MasterRecordId", EXTERNAL_ID) if n in fields],
        ]
        return names + [n for n in fields if n not in SYSTEM_FIELDS and n not in names]

    def check(self) -> str:
        info = self._call(lambda: self.sf.oauth2("userinfo"))
        who = info.get("preferred_username") or info.get("name") or "the integration user"
        return f"Connected to Salesforce ({self.sf.sf_instance}) as {who}"

    def objects(self) -> list[RemoteObject]:
        self._describe.clear()  # as Salesforce describes them now
        result = []
        for obj in self.objects_synced:
            fields = tuple(
                RemoteField(
                    name=spec["name"],
                    label=spec["label"],
                    type=TYPES.get(spec["type"], FieldType.TEXT),
                    writable=bool(spec.get("updateable") or spec.get("createable")),
                    required=not spec.get("nillable", True) and not spec.get("defaultedOnCreate"),
                    choices=tuple(
                        p["value"] for p in spec.get("picklistValues") or () if p.get("active")
                    ),
                    references=(spec.get("referenceTo") or [None])[0],
                )
                for name, spec in self._fields(obj).items()
                if name not in SYSTEM_FIELDS
            )
            result.append(RemoteObject(obj, obj, KINDS[obj], fields))
        return result

    # --- values ------------------------------------------------------------------------------

    def _record(self, obj: str, row: Mapping[str, Any]) -> RemoteRecord:
        fields = self._fields(obj)
        values = {
            name: self._from_json(fields[name], value)
            for name, value in row.items()
            if name in fields and name not in SYSTEM_FIELDS
        }
        stamp = str(row["SystemModstamp"])
        return RemoteRecord(
            remote_id=str(row["Id"]),
            object=obj,
            values=values,
            version=stamp,
            modified_at=parse_sf_datetime(stamp),
            external_id=row.get(EXTERNAL_ID),
            modified_by=row.get("LastModifiedById"),
        )

    @staticmethod
    def _from_json(spec: Mapping[str, Any], value: Any) -> Any:
        if value is None:
            return None
        kind = spec["type"]
        if kind == "currency":
            return Decimal(str(value))
        if kind == "int":
            return int(value)
        if kind in {"double", "percent"}:
            return float(value)
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "datetime":
            return parse_sf_datetime(value)
        if kind == "reference":
            return RemoteRef((spec.get("referenceTo") or [""])[0], str(value))
        return value

    def _to_json(self, obj: str, values: Mapping[str, Any]) -> dict[str, Any]:
        fields = self._fields(obj)
        body: dict[str, Any] = {}
        for name, value in values.items():
            if name not in fields:
                raise UnknownField(f"Salesforce {obj} has no field {name}", name)
            if isinstance(value, RemoteRef):
                value = value.remote_id
            elif isinstance(value, datetime):
                value = sf_datetime(value)
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = float(value)
            body[name] = value
        return body

    # --- reading -----------------------------------------------------------------------------

    def _query(self, soql: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        result = self._call(lambda: self.sf.query(soql, include_deleted=include_deleted))
        while True:
            yield from result["records"]
            if result["done"]:
                return
            next_url = result["nextRecordsUrl"]
            result = self._call(partial(self.sf.query_more, next_url, identifier_is_url=True))

    def read_changes(self, obj: str, cursor: Cursor, limit: int) -> ChangePage:
        select = ", ".join(self._select(obj))
        where = ""
        if cursor.since is not None:
            since = sf_datetime(cursor.since)
            if cursor.after_id:
                where = format_soql(
                    f"(SystemModstamp > {since} OR (SystemModstamp = {since} AND Id > {{}}))",
                    cursor.after_id,
                )
            else:
                where = f"SystemModstamp >= {since}"
        soql = _soql(select, obj, where, f"ORDER BY SystemModstamp, Id LIMIT {limit}")
        rows = list(self._query(soql, include_deleted=True))
        records: list[RemoteRecord] = []
        tombstones: list[Tombstone] = []
        for row in rows:
            if row.get("IsDeleted"):
                tombstones.append(
                    Tombstone(
                        remote_id=row["Id"],
                        object=obj,
                        deleted_at=parse_sf_datetime(row["SystemModstamp"]),
                        archived=True,  # in the recycle bin: it can be undeleted
                        merged_into=row.get("MasterRecordId"),
                    )
                )
            else:
                records.append(self._record(obj, row))
        more = len(rows) >= limit
        # the token keeps where this run started, for getDeleted at its end
        run_start = cursor.token or (cursor.since.isoformat() if cursor.since else None)
        if rows:
            last = rows[-1]
            next_cursor = Cursor(
                since=parse_sf_datetime(last["SystemModstamp"]),
                after_id=last["Id"],
                token=run_start if more else None,
            )
        else:
            next_cursor = replace(cursor, token=None)
        if not more and run_start:
            seen = {t.remote_id for t in tombstones}
            tombstones.extend(self._hard_deletes(obj, datetime.fromisoformat(run_start), seen))
        return ChangePage(records, tombstones, next_cursor, more)

    def _hard_deletes(self, obj: str, start: datetime, seen: set[str]) -> list[Tombstone]:
        """Records deleted since `start` that queryAll no longer shows (emptied bin)."""
        end = self.server_time or self.clock()
        start = max(start, end - timedelta(days=29))
        if end - start < timedelta(minutes=1):
            start = end - timedelta(minutes=1)  # getDeleted works to the minute
        answer = self._call(lambda: getattr(self.sf, obj).deleted(start, end))
        deleted = {d["id"]: d["deletedDate"] for d in answer.get("deletedRecords", [])}
        unseen = [i for i in deleted if i not in seen]
        if not unseen:
            return []
        fields = self._fields(obj)
        master = ", MasterRecordId" if "MasterRecordId" in fields else ""
        in_bin: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(unseen, 200):
            soql = _soql(f"Id{master}", obj, format_soql("Id IN {}", chunk))
            in_bin.update({r["Id"]: r for r in self._query(soql, include_deleted=True)})
        return [
            Tombstone(
                remote_id=remote_id,
                object=obj,
                deleted_at=parse_sf_datetime(deleted[remote_id]),
                archived=remote_id in in_bin,
                merged_into=in_bin.get(remote_id, {}).get("MasterRecordId"),
            )
            for remote_id in unseen
        ]

    def fetch(self, obj: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        select = ", ".join(self._select(obj))
        found: dict[str, RemoteRecord] = {}
        for chunk in _chunks(list(remote_ids), 200):
            soql = _soql(select, obj, format_soql("Id IN {}", chunk))
            for row in self._query(soql):
                found[row["Id"]] = self._record(obj, row)
        for remote_id in remote_ids:
            if remote_id not in found:
                # sharing hides a record from SOQL: ask for it to tell "denied" from "deleted"
                try:
                    self._call(partial(getattr(self.sf, obj).get, remote_id))
                except RemoteNotFound:
                    continue
        return [found[i] for i in remote_ids if i in found]

    # --- writing -----------------------------------------------------------------------------

    def _composite(self, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answer = self._call(
            lambda: self.sf.restful(
                "composite",
                method="POST",
                data=json.dumps({"allOrNone": False, "compositeRequest": subrequests}),
            )
        )
        return list(answer["compositeResponse"])

    def _raise_for(self, part: Mapping[str, Any]) -> None:
        status = int(part["httpStatusCode"])
        if status < 300:
            return
        body = part.get("body")
        first = body[0] if isinstance(body, list) and body else {}
        raise self._error(status, str(first.get("errorCode", "")), str(first.get("message", "")))

    def upsert(
        self,
        obj: str,
        external_id: str,
        values: Mapping[str, Any],
        *,
        remote_id: str | None = None,
        expected_version: str | None = None,
    ) -> WriteResult:
        body = self._to_json(obj, values)
        base = f"/services/data/v{API_VERSION}/sobjects/{obj}"
        select = ",".join(self._select(obj))
        headers: dict[str, str] = {}
        if expected_version:
            # HTTP dates have whole seconds: a change in the same second as our version
            # passes the check (Salesforce's weak validation), see docs/crm-sync.md
            stamp = parse_sf_datetime(expected_version)
            headers["If-Unmodified-Since"] = format_datetime(stamp, usegmt=True)
        if remote_id:
            body[EXTERNAL_ID] = external_id
            target = f"{base}/{remote_id}"
        else:
            target = f"{base}/{EXTERNAL_ID}/{quote(external_id, safe='')}"
        write: dict[str, Any] = {
            "method": "PATCH",
            "url": target,
            "referenceId": "write",
            "body": body,
        }
        if headers:
            write["httpHeaders"] = headers
        read_url = f"{base}/{remote_id}" if remote_id else target
        read = {"method": "GET", "url": f"{read_url}?fields={select}", "referenceId": "read"}
        wrote, stored = self._composite([write, read])
        if int(wrote["httpStatusCode"]) == 412:
            current = self._record(obj, stored["body"]) if stored["httpStatusCode"] == 200 else None
            if current is not None and self._already(obj, values, current):
                return WriteResult(current.remote_id, current.version, False, current.values)
            raise RemoteConflict(
                f"Salesforce {obj} {remote_id} changed since {expected_version}", current
            )
        self._raise_for(wrote)
        self._raise_for(stored)
        record = self._record(obj, stored["body"])
        created = int(wrote["httpStatusCode"]) == 201
        return WriteResult(record.remote_id, record.version, created, record.values)

    def _already(self, obj: str, values: Mapping[str, Any], current: RemoteRecord) -> bool:
        """The record already holds every value we meant to write (our own earlier attempt)."""
        wanted = self._to_json(obj, values)
        have = self._to_json(obj, {k: current.values.get(k) for k in values})
        return wanted == have

    def upsert_many(
        self, obj: str, rows: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult | SyncError]:
        """Create or update by external id, up to 200 records per call (sObject Collections),
        unconditionally; one result (or error) per row, in order. For the initial load."""
        results: list[WriteResult | SyncError] = []
        path = f"composite/sobjects/{obj}/{EXTERNAL_ID}"
        for chunk in _chunks(list(rows), 200):
            records = [
                {"attributes": {"type": obj}, **self._to_json(obj, values), EXTERNAL_ID: ext}
                for ext, values in chunk
            ]
            payload = json.dumps({"allOrNone": False, "records": records})
            answers = self._call(partial(self.sf.restful, path, method="PATCH", data=payload))
            ok = [a["id"] for a in answers if a.get("success")]
            stored = {r.remote_id: r for r in self.fetch(obj, ok)} if ok else {}
            for answer in answers:
                if answer.get("success") and answer["id"] in stored:
                    record = stored[answer["id"]]
                    results.append(
                        WriteResult(
                            record.remote_id,
                            record.version,
                            bool(answer.get("created")),
                            record.values,
                        )
                    )
                    continue
                error = (answer.get("errors") or [{}])[0]
                results.append(
                    self._error(400, str(error.get("statusCode", "")), str(error.get("message")))
                    if not answer.get("success")
                    else RemoteNotFound(f"Salesforce {obj} {answer['id']} vanished after the write")
                )
        return results

    def delete(self, obj: str, remote_id: str) -> None:
        try:
            self._call(lambda: getattr(self.sf, obj).delete(remote_id))
        except RemoteNotFound:
            return  # already gone

    # --- matching ----------------------------------------------------------------------------

    def find_candidates(self, obj: str, probe: MatchProbe, limit: int = 10) -> list[RemoteRecord]:
        select = ", ".join(self._select(obj))
        fields = self._fields(obj)
        by_id = list(
            self._query(_soql(select, obj, format_soql(f"{EXTERNAL_ID} = {{}}", probe.external_id)))
        )
        if by_id:
            return [self._record(obj, row) for row in by_id[:limit]]
        found: dict[str, dict[str, Any]] = {}
        conditions: list[str] = []
        if probe.domain and "Website" in fields:
            conditions.append(format_soql("Website LIKE '%{:like}%'", probe.domain.lower()))
        if probe.domain and "Email" in fields:
            conditions.append(format_soql("Email LIKE '%@{:like}'", probe.domain.lower()))
        if probe.account_remote_id and "AccountId" in fields:
            conditions.append(format_soql("AccountId = {}", probe.account_remote_id))
        if conditions:
            soql = _soql(select, obj, " OR ".join(conditions), f"LIMIT {limit}")
            found.update({row["Id"]: row for row in self._query(soql)})
        name_field = NAME_FIELD[obj]
        tokens = _name_tokens(probe.name)
        if tokens and len(found) < limit:
            likes = " OR ".join(format_soql(f"{name_field} LIKE '%{{:like}}%'", t) for t in tokens)
            soql = _soql(select, obj, likes, f"LIMIT {limit * 5}")
            named = list(self._query(soql))

            def score(row: Mapping[str, Any]) -> int:
                words = set(_name_tokens(str(row.get(name_field) or "")))
                return len(words & set(tokens))

            named.sort(key=score, reverse=True)
            for row in named:
                found.setdefault(row["Id"], row)
        return [self._record(obj, row) for row in list(found.values())[:limit]]

    def find_candidates_many(
        self, obj: str, probes: Sequence[MatchProbe], limit: int = 10
    ) -> dict[str, list[RemoteRecord]]:
        """By external id for the whole batch; then, only when the org holds records without
        a Coterie id (the only ones a name or domain may match), each remaining probe as
        `find_candidates` does. One query per 200 probes answers both: the records carrying
        these ids, then (nulls last) one without an id, if there is one."""
        found: dict[str, list[RemoteRecord]] = {probe.external_id: [] for probe in probes}
        by_lower = {key.lower(): key for key in found}
        select = ", ".join(self._select(obj))
        unclaimed = False
        for chunk in _chunks(list(found), 200):
            where = format_soql(f"{EXTERNAL_ID} IN {{}} OR {EXTERNAL_ID} = null", chunk)
            tail = f"ORDER BY {EXTERNAL_ID} NULLS LAST LIMIT {len(chunk) + 1}"
            rows = list(self._query(_soql(select, obj, where, tail)))
            for row in rows:
                key = by_lower.get(str(row.get(EXTERNAL_ID) or "").lower())
                if key is None:
                    unclaimed = True
                elif len(found[key]) < limit:
                    found[key].append(self._record(obj, row))
            if len(rows) > len(chunk) and not unclaimed:  # duplicates of our ids filled it
                unclaimed = self._holds_unclaimed(obj)
        rest = [probe for probe in probes if not found[probe.external_id]]
        if rest and unclaimed:
            for probe in rest:
                found[probe.external_id] = self.find_candidates(obj, probe, limit)
        return found

    def _holds_unclaimed(self, obj: str) -> bool:
        """Whether any live record of `obj` carries no Coterie id."""
        soql = _soql("Id", obj, f"{EXTERNAL_ID} = null", "LIMIT 1")
        return any(True for _ in self._query(soql))

    # --- pushes ------------------------------------------------------------------------------

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, secret: str
    ) -> list[WebhookEvent]:
        """A push from the customer's Flow or Apex (Salesforce signs nothing by itself):

            POST <the connection's webhook URL>
            X-Coterie-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
            {"events": [{"event_id": "...", "object": "Opportunity", "record_id": "006...",
                         "occurred_at": "2030-01-07T09:00:00Z", "deleted": false}]}

        (a single event object without the "events" list is accepted too). A missing or
        wrong signature, or a timestamp more than 5 minutes from now, raises BadSignature."""
        header = next((v for k, v in headers.items() if k.lower() == WEBHOOK_HEADER.lower()), "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        stamp, signature = parts.get("t", ""), parts.get("v1", "")
        if not stamp.isdigit() or not signature or not secret:
            raise BadSignature("The push carries no valid X-Coterie-Signature")
        expected = hmac.new(
            secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise BadSignature("The push's signature does not match the connection's secret")
        sent = datetime.fromtimestamp(int(stamp), UTC)
        if abs(self.clock() - sent) > REPLAY_WINDOW:
            raise BadSignature("The push is older than 5 minutes (or from the future): refused")
        try:
            data = json.loads(body)
            items = data["events"] if isinstance(data, dict) and "events" in data else [data]
            return [
                WebhookEvent(
                    event_id=str(item["event_id"]),
                    object=str(item["object"]),
                    remote_id=str(item["record_id"]),
                    occurred_at=parse_sf_datetime(item["occurred_at"])
                    if item.get("occurred_at")
                    else None,
                    deleted=bool(item.get("deleted", False)),
                )
                for item in items
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise PermanentError(f"The push is not in Coterie's format: {error}") from None

    def close(self) -> None:
        self.session.close()


def _soql(select: str, obj: str, where: str = "", tail: str = "") -> str:
    """One SOQL statement; every value inside `where` was quoted by `format_soql`."""
    parts = ["SELECT", select, "FROM", obj]
    if where:
        parts += ["WHERE", where]
    if tail:
        parts.append(tail)
    return " ".join(parts)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _name_tokens(name: str) -> list[str]:
    words = re.findall(r"[\w']+", name.lower())
    return [w for w in dict.fromkeys(words) if len(w) >= 3 and w not in STOP_WORDS]


__all__ = ["SalesforceConnector", "session_factory"]
