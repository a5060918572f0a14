"""Password hashing (argon2id) and the strength policy for new passwords."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from coterie.kit.problems import invalid

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable: moderate protection from offline attack"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# A valid hash of a random password: verifying against it when the e-mail is unknown keeps the
# response time of a failed login the same whether or not the account exists.
_DUMMY_HASH = _hasher.hash("coterie-no-such-account-placeholder")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _dictionary_words(user_inputs: list[str]) -> list[str]:
    """The inputs and each word in them: zxcvbn matches whole inputs only, so without the words
    "acmeanalytics" would pass as strong for the company "Acme Analytics"."""
    words = [u.lower() for u in user_inputs if u]
    words += [w for u in words for w in re.split(r"\W+", u) if len(w) >= 3]
    return list(dict.fromkeys(words))


def check_strength(password: str, path: str, *, user_inputs: list[str]) -> None:
    """Refuse a weak password with a 422 naming `path` and saying how to do better."""
    if len(password) < MIN_LENGTH:
        raise invalid(path, f"must be at least {MIN_LENGTH} characters", "weak-password")
    if len(password) > MAX_LENGTH:
        raise invalid(path, f"must be at most {MAX_LENGTH} characters", "weak-password")
    verdict = zxcvbn(password[:100], user_inputs=_dictionary_words(user_inputs))
    if verdict["score"] < MIN_SCORE:
        feedback = verdict.get("feedback", {})
        hint = (
            feedback.get("warning")
            or " ".join(feedback.get("suggestions", []))
            or ("add more words or characters")
        )
        raise invalid(path, f"is too easy to guess: {hint}".rstrip(), "weak-password")
