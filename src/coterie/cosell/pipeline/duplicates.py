"""Duplicate detection for leads: records the caller may see with the same customer.

A candidate is a lead, opportunity or account that the caller's gate admits (`gate.visible`):
the search never looks at anything else, so it cannot reveal a record another company keeps to
itself. It matches when its customer domain equals the given one (normalized: lower case, no
scheme, path, port or `www.`), or when its normalized customer name (case-folded, accents and
punctuation dropped, legal suffixes such as Inc, Ltd, LLC, GmbH, SA, AG, plc, Corp removed) is
the same or similar (difflib ratio >= 0.88).

Names are compared in Python over the newest `SCAN_LIMIT` visible records per kind that have a
customer name; domains are compared in SQL over all of them.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import uuid
from collections.abc import Iterable

from sqlalchemy import or_
from sqlalchemy.orm import Session

from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.cosell.pipeline.schemas import DuplicateOut, MatchReason
from coterie.fields.kinds import Kind
from coterie.models import Record

SIMILARITY = 0.88
SCAN_LIMIT = 2000
MAX_RESULTS = 25
DEFAULT_KINDS = (Kind.LEAD.value, Kind.OPPORTUNITY.value, Kind.ACCOUNT.value)
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "gmbh", "mbh", "sa", "sas",
        "sarl", "ag", "plc", "corp", "corporation", "co", "company", "bv", "nv", "srl", "spa",
        "pty", "pte", "kk", "oy", "ab", "as", "aps", "kg", "se", "ug", "group",
    }
)  # fmt: skip
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize_domain(value: str | None) -> str | None:
    """`https://www.Acme.com/about` -> `acme.com`; None for nothing usable."""
    if not value:
        return None
    text = value.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    text = text.removeprefix("www.")
    return text or None


def normalize_name(value: str | None) -> str:
    """`Acme, Inc.` -> `acme`; `Müller GmbH & Co. KG` -> `muller`."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKD", value.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = [w for w in _NON_WORD.split(text.replace("&", " ")) if w]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _match(record: Record, domain: str | None, name: str) -> tuple[MatchReason, float] | None:
    if domain and normalize_domain(record.customer_domain) == domain:
        return MatchReason.DOMAIN, 1.0
    other = normalize_name(record.customer_name)
    if not name or not other:
        return None
    if other == name:
        return MatchReason.NAME, 1.0
    score = similarity(name, other)
    if score >= SIMILARITY:
        return MatchReason.SIMILAR_NAME, round(score, 3)
    return None


def find(
    session: Session,
    principal: Principal,
    *,
    customer_name: str,
    customer_domain: str | None,
    kinds: Iterable[str] = DEFAULT_KINDS,
    exclude: uuid.UUID | None = None,
) -> list[DuplicateOut]:
    """Records of `kinds` the principal may see whose customer is the same or similar."""
    domain = normalize_domain(customer_domain)
    name = normalize_name(customer_name)
    if not domain and not name:
        return []
    found: dict[uuid.UUID, DuplicateOut] = {}
    for kind in kinds:
        candidates: list[Record] = []
        if domain:
            by_domain = gate.visible(principal, kind).where(Record.customer_domain == domain)
            candidates.extend(session.scalars(by_domain.limit(MAX_RESULTS)))
        if name:
            named = gate.visible(principal, kind).where(Record.customer_name != "")
            if domain:  # those were read above
                named = named.where(
                    or_(Record.customer_domain.is_(None), Record.customer_domain != domain)
                )
            candidates.extend(session.scalars(named.order_by(Record.id.desc()).limit(SCAN_LIMIT)))
        for record in candidates:
            if record.id == exclude or record.id in found:
                continue
            matched = _match(record, domain, name)
            if matched is None:
                continue
            found[record.id] = DuplicateOut(
                record_id=record.id,
                kind=record.kind,
                title=record.title,
                customer_name=record.customer_name,
                customer_domain=record.customer_domain,
                match=matched[0],
                score=matched[1],
            )
    ordered = sorted(found.values(), key=lambda d: (-d.score, d.kind, d.title.lower()))
    return ordered[:MAX_RESULTS]
