"""Field definitions: the standard fields every space has, custom field types, and values.

A template (per company and kind) lists custom fields and, by key, the standard fields whose
visibility the company sets. Standard fields live in typed columns of `record_spaces` (so reports
aggregate them in SQL); custom values live in the space's JSON column, keyed by field key.
Values arriving from clients are checked and converted here, with a field path on every error.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from coterie.kit.money import clean_currency
from coterie.kit.problems import invalid
from coterie.models.vocabulary import Industry, Region


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    ENUM = "enum"
    MULTI_ENUM = "multi_enum"
    USER = "user"
    BOOL = "bool"


class ForecastCategory(StrEnum):
    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"
    OMITTED = "omitted"


@dataclass(frozen=True)
class StandardField:
    key: str
    label: str
    type: FieldType
    column: str
    options: tuple[str, ...] = ()


def _options(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _standard() -> dict[str, StandardField]:
    fields = [
        StandardField("amount", "Amount", FieldType.MONEY, "amount"),
        StandardField("currency", "Currency", FieldType.TEXT, "currency"),
        StandardField("stage", "Stage", FieldType.TEXT, "stage"),
        StandardField(
            "forecast_category",
            "Forecast category",
            FieldType.ENUM,
            "forecast_category",
            _options(ForecastCategory),
        ),
        StandardField("close_date", "Close date", FieldType.DATE, "close_date"),
        StandardField("owner", "Owner", FieldType.USER, "owner_user_id"),
        StandardField("region", "Region", FieldType.ENUM, "region", _options(Region)),
        StandardField("industry", "Industry", FieldType.ENUM, "industry", _options(Industry)),
        StandardField("product", "Product / solution", FieldType.TEXT, "product"),
    ]
    return {f.key: f for f in fields}


STANDARD_FIELDS: dict[str, StandardField] = _standard()
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_CUSTOM_FIELDS = 100
# names of the shared core (and of list/query syntax): a custom field must not shadow them
RESERVED_KEYS = frozenset(
    {
        "id", "kind", "title", "customer_name", "customer_domain", "account_id", "motion",
        "description", "joint_stage", "owner_company", "version", "created_at", "updated_at",
        "mine",
    }
)  # fmt: skip
MAX_TEXT = 1000
MAX_EXPONENT = 16  # numbers below 10^16 in size
# Money below 10^13: with its cents at most 15 significant digits, which PostgreSQL's NUMERIC
# and SQLite's 8-byte float (its only non-integer number) both keep exactly.
MAX_MONEY_EXPONENT = 13
MIN_EXPONENT = -15  # and, unless 0, at least 10^-15
MAX_LONG_TEXT = 20000
MAX_OPTIONS = 200


class CompaniesAudience(BaseModel):
    model_config = ConfigDict(extra="forbid")

    companies: list[uuid.UUID] = Field(min_length=1, max_length=500)


Visibility = Literal["private", "participants"] | CompaniesAudience


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN.pattern)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class FieldDefinition(BaseModel):
    """One entry of a template's `fields`."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN.pattern)]
    label: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    type: FieldType | None = None
    visibility: Visibility = "private"
    required: bool = False
    default: Any = None
    options: list[Option] | None = Field(default=None, max_length=MAX_OPTIONS)
    help: Annotated[str, StringConstraints(max_length=500)] = ""

    @model_validator(mode="after")
    def _standard_or_custom(self) -> FieldDefinition:
        standard = STANDARD_FIELDS.get(self.key)
        if standard is not None:
            if self.type is not None and self.type != standard.type:
                raise ValueError(f"{self.key} is a standard field of type {standard.type.value}")
            if self.options is not None:
                raise ValueError(f"{self.key} is a standard field: its options are fixed")
            self.type = standard.type
            self.label = self.label or standard.label
            return self
        if self.key in RESERVED_KEYS:
            raise ValueError(f"{self.key} names a field of the shared core; choose another key")
        if self.type is None:
            raise ValueError("type is required for a custom field")
        self.label = self.label or self.key.replace("_", " ").capitalize()
        needs_options = self.type in (FieldType.ENUM, FieldType.MULTI_ENUM)
        if needs_options and not self.options:
            raise ValueError(f"a {self.type.value} field needs options")
        if not needs_options and self.options is not None:
            raise ValueError(f"a {self.type.value} field has no options")
        if self.options and len({o.key for o in self.options}) != len(self.options):
            raise ValueError("option keys must be unique")
        return self

    @property
    def is_standard(self) -> bool:
        return self.key in STANDARD_FIELDS

    def option_keys(self) -> tuple[str, ...]:
        standard = STANDARD_FIELDS.get(self.key)
        if standard is not None:
            return standard.options
        return tuple(o.key for o in self.options or [])

    def visibility_mode(self) -> str:
        return self.visibility if isinstance(self.visibility, str) else "companies"


