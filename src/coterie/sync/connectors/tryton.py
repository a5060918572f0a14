"""The Tryton connector: parties and sale opportunities of a Tryton 8.2 server over JSON-RPC.

Objects and what carries the co-sell external id (Coterie's record UUID):

- `party.party` (accounts): `name`, `website` (its website contact mechanism) and `code`
  (read-only). The external id is a party identifier without type whose code is
  `coterie:<uuid>` (Tryton's "Identifiers" tab).
- `sale.opportunity` (leads and opportunities): `description` (the title), `party`
  (a reference to a party.party), `amount`, `currency` (ISO code), `start_date`, `end_date`
  (expected close), `conversion_probability` (0 to 1), `state`, `comment`, `number`
  (read-only) and `reference`, which holds the external id.

Rules worth knowing:

- Changes are read by `last_modified_at`, Tryton's `COALESCE(write_date, create_date)`, so a
  record never written since its creation (write_date NULL) is still seen; pages are ordered by
  (last_modified_at, id) and continue from the keyset `(ts > since) OR (ts = since AND id >
  after_id)`. Tryton keeps no tombstones: the engine probes linked ids with `fetch`.
- A record's version is Tryton's `_timestamp`. A conditional upsert is refused up front when the
  version moved, and the write itself carries the `_timestamp` context key, so Tryton refuses it
  too when someone wrote in between (RemoteConflict with the current record).
- Only the fields whose value differs are written (Tryton refuses a write to a field its state
  makes read-only, even with the value it already has). `state` is not written but reached by
  pressing Tryton's workflow buttons (lead -> opportunity -> converted, lost, cancelled, back
  to lead); `won` is Tryton's own doing (the sale is done) and is refused.
- `party` takes a RemoteRef to a party.party; a plain string instead names a party: the party
  with exactly that name (case-insensitive) when there is one, else a new party of that name.
  That is how an opportunity whose account is not in Tryton yet still gets one.
- Deleting an open opportunity cancels it first (Tryton deletes only cancelled ones); a
  converted, won or lost one cannot be deleted and the error says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from coterie.sync.connectors.base import (
    Capabilities,
    ChangePage,
    Connector,
    CredentialField,
    Cursor,
    FieldType,
    MatchProbe,
    PermanentError,
    PermissionDenied,
    RemoteConflict,
    RemoteField,
    RemoteNotFound,
    RemoteObject,
    RemoteRecord,
    RemoteRef,
    SyncError,
    UnknownField,
    WriteResult,
)
from coterie.sync.connectors.tryton_rpc import (
    TrytonConcurrencyError,
    TrytonRpc,
    TrytonServerError,
    TrytonUserError,
)

PARTY = "party.party"
OPPORTUNITY = "sale.opportunity"
STATES = ("lead", "opportunity", "converted", "won", "cancelled", "lost")
OPEN_STATES = ("lead", "opportunity")
IDENTIFIER_PREFIX = "coterie:"

# Tryton's workflow buttons, as its client shows them: (from, to) -> button
_BUTTONS = {
    ("lead", "opportunity"): "opportunity",
    ("lead", "converted"): "convert",
    ("lead", "lost"): "lost",
    ("lead", "cancelled"): "cancel",
    ("opportunity", "lead"): "lead",
    ("opportunity", "converted"): "convert",
    ("opportunity", "lost"): "lost",
    ("opportunity", "cancelled"): "cancel",
    ("lost", "lead"): "lead",
    ("cancelled", "lead"): "lead",
}


@dataclass(frozen=True)
class _Spec:
    """A field Coterie syncs: its type here and whether Coterie may write it."""

    type: FieldType
    writable: bool = True
    references: str | None = None
    label: str | None = None  # ours, where Tryton's would mislead


_SPECS: dict[str, dict[str, _Spec]] = {
    PARTY: {
        "name": _Spec(FieldType.TEXT),
        "website": _Spec(FieldType.TEXT),
        "code": _Spec(FieldType.TEXT, writable=False),
    },
    OPPORTUNITY: {
        "description": _Spec(FieldType.TEXT),
        "party": _Spec(FieldType.REFERENCE, references=PARTY),
        "amount": _Spec(FieldType.MONEY),
        "currency": _Spec(FieldType.PICKLIST),
        "start_date": _Spec(FieldType.DATE),
        "end_date": _Spec(FieldType.DATE, label="Expected close"),
        "conversion_probability": _Spec(FieldType.NUMBER),
        "state": _Spec(FieldType.PICKLIST),
        "comment": _Spec(FieldType.TEXT),
        "number": _Spec(FieldType.TEXT, writable=False),
        "reference": _Spec(FieldType.TEXT, writable=False),
    },
}
_LABELS = {PARTY: ("Party", ("account",)), OPPORTUNITY: ("Opportunity", ("lead", "opportunity"))}
_READ_EXTRA = {
    PARTY: ["active", "identifiers"],
    OPPORTUNITY: ["currency.code", "write_uid.rec_name", "create_uid.rec_name"],
}
_NAME_FIELD = {PARTY: "name", OPPORTUNITY: "description"}
_TOKEN = re.compile(r"[\w'-]{3,}", re.UNICODE)
_NOISE = {"inc", "ltd", "llc", "gmbh", "sas", "sarl", "the", "and", "corp", "company"}


class TrytonConnector(Connector):
    """Parties and sale opportunities of one Tryton database, as one Tryton user."""

    kind: ClassVar[str] = "tryton"
    label: ClassVar[str] = "Tryton"
    capabilities: ClassVar[Capabilities] = Capabilities(
        webhooks=False, tombstones=False, conditional_update=True, archive=False
    )
    credential_fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField(
            "url",
            "Server URL",
            placeholder="https://tryton.example.com",
            help="The address of your Tryton server (what the Tryton client connects to).",
        ),
        CredentialField("database", "Database", placeholder="tryton"),
        CredentialField(
            "user",
            "User",
            placeholder="coterie",
            help="A Tryton user for Coterie, in the Sale Opportunity and Party groups.",
        ),
        CredentialField("password", "Password", secret=True),
    )

    def __init__(self, credentials: Mapping[str, str], timeout: float = 30.0) -> None:
        super().__init__(credentials)
        missing = [f.name for f in self.credential_fields if not self.credentials.get(f.name)]
        if missing:
            raise PermanentError(f"Tryton credentials lack {', '.join(missing)}")
        self.rpc = TrytonRpc(
            self.credentials["url"],
            self.credentials["database"],
            self.credentials["user"],
            self.credentials["password"],
            timeout=timeout,
        )
        self._schema: dict[str, dict[str, dict[str, Any]]] = {}
        self._currencies: dict[str, int] | None = None

    def close(self) -> None:
        self.rpc.close()

    # --- connection and schema ------------------------------------------------------------

    def check(self) -> str:
        self.rpc.login()
        (user,) = self.rpc.call("res.user", "read", [self.rpc.user_id], ["name", "login"])
        version = self.rpc.server_version()
        return (
            f"Connected to Tryton {version}, database {self.rpc.database} at {self.rpc.url}, "
            f"as {user['name']} ({user['login']})"
        )

    def objects(self) -> list[RemoteObject]:
        self._schema.clear()
        return [self._object(name) for name in (PARTY, OPPORTUNITY)]

    def _object(self, obj: str) -> RemoteObject:
        described = self._fields(obj)
        label, kinds = _LABELS[obj]
        fields = []
        for name, spec in _SPECS[obj].items():
            if name not in described:
                continue  # gone from Tryton's schema: the mapping editor shows it missing
            definition = described[name]
            choices: tuple[str, ...] = ()
            if name == "state":
                choices = tuple(key for key, _ in definition.get("selection", ()))
            elif name == "currency":
                choices = tuple(sorted(self._currency_ids()))
            fields.append(
                RemoteField(
                    name=name,
                    label=spec.label or str(definition.get("string") or name),
                    type=spec.type,
                    # state is readonly in Tryton's form but moved by its buttons
                    writable=spec.writable and (name == "state" or not definition["readonly"]),
                    required=bool(definition.get("required")),
                    choices=choices,
                    references=spec.references,
                )
            )
        return RemoteObject(name=obj, label=label, kinds=kinds, fields=tuple(fields))

    def _fields(self, obj: str) -> dict[str, dict[str, Any]]:
        if obj not in _SPECS:
            raise PermanentError(f"the Tryton connector does not sync {obj!r}")
        if obj not in self._schema:
            described = self.rpc.call(obj, "fields_get", list(_SPECS[obj]))
            self._schema[obj] = {name: described[name] for name in described}
        return self._schema[obj]

    def _currency_ids(self) -> dict[str, int]:
        if self._currencies is None:
            rows = self.rpc.call("currency.currency", "search_read", [], 0, None, None, ["code"])
            self._currencies = {row["code"]: row["id"] for row in rows}
        return self._currencies

    # --- reading --------------------------------------------------------------------------

    def _read_fields(self, obj: str) -> list[str]:
        synced = [name for name in _SPECS[obj] if name in self._fields(obj)]
        return [*synced, *_READ_EXTRA[obj], "_timestamp", "last_modified_at"]

    def _search(
        self, obj: str, domain: list[Any], limit: int | None = None, order: Any = None
    ) -> list[RemoteRecord]:
        rows = self.rpc.call(
            obj,
            "search_read",
            domain,
            0,
            limit,
            order or [("id", "ASC")],
            self._read_fields(obj),
            active_test=False,
        )
        records = [self._record(obj, row) for row in rows]
        if obj == PARTY:
            records = self._with_party_external_ids(records, rows)
        return records

    def _record(self, obj: str, row: dict[str, Any]) -> RemoteRecord:
        values: dict[str, Any] = {}
        for name in _SPECS[obj]:
            if name not in row:
                continue
            value = row[name]
            if name == "party":
                value = RemoteRef(PARTY, str(value)) if value else None
            elif name == "currency":
                value = (row.get("currency.") or {}).get("code")
            elif name == "website":
                value = value or None
            values[name] = value
        modified = row.get("last_modified_at")
        author = row.get("write_uid.") or row.get("create_uid.") or {}
        return RemoteRecord(
            remote_id=str(row["id"]),
            object=obj,
            values=values,
            version=str(row["_timestamp"]),
            modified_at=modified.replace(tzinfo=UTC) if isinstance(modified, datetime) else None,
            external_id=(row.get("reference") or None) if obj == OPPORTUNITY else None,
            modified_by=author.get("rec_name"),
            archived=obj == PARTY and not row.get("active", True),
        )

    def _with_party_external_ids(
        self, records: list[RemoteRecord], rows: list[dict[str, Any]]
    ) -> list[RemoteRecord]:
        identifier_ids = [i for row in rows for i in row.get("identifiers", [])]
        if not identifier_ids:
            return records
        found = self.rpc.call(
            "party.identifier",
            "search_read",
            [("id", "in", identifier_ids), ("code", "like", f"{IDENTIFIER_PREFIX}%")],
            0,
            None,
            None,
            ["party", "code"],
        )
        external = {str(row["party"]): row["code"][len(IDENTIFIER_PREFIX) :] for row in found}
        return [replace(record, external_id=external.get(record.remote_id)) for record in records]

    def read_changes(self, obj: str, cursor: Cursor, limit: int) -> ChangePage:
        domain: list[Any] = []
        if cursor.since is not None:
            since = _naive_utc(cursor.since)
            after = _int_id(cursor.after_id) if cursor.after_id else 0
            domain = [
                "OR",
                [("last_modified_at", ">", since)],
                [("last_modified_at", "=", since), ("id", ">", after)],
            ]
        records = self._search(
            obj, domain, limit=limit, order=[("last_modified_at", "ASC"), ("id", "ASC")]
        )
        next_cursor = cursor
        if records:
            last = records[-1]
            next_cursor = Cursor(since=last.modified_at, after_id=last.remote_id)
        return ChangePage(
            records=records, tombstones=[], cursor=next_cursor, more=len(records) >= limit
        )

    def fetch(self, obj: str, remote_ids: Sequence[str]) -> list[RemoteRecord]:
        ids = [int(i) for i in remote_ids if str(i).isdigit()]
        if not ids:
            return []
        records = self._search(obj, [("id", "in", ids)])
        seen = {int(record.remote_id) for record in records}
        for missing in (i for i in ids if i not in seen):
            self._raise_if_hidden(obj, missing)
        return records

    def _raise_if_hidden(self, obj: str, remote_id: int) -> None:
        """A record a search does not return is deleted, or hidden from this user by a
        record rule: reading it tells which (Tryton says "don't exist" without a
        description for the first, and names the rules and groups for the second)."""
        try:
            self.rpc.call(obj, "read", [remote_id], ["id"])
        except TrytonUserError as error:
            if error.description:
                raise PermissionDenied(
                    f"Tryton does not let {self.rpc.user} read {obj} {remote_id}: {error.message}"
                ) from error
            return
        raise PermissionDenied(f"Tryton does not let {self.rpc.user} search {obj} {remote_id}")

    def _get(self, obj: str, remote_id: str) -> RemoteRecord | None:
        found = self.fetch(obj, [remote_id])
        return found[0] if found else None

    def _by_external_id(self, obj: str, external_id: str) -> RemoteRecord | None:
        if obj == PARTY:
            domain = [("identifiers.code", "=", f"{IDENTIFIER_PREFIX}{external_id}")]
        else:
            domain = [("reference", "=", external_id)]
        found = self._search(obj, domain, limit=1)
        return found[0] if found else None

    # --- writing --------------------------------------------------------------------------

    def upsert(
        self,
        obj: str,
        external_id: str,
        values: Mapping[str, Any],
        *,
        remote_id: str | None = None,
        expected_version: str | None = None,
    ) -> WriteResult:
        wanted = self._writable(obj, values)
        if remote_id is not None:
            current = self._get(obj, remote_id)
            if current is None:
                raise RemoteNotFound(f"{obj} {remote_id} is no longer in Tryton")
        else:
            current = self._by_external_id(obj, external_id)
        if current is None:
            if expected_version is not None:
                raise RemoteNotFound(f"no {obj} carries {external_id} in Tryton any more")
            new_id = self._create(obj, external_id, wanted)
            return self._result(obj, new_id, created=True)
        if expected_version is not None and current.version != expected_version:
            raise RemoteConflict(f"{obj} {current.remote_id} changed in Tryton", current)
        try:
            self._update(obj, current, external_id, wanted, expected_version)
        except TrytonConcurrencyError as error:
            raise RemoteConflict(
                f"{obj} {current.remote_id} changed in Tryton while Coterie wrote it",
                self._get(obj, current.remote_id),
            ) from error
        return self._result(obj, int(current.remote_id), created=False)

    def upsert_many(
        self, obj: str, rows: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult | SyncError]:
        """Opportunities no Tryton record carries yet are created in one `create` call (one
        Tryton transaction: all or none) and read back in one search; the others, parties,
        and a batch Tryton refuses as a whole, go one by one through `upsert`."""
        if obj != OPPORTUNITY or not rows:
            return super().upsert_many(obj, rows)
        wanted_ids = [external_id for external_id, _ in rows]
        taken = {r.external_id for r in self._search(obj, [("reference", "in", wanted_ids)])}
        results: dict[int, WriteResult | SyncError] = {}
        fresh: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for index, (external_id, values) in enumerate(rows):
            if external_id in taken:
                continue
            try:
                wanted = self._writable(obj, values)
                payload = {**self._to_tryton(obj, wanted), "reference": external_id}
            except PermanentError as error:
                results[index] = error
                continue
            fresh.append((index, wanted, payload))
        if fresh:
            try:
                created = self._call_write(obj, "create", [payload for *_, payload in fresh])
            except TrytonUserError:
                created = None  # one row is refused: each row alone tells which
            if created is not None:
                for (index, wanted, _), new_id in zip(fresh, created, strict=True):
                    if wanted.get("state") not in (None, "lead"):
                        try:
                            self._move(int(new_id), "lead", str(wanted["state"]))
                        except PermanentError as error:
                            results[index] = error
                stored = {
                    int(r.remote_id): r for r in self._search(obj, [("id", "in", list(created))])
                }
                for (index, _, _), new_id in zip(fresh, created, strict=True):
                    if index in results:
                        continue
                    record = stored.get(int(new_id))
                    results[index] = (
                        WriteResult(record.remote_id, record.version, True, dict(record.values))
                        if record is not None
                        else RemoteNotFound(f"{obj} {new_id} vanished right after the write")
                    )
        pending = [(i, row) for i, row in enumerate(rows) if i not in results]
        done = super().upsert_many(obj, [row for _, row in pending])
        for (index, _), result in zip(pending, done, strict=True):
            results[index] = result
        return [results[index] for index in range(len(rows))]

    def _writable(self, obj: str, values: Mapping[str, Any]) -> dict[str, Any]:
        described = self._fields(obj)
        for name in values:
            if name not in _SPECS[obj] or name not in described:
                raise UnknownField(f"Tryton's {obj} has no field {name!r} Coterie syncs", name)
            if name != "reference" and not _SPECS[obj][name].writable:
                raise PermanentError(f"Tryton's {obj}.{name} is read-only")
        wanted = {name: value for name, value in values.items() if name != "reference"}
        if isinstance(wanted.get("currency"), str):
            wanted["currency"] = wanted["currency"].upper()
        return wanted

    def _to_tryton(self, obj: str, values: Mapping[str, Any]) -> dict[str, Any]:
        converted: dict[str, Any] = {}
        for name, value in values.items():
            if name in ("state", "website"):
                continue  # buttons / contact mechanisms, not columns
            convert = _CONVERTERS.get(name)
            converted[name] = convert(self, value) if convert and value is not None else value
        return converted

    def _create(self, obj: str, external_id: str, values: dict[str, Any]) -> int:
        payload = self._to_tryton(obj, values)
        if obj == OPPORTUNITY:
            payload["reference"] = external_id
        else:
            payload["identifiers"] = [
                ("create", [{"type": None, "code": f"{IDENTIFIER_PREFIX}{external_id}"}])
            ]
            if values.get("website"):
                payload["contact_mechanisms"] = [
                    ("create", [{"type": "website", "value": values["website"]}])
                ]
        (new_id,) = self._call_write(obj, "create", [payload])
        if obj == OPPORTUNITY and values.get("state") not in (None, "lead"):
            self._move(new_id, "lead", str(values["state"]))
        return int(new_id)

    def _update(
        self,
        obj: str,
        current: RemoteRecord,
        external_id: str,
        values: dict[str, Any],
        expected_version: str | None,
    ) -> None:
        changed = {k: v for k, v in values.items() if not _same(current.values.get(k), v)}
        record_id = int(current.remote_id)
        locking = {}
        if expected_version is not None:
            locking = {"_timestamp": {f"{obj},{record_id}": expected_version}}
        if obj == PARTY:
            self._update_party(current, external_id, changed, locking)
            return
        if current.external_id != external_id:
            changed["reference"] = external_id
        state_from = str(current.values.get("state") or "lead")
        state_to = str(changed.pop("state", state_from))
        # Tryton freezes most fields of a closed opportunity: reopen before writing, close after
        reopen_first = state_from not in OPEN_STATES and state_to in OPEN_STATES
        if reopen_first and state_to != state_from:
            self._move(record_id, state_from, state_to, **locking)
            locking = {}
        columns = self._to_tryton(obj, changed)
        if columns:
            self._call_write(obj, "write", [record_id], columns, **locking)
            locking = {}
        if not reopen_first and state_to != state_from:
            self._move(record_id, state_from, state_to, **locking)

    def _update_party(
        self,
        current: RemoteRecord,
        external_id: str,
        changed: dict[str, Any],
        locking: dict[str, Any],
    ) -> None:
        party_id = int(current.remote_id)
        columns = self._to_tryton(PARTY, changed)
        if current.external_id != external_id:
            columns["identifiers"] = [
                ("create", [{"type": None, "code": f"{IDENTIFIER_PREFIX}{external_id}"}])
            ]
        if columns:
            self._call_write(PARTY, "write", [party_id], columns, **locking)
        if "website" in changed:
            self._set_website(party_id, changed["website"])

    def _set_website(self, party_id: int, website: str | None) -> None:
        mechanisms = self.rpc.call(
            "party.contact_mechanism",
            "search",
            [("party", "=", party_id), ("type", "=", "website")],
            0,
            1,
            None,
        )
        if mechanisms and website:
            self._call_write("party.contact_mechanism", "write", mechanisms[:1], {"value": website})
        elif mechanisms:
            self._call_write("party.contact_mechanism", "delete", mechanisms[:1])
        elif website:
            self._call_write(
                "party.contact_mechanism",
                "create",
                [{"party": party_id, "type": "website", "value": website}],
            )

    def _move(self, record_id: int, state_from: str, state_to: str, **context: Any) -> None:
        if state_to not in STATES:
            raise PermanentError(f"Tryton has no opportunity state {state_to!r}")
        path = _path(state_from, state_to)
        if path is None:
            raise PermanentError(
                f"Tryton cannot move an opportunity from {state_from} to {state_to}"
                + (" (it marks it won itself when its sale is done)" if state_to == "won" else "")
            )
        for button in path:
            self._call_write(OPPORTUNITY, button, [record_id], **context)
            context = {}

    def _call_write(self, obj: str, method: str, *args: Any, **context: Any) -> Any:
        try:
            return self.rpc.call(obj, method, *args, **context)
        except TrytonServerError as error:
            # Tryton answers a field name it does not know with the KeyError's repr
            name = str(error).removeprefix("Tryton failed: ").strip("'\"")
            if name in _SPECS.get(obj, {}):
                self._schema.pop(obj, None)
                message = f"Tryton's {obj} has no field {name!r} any more"
                raise UnknownField(message, name) from error
            raise

    def _result(self, obj: str, record_id: int, created: bool) -> WriteResult:
        stored = self._get(obj, str(record_id))
        if stored is None:
            raise RemoteNotFound(f"{obj} {record_id} vanished from Tryton right after the write")
        return WriteResult(
            remote_id=stored.remote_id,
            version=stored.version,
            created=created,
            values=dict(stored.values),
        )

    def delete(self, obj: str, remote_id: str) -> None:
        current = self._get(obj, remote_id)
        if current is None:
            return
        record_id = int(remote_id)
        if obj == OPPORTUNITY and current.values.get("state") in OPEN_STATES:
            self._call_write(OPPORTUNITY, "cancel", [record_id])
        self._call_write(obj, "delete", [record_id])

    # --- matching -------------------------------------------------------------------------

    def find_candidates(self, obj: str, probe: MatchProbe, limit: int = 10) -> list[RemoteRecord]:
        found: dict[str, RemoteRecord] = {}

        def add(records: Sequence[RemoteRecord]) -> None:
            for record in records:
                if len(found) < limit:
                    found.setdefault(record.remote_id, record)

        by_id = self._by_external_id(obj, probe.external_id)
        add([by_id] if by_id else [])
        if probe.domain and len(found) < limit:
            add(self._by_domain(obj, probe.domain, limit))
        if len(found) < limit:
            add(self._by_name(obj, probe, limit))
        return list(found.values())

    def find_candidates_many(
        self, obj: str, probes: Sequence[MatchProbe], limit: int = 10
    ) -> dict[str, list[RemoteRecord]]:
        """Opportunities: by external id in one search; then, only when Tryton holds
        opportunities without a Coterie reference (the only ones a name or domain may match),
        each remaining probe as `find_candidates` does."""
        if obj != OPPORTUNITY:
            return super().find_candidates_many(obj, probes, limit)
        found: dict[str, list[RemoteRecord]] = {probe.external_id: [] for probe in probes}
        for record in self._search(obj, [("reference", "in", list(found))]):
            if record.external_id in found and len(found[record.external_id]) < limit:
                found[record.external_id].append(record)
        rest = [probe for probe in probes if not found[probe.external_id]]
        unclaimed = ["OR", ("reference", "=", None), ("reference", "=", "")]
        if rest and self.rpc.call(obj, "search", [unclaimed], 0, 1, None, active_test=False):
            for probe in rest:
                found[probe.external_id] = self.find_candidates(obj, probe, limit)
        return found

    def _by_domain(self, obj: str, domain: str, limit: int) -> list[RemoteRecord]:
        domain = domain.lower().removeprefix("www.")
        websites = [
            ("type", "=", "website"),
            ["OR", ("value", "ilike", f"%//{domain}%"), ("value", "ilike", f"%.{domain}%"),
             ("value", "ilike", f"{domain}%")],
        ]  # fmt: skip
        parties = [("contact_mechanisms", "where", websites)]
        if obj == PARTY:
            return self._search(obj, parties, limit=limit)
        return self._search(obj, [("party", "where", parties)], limit=limit)

    def _by_name(self, obj: str, probe: MatchProbe, limit: int) -> list[RemoteRecord]:
        tokens = [t for t in _TOKEN.findall(probe.name.lower()) if t not in _NOISE]
        if not tokens:
            return []
        field = _NAME_FIELD[obj]
        domain: list[Any] = [["OR", *[(field, "ilike", f"%{token}%") for token in tokens]]]
        if obj == OPPORTUNITY and probe.account_remote_id:
            domain.append(("party", "=", _int_id(probe.account_remote_id)))
        records = self._search(obj, domain, limit=limit * 5)

        def score(record: RemoteRecord) -> int:
            text = str(record.values.get(field) or "").lower()
            return sum(token in text for token in tokens)

        return sorted(records, key=lambda r: (-score(r), int(r.remote_id)))[:limit]

    # --- value conversion -----------------------------------------------------------------

    def _party_id(self, value: Any) -> int:
        if isinstance(value, RemoteRef):
            if value.object != PARTY:
                raise PermanentError(f"an opportunity's party cannot be a {value.object}")
            return _int_id(value.remote_id)
        if isinstance(value, int):
            return value
        name = str(value).strip()
        if not name:
            raise PermanentError("an opportunity's party needs a name")
        existing = self.rpc.call("party.party", "search", [("name", "ilike", name)], 0, 1, None)
        if existing:
            return int(existing[0])
        (created,) = self._call_write(PARTY, "create", [{"name": name}])
        return int(created)

    def _currency_id(self, value: Any) -> int:
        code = str(value).upper()
        currencies = self._currency_ids()
        if code not in currencies:
            raise PermanentError(f"Tryton has no currency {code}")
        return currencies[code]


def _to_decimal(_: TrytonConnector, value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise PermanentError(f"{value!r} is not an amount") from error


def _to_date(_: TrytonConnector, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise PermanentError(f"{value!r} is not a date") from error


def _to_float(_: TrytonConnector, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise PermanentError(f"{value!r} is not a number") from error


_CONVERTERS: dict[str, Callable[[TrytonConnector, Any], Any]] = {
    "party": TrytonConnector._party_id,
    "currency": TrytonConnector._currency_id,
    "amount": _to_decimal,
    "start_date": _to_date,
    "end_date": _to_date,
    "conversion_probability": _to_float,
}


def _same(current: Any, wanted: Any) -> bool:
    """Whether writing `wanted` would change nothing (so it is not sent)."""
    if isinstance(wanted, str) and isinstance(current, RemoteRef):
        return False  # a party by name: resolved at write time
    if isinstance(wanted, RemoteRef) or isinstance(current, RemoteRef):
        return (
            isinstance(wanted, RemoteRef)
            and isinstance(current, RemoteRef)
            and wanted.remote_id == current.remote_id
        )
    if current in (None, "") or wanted in (None, ""):
        return current in (None, "") and wanted in (None, "")
    if isinstance(current, Decimal | float | int) and not isinstance(current, bool):
        try:
            return Decimal(str(current)) == Decimal(str(wanted))
        except InvalidOperation:
            return False
    if isinstance(current, date) and not isinstance(wanted, date):
        return current.isoformat() == str(wanted)
    return bool(current == wanted)


def _path(state_from: str, state_to: str) -> list[str] | None:
    """The shortest sequence of workflow buttons from one state to another."""
    frontier: list[tuple[str, list[str]]] = [(state_from, [])]
    seen = {state_from}
    while frontier:
        state, path = frontier.pop(0)
        if state == state_to:
            return path
        for (source, target), button in _BUTTONS.items():
            if source == state and target not in seen:
                seen.add(target)
                frontier.append((target, [*path, button]))
    return None


def _int_id(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise RemoteNotFound(f"{value!r} is not a Tryton record id") from error


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
