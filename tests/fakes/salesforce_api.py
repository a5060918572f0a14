"""A stateful fake of the Salesforce REST API, as a `requests` transport adapter.

The real client (`simple_salesforce.Salesforce`) is used unchanged, pointed at the fake through
its `session=` argument:

    fake = FakeSalesforce()
    sf = Salesforce(instance_url=fake.instance_url, session_id=fake.access_token,
                    session=fake.session())

It serves, with Salesforce's URLs, bodies, status codes, headers and error shapes:
describe; SOQL query / queryAll / queryMore (nextRecordsUrl); sobjects/X/updated and /deleted;
GET / PATCH / DELETE sobjects/X/Id; POST sobjects/X; upsert PATCH sobjects/X/ExtField/value;
sObject Collections (composite/sobjects POST / PATCH / DELETE, and upsert by external id);
composite (subrequests, allOrNone); If-Unmodified-Since -> 412; Sforce-Limit-Info on every
answer and REQUEST_LIMIT_EXCEEDED once the daily budget is spent; 401 INVALID_SESSION_ID; the
SOAP login simple-salesforce uses for username/password; oauth2/userinfo.

The org's state and the knobs that act on it (ui_edit, automation, merge, late_commit, ...) live
in `salesforce_org.Org` and are reachable here as `fake.org` and, for the common ones, directly
on the fake. Fault knobs of the transport are on the fake: throttle, fail_after_commit,
drop_connection, expire_session, budget.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.fakes import soql
from tests.fakes.salesforce_org import (
    API_USER,
    ApiError,
    FakeClock,
    Org,
    Record,
    not_found,
)

INSTANCE = "coterie-test.my.salesforce.com"
WRITE_METHODS = {"POST", "PATCH", "DELETE", "PUT"}
ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header"
)
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def sf_datetime(value: datetime) -> str:
    """Salesforce's datetime format: 2030-01-07T09:00:00.000+0000."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return sf_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else float(value)
        )
    return value


