"""Connection credentials encrypted at rest (Fernet: AES-CBC with an HMAC, from `cryptography`).

Keys come from `COTERIE_SYNC_KEYS` (comma-separated Fernet keys, newest first): values are
encrypted with the first and decrypted with any, so a new key is added in front, then
`coterie sync rotate-keys` re-encrypts every connection with it, then the old key is dropped.
Unset, one key is derived from the signing secret with HKDF (so a fresh install works); it
stays the last key tried for decrypting, so moving to configured keys is: set
`COTERIE_SYNC_KEYS` to a key from `coterie sync new-key`, then run `coterie sync rotate-keys`.
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coterie.config import Settings


class UnreadableSecretError(Exception):
    """Encrypted with a key that is no longer configured (or altered)."""


def _derived(secret: str) -> bytes:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"coterie sync credentials"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(key)


def cipher(settings: Settings) -> MultiFernet:
    if settings.sync_keys is not None:
        keys = [k.strip() for k in settings.sync_keys.get_secret_value().split(",") if k.strip()]
    else:
        keys = []
    # the key derived from the signing secret comes last: it encrypts only when no key is
    # configured, and still decrypts what it encrypted once keys are (then rotate-keys)
    keys.append(_derived(settings.secret()).decode())
    return MultiFernet([Fernet(k) for k in keys])


def new_key() -> str:
    return Fernet.generate_key().decode()


def seal(settings: Settings, values: dict[str, str]) -> str:
    return cipher(settings).encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def unseal(settings: Settings, token: str) -> dict[str, str]:
    try:
        data = cipher(settings).decrypt(token.encode())
    except InvalidToken as exc:
        raise UnreadableSecretError(
            "The credentials were encrypted with a key that is not configured any more."
        ) from exc
    loaded = json.loads(data)
    return {str(k): str(v) for k, v in loaded.items()}


def reseal(settings: Settings, token: str) -> str:
    """The same value encrypted with the first (newest) key."""
    return cipher(settings).rotate(token.encode()).decode()
