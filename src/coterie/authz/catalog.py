"""What access rules may talk about: a record's shared core and the rule owner's own space.

`catalog()` lists the fields with their types (for `conditions.parse`), `columns()` gives the
SQL expression of each (for `conditions.to_sql`) and `attributes()` the Python value of each for
one record (for `conditions.evaluate`): three views of one list, kept side by side here.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from coterie.authz.conditions import FieldCatalog, FieldSpec
from coterie.fields.definitions import STANDARD_FIELDS, FieldDefinition, FieldType
from coterie.fields.kinds import Motion
from coterie.fields.templates import CompanyTemplate
from coterie.models import Record, Space

CORE_FIELDS: dict[str, FieldSpec] = {
    "title": FieldSpec(FieldType.TEXT),
    "customer_name": FieldSpec(FieldType.TEXT),
    "customer_domain": FieldSpec(FieldType.TEXT),
    "motion": FieldSpec(FieldType.ENUM, options=tuple(m.value for m in Motion)),
    "joint_stage": FieldSpec(FieldType.TEXT),
    "owner_company": FieldSpec("company"),
}


def _usable(definition: FieldDefinition) -> bool:
    """Custom money values are stored as {"value", "currency"}: rules use the standard amount."""
    return definition.is_standard or definition.type != FieldType.MONEY


def catalog(template: CompanyTemplate) -> FieldCatalog:
    fields = dict(CORE_FIELDS)
    for definition in template.fields:
        if not _usable(definition) or definition.type is None:
            continue
        fields[definition.key] = FieldSpec(
            definition.type, options=definition.option_keys() or None
        )
    return fields


def columns(template: CompanyTemplate) -> dict[str, ColumnElement[Any]]:
    """SQL for every catalog field; `Space` stands for the rule owner's own space row."""
    result: dict[str, ColumnElement[Any]] = {
        "title": Record.title,  # type: ignore[dict-item]
        "customer_name": Record.customer_name,  # type: ignore[dict-item]
        "customer_domain": Record.customer_domain,  # type: ignore[dict-item]
        "motion": Record.motion,  # type: ignore[dict-item]
        "joint_stage": Record.joint_stage,  # type: ignore[dict-item]
        "owner_company": Record.owner_company_id,  # type: ignore[dict-item]
    }
    for definition in template.fields:
        if not _usable(definition):
            continue
        standard = STANDARD_FIELDS.get(definition.key)
        if standard is not None:
            result[definition.key] = getattr(Space, standard.column)
            continue
        element = Space.custom[definition.key]
        if definition.type == FieldType.MULTI_ENUM:
            result[definition.key] = element
        elif definition.type == FieldType.NUMBER:
            result[definition.key] = element.as_float()
        elif definition.type == FieldType.BOOL:
            result[definition.key] = element.as_boolean()
        else:
            result[definition.key] = element.as_string()
    return result


def attributes(record: Record, space: Space | None, template: CompanyTemplate) -> dict[str, Any]:
    """The Python values of every catalog field for one record and the owner's space."""
    values: dict[str, Any] = {
        "title": record.title,
        "customer_name": record.customer_name,
        "customer_domain": record.customer_domain,
        "motion": record.motion,
        "joint_stage": record.joint_stage,
        "owner_company": record.owner_company_id,
    }
    custom = (space.custom if space is not None else None) or {}
    for definition in template.fields:
        if not _usable(definition):
            continue
        standard = STANDARD_FIELDS.get(definition.key)
        if standard is not None:
            values[definition.key] = getattr(space, standard.column) if space is not None else None
        else:
            values[definition.key] = _python_value(definition, custom.get(definition.key))
    return values


def _python_value(definition: FieldDefinition, raw: Any) -> Any:
    if raw is None:
        return None
    if definition.type == FieldType.DATE:
        return date.fromisoformat(raw)
    if definition.type == FieldType.USER:
        return uuid.UUID(raw)
    return raw
