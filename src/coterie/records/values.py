"""Writing field values into a space: validate against the company's template, then store
standard fields in their typed columns and custom fields in the JSON column."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coterie.fields.defaults import DATE_RANGES
from coterie.fields.definitions import STANDARD_FIELDS, FieldType, Money, coerce_value
from coterie.fields.templates import CompanyTemplate
from coterie.kit.money import clean_currency
from coterie.kit.problems import invalid
from coterie.models import Space, User

MAX_STAGE = 60
MAX_PRODUCT = 200


def _json_value(value: Any) -> Any:
    if isinstance(value, Money):
        return {"value": f"{value.value:.2f}", "currency": value.currency}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def apply(
    session: Session,
    space: Space,
    template: CompanyTemplate,
    values: dict[str, Any],
    *,
    default_currency: str,
    path: str = "body.fields",
    creating: bool = False,
) -> list[str]:
    """Validate every value first, then write them all (never a partial write). Returns keys."""
    if creating:
        for field in template.fields:
            if field.default is not None and field.key not in values:
                values = {**values, field.key: field.default}
    converted: dict[str, Any] = {}
    for key, raw in values.items():
        field_path = f"{path}.{key}"
        definition = template.by_key.get(key)
        if definition is None:
            raise invalid(field_path, "is not a field of your template for this kind")
        if raw is None and definition.required:
            raise invalid(field_path, "is required")
        value = coerce_value(definition, raw, field_path, default_currency=default_currency)
        if key == "currency" and value is not None:
            try:
                value = clean_currency(value)
            except ValueError as exc:
                raise invalid(field_path, str(exc)) from exc
        if key == "stage" and value is not None and len(value) > MAX_STAGE:
            raise invalid(field_path, f"must be at most {MAX_STAGE} characters")
        if key == "product" and value is not None and len(value) > MAX_PRODUCT:
            raise invalid(field_path, f"must be at most {MAX_PRODUCT} characters")
        if definition.type == FieldType.USER and value is not None:
            _check_colleague(session, space.company_id, value, field_path)
        converted[key] = value
    if creating:
        for field in template.fields:
            if field.required and converted.get(field.key) is None:
                raise invalid(f"{path}.{field.key}", "is required")
    _check_date_ranges(template, space, converted, path)
    custom = dict(space.custom or {})
    for key, value in converted.items():
        standard = STANDARD_FIELDS.get(key)
        if standard is None:
            if value is None:
                custom.pop(key, None)
            else:
                custom[key] = _json_value(value)
        elif key == "amount":
            space.amount = value.value if isinstance(value, Money) else None
            if isinstance(value, Money):
                space.currency = value.currency
        else:
            setattr(space, standard.column, value)
    space.custom = custom
    return sorted(converted)


def _check_date_ranges(
    template: CompanyTemplate, space: Space, converted: dict[str, Any], path: str
) -> None:
    """An end date (`fields.defaults.DATE_RANGES`) before its start date: 422 on the end."""
    for start_key, end_key in DATE_RANGES.get(template.kind, ()):
        if start_key not in template.by_key or end_key not in template.by_key:
            continue
        start = _date_of(
            converted[start_key] if start_key in converted else _stored(space, start_key)
        )
        end = _date_of(converted[end_key] if end_key in converted else _stored(space, end_key))
        if start is not None and end is not None and end < start:
            label = template.by_key[start_key].label or start_key
            raise invalid(f"{path}.{end_key}", f"must not be before the {label.lower()}")


def _stored(space: Space, key: str) -> Any:
    return (space.custom or {}).get(key)


def _date_of(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _check_colleague(
    session: Session, company_id: uuid.UUID, user_id: uuid.UUID, path: str
) -> None:
    user = session.scalar(select(User).where(User.id == user_id, User.company_id == company_id))
    if user is None or not user.is_active:
        raise invalid(path, "is not an active user of your company")
