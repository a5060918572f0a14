"""The state of the fake Salesforce org: schema, records, recycle bin, clock, users, budget, knobs.

`salesforce_api.FakeSalesforce` serves this state over HTTP; this module holds what the org
*is* and what a test can do to it directly (a person editing in the UI, an automation, a merge,
a late commit, a removed field). Values are kept as Python values (str, Decimal, bool, date,
datetime, None); the HTTP layer converts to and from Salesforce's JSON.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tests.fakes import soql as soql_ast
from tests.fakes.soql import parse_datetime

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday; tests never read today's date


class FakeClock:
    """The test's clock ("true" time). `tick` is added after every API request (0 by default:
    time stands still unless the test advances it, which makes equal timestamps common)."""

    def __init__(self, start: datetime = START, tick: timedelta = timedelta(0)) -> None:
        self._now = start
        self.tick = tick

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 1.0) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


# --- schema --------------------------------------------------------------------------------


@dataclass
class FieldDef:
    name: str
    label: str
    type: str  # Salesforce describe types: id string textarea url email phone picklist
    #            currency double percent int date datetime boolean reference
    required: bool = False  # required on create (nillable False, not defaulted)
    createable: bool = True
    updateable: bool = True
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: str | None = None
    length: int = 255
    external_id: bool = False
    unique: bool = False
    default: Any = None


def _system_fields() -> list[FieldDef]:
    ro = {"createable": False, "updateable": False}
    return [
        FieldDef("Id", "Record ID", "id", length=18, **ro),
        FieldDef("IsDeleted", "Deleted", "boolean", **ro),
        FieldDef("CreatedDate", "Created Date", "datetime", **ro),
        FieldDef("CreatedById", "Created By ID", "reference", reference_to="User", **ro),
        FieldDef("LastModifiedDate", "Last Modified Date", "datetime", **ro),
        FieldDef("LastModifiedById", "Last Modified By ID", "reference", reference_to="User", **ro),
        FieldDef("SystemModstamp", "System Modstamp", "datetime", **ro),
    ]


def _coterie_id() -> FieldDef:
    return FieldDef(
        "Coterie_Id__c", "Coterie ID", "string", length=36, external_id=True, unique=True
    )


INDUSTRIES = ("Agriculture", "Banking", "Consulting", "Education", "Energy", "Technology")
STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
FORECAST = ("Omitted", "Pipeline", "Best Case", "Commit", "Closed")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted")


def default_schema(multi_currency: bool = False) -> dict[str, dict[str, FieldDef]]:
    account = [
        *_system_fields(),
        FieldDef(
            "MasterRecordId",
            "Master Record ID",
            "reference",
            reference_to="Account",
            createable=False,
            updateable=False,
        ),
        FieldDef("Name", "Account Name", "string", required=True),
        FieldDef("Website", "Website", "url"),
        FieldDef("Industry", "Industry", "picklist", picklist=INDUSTRIES),
        FieldDef("BillingCountry", "Billing Country", "string", length=80),
        FieldDef("Phone", "Account Phone", "phone", length=40),
        FieldDef("AnnualRevenue", "Annual Revenue", "currency"),
        FieldDef("NumberOfEmployees", "Employees", "int"),
        FieldDef("Description", "Account Description", "textarea", length=32000),
        _coterie_id(),
    ]
    opportunity = [
        *_system_fields(),
        FieldDef("Name", "Name", "string", required=True, length=120),
        FieldDef("AccountId", "Account ID", "reference", reference_to="Account", length=18),
        FieldDef("Amount", "Amount", "currency"),
        FieldDef("CloseDate", "Close Date", "date", required=True),
        FieldDef("StageName", "Stage", "picklist", required=True, picklist=STAGES, restricted=True),
        FieldDef("Probability", "Probability (%)", "percent"),
        FieldDef(
            "ForecastCategoryName",
            "Forecast Category",
            "picklist",
            picklist=FORECAST,
            restricted=True,
        ),
        FieldDef("NextStep", "Next Step", "string", length=255),
        FieldDef("Description", "Description", "textarea", length=32000),
        _coterie_id(),
    ]
    if multi_currency:
        opportunity.append(
            FieldDef(
                "CurrencyIsoCode",
                "Opportunity Currency",
                "picklist",
                picklist=("EUR", "GBP", "USD"),
                restricted=True,
                default="USD",
            )
        )
    lead = [
        *_system_fields(),
        FieldDef(
            "MasterRecordId",
            "Master Record ID",
            "reference",
            reference_to="Lead",
            createable=False,
            updateable=False,
        ),
        FieldDef("FirstName", "First Name", "string", length=40),
        FieldDef("LastName", "Last Name", "string", required=True, length=80),
        FieldDef("Company", "Company", "string", required=True),
        FieldDef("Email", "Email", "email", length=80),
        FieldDef("Website", "Website", "url"),
        FieldDef(
            "Status",
            "Lead Status",
            "picklist",
            picklist=LEAD_STATUSES,
            restricted=True,
            default="Open - Not Contacted",
        ),
        FieldDef("Industry", "Industry", "picklist", picklist=INDUSTRIES),
        FieldDef("Country", "Country", "string", length=80),
        FieldDef("Description", "Description", "textarea", length=32000),
        _coterie_id(),
    ]
    return {
        name: {f.name: f for f in fields}
        for name, fields in (("Account", account), ("Opportunity", opportunity), ("Lead", lead))
    }


KEY_PREFIXES = {"Account": "001", "Opportunity": "006", "Lead": "00Q", "User": "005"}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order


def make_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce id: prefix, pod, counter (base 62), then the case checksum."""
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
        if number == 0:
            break
    short = prefix + "5g" + digits.rjust(10, "0")
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(short[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return short + suffix


API_USER = make_id("005", 1)
UI_USER = make_id("005", 2)
AUTOMATION_USER = make_id("005", 3)
USER_NAMES = {API_USER: "api", UI_USER: "ui", AUTOMATION_USER: "automation"}


# --- errors --------------------------------------------------------------------------------


class ApiError(Exception):
    """An answer Salesforce gives as `[{"message", "errorCode", "fields"}]` with a status."""

    def __init__(
        self, status: int, code: str, message: str, fields: list[str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


# --- records -------------------------------------------------------------------------------


@dataclass
class Record:
    sobject: str
    values: dict[str, Any]
    deleted: bool = False
    purged: bool = False  # emptied from the recycle bin: gone from queryAll too
    visible_at: datetime | None = None  # a late commit: invisible to anyone before this
    cascade_of: str | None = None  # deleted with this parent (restored with it)

    @property
    def id(self) -> str:
        return str(self.values["Id"])

    @property
    def stamp(self) -> datetime:
        value = self.values["SystemModstamp"]
        assert isinstance(value, datetime)
        return value


@dataclass
class Automation:
    sobject: str
    field: str
    compute: Callable[[dict[str, Any]], Any]
    delay: float = 0.0


@dataclass
class Pending:
    due: datetime
    apply: Callable[[], None]


@dataclass
class Deletion:
    sobject: str
    id: str
    deleted_at: datetime


@dataclass
class OrgState:
    schema: dict[str, dict[str, FieldDef]]
    records: dict[str, Record] = field(default_factory=dict)
    deletions: list[Deletion] = field(default_factory=list)
    next_number: int = 1000
    # (sobject, field, lower-cased text) -> ids of records that held that text in that field at
    # some write: Salesforce indexes external id fields, so a lookup by one does not scan the
    # org (a scan per row made a 10,000-record load quadratic). Entries may be stale: a lookup
    # checks each candidate's current value.
    text_index: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)


class Org:
    """The org's data and everything a test (or an admin, a person, an automation) does to it."""

    def __init__(self, clock: FakeClock | None = None, multi_currency: bool = False) -> None:
        self.clock = clock or FakeClock()
        self.state = OrgState(schema=default_schema(multi_currency))
        self.skew_seconds = 0.0
        self.denied: set[str] = set()
        self.automations: list[Automation] = []
        self.validation_rules: list[tuple[str, Callable[[dict[str, Any]], str | None]]] = []
        self.pending: list[Pending] = []
        self.record_writes: Counter[str] = Counter()  # "api" / "ui" / "automation" -> records

    # --- time ------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The org's clock: the test's clock plus the skew, to the millisecond."""
        moment = self.clock.now() + timedelta(seconds=self.skew_seconds)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def skew(self, seconds: float) -> None:
        """The org's clock runs `seconds` ahead of the test's (negative: behind)."""
        self.skew_seconds = seconds

    def flush_pending(self) -> None:
        now = self.now()
        due = [p for p in self.pending if p.due <= now]
        self.pending = [p for p in self.pending if p.due > now]
        for item in sorted(due, key=lambda p: p.due):
            item.apply()

    # --- reading ---------------------------------------------------------------------------

    def fields(self, sobject: str) -> dict[str, FieldDef]:
        try:
            return self.state.schema[sobject]
        except KeyError:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist") from None

    def visible(self, record: Record) -> bool:
        return record.visible_at is None or record.visible_at <= self.now()

    def find(self, record_id: str) -> Record | None:
        record = self.state.records.get(_to18(record_id))
        if record is None or record.purged or not self.visible(record):
            return None
        return record

    def by_external_id(self, sobject: str, field_name: str, value: str) -> list[Record]:
        ids = self.state.text_index.get((sobject, field_name, value.lower()), set())
        candidates = [self.state.records[record_id] for record_id in sorted(ids)]
        return [
            r
            for r in candidates
            if r.sobject == sobject
            and not r.deleted
            and not r.purged
            and self.visible(r)
            and isinstance(r.values.get(field_name), str)
            and r.values[field_name].lower() == value.lower()
        ]

    def rows(self, sobject: str, include_deleted: bool, as_api: bool = True) -> list[Record]:
        """What a query sees: visible, not purged, shared with the API user."""
        return [
            r
            for r in self.state.records.values()
            if r.sobject == sobject
            and not r.purged
            and self.visible(r)
            and (include_deleted or not r.deleted)
            and not (as_api and r.id in self.denied)
        ]

    def candidate_ids(self, sobject: str, cond: Any) -> set[str] | None:
        """The ids of the records of `sobject` that may satisfy `cond` (a `soql.Condition` with
        canonical field names), from the indexes Salesforce keeps, or None when a scan is
        needed. Indexed: `Id`, and external id fields (`= 'x'`, `IN (...)`, `= null`); AND
        narrows to an indexed operand, OR needs every operand indexed. The caller still
        evaluates `cond` on each candidate (index entries may be stale), so this only saves
        the scan a real org would not make."""
        if isinstance(cond, soql_ast.BoolOp):
            parts = [self.candidate_ids(sobject, item) for item in cond.items]
            known = [part for part in parts if part is not None]
            if cond.op == "AND":
                return min(known, key=len) if known else None
            if len(known) < len(parts):
                return None
            return set().union(*known)
        if not isinstance(cond, soql_ast.Comparison) or cond.op not in {"=", "IN"}:
            return None
        values = list(cond.value) if cond.op == "IN" else [cond.value]
        if cond.field == "Id":
            return {i for v in values if isinstance(v, str) for i in (v, _to18(v))}
        spec = self.state.schema.get(sobject, {}).get(cond.field)
        if spec is None or not spec.external_id:
            return None
        found: set[str] = set()
        for value in values:
            if value is None:
                found |= {
                    r.id
                    for r in self.state.records.values()
                    if r.sobject == sobject and r.values.get(cond.field) is None
                }
            elif isinstance(value, str):
                found |= self.state.text_index.get((sobject, cond.field, value.lower()), set())
            else:
                return None
        return found

    def rows_among(
        self, sobject: str, ids: set[str], include_deleted: bool, as_api: bool = True
    ) -> list[Record]:
        """`rows`, restricted to these ids (in the org's order, as `rows` gives them)."""
        return [
            r
            for key, r in self.state.records.items()
            if key in ids
            and r.sobject == sobject
            and not r.purged
            and self.visible(r)
            and (include_deleted or not r.deleted)
            and not (as_api and r.id in self.denied)
        ]

    def all_records(self, sobject: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every record of `sobject` (copies), for assertions: no duplicate, what was written."""
        return [
            dict(r.values)
            for r in self.state.records.values()
            if r.sobject == sobject and not r.purged and (include_deleted or not r.deleted)
        ]

    def record(self, record_id: str) -> dict[str, Any]:
        found = self.state.records.get(_to18(record_id))
        if found is None:
            raise KeyError(record_id)
        return dict(found.values)

    # --- writing ---------------------------------------------------------------------------

    def snapshot(self) -> OrgState:
        return copy.deepcopy(self.state)

    def restore(self, state: OrgState) -> None:
        self.state = state

    def _new_id(self, sobject: str) -> str:
        self.state.next_number += 1
        return make_id(KEY_PREFIXES[sobject], self.state.next_number)

    def coerce(self, sobject: str, raw: Mapping[str, Any], creating: bool) -> dict[str, Any]:
        """JSON values -> Python values, refused as Salesforce refuses them."""
        schema = self.fields(sobject)
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "attributes":
                continue
            spec = next((f for f in schema.values() if f.name.lower() == name.lower()), None)
            if spec is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {sobject}",
                )
            if not (spec.createable if creating else spec.updateable):
                raise ApiError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {spec.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.",
                    [spec.name],
                )
            values[spec.name] = _coerce_value(spec, value)
        return values

    def _validate(self, sobject: str, merged: dict[str, Any]) -> None:
        schema = self.fields(sobject)
        missing = [
            f.name for f in schema.values() if f.required and merged.get(f.name) in (None, "")
        ]
        if missing:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        for spec in schema.values():
            value = merged.get(spec.name)
            if value is None:
                continue
            if spec.type == "picklist" and spec.restricted and value not in spec.picklist:
                raise ApiError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{spec.label}: bad value for restricted picklist field: {value}",
                    [spec.name],
                )
            if isinstance(value, str) and len(value) > spec.length:
                raise ApiError(
                    400,
                    "STRING_TOO_LONG",
                    f"{spec.label}: data value too large: {value[:20]}... "
                    f"(max length={spec.length})",
                    [spec.name],
                )
            if spec.type == "reference" and spec.reference_to not in (None, "User"):
                target = self.find(value)
                if target is None or target.deleted or target.sobject != spec.reference_to:
                    raise ApiError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        f"{spec.label}: id value of incorrect type: {value}",
                        [spec.name],
                    )
            if spec.unique:
                clash = [
                    r
                    for r in self.by_external_id(sobject, spec.name, value)
                    if r.id != merged.get("Id")
                ]
                if clash:
                    raise ApiError(
                        400,
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {spec.name} duplicates value on record with "
                        f"id: {clash[0].id}",
                        [],
                    )
        for rule_object, rule in self.validation_rules:
            if rule_object == sobject and (message := rule(merged)):
                raise ApiError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", message, [])

    def _next_stamp(self, previous: Record | None) -> datetime:
        now = self.now()
        if previous is not None and now <= previous.stamp:
            return previous.stamp + timedelta(milliseconds=1)  # a record's stamps only increase
        return now

    def write(
        self,
        sobject: str,
        record_id: str | None,
        values: Mapping[str, Any],
        user: str = API_USER,
        *,
        stamp: datetime | None = None,
        run_automations: bool = True,
    ) -> Record:
        """Create (record_id None) or update; `values` are already coerced Python values."""
        previous = self.state.records.get(record_id) if record_id else None
        if record_id is not None and previous is None:
            raise not_found()
        merged = dict(previous.values) if previous else {}
        if previous is None:
            for spec in self.fields(sobject).values():
                if spec.default is not None:
                    merged[spec.name] = spec.default
                elif spec.type == "boolean":
                    merged[spec.name] = False
                else:
                    merged.setdefault(spec.name, None)
            merged["Id"] = self._new_id(sobject)
        merged.update(values)
        self._validate(sobject, merged)
        moment = stamp or self._next_stamp(previous)
        if previous is None:
            merged.update(CreatedDate=moment, CreatedById=user, IsDeleted=False)
        merged.update(LastModifiedDate=moment, LastModifiedById=user, SystemModstamp=moment)
        if previous is None:
            record = Record(sobject, merged)
            self.state.records[record.id] = record
        else:
            previous.values = merged
            record = previous
        self._index(record)
        self.record_writes[USER_NAMES.get(user, user)] += 1
        if run_automations and user != AUTOMATION_USER:
            self._run_automations(record)
        return record

    def _index(self, record: Record) -> None:
        for name, value in record.values.items():
            if isinstance(value, str):
                key = (record.sobject, name, value.lower())
                self.state.text_index.setdefault(key, set()).add(record.id)

    def _run_automations(self, record: Record) -> None:
        for rule in self.automations:
            if rule.sobject != record.sobject or rule.field not in self.fields(record.sobject):
                continue

            def apply(rule: Automation = rule, record_id: str = record.id) -> None:
                current = self.state.records.get(record_id)
                if current is None or current.deleted or current.purged:
                    return
                value = rule.compute(dict(current.values))
                if current.values.get(rule.field) == value:
                    return
                self.write(current.sobject, record_id, {rule.field: value}, AUTOMATION_USER)

            if rule.delay:
                self.pending.append(Pending(self.now() + timedelta(seconds=rule.delay), apply))
            else:
                apply()

    def remove(self, record: Record, user: str = API_USER, cascade_of: str | None = None) -> None:
        """To the recycle bin (children of an account go with it)."""
        stamp = self._next_stamp(record)
        record.deleted = True
        record.cascade_of = cascade_of
        record.values.update(IsDeleted=True, SystemModstamp=stamp, LastModifiedById=user)
        self.state.deletions.append(Deletion(record.sobject, record.id, stamp))
        self.record_writes[USER_NAMES.get(user, user)] += 1
        if record.sobject == "Account":
            for child in list(self.state.records.values()):
                if child.values.get("AccountId") == record.id and not child.deleted:
                    self.remove(child, user, cascade_of=record.id)

    # --- knobs: what happens in Salesforce outside the API user ----------------------------

    def create(self, sobject: str, user: str = UI_USER, **values: Any) -> str:
        """A record made in Salesforce by a person (or `user`); returns its id."""
        return self.write(sobject, None, self.coerce(sobject, values, creating=True), user).id

    def ui_edit(self, sobject: str, record_id: str, **values: Any) -> None:
        """A person edits the record in Salesforce's UI (LastModifiedById = the UI user)."""
        record = self._live(record_id)
        self.write(sobject, record.id, self.coerce(sobject, values, creating=False), UI_USER)

    def automation(
        self,
        sobject: str,
        field_name: str,
        compute: Callable[[dict[str, Any]], Any],
        delay: float = 0.0,
    ) -> None:
        """A workflow rule: after every create or update (not its own), set `field_name` to
        `compute(record values)` as the automation user, bumping SystemModstamp. With `delay`
        it runs that many seconds later (on the org's clock), like a scheduled flow."""
        self.automations.append(Automation(sobject, field_name, compute, delay))

    def validation_rule(self, sobject: str, rule: Callable[[dict[str, Any]], str | None]) -> None:
        """A validation rule: `rule(values)` returns an error message to refuse the save."""
        self.validation_rules.append((sobject, rule))

    def late_commit(
        self,
        sobject: str,
        values: Mapping[str, Any],
        visible_after: float,
        record_id: str | None = None,
        user: str = UI_USER,
    ) -> str:
        """A long transaction: the write is stamped now but becomes visible (to queries, GET,
        getUpdated) only `visible_after` seconds later on the org's clock. Creates a record
        (returns its reserved id) or, with `record_id`, updates one (queries keep seeing the
        old version until then)."""
        stamp = self.now()
        due = stamp + timedelta(seconds=visible_after)
        coerced = self.coerce(sobject, values, creating=record_id is None)
        if record_id is None:
            record = self.write(sobject, None, coerced, user, stamp=stamp, run_automations=False)
            record.visible_at = due
            return record.id
        self._live(record_id)

        def apply() -> None:
            self.write(sobject, _to18(record_id), coerced, user, stamp=stamp)

        self.pending.append(Pending(due, apply))
        return _to18(record_id)

    def merge(self, master_id: str, loser_id: str) -> None:
        """Merge two accounts (or leads) as a person does: the loser goes to the recycle bin
        with MasterRecordId = the master; an account's opportunities move to the master."""
        master, loser = self._live(master_id), self._live(loser_id)
        if master.sobject != loser.sobject or master.sobject not in {"Account", "Lead"}:
            raise ValueError("Salesforce merges accounts with accounts and leads with leads")
        for child in list(self.state.records.values()):
            if child.values.get("AccountId") == loser.id and not child.deleted:
                self.write(child.sobject, child.id, {"AccountId": master.id}, UI_USER)
        self.write(master.sobject, master.id, {}, UI_USER)
        loser.values["MasterRecordId"] = master.id
        self.remove(loser, UI_USER)

    def delete(self, record_id: str, user: str = UI_USER) -> None:
        """A person deletes the record: it goes to the recycle bin (queryAll, getDeleted)."""
        self.remove(self._live(record_id), user)

    def undelete(self, record_id: str, user: str = UI_USER) -> None:
        """Restore from the recycle bin (with the children deleted along with it)."""
        record = self.state.records.get(_to18(record_id))
        if record is None or not record.deleted or record.purged:
            raise KeyError(record_id)
        for item in [record] + [
            r for r in self.state.records.values() if r.cascade_of == record.id and r.deleted
        ]:
            item.deleted = False
            item.cascade_of = None
            item.values.update(
                IsDeleted=False, SystemModstamp=self._next_stamp(item), LastModifiedById=user
            )
            if "MasterRecordId" in item.values:
                item.values["MasterRecordId"] = None

    def purge(self, record_id: str) -> None:
        """Empty it from the recycle bin: a hard delete (only getDeleted still reports it)."""
        record = self.state.records.get(_to18(record_id))
        if record is None:
            raise KeyError(record_id)
        if not record.deleted:
            self.remove(record, UI_USER)
        record.purged = True

    def deny(self, record_id: str) -> None:
        """The API user loses access to this record (sharing): queries skip it, GET answers
        403 INSUFFICIENT_ACCESS, writes 400 INSUFFICIENT_ACCESS_OR_READONLY."""
        self.denied.add(_to18(record_id))

    def allow(self, record_id: str) -> None:
        self.denied.discard(_to18(record_id))

    def remove_field(self, sobject: str, field_name: str) -> None:
        """An admin deletes a field: gone from describe, queries and writes (INVALID_FIELD)."""
        del self.fields(sobject)[field_name]
        for record in self.state.records.values():
            if record.sobject == sobject:
                record.values.pop(field_name, None)

    def _live(self, record_id: str) -> Record:
        record = self.find(record_id)
        if record is None or record.deleted:
            raise KeyError(record_id)
        return record


def _to18(record_id: str) -> str:
    if len(record_id) != 15:
        return record_id
    suffix = ""
    for chunk in range(3):
        part = record_id[chunk * 5 : chunk * 5 + 5]
        bits = sum(1 << i for i, c in enumerate(part) if c.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return record_id + suffix


def _coerce_value(spec: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    wrong = ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {spec.type} from value {value!r} for field {spec.name}",
    )
    if spec.type in {"currency", "double", "percent"}:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise wrong
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise wrong from None
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong
        return int(value)
    if spec.type == "boolean":
        if not isinstance(value, bool):
            raise wrong
        return value
    if spec.type == "date":
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise wrong from None
    if spec.type == "datetime":
        try:
            return parse_datetime(str(value))
        except ValueError:
            raise wrong from None
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise wrong
    if spec.type == "reference":
        if len(value) not in (15, 18) or not value.isalnum():
            raise ApiError(
                400,
                "MALFORMED_ID",
                f"{spec.label}: id value of incorrect type: {value}",
                [spec.name],
            )
        return _to18(value)
    return value
