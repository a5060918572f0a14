"""Signed links as they would look had they been issued earlier (itsdangerous, no clock tricks)."""

from __future__ import annotations

import time
from datetime import timedelta

from itsdangerous import TimestampSigner, URLSafeTimedSerializer


def backdated(token: str, secret: str, purpose: str, age: timedelta) -> str:
    """The same payload as `token`, signed as if `age` ago (salt `coterie.{purpose}`)."""
    salt = f"coterie.{purpose}"
    payload = URLSafeTimedSerializer(secret, salt=salt).loads(token)
    issued_at = int(time.time() - age.total_seconds())

    class EarlierSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return issued_at

    return URLSafeTimedSerializer(secret, salt=salt, signer=EarlierSigner).dumps(payload)
