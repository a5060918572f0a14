"""Match-or-create: which existing record an incoming one (a CRM record, a spreadsheet row) is.

Shared by the sync engine (initial load) and spreadsheet import. Everything is read as a
principal through the gate: only records the principal may see are ever candidates, so a
record another company keeps to itself cannot be matched, updated or even hinted at.

The order, first decisive step wins:
1. `known_id` (a link, a Coterie id column): the record when the principal can see it
   (`gate.check`); an id it cannot see is treated as absent, never as an error.
2. The customer domain, normalized (lower case, no scheme, no `www.`, no path or port): visible
   records of the kind with exactly that `customer_domain` (SQL equality on the
   `(kind, customer_domain)` index, at most `DOMAIN_CAP`). For an account the domain is the
   customer: one such account is the match. For a lead or opportunity one customer has several
   deals, so the domain only narrows: the deals at that domain are scored on their name as in
   step 3, and when none is close the incoming deal is a new deal at a known customer.
3. Name similarity (`rapidfuzz` `token_sort_ratio`, 0 to 1) on normalized names: case folded,
   accents and punctuation dropped, legal suffixes (Inc, Ltd, GmbH, SA...) removed. An account
   compares its name with the candidate's title and customer name (the better of the two); a
   lead or opportunity compares its title, and when both sides name a customer, weighs the
   customer name in (60 % title, 40 % customer).

Candidates for step 3 are narrowed in SQL before any scoring: visible records of the kind whose
title or customer name holds at least one significant word of the incoming name (a word of
three characters or more that is not a legal suffix; at most `MAX_WORDS`, the longest), found
through the full-text index (`records.search.core_word_matches`), newest first, at most
`NAME_CAP` records. A record sharing no such word is never a candidate. When the incoming
record names a domain, a candidate with another (non-empty) domain is a different customer and
is dropped.

The decision over scored candidates: exactly one scoring 1 (the same normalized name) is the
match; several scoring 1 are ambiguous; otherwise one at `MATCH_AT` or above, ahead of the next
by `MARGIN`, is the match; any at `GREY_FROM` or above make it ambiguous (a person chooses among
the candidates, best first); nothing is "none" (create).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from coterie.authz import gate
from coterie.authz.principal import Principal
from coterie.cosell.pipeline.duplicates import LEGAL_SUFFIXES, normalize_domain, normalize_name
from coterie.fields.kinds import Kind
from coterie.kit.problems import Problem
from coterie.models import Record
from coterie.records.search import core_word_matches, search_terms

MATCH_AT = 0.92
GREY_FROM = 0.75
MARGIN = 0.08
DOMAIN_CAP = 50
NAME_CAP = 200
MAX_WORDS = 6
MAX_CANDIDATES = 5
TITLE_WEIGHT = 0.6
_STOP_WORDS = LEGAL_SUFFIXES | {"the", "and", "for", "with", "der", "die", "das", "les", "des"}


@dataclass(frozen=True)
class Candidate:
    record_id: uuid.UUID
    title: str
    customer_name: str
    customer_domain: str | None
    score: float
    reason: str  # "id" | "domain" | "name"


@dataclass(frozen=True)
class Match:
    outcome: str  # "id" | "domain" | "name" | "none" | "ambiguous"
    record_id: uuid.UUID | None
    candidates: tuple[Candidate, ...]


NONE = Match("none", None, ())


def match(
    session: Session,
    principal: Principal,
    kind: str,
    *,
    name: str,
    domain: str | None = None,
    known_id: uuid.UUID | None = None,
    customer_name: str | None = None,
    exclude: Collection[uuid.UUID] = (),
) -> Match:
    """The visible record of `kind` that `name` (a title; for an account its name), `domain`
    and `customer_name` describe, by the rules of the module doc. `exclude`: records that may
    not be matched (an import leaves out those it created itself, so a dry run and the run
    decide alike)."""
    if known_id is not None and known_id not in exclude:
        try:
            record = gate.check(session, principal, kind, known_id)
        except Problem:
            record = None  # hidden means nonexistent: carry on as if no id were given
        if record is not None:
            found = _candidate(record, 1.0, "id")
            return Match("id", record.id, (found,))
    wanted_domain = normalize_domain(domain)
    key = _Key(kind, name, customer_name)
    if wanted_domain:
        by_domain = [
            r
            for r in session.scalars(
                gate.visible(principal, kind)
                .where(Record.customer_domain == wanted_domain)
                .limit(DOMAIN_CAP)
            )
            if r.id not in exclude
        ]
        if by_domain:
            if kind == Kind.ACCOUNT.value and len(by_domain) == 1:
                return Match("domain", by_domain[0].id, (_candidate(by_domain[0], 1.0, "domain"),))
            decided = _decide([_candidate(r, key.score(r), "domain") for r in by_domain], "domain")
            if decided.outcome != "none":
                return decided
            if kind == Kind.ACCOUNT.value:  # several accounts share the domain, none by name
                ranked = sorted(
                    (_candidate(r, key.score(r), "domain") for r in by_domain), key=_order
                )
                return Match("ambiguous", None, tuple(ranked[:MAX_CANDIDATES]))
    words = _significant_words([name, customer_name or ""])
    if not words:
        return NONE
    dialect = session.get_bind().dialect.name
    ids = core_word_matches(dialect, principal, kind, words, ("title", "customer_name"))
    statement = (
        gate.visible(principal, kind)
        .where(Record.id.in_(ids))
        .order_by(Record.id.desc())
        .limit(NAME_CAP)
    )
    scored = [
        _candidate(r, key.score(r), "name")
        for r in session.scalars(statement)
        if r.id not in exclude
        and not (wanted_domain and r.customer_domain and r.customer_domain != wanted_domain)
    ]
    return _decide(scored, "name")


class _Key:
    """The incoming record's normalized names, and its similarity to a candidate (0 to 1)."""

    def __init__(self, kind: str, name: str, customer_name: str | None) -> None:
        self.is_account = kind == Kind.ACCOUNT.value
        self.name = normalize_name(name)
        self.customer = normalize_name(customer_name)

    def score(self, record: Record) -> float:
        if self.is_account:
            names = [normalize_name(record.title), normalize_name(record.customer_name)]
            return max((_similarity(self.name, n) for n in names if n), default=0.0)
        title = _similarity(self.name, normalize_name(record.title))
        theirs = normalize_name(record.customer_name)
        if not self.customer or not theirs:
            return title
        customer = _similarity(self.customer, theirs)
        return round(TITLE_WEIGHT * title + (1 - TITLE_WEIGHT) * customer, 4)


