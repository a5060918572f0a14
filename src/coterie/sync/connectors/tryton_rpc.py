"""Tryton's JSON-RPC over one kept-alive HTTP connection: session login, calls, and errors.

Owns the wire: `POST /<database>/rpc/` with `{"id", "method", "params"}`, Tryton's JSON
encoding of Decimal, date and datetime (`{"__class__": ...}`), the session header
(`Session base64(login:user_id:token)`), and the translation of what goes wrong into the
connector contract's errors:

- the password refused, the database unknown, a session that stays refused -> AuthExpired
  (an expired session is logged in again once, transparently, before giving up);
- connection refused, a timeout, a dropped connection, HTTP 5xx -> TransientError; HTTP 429
  -> RateLimited;
- Tryton's `UserError` / `UserWarning` -> TrytonUserError (a PermanentError carrying Tryton's
  message); `ConcurrencyException` -> TrytonConcurrencyError (a RemoteConflict the connector
  completes with the current record); a server-side crash -> PermanentError with its message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from coterie.sync.connectors.base import (
    AuthExpired,
    PermanentError,
    RateLimited,
    RemoteConflict,
    TransientError,
)


class TrytonUserError(PermanentError):
    """Tryton refused the call with a message for its user (validation, access, workflow)."""

    def __init__(self, message: str, description: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.description = description


class TrytonConcurrencyError(RemoteConflict):
    """The `_timestamp` given with a write no longer matches the record (changed since)."""


class TrytonServerError(PermanentError):
    """Tryton failed on its side with an exception that is not a user error (e.g. a field
    name it does not know: the error is the KeyError's repr)."""


def encode(value: Any) -> Any:
    """A Python value as Tryton's JSON-RPC expects it."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decode(value: Any) -> Any:
    """Tryton's JSON-RPC value as Python (datetimes stay naive: Tryton's are UTC)."""
    if isinstance(value, dict):
        kind = value.get("__class__")
        if kind == "Decimal":
            return Decimal(value["decimal"])
        if kind == "date":
            return date(value["year"], value["month"], value["day"])
        if kind == "datetime":
            return datetime(
                value["year"],
                value["month"],
                value["day"],
                value["hour"],
                value["minute"],
                value["second"],
                value.get("microsecond", 0),
            )
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


_TRANSIENT_SERVER_ERRORS = ("database is locked", "could not serialize", "OperationalError")


class TrytonRpc:
    """One Tryton user's session on one database."""

    def __init__(
        self, url: str, database: str, user: str, password: str, timeout: float = 30.0
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.user = user
        self._password = password
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        self._session: str | None = None
        self.user_id: int | None = None
        self.context: dict[str, Any] = {}

    def close(self) -> None:
        self._http.close()

    # --- session --------------------------------------------------------------------------

    def login(self) -> None:
        """A new session, and the user's preferences as the context of every call."""
        self._session = None
        try:
            result = self._post(
                "common.db.login", [self.user, {"password": self._password}], login=True
            )
        except TrytonUserError as error:  # a LoginException: another factor is asked for
            raise AuthExpired(f"Tryton asks {self.user} for more than a password") from error
        user_id, token = result[0], result[1]
        self.user_id = int(user_id)
        self._session = base64.b64encode(f"{self.user}:{user_id}:{token}".encode()).decode()
        self.context = self._post("model.res.user.get_preferences", [True, {}])

    def server_version(self) -> str:
        response = self._send("/rpc/", "common.server.version", [])
        return str(response)

    # --- calls ----------------------------------------------------------------------------

    def call(self, model: str, method: str, *args: Any, **context: Any) -> Any:
        """`model.<model>.<method>(*args, context)`; logs in first, and again once when the
        session has expired."""
        if self._session is None:
            self.login()
        name = f"model.{model}.{method}"
        try:
            return self._post(name, [*args, {**self.context, **context}])
        except _SessionRefused:
            self.login()
            try:
                return self._post(name, [*args, {**self.context, **context}])
            except _SessionRefused:
                raise AuthExpired(f"Tryton keeps refusing the session of {self.user}") from None

    def _post(self, method: str, params: list[Any], login: bool = False) -> Any:
        try:
            return self._send(f"/{quote(self.database)}/rpc/", method, params, login=login)
        except _SessionRefused:
            if login:
                raise AuthExpired(
                    f"Tryton refused the user {self.user!r} on database {self.database!r}: "
                    "check the user and password"
                ) from None
            raise

    def _send(self, path: str, method: str, params: list[Any], login: bool = False) -> Any:
        headers = {}
        if self._session and not login:
            headers["Authorization"] = f"Session {self._session}"
        try:
            response = self._http.post(
                path, json={"id": 0, "method": method, "params": encode(params)}, headers=headers
            )
        except httpx.TimeoutException as error:
            raise TransientError(f"Tryton at {self.url} did not answer in time") from error
        except httpx.TransportError as error:
            raise TransientError(f"cannot reach Tryton at {self.url}: {error}") from error
        status = response.status_code
        if status == 401:
            raise _SessionRefused
        if status == 403:
            raise AuthExpired(f"Tryton forbids {method} to {self.user}")
        if status == 404:
            raise AuthExpired(f"Tryton at {self.url} has no database {self.database!r}")
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited(
                "Tryton refused for rate (too many attempts)",
                retry_after=float(retry_after) if retry_after else None,
            )
        if status >= 500:
            raise TransientError(f"Tryton answered HTTP {status} to {method}")
        if status >= 400:
            raise PermanentError(f"Tryton answered HTTP {status} to {method}: {response.text}")
        try:
            body = response.json()
        except ValueError as error:
            raise TransientError(f"Tryton answered {method} with something not JSON") from error
        if "error" in body and body["error"] is not None:
            raise _fault(body["error"])
        return decode(body.get("result"))


class _SessionRefused(Exception):  # noqa: N818 (internal signal, never leaves this module)
    pass


def _fault(error: Any) -> Exception:
    kind, detail = error, ""
    if isinstance(error, list) and len(error) > 1:
        kind, detail = error[0], error[1]
    if kind == "ConcurrencyException":
        return TrytonConcurrencyError(str(detail) or "the record was modified in the meanwhile")
    if kind == "UserError" and isinstance(detail, list) and detail:
        return TrytonUserError(str(detail[0]), str(detail[1] or "") if len(detail) > 1 else "")
    if kind == "UserWarning" and isinstance(detail, list) and len(detail) > 1:
        return TrytonUserError(str(detail[1]), str(detail[2] or "") if len(detail) > 2 else "")
    if kind == "LoginException":
        return TrytonUserError(str(detail))
    message = str(kind)
    if any(marker in message or marker in str(detail) for marker in _TRANSIENT_SERVER_ERRORS):
        return TransientError(f"Tryton failed for now: {message}")
    return TrytonServerError(f"Tryton failed: {message}")
