"""Credentials typed into the "connect" form, checked against the CRM before anything is saved.

`cleaned` keeps the connector's own `credential_fields` (a secret left empty on a reconnect
keeps the saved one) and refuses a missing required one with its field path; `verified` builds
the connector and calls its `check()`: a refusal is a 422 whose message is the connector's,
on the field it most likely concerns, and nothing is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from coterie.kit.problems import Problem, invalid
from coterie.sync.connectors.base import AuthExpired, Connector, CredentialField, SyncError
from coterie.sync.connectors.registry import UnknownConnector, connector_class

log = logging.getLogger(__name__)
PATH = "body.credentials"


def connector_kind(kind: str) -> type[Connector]:
    try:
        return connector_class(kind)
    except UnknownConnector:
        raise invalid("body.kind", "is not a CRM connector installed here") from None


def cleaned(
    cls: type[Connector], given: Mapping[str, str], saved: Mapping[str, str] | None = None
) -> dict[str, str]:
    values: dict[str, str] = {}
    missing: list[CredentialField] = []
    for field in cls.credential_fields:
        value = (given.get(field.name) or "").strip()
        if not value and saved is not None and field.secret:
            value = saved.get(field.name, "")
        if not value and saved is not None and field.name not in given:
            value = saved.get(field.name, "")
        if value:
            values[field.name] = value
        elif field.required:
            missing.append(field)
    if missing:
        errors = [
            {"path": f"{PATH}.{f.name}", "message": f"{f.label} is required", "type": "missing"}
            for f in missing
        ]
        raise Problem(
            422,
            "validation-error",
            "Invalid request",
            "; ".join(f"{e['path']}: {e['message']}" for e in errors),
            errors=errors,
        )
    return values


def _blamed(cls: type[Connector], exc: Exception) -> str:
    """The credential field a refusal most likely concerns."""
    names = [f.name for f in cls.credential_fields]
    named = getattr(exc, "field_name", None) or getattr(exc, "field", None)
    if isinstance(named, str) and named in names:
        return named
    secrets = [f.name for f in cls.credential_fields if f.secret]
    others = [f.name for f in cls.credential_fields if not f.secret]
    if isinstance(exc, AuthExpired) and secrets:
        return secrets[0]
    if others:
        return others[0]
    return names[0] if names else ""


def refused(cls: type[Connector], exc: Exception) -> Problem:
    message = str(exc) if isinstance(exc, SyncError) and str(exc) else None
    if message is None:
        log.info("%s refused the credentials: %r", cls.kind, exc)
        message = f"{cls.label} could not be reached with these settings ({type(exc).__name__})."
    blamed = _blamed(cls, exc)
    path = f"{PATH}.{blamed}" if blamed else PATH
    return Problem(
        422,
        "crm-refused",
        f"{cls.label} refused the connection",
        message,
        errors=[{"path": path, "message": message, "type": "crm-refused"}],
    )


def verified(cls: type[Connector], credentials: Mapping[str, str]) -> tuple[Connector, str]:
    """The connector logged in with `credentials`, and its sentence; else the 422."""
    try:
        connector = cls(credentials)
        sentence = connector.check()
    except Exception as exc:  # a connector's own error or its client's: never a 500
        raise refused(cls, exc) from exc
    return connector, sentence
