"""Templates: a company's fields for one record kind, and their compiled visibility.

Saving a template rewrites the company's `field_shares` rows for that kind in the same
transaction, so a narrowed visibility hides values from partners at once. Stored values are
never touched: a removed field is hidden, and re-adding the same key shows its values again
(the key keeps its type for ever, so old values always fit).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from coterie import audit
from coterie.auth.principal import Actor
from coterie.authz.gate import OwnFieldPolicy
from coterie.db import utcnow
from coterie.kit import txcache
from coterie.kit.problems import Problem, invalid
from coterie.models import Company, FieldShare, Template
from coterie.models.vocabulary import Role
from coterie.records.fields import (
    MAX_CUSTOM_FIELDS,
    STANDARD_FIELDS,
    CompaniesAudience,
    FieldDefinition,
    coerce_value,
    default_definition,
)


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[FieldDefinition] = Field(max_length=MAX_CUSTOM_FIELDS + len(STANDARD_FIELDS))


class TemplateOut(BaseModel):
    kind: str
    version: int
    fields: list[FieldDefinition]
    retired: list[FieldDefinition] = Field(
        default_factory=list, description="Removed fields; re-adding a key restores its values."
    )


class CompanyTemplate:
    """A company's effective template for a kind: every standard field plus its custom fields."""

    def __init__(
        self, kind: str, version: int, fields: list[FieldDefinition], retired: list[FieldDefinition]
    ) -> None:
        self.kind = kind
        self.version = version
        listed = {f.key: f for f in fields}
        standard = [listed.get(key) or default_definition(key) for key in STANDARD_FIELDS]
        custom = [f for f in fields if not f.is_standard]
        self.fields: list[FieldDefinition] = standard + custom
        self.by_key = {f.key: f for f in self.fields}
        self.retired = retired

    def own_policy(self, hide_private: bool) -> OwnFieldPolicy:
        def shown(f: FieldDefinition) -> bool:
            return not (hide_private and f.visibility_mode() == "private")

        return OwnFieldPolicy(
            visible_standard=frozenset(f.key for f in self.fields if f.is_standard and shown(f)),
            visible_custom=frozenset(f.key for f in self.fields if not f.is_standard and shown(f)),
        )

    def out(self) -> TemplateOut:
        return TemplateOut(
            kind=self.kind, version=self.version, fields=self.fields, retired=self.retired
        )


def _parse_stored(raw: list[dict[str, Any]]) -> list[FieldDefinition]:
    return [FieldDefinition.model_validate(item) for item in raw]


def _from_row(row: Template) -> CompanyTemplate:
    stored = row.definition or {}
    return CompanyTemplate(
        row.kind,
        row.version,
        _parse_stored(stored.get("fields", [])),
        _parse_stored(stored.get("retired", [])),
    )


txcache.register("templates", Template)


def load(session: Session, company_id: uuid.UUID, kind: str) -> CompanyTemplate:
    """The company's template for `kind` (read once per transaction)."""
    cached = txcache.cache(session, "templates")
    found: CompanyTemplate | None = cached.get((company_id, kind))
    if found is None:
        row = session.get(Template, (company_id, kind))
        found = CompanyTemplate(kind, 0, [], []) if row is None else _from_row(row)
        cached[(company_id, kind)] = found
    return found


def save(
    session: Session, actor: Actor, kind: str, data: TemplateIn, if_match: int | None
) -> CompanyTemplate:
    actor.require_role(Role.ADMIN, "change templates")
    current = load(session, actor.company_id, kind)
    if if_match is not None and if_match != current.version:
        raise Problem(
            412,
            "version-mismatch",
            "Template changed",
            f"The template is at version {current.version}, not {if_match}; reload and retry.",
        )
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
    row = session.get(Template, (actor.company_id, kind))
    if row is None:
        row = Template(company_id=actor.company_id, kind=kind, version=0)
        session.add(row)
    row.definition = stored
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by_user_id = actor.user_id
    saved = CompanyTemplate(kind, row.version, list(data.fields), list(retired.values()))
    _compile_shares(session, actor.company_id, saved)
    audit.record(
        session,
        company_id=actor.company_id,
        actor_user_id=actor.user_id,
        action="template.saved",
        subject_type="template",
        subject_id=kind,
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


def load_many(
    session: Session, company_ids: set[uuid.UUID], kind: str
) -> dict[uuid.UUID, CompanyTemplate]:
    """Templates of several companies; callers show other companies only labels of fields
    whose values the gate let through."""
    found = {
        row.company_id: _from_row(row)
        for row in session.scalars(
            select(Template).where(Template.company_id.in_(company_ids), Template.kind == kind)
        )
    }
    return {c: found.get(c) or CompanyTemplate(kind, 0, [], []) for c in company_ids}
