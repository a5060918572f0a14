"""Writing a company's template for one record kind, and compiling its visibility.

Saving a template rewrites the company's `field_shares` rows for that kind in the same
transaction, so a narrowed visibility hides values from partners at once. Stored values are
never touched: a removed field is hidden, and re-adding the same key shows its values again
(the key keeps its type for ever, so old values always fit). Reading templates is
`coterie.fields.templates`.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.db import utcnow
from coterie.fields.definitions import (
    MAX_CUSTOM_FIELDS,
    STANDARD_FIELDS,
    CompaniesAudience,
    FieldDefinition,
    coerce_value,
)
from coterie.fields.templates import CompanyTemplate, load, mark_written
from coterie.kit import conditional
from coterie.kit.problems import invalid
from coterie.models import Company, FieldShare, Template
from coterie.models.vocabulary import Role


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FieldDefinition] = Field(max_length=MAX_CUSTOM_FIELDS + len(STANDARD_FIELDS))


def save(
    session: Session, actor: Actor, kind: str, data: TemplateIn, expected: int
) -> CompanyTemplate:
    """Replace the company's template for `kind` at version `expected` (If-Match; 0 when it
    has none yet): the first save inserts the row, which only one of racing saves can do; a
    later one claims the row by a conditional UPDATE (`kit.conditional`)."""
    actor.require_role(Role.ADMIN, "change templates")
    current = load(session, actor.company_id, kind)
    if expected != current.version:
        raise conditional.stale("template", current.version, expected)
    _validate(session, actor, data)
    known_types = {f.key: f.type for f in [*current.fields, *current.retired] if not f.is_standard}
    for i, field in enumerate(data.fields):
        earlier = known_types.get(field.key)
        if earlier is not None and earlier != field.type:
            raise invalid(
                f"body.fields.{i}.type",
                f"the key {field.key} already holds {earlier.value} values; use another key",
            )
    new_keys = {f.key for f in data.fields}
    retired = {f.key: f for f in current.retired}
    for field in current.fields:
        if not field.is_standard and field.key not in new_keys:
            retired[field.key] = field
    for key in new_keys:
        retired.pop(key, None)
    stored = {
        "fields": [f.model_dump(mode="json") for f in data.fields],
        "retired": [f.model_dump(mode="json") for f in retired.values()],
    }
    now = utcnow()
    row = session.get(Template, (actor.company_id, kind))
    if row is None:
        row = conditional.create_once(
            session,
            Template(
                company_id=actor.company_id,
                kind=kind,
                definition=stored,
                version=1,
                updated_at=now,
                updated_by_user_id=actor.user_id,
            ),
            "template",
        )
        mark_written(session)  # the INSERT was no ORM flush: say so to the parsed cache
    else:
        conditional.claim_version(session, row, expected, "template")
        row.definition = stored
        row.updated_at = now
        row.updated_by_user_id = actor.user_id
    saved = CompanyTemplate(kind, row.version, list(data.fields), list(retired.values()))
    _compile_shares(session, actor.company_id, saved)
    audit.record(
        session,
        actor,
        "template.saved",
        "template",
        kind,
        version=row.version,
    )
    return saved


def _validate(session: Session, actor: Actor, data: TemplateIn) -> None:
    seen: set[str] = set()
    for i, field in enumerate(data.fields):
        if field.key in seen:
            raise invalid(f"body.fields.{i}.key", f"{field.key} appears twice")
        seen.add(field.key)
        if isinstance(field.visibility, CompaniesAudience):
            for j, company_id in enumerate(field.visibility.companies):
                if company_id == actor.company_id or session.get(Company, company_id) is None:
                    raise invalid(
                        f"body.fields.{i}.visibility.companies.{j}",
                        "is not another company on the network",
                    )
        if field.default is not None:
            coerce_value(
                field,
                field.default,
                f"body.fields.{i}.default",
                default_currency=actor.company.currency,
            )
    if sum(1 for f in data.fields if not f.is_standard) > MAX_CUSTOM_FIELDS:
        raise invalid("body.fields", f"at most {MAX_CUSTOM_FIELDS} custom fields")


def _compile_shares(session: Session, company_id: uuid.UUID, template: CompanyTemplate) -> None:
    session.execute(
        delete(FieldShare).where(
            FieldShare.owner_company_id == company_id, FieldShare.kind == template.kind
        )
    )
    rows: list[dict[str, Any]] = []
    for field in template.fields:
        visibility = field.visibility
        audiences: list[uuid.UUID | None]
        if visibility == "participants":
            audiences = [None]
        elif isinstance(visibility, CompaniesAudience):
            audiences = list(dict.fromkeys(visibility.companies))
        else:
            audiences = []
        rows.extend(
            {
                "owner_company_id": company_id,
                "kind": template.kind,
                "field_key": field.key,
                "audience_company_id": audience,
            }
            for audience in audiences
        )
    if rows:
        session.execute(insert(FieldShare), rows)