class _AnswerNowError(Exception):
    """A finished HTTP answer, raised from deep inside a handler."""

    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class FakeSalesforce(BaseAdapter):
    """The fake org behind a transport adapter. Knobs (all take effect on the next call):

    - `throttle(n, retry_after=30)`: the next n API calls answer 429 with Retry-After.
    - `fail_after_commit(n, status=503)`: the next n writes commit, then answer 500 or 503.
    - `drop_connection(n, after_commit=True)`: the next n writes raise ConnectionError
      (after committing, or before touching anything).
    - `expire_session()`: every access token is refused (401 INVALID_SESSION_ID) until a new
      login (`new_token()` or the SOAP login with `username` / `password`).
    - `budget(used=None, limit=None)`: the daily API budget; past it every call answers 403
      REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." until `reset_budget()`.
    - `batch_size`: rows per query page (Salesforce: 2000, or Sforce-Query-Options
      batchSize=200..2000); lower it to page small data sets.
    - the org's knobs, forwarded: ui_edit, create, automation, validation_rule, late_commit,
      merge, delete, undelete, purge, deny, allow, remove_field, skew (see `Org`).

    Counters: `calls` (API calls by kind: "query", "queryMore", "get", "upsert", "update",
    "create", "delete", "describe", "updated", "deleted", "collections.upsert", "composite",
    ...), `org.record_writes` (records written by "api" / "ui" / "automation"), `api_used`;
    `records(sobject)` lists the live records (dict copies), `log` every (method, path, status).
    """

    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        api_limit: int = 15000,
        multi_currency: bool = False,
        username: str = "integration@coterie.test",
        password: str = "s3cret",  # noqa: S107 (the fake org's own test login)
        security_token: str = "TOKEN",  # noqa: S107
    ) -> None:
        super().__init__()
        self.org = Org(clock, multi_currency=multi_currency)
        self.clock = self.org.clock
        self.instance_url = f"https://{INSTANCE}"
        self.username, self.password, self.security_token = username, password, security_token
        self.tokens: set[str] = set()
        self.access_token = self.new_token()
        self.api_limit = api_limit
        self.api_used = 0
        self.batch_size = 2000
        self.version = 59.0  # of the last request's URL
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, str, int]] = []
        self._throttle: list[float] = []
        self._fail_after_commit: list[int] = []
        self._drop: list[bool] = []
        self._locators: dict[str, tuple[list[dict[str, Any]], int]] = {}

    # --- set-up ----------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """A requests session whose https:// traffic goes to this fake."""
        session = requests.Session()
        session.mount("https://", self)
        return session

    def new_token(self) -> str:
        token = f"00D5g000004Fake!{uuid.uuid4().hex}"
        self.tokens.add(token)
        self.access_token = token
        return token

    # --- transport knobs -------------------------------------------------------------------

    def throttle(self, n: int, retry_after: float = 30) -> None:
        self._throttle.extend([retry_after] * n)

    def fail_after_commit(self, n: int, status: int = 503, after: int = 0) -> None:
        """The next `n` successful writes commit, then answer `status`; the first `after`
        successful writes answer normally."""
        self._fail_after_commit.extend([0] * after + [status] * n)

    def drop_connection(self, n: int, after_commit: bool = True) -> None:
        self._drop.extend([after_commit] * n)

    def expire_session(self) -> None:
        self.tokens.clear()

    def budget(self, used: int | None = None, limit: int | None = None) -> None:
        if used is not None:
            self.api_used = used
        if limit is not None:
            self.api_limit = limit

    def reset_budget(self) -> None:
        self.api_used = 0

    # --- the org's knobs, forwarded ----------------------------------------------------------

    def records(self, sobject: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        return self.org.all_records(sobject, include_deleted)

    def record(self, record_id: str) -> dict[str, Any]:
        return self.org.record(record_id)

    def __getattr__(self, name: str) -> Any:
        if name in {
            "ui_edit",
            "create",
            "automation",
            "validation_rule",
            "late_commit",
            "merge",
            "delete",
            "undelete",
            "purge",
            "deny",
            "allow",
            "remove_field",
            "skew",
        }:
            return getattr(self.org, name)
        raise AttributeError(name)

    # --- the transport -----------------------------------------------------------------------

    def close(self) -> None:
        pass

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        method = (request.method or "GET").upper()
        headers = CaseInsensitiveDict(request.headers)
        raw_body = request.body or b""
        body = raw_body.decode() if isinstance(raw_body, bytes) else raw_body
        self.org.flush_pending()
        status, payload, extra = self._serve(method, parts.path, parts.query, headers, body)
        if self.clock.tick:
            self.clock.advance(self.clock.tick.total_seconds())
        self.log.append((method, parts.path, status))
        return self._response(request, status, payload, extra)

    def _response(
        self,
        request: requests.PreparedRequest,
        status: int,
        payload: Any,
        extra: Mapping[str, str],
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 201: "Created", 204: "No Content"}.get(status, "Error")
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        response.headers = CaseInsensitiveDict(
            {
                "Date": format_datetime(self.org.now().astimezone(UTC), usegmt=True),
                "Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_limit}",
                **extra,
            }
        )
        if isinstance(payload, str):
            response._content = payload.encode()
            response.headers.setdefault("Content-Type", "text/xml;charset=UTF-8")
        elif payload is not None or status != 204:
            response._content = json.dumps(payload, default=_json_value).encode()
            response.headers["Content-Type"] = "application/json;charset=UTF-8"
        else:
            response._content = b""
        return response

    def _serve(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: str
    ) -> tuple[int, Any, dict[str, str]]:
        if path.startswith("/services/Soap/u/"):
            return self._soap_login(body)
        token = headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token not in self.tokens:
            return (
                401,
                [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
                {},
            )
        if self._throttle:
            retry_after = self._throttle.pop(0)
            return (
                429,
                [
                    {
                        "message": "Too many requests, retry later",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
                {"Retry-After": f"{retry_after:g}"},
            )
        if self.api_used >= self.api_limit:
            return (
                403,
                [
                    {
                        "message": "TotalRequests Limit exceeded.",
                        "errorCode": "REQUEST_LIMIT_EXCEEDED",
                    }
                ],
                {},
            )
        self.api_used += 1
        is_write = method in WRITE_METHODS and "/services/data/" in path
        drop = self._drop.pop(0) if is_write and self._drop else None
        if drop is False:
            raise requests.ConnectionError("Connection reset by peer (fake, before commit)")
        try:
            kind, status, payload, extra = self._route(method, path, query, headers, body)
        except _AnswerNowError as answer:
            kind, status, payload, extra = "error", answer.status, answer.body, answer.headers
        except ApiError as error:
            kind, status, payload, extra = "error", error.status, error.body(), {}
        except soql.SoqlError as error:
            kind, status = "query", 400
            payload = [
                {
                    "message": f"ERROR at Row:1:Column:{error.position + 1}\n{error}",
                    "errorCode": "MALFORMED_QUERY",
                }
            ]
            extra = {}
        self.calls[kind] += 1
        if is_write and drop:
            raise requests.ConnectionError("Connection reset by peer (fake, after commit)")
        if is_write and status < 300 and self._fail_after_commit:
            failure = self._fail_after_commit.pop(0)
            if failure == 0:
                return status, payload, extra
            if failure == 503:
                return (
                    503,
                    [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
                    {},
                )
            return (
                failure,
                [
                    {
                        "message": "An unexpected error occurred. Please include this "
                        "ErrorId if you contact support: 1234567890-12345 (-1234567890)",
                        "errorCode": "UNKNOWN_EXCEPTION",
                    }
                ],
                {},
            )
        return status, payload, extra

    # --- routing -------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: str
    ) -> tuple[str, int, Any, dict[str, str]]:
        if path.rstrip("/") == "/services/oauth2/userinfo":
            return (
                "userinfo",
                200,
                {
                    "preferred_username": self.username,
                    "name": "Coterie Integration",
                    "user_id": API_USER,
                    "organization_id": "00D5g000004FakeEAA",
                },
                {},
            )
        prefix, _, rest = path.partition("/services/data/v")
        if prefix or not rest:
            raise not_found()
        version, _, rest = rest.partition("/")
        self.version = float(version)
        segments = [unquote(s) for s in rest.strip("/").split("/") if s]
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        data = json.loads(body, parse_float=Decimal) if body else None
        head = segments[0] if segments else ""
        if head in {"query", "queryAll"}:
            if method != "GET":
                raise _AnswerNowError(405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": method}])
            if len(segments) == 2:
                return "queryMore", 200, self._query_more(segments[1]), {}
            return head, 200, self._query(params.get("q", ""), head == "queryAll", headers), {}
        if head == "limits" and method == "GET":
            return (
                "limits",
                200,
                {
                    "DailyApiRequests": {
                        "Max": self.api_limit,
                        "Remaining": self.api_limit - self.api_used,
                    }
                },
                {},
            )
        if head == "sobjects" and len(segments) >= 2:
            return self._sobjects(method, segments[1], segments[2:], params, headers, data)
        if segments[:2] == ["composite", "sobjects"]:
            return self._collections(method, segments[2:], params, data)
        if segments == ["composite"] and method == "POST":
            return "composite", 200, self._composite(data or {}, headers), {}
        raise not_found()

    # --- sObject rows --------------------------------------------------------------------------

    def _sobjects(
        self,
        method: str,
        sobject: str,
        rest: list[str],
        params: Mapping[str, str],
        headers: Mapping[str, str],
        data: Any,
    ) -> tuple[str, int, Any, dict[str, str]]:
        fields = self.org.fields(sobject)
        if rest == ["describe"] and method == "GET":
            return "describe", 200, self._describe(sobject), {}
        if not rest and method == "POST":
            record = self.org.write(sobject, None, self.org.coerce(sobject, data or {}, True))
            return "create", 201, {"id": record.id, "success": True, "errors": []}, {}
        if len(rest) == 1 and rest[0] in {"updated", "deleted"} and method == "GET":
            return rest[0], 200, self._replication(sobject, rest[0], params), {}
        if len(rest) == 2 and rest[0] in fields and fields[rest[0]].external_id:
            return self._by_external_id(method, sobject, rest[0], rest[1], headers, data)
        if len(rest) != 1:
            raise not_found()
        record = self.org.find(rest[0])
        if record is None or record.sobject != sobject:
            raise not_found()
        if method == "GET":
            if record.deleted:
                raise not_found()
            self._check_read(record)
            wanted = params.get("fields")
            return "get", 200, self._row(record, wanted.split(",") if wanted else None), {}
        if record.deleted:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        self._check_write(record)
        if method == "PATCH":
            self._precondition(record, headers)
            values = self.org.coerce(sobject, data or {}, creating=False)
            self.org.write(sobject, record.id, values)
            return "update", 204, None, {}
        if method == "DELETE":
            self.org.remove(record)
            return "delete", 204, None, {}
        raise _AnswerNowError(
            405,
            [
                {
                    "errorCode": "METHOD_NOT_ALLOWED",
                    "message": f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE",
                }
            ],
        )

    def _by_external_id(
        self,
        method: str,
        sobject: str,
        field_name: str,
        value: str,
        headers: Mapping[str, str],
        data: Any,
    ) -> tuple[str, int, Any, dict[str, str]]:
        matches = self.org.by_external_id(sobject, field_name, value)
        if len(matches) > 1:
            urls = [self._url(r) for r in matches]
            raise _AnswerNowError(300, urls)
        existing = matches[0] if matches else None
        if method == "GET":
            if existing is None:
                raise not_found()
            self._check_read(existing)
            return "get", 200, self._row(existing, None), {}
        if method != "PATCH":
            raise _AnswerNowError(405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": method}])
        payload = dict(data or {})
        if existing is None:
            values = self.org.coerce(sobject, payload, creating=True)
            values[field_name] = value
            record = self.org.write(sobject, None, values)
            return (
                "upsert",
                201,
                {"id": record.id, "success": True, "errors": [], "created": True},
                {},
            )
        self._check_write(existing)
        self._precondition(existing, headers)
        self.org.write(sobject, existing.id, self.org.coerce(sobject, payload, creating=False))
        if self.version < 46:
            return "upsert", 204, None, {}
        return (
            "upsert",
            200,
            {"id": existing.id, "success": True, "errors": [], "created": False},
            {},
        )

    def _check_read(self, record: Record) -> None:
        if record.id in self.org.denied:
            raise ApiError(403, "INSUFFICIENT_ACCESS", "insufficient access rights on object id")

    def _check_write(self, record: Record) -> None:
        if record.id in self.org.denied:
            raise ApiError(
                400,
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "insufficient access rights on object id",
                [],
            )

    def _precondition(self, record: Record, headers: Mapping[str, str]) -> None:
        raw = headers.get("If-Unmodified-Since")
        if raw is None:
            return
        try:
            since = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            raise ApiError(
                400, "INVALID_HEADER_TYPE", f"Invalid If-Unmodified-Since: {raw}"
            ) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        # HTTP dates carry whole seconds: a change within the same second passes (weak validation)
        if record.values["LastModifiedDate"].replace(microsecond=0) > since:
            raise _AnswerNowError(
                412,
                [
                    {
                        "errorCode": "PRECONDITION_FAILED",
                        "message": "The requested resource has been modified since "
                        f"{format_datetime(since, usegmt=True)}",
                    }
                ],
            )

    def _base(self) -> str:
        return f"/services/data/v{self.version:.1f}"

    def _url(self, record: Record) -> str:
        return f"/services/data/v{self.version:.1f}/sobjects/{record.sobject}/{record.id}"

    def _row(self, record: Record, wanted: list[str] | None) -> dict[str, Any]:
        schema = self.org.fields(record.sobject)
        names = wanted or list(schema)
        row: dict[str, Any] = {"attributes": {"type": record.sobject, "url": self._url(record)}}
        for name in names:
            spec = next((f for f in schema.values() if f.name.lower() == name.lower()), None)
            if spec is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on entity '{record.sobject}'. If you are "
                    "attempting to use a custom field, be sure to append the '__c' "
                    "after the custom field name.",
                )
            row[spec.name] = record.values.get(spec.name)
        return row

    def _describe(self, sobject: str) -> dict[str, Any]:
        fields = []
        for spec in self.org.fields(sobject).values():
            fields.append(
                {
                    "name": spec.name,
                    "label": spec.label,
                    "type": spec.type,
                    "length": spec.length
                    if spec.type
                    in {
                        "string",
                        "textarea",
                        "url",
                        "email",
                        "phone",
                        "picklist",
                        "id",
                        "reference",
                    }
                    else 0,
                    "createable": spec.createable,
                    "updateable": spec.updateable,
                    "nillable": not spec.required and spec.type != "boolean",
                    "defaultedOnCreate": spec.default is not None or not spec.createable,
                    "custom": spec.name.endswith("__c"),
                    "externalId": spec.external_id,
                    "unique": spec.unique,
                    "idLookup": spec.name == "Id" or spec.external_id,
                    "referenceTo": [spec.reference_to] if spec.reference_to else [],
                    "restrictedPicklist": spec.restricted,
                    "picklistValues": [
                        {
                            "active": True,
                            "defaultValue": value == spec.default,
                            "label": value,
                            "validFor": None,
                            "value": value,
                        }
                        for value in spec.picklist
                    ],
                }
            )
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": {"Account": "001", "Opportunity": "006", "Lead": "00Q"}[sobject],
            "createable": True,
            "updateable": True,
            "deletable": True,
            "queryable": True,
            "replicateable": True,
            "fields": fields,
            "urls": {"sobject": f"/services/data/v{self.version:.1f}/sobjects/{sobject}"},
        }

    def _replication(self, sobject: str, which: str, params: Mapping[str, str]) -> dict[str, Any]:
        self.org.fields(sobject)
        try:
            start = soql.parse_datetime(params["start"]).replace(second=0, microsecond=0)
            end = soql.parse_datetime(params["end"]).replace(second=0, microsecond=0)
        except (KeyError, ValueError, soql.SoqlError):
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "start and end are required ISO-8601 dates"
            ) from None
        now = self.org.now()
        end = min(end, now.replace(second=0, microsecond=0))
        if start >= end:
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate"
            )
        if start < now - timedelta(days=30):
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago"
            )
        if which == "updated":
            ids = sorted(
                r.id
                for r in self.org.rows(sobject, include_deleted=False)
                if start <= r.stamp < end
            )
            return {"ids": ids, "latestDateCovered": sf_datetime(end)}
        deleted = [
            {"id": d.id, "deletedDate": sf_datetime(d.deleted_at)}
            for d in self.org.state.deletions
            if d.sobject == sobject and start <= d.deleted_at < end and d.id not in self.org.denied
        ]
        return {
            "deletedRecords": deleted,
            "earliestDateAvailable": sf_datetime(now - timedelta(days=15)),
            "latestDateCovered": sf_datetime(end),
        }

    # --- SOQL ----------------------------------------------------------------------------------

    def _query(
        self, text: str, include_deleted: bool, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        parsed = soql.parse(text)
        schema = self.org.fields(parsed.sobject)
        lowered = {name.lower(): name for name in schema}
        for name in parsed.referenced_fields():
            if name.lower() not in lowered:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"\n{text[:200]}\n^\nERROR at Row:1:Column:1\nNo such column "
                    f"'{name}' on entity '{parsed.sobject}'. If you are attempting "
                    "to use a custom field, be sure to append the '__c' after the "
                    "custom field name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
        canonical = lambda name: lowered[name.lower()]  # noqa: E731
        case_sensitive = lambda name: schema[canonical(name)].type in {"id", "reference"}  # noqa: E731
        where = _canonical_condition(parsed.where, canonical)
        indexed = self.org.candidate_ids(parsed.sobject, where)
        rows = [
            r.values
            for r in (
                self.org.rows(parsed.sobject, include_deleted)
                if indexed is None
                else self.org.rows_among(parsed.sobject, indexed, include_deleted)
            )
        ]
        found = [row for row in rows if soql.matches(where, row, case_sensitive)]
        order = [
            soql.OrderItem(canonical(o.field), o.descending, o.nulls_last) for o in parsed.order_by
        ]
        found = soql.order_rows(found, order)
        if parsed.limit is not None:
            found = found[: parsed.limit]
        records = [
            {
                "attributes": {
                    "type": parsed.sobject,
                    "url": f"{self._base()}/sobjects/{parsed.sobject}/{row['Id']}",
                },
                **{canonical(f): row.get(canonical(f)) for f in parsed.fields},
            }
            for row in found
        ]
        batch = self.batch_size
        option = headers.get("Sforce-Query-Options", "")
        if option.startswith("batchSize="):
            batch = max(200, min(2000, int(option.split("=", 1)[1])))
        locator = "01g5g00000" + uuid.uuid4().hex[:8].upper()
        self._locators[locator] = (records, batch)
        return self._page(locator, 0, len(records))

    def _page(self, locator: str, offset: int, total: int) -> dict[str, Any]:
        records, batch = self._locators[locator]
        chunk = records[offset : offset + batch]
        done = offset + batch >= len(records)
        answer: dict[str, Any] = {"totalSize": total, "done": done, "records": chunk}
        if not done:
            answer["nextRecordsUrl"] = (
                f"/services/data/v{self.version:.1f}/query/{locator}-{offset + batch}"
            )
        return answer

    def _query_more(self, identifier: str) -> dict[str, Any]:
        locator, _, offset = identifier.rpartition("-")
        if locator not in self._locators or not offset.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(locator, int(offset), len(self._locators[locator][0]))

    # --- sObject Collections and composite ---------------------------------------------------

    def _collections(
        self, method: str, rest: list[str], params: Mapping[str, str], data: Any
    ) -> tuple[str, int, Any, dict[str, str]]:
        if method == "DELETE":
            ids = [i for i in params.get("ids", "").split(",") if i]
            all_or_none = params.get("allOrNone", "false").lower() == "true"
            return "collections.delete", 200, self._batch(ids, all_or_none, self._delete_one), {}
        records = list((data or {}).get("records", []))
        all_or_none = bool((data or {}).get("allOrNone", False))
        if len(records) > 200:
            raise ApiError(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        if method == "POST" and not rest:
            return (
                "collections.create",
                200,
                self._batch(records, all_or_none, self._create_one),
                {},
            )
        if method == "PATCH" and not rest:
            return (
                "collections.update",
                200,
                self._batch(records, all_or_none, self._update_one),
                {},
            )
        if method == "PATCH" and len(rest) == 2:
            sobject, field_name = rest
            spec = self.org.fields(sobject).get(field_name)
            if spec is None or not spec.external_id:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"Field name provided, {field_name} is not an External ID or indexed field "
                    f"for {sobject}",
                )

            def upsert_one(item: Any) -> dict[str, Any]:
                return self._upsert_one(sobject, field_name, item)

            return "collections.upsert", 200, self._batch(records, all_or_none, upsert_one), {}
        raise not_found()

    def _batch(self, items: list[Any], all_or_none: bool, one: Any) -> list[dict[str, Any]]:
        before = self.org.snapshot() if all_or_none else None
        results: list[dict[str, Any]] = []
        failed = False
        for item in items:
            try:
                results.append({"success": True, "errors": [], **one(item)})
            except ApiError as error:
                failed = True
                results.append(
                    {
                        "id": item if isinstance(item, str) else None,
                        "success": False,
                        "errors": [
                            {
                                "statusCode": error.code,
                                "message": error.message,
                                "fields": error.fields or [],
                            }
                        ],
                    }
                )
        if failed and before is not None:
            self.org.restore(before)
            rolled = {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": ROLLED_BACK,
                "fields": [],
            }
            results = [
                r if not r["success"] else {"id": None, "success": False, "errors": [rolled]}
                for r in results
            ]
        return results

    def _create_one(self, item: Mapping[str, Any]) -> dict[str, Any]:
        sobject = item.get("attributes", {}).get("type")
        if not sobject:
            raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
        record = self.org.write(sobject, None, self.org.coerce(sobject, item, creating=True))
        return {"id": record.id}

    def _update_one(self, item: Mapping[str, Any]) -> dict[str, Any]:
        record = self.org.find(str(item.get("id") or item.get("Id") or ""))
        if record is None:
            raise ApiError(400, "INVALID_ID_FIELD", "invalid record id")
        if record.deleted:
            raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted")
        self._check_write(record)
        values = {k: v for k, v in item.items() if k.lower() != "id"}
        self.org.write(
            record.sobject, record.id, self.org.coerce(record.sobject, values, creating=False)
        )
        return {"id": record.id}

    def _upsert_one(self, sobject: str, field_name: str, item: Mapping[str, Any]) -> dict[str, Any]:
        value = item.get(field_name)
        if not isinstance(value, str) or not value:
            raise ApiError(400, "MISSING_ARGUMENT", f"{field_name} not specified")
        matches = self.org.by_external_id(sobject, field_name, value)
        if len(matches) > 1:
            raise ApiError(
                300,
                "DUPLICATE_EXTERNAL_ID",
                "Provided external ID field exists on multiple records: "
                + ", ".join(r.id for r in matches),
            )
        if not matches:
            record = self.org.write(sobject, None, self.org.coerce(sobject, item, creating=True))
            return {"id": record.id, "created": True}
        self._check_write(matches[0])
        values = {k: v for k, v in item.items() if k != field_name}
        self.org.write(sobject, matches[0].id, self.org.coerce(sobject, values, creating=False))
        return {"id": matches[0].id, "created": False}

    def _delete_one(self, record_id: str) -> dict[str, Any]:
        record = self.org.find(record_id)
        if record is None:
            raise ApiError(400, "INVALID_ID_FIELD", "invalid record id")
        if record.deleted:
            raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted")
        self._check_write(record)
        self.org.remove(record)
        return {"id": record.id}

    def _composite(self, data: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        requests_ = list(data.get("compositeRequest", []))
        all_or_none = bool(data.get("allOrNone", False))
        before = self.org.snapshot() if all_or_none else None
        answers: list[dict[str, Any]] = []
        references: dict[str, Any] = {}
        failed = False
        for sub in requests_:
            url = _substitute(str(sub.get("url", "")), references)
            body = sub.get("body")
            if body is not None:
                body = json.loads(_substitute(json.dumps(body, default=_json_value), references))
            sub_headers = CaseInsensitiveDict({**dict(headers), **sub.get("httpHeaders", {})})
            if failed and all_or_none:
                status, payload = (
                    400,
                    [
                        {
                            "errorCode": "PROCESSING_HALTED",
                            "message": HALTED,
                        }
                    ],
                )
            else:
                parts = urlsplit(url)
                try:
                    _, status, payload, _extra = self._route(
                        str(sub.get("method", "GET")).upper(),
                        parts.path,
                        parts.query,
                        sub_headers,
                        json.dumps(body, default=_json_value) if body is not None else "",
                    )
                except _AnswerNowError as answer:
                    status, payload = answer.status, answer.body
                except ApiError as error:
                    status, payload = error.status, error.body()
                except soql.SoqlError as error:
                    status, payload = 400, [{"errorCode": "MALFORMED_QUERY", "message": str(error)}]
                failed = failed or status >= 400
                if isinstance(payload, dict):
                    references[str(sub.get("referenceId"))] = payload
            answers.append(
                {
                    "body": payload,
                    "httpHeaders": {},
                    "httpStatusCode": status,
                    "referenceId": sub.get("referenceId"),
                }
            )
        if failed and before is not None:
            self.org.restore(before)
            halted = [
                {
                    "errorCode": "PROCESSING_HALTED",
                    "message": HALTED,
                }
            ]
            for answer in answers:
                if answer["httpStatusCode"] < 400:
                    answer["httpStatusCode"], answer["body"] = 400, halted
        return {"compositeResponse": answers}

    # --- login ---------------------------------------------------------------------------------

    def _soap_login(self, body: str) -> tuple[int, Any, dict[str, str]]:
        self.calls["login"] += 1
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 (our client's own request)
        except ElementTree.ParseError:
            root = None
        username = _xml_text(root, "username")
        password = _xml_text(root, "password")
        if username != self.username or password != self.password + self.security_token:
            fault = (
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
                "<faultcode>INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid "
                "username, password, security token; or user locked out.</faultstring>"
                "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
            )
            return 500, fault, {}
        token = self.new_token()
        ok = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
            f"<serverUrl>https://{INSTANCE}/services/Soap/u/59.0/00D5g000004Fake</serverUrl>"
            f"<sessionId>{token}</sessionId><userId>{API_USER}</userId>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return 200, ok, {}


def _xml_text(root: ElementTree.Element | None, local: str) -> str | None:
    if root is None:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == local:
            return element.text or ""
    return None


def _substitute(text: str, references: Mapping[str, Any]) -> str:
    for ref, payload in references.items():
        for key, value in payload.items():
            if isinstance(value, str):
                text = text.replace(f"@{{{ref}.{key}}}", value)
    return text


def _canonical_condition(cond: soql.Condition | None, canonical: Any) -> soql.Condition | None:
    if cond is None:
        return None
    if isinstance(cond, soql.Comparison):
        return soql.Comparison(canonical(cond.field), cond.op, cond.value)
    if isinstance(cond, soql.BoolOp):
        return soql.BoolOp(cond.op, tuple(_canonical_condition(c, canonical) for c in cond.items))  # type: ignore[misc]
    inner = _canonical_condition(cond.item, canonical)
    assert inner is not None
    return soql.Not(inner)


# --- signed pushes (the format a customer's Flow or Apex sends; see the connector) -----------


def signed_webhook(
    secret: str,
    events: list[Mapping[str, Any]],
    timestamp: float | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a push as the customer's Flow/Apex sends it: JSON `{"events": [...]}`,
    each `{"event_id", "object", "record_id", "occurred_at", "deleted"}`, signed with
    HMAC-SHA256 over "{timestamp}.{body}" in `X-Coterie-Signature: t=<unix>,v1=<hex>`.
    `timestamp` defaults to the wall clock; tests pass the fake clock's."""
    body = json.dumps({"events": list(events)}, default=_json_value).encode()
    stamp = int(timestamp if timestamp is not None else time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Coterie-Signature": f"t={stamp},v1={digest}",
    }, body