def _similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return round(fuzz.token_sort_ratio(a, b) / 100, 4)


def _significant_words(texts: Iterable[str]) -> list[str]:
    words = {
        word
        for text in texts
        for word in search_terms(text)
        if len(word) >= 3 and word not in _STOP_WORDS
    }
    return sorted(words, key=lambda w: (-len(w), w))[:MAX_WORDS]


def _candidate(record: Record, score: float, reason: str) -> Candidate:
    return Candidate(
        record_id=record.id,
        title=record.title,
        customer_name=record.customer_name,
        customer_domain=record.customer_domain,
        score=score,
        reason=reason,
    )


def _order(candidate: Candidate) -> tuple[float, str, str]:
    return -candidate.score, candidate.title.casefold(), str(candidate.record_id)


def _decide(scored: list[Candidate], reason: str) -> Match:
    ranked = sorted((c for c in scored if c.score >= GREY_FROM), key=_order)
    if not ranked:
        return NONE
    exact = [c for c in ranked if c.score >= 1.0]
    if len(exact) == 1:
        return Match(reason, exact[0].record_id, (exact[0],))
    best = ranked[0]
    clear = len(ranked) == 1 or best.score - ranked[1].score >= MARGIN
    if not exact and best.score >= MATCH_AT and clear:
        return Match(reason, best.record_id, (best,))
    return Match("ambiguous", None, tuple(ranked[:MAX_CANDIDATES]))
