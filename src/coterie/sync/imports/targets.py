"""What a spreadsheet column may fill, and how a cell becomes a value.

Targets are the record's core (title, customer name and domain, description, and the Coterie id
of a record exported earlier) and every field of the importing company's template for the kind
(the standard fields, then its custom fields), each shown by its label. The mapping is guessed
from the header names (a header equal to a target's label, key or a usual synonym, compared
case-, accent- and punctuation-blind).

Cells are text. An empty cell sets nothing (an update leaves that field as it was). Numbers
accept thousands separators and a decimal comma (`1.234,50`, `1,234.50`, `1 234,5`; a comma
followed by exactly three digits and nothing else is a thousands separator); amounts may carry
a currency code or symbol (`EUR 1200`, `$1,200`); dates are YYYY-MM-DD, DD.MM.YYYY, or D/M/YYYY
when the day is above 12 (else refused as ambiguous); choices match an option's key or label;
an owner is a colleague's e-mail address. A bad cell raises `CellError` with a message for the
person who wrote the file.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coterie.fields.definitions import FieldDefinition, FieldType
from coterie.fields.kinds import Kind
from coterie.fields.templates import CompanyTemplate
from coterie.kit.money import clean_currency
from coterie.models import User

ID = "id"
TITLE = "title"
CUSTOMER_NAME = "customer_name"
CUSTOMER_DOMAIN = "customer_domain"
DESCRIPTION = "description"
CORE = (ID, TITLE, CUSTOMER_NAME, CUSTOMER_DOMAIN, DESCRIPTION)
SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CODE = re.compile(r"^(?:([A-Za-z]{3})\s*)?([^A-Za-z]*\d[^A-Za-z]*?)(?:\s*([A-Za-z]{3}))?$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_SLASHED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TRUE = frozenset({"true", "yes", "y", "1", "x", "oui", "ja", "si"})
_FALSE = frozenset({"false", "no", "n", "0", "non", "nein"})

SYNONYMS: dict[str, tuple[str, ...]] = {
    TITLE: ("name", "title", "subject", "deal", "deal name", "opportunity", "opportunity name",
            "lead", "lead name", "account", "account name", "company", "company name"),
    CUSTOMER_NAME: ("customer", "customer name", "client", "end customer", "account",
                    "account name", "company", "company name"),
    CUSTOMER_DOMAIN: ("domain", "website", "web site", "url", "customer domain", "company domain",
                      "customer website"),
    DESCRIPTION: ("description", "notes", "note", "details", "comments"),
    ID: ("id", "coterie id", "record id"),
    "amount": ("amount", "value", "deal value", "deal size", "revenue", "acv", "tcv"),
    "close_date": ("close date", "expected close", "expected close date", "closing date",
                   "close"),
    "forecast_category": ("forecast", "forecast category"),
    "owner": ("owner", "owner email", "rep", "sales rep", "account owner", "owner e mail"),
    "product": ("product", "solution", "product solution"),
}  # fmt: skip


def fold(text: str) -> str:
    """Case, accents and punctuation dropped: how headers and choices are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    group: str  # shown as the option group of the select
    definition: FieldDefinition | None  # None for the core
    required: bool = False


def targets(kind: str, template: CompanyTemplate) -> list[Target]:
    """Every field a column may fill, core first, in the order the select shows them."""
    title = "Account name" if kind == Kind.ACCOUNT.value else "Title"
    core = [
        Target(TITLE, title, "Record", None, required=True),
        Target(CUSTOMER_NAME, "Customer name", "Record", None),
        Target(CUSTOMER_DOMAIN, "Customer domain", "Record", None),
        Target(DESCRIPTION, "Description", "Record", None),
        Target(ID, "Coterie id (from an export)", "Record", None),
    ]
    mine = [
        Target(f.key, f.label or f.key, "My fields", f, required=f.required)
        for f in template.fields
    ]
    return core + mine


def guess(headers: list[str], available: list[Target], kind: str) -> list[str | None]:
    """A target per header (or None), each target used once, the header order deciding."""
    by_name: dict[str, str] = {}
    for target in available:
        names = [target.label, target.key, *SYNONYMS.get(target.key, ())]
        for name in names:
            by_name.setdefault(fold(name), target.key)
    if kind == Kind.ACCOUNT.value:  # an account's name is its title, not a customer
        for name in ("account", "account name", "company", "company name", "name"):
            by_name[fold(name)] = TITLE
    else:
        for name in ("account", "account name", "company", "company name", "customer"):
            by_name[fold(name)] = CUSTOMER_NAME
    used: set[str] = set()
    guessed: list[str | None] = []
    for header in headers:
        key = by_name.get(fold(header))
        if key is None or key in used:
            guessed.append(None)
            continue
        used.add(key)
        guessed.append(key)
    return guessed