def default_definition(key: str) -> FieldDefinition:
    """A standard field the template does not mention: private (shared only on purpose)."""
    return FieldDefinition(key=key)


@dataclass(frozen=True)
class Money:
    value: Decimal
    currency: str


def coerce_value(definition: FieldDefinition, raw: Any, path: str, *, default_currency: str) -> Any:
    """The stored form of `raw` for this field, or a 422 naming `path`. None clears a value."""
    if raw is None:
        return None
    kind = definition.type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        limit = MAX_LONG_TEXT if kind == FieldType.LONG_TEXT else MAX_TEXT
        if not isinstance(raw, str):
            raise invalid(path, "must be a string")
        if len(raw) > limit:
            raise invalid(path, f"must be at most {limit} characters")
        return raw
    if kind == FieldType.NUMBER:
        return _number(raw, path)
    if kind == FieldType.MONEY:
        return _money(raw, path, default_currency)
    if kind == FieldType.DATE:
        if not isinstance(raw, str) or not DATE_PATTERN.match(raw):
            raise invalid(path, "must be a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise invalid(path, "is not a real date") from exc
    if kind == FieldType.ENUM:
        if raw not in definition.option_keys():
            raise invalid(path, f"must be one of {', '.join(definition.option_keys())}")
        return raw
    if kind == FieldType.MULTI_ENUM:
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise invalid(path, "must be a list of option keys")
        unknown = [v for v in raw if v not in definition.option_keys()]
        if unknown:
            raise invalid(path, f"has unknown options: {', '.join(unknown)}")
        return sorted(set(raw))
    if kind == FieldType.BOOL:
        if not isinstance(raw, bool):
            raise invalid(path, "must be true or false")
        return raw
    if kind == FieldType.USER:
        try:
            return uuid.UUID(str(raw))
        except ValueError as exc:
            raise invalid(path, "must be a user id") from exc
    raise invalid(path, "has an unknown type")  # pragma: no cover (FieldType is closed)


def _number(raw: Any, path: str, max_exponent: int = MAX_EXPONENT) -> Decimal:
    """A finite decimal below 10^max_exponent in size and, unless 0, at least 10^-15 (what a
    float keeps and a filter can name). The bounds are checked on the exponent, before any
    arithmetic: a value such as 1e1000000 overflows the decimal context once computed with."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise invalid(path, "must be a number")
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise invalid(path, "must be a number") from exc
    if not value.is_finite() or (value and not MIN_EXPONENT <= value.adjusted() < max_exponent):
        raise invalid(
            path,
            f"must be a finite number below 10^{max_exponent} in size "
            f"(and 0 or at least 10^{MIN_EXPONENT})",
        )
    return value if value else Decimal(0)  # -0 is 0


def _money(raw: Any, path: str, default_currency: str) -> Money:
    if isinstance(raw, dict):
        if set(raw) - {"value", "currency"} or "value" not in raw:
            raise invalid(path, 'must be a number or {"value": "1234.50", "currency": "EUR"}')
        currency = raw.get("currency", default_currency)
        try:
            currency = clean_currency(str(currency))
        except ValueError as exc:
            raise invalid(f"{path}.currency", str(exc)) from exc
        path = f"{path}.value"
        value = _number(raw["value"], path, MAX_MONEY_EXPONENT)
    else:
        value, currency = _number(raw, path, MAX_MONEY_EXPONENT), default_currency
    if value < 0:
        raise invalid(path, "must not be negative")
    if value != value.quantize(Decimal("0.01")):
        raise invalid(path, "must have at most two decimal places")
    return Money(value.quantize(Decimal("0.01")), currency)
