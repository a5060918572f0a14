"""Signed, expiring tokens sent by e-mail (invitations, password resets), via itsdangerous."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from coterie.kit.problems import Problem


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"coterie.{purpose}")


def sign(secret: str, purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(secret, purpose).dumps(payload)


def unsign(secret: str, purpose: str, token: str, max_age_seconds: int) -> dict[str, Any]:
    """The payload of a valid token; 400 with a precise reason otherwise."""
    try:
        payload = _serializer(secret, purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise Problem(400, "token-expired", "Token expired", "This link has expired.") from exc
    except BadSignature as exc:
        raise Problem(400, "token-invalid", "Invalid token", "This link is not valid.") from exc
    if not isinstance(payload, dict):
        raise Problem(400, "token-invalid", "Invalid token", "This link is not valid.")
    return payload