class CellError(ValueError):
    """A cell that cannot be the value of its field; the message is for the file's author."""


def parse_number(text: str) -> Decimal:
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text)
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, *groups = cleaned.split(",")
        if len(groups) == 1 and len(groups[0]) != 3:
            cleaned = f"{head}.{groups[0]}"
        elif all(len(g) == 3 for g in groups):
            cleaned = head + "".join(groups)
    elif cleaned.count(".") > 1 and all(len(g) == 3 for g in cleaned.split(".")[1:]):
        cleaned = cleaned.replace(".", "")
    if not _PLAIN_NUMBER.match(cleaned):
        raise CellError("is not a number")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover (the pattern admits decimals only)
        raise CellError("is not a number") from exc
    return -value if negative else value


def parse_money(text: str) -> tuple[Decimal, str | None]:
    """An amount and the currency written with it, if any."""
    stripped = text.strip()
    currency = None
    for symbol, code in SYMBOLS.items():
        if symbol in stripped:
            currency, stripped = code, stripped.replace(symbol, "").strip()
            break
    found = _CODE.match(stripped)
    if found and (found.group(1) or found.group(3)) and currency is None:
        written = found.group(1) or found.group(3) or ""
        try:
            currency = clean_currency(written)
        except ValueError as exc:
            message = f"has an unknown currency {written!r} (use a code such as EUR)"
            raise CellError(message) from exc
        stripped = found.group(2)
    return parse_number(stripped), currency


def parse_date(text: str) -> str:
    year, month, day = 0, 0, 0
    if m := _ISO_DATE.match(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _DOTTED_DATE.match(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    elif m := _SLASHED_DATE.match(text):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            month, day = first, second
        elif first == second:
            day = month = first
        else:
            raise CellError(f"is ambiguous ({text}): write dates as YYYY-MM-DD")
    else:
        raise CellError("is not a date (write it as YYYY-MM-DD)")
    try:
        return date(year, month, day).isoformat()
    except ValueError as exc:
        raise CellError("is not a real date") from exc


def parse_choice(text: str, definition: FieldDefinition) -> str:
    wanted = fold(text)
    standard_labels: dict[str, str] = {}
    for option in definition.options or []:
        standard_labels[fold(option.label)] = option.key
    for key in definition.option_keys():
        standard_labels.setdefault(fold(key), key)
    found = standard_labels.get(wanted)
    if found is None:
        choices = [o.label for o in definition.options or []] or list(definition.option_keys())
        raise CellError(f"must be one of {', '.join(choices)}")
    return found


class Converter:
    """Cells into the values `records.service` takes, for one company (colleagues by e-mail
    are looked up once each)."""

    def __init__(self, session: Session, company_id: uuid.UUID) -> None:
        self.session = session
        self.company_id = company_id
        self._users: dict[str, uuid.UUID | None] = {}

    def colleague(self, email: str) -> uuid.UUID:
        key = email.strip().casefold()
        if key not in self._users:
            self._users[key] = self.session.scalar(
                select(User.id).where(
                    User.company_id == self.company_id,
                    func.lower(User.email) == key,
                    User.is_active.is_(True),
                )
            )
        found = self._users[key]
        if found is None:
            raise CellError(f"{email} is not the e-mail of an active user of your company")
        return found

    def value(self, definition: FieldDefinition, text: str, currency: str | None) -> Any:
        kind = definition.type
        if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
            if definition.key == "currency":
                try:
                    return clean_currency(text)
                except ValueError as exc:
                    raise CellError(f"{text!r} is not a currency code (such as EUR)") from exc
            return text
        if kind == FieldType.NUMBER:
            return str(parse_number(text))
        if kind == FieldType.MONEY:
            amount, written = parse_money(text)
            code = written or currency
            return {"value": str(amount), "currency": code} if code else str(amount)
        if kind == FieldType.DATE:
            return parse_date(text)
        if kind == FieldType.ENUM:
            return parse_choice(text, definition)
        if kind == FieldType.MULTI_ENUM:
            parts = [p for p in re.split(r"[;,|]", text) if p.strip()]
            return sorted({parse_choice(p, definition) for p in parts})
        if kind == FieldType.BOOL:
            folded = fold(text)
            if folded in _TRUE:
                return True
            if folded in _FALSE:
                return False
            raise CellError("must be yes or no")
        if kind == FieldType.USER:
            return str(self.colleague(text))
        raise CellError("cannot be imported")  # pragma: no cover (FieldType is closed)
