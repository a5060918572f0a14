"""Opaque bearer secrets: generated with the OS random source, stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets as _random

TOKEN_PREFIXES = {"personal": "ctp_", "login": "ctl_", "session": "cts_"}


def new_secret(kind: str) -> str:
    return TOKEN_PREFIXES[kind] + _random.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[:10]
