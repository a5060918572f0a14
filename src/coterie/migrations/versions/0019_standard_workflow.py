"""Existing companies get the standard pipeline workflow for their opportunities

New companies get it at signup (`workflows.definitions.install_standard`). This gives it to
each existing company that has no company workflow for opportunities (active or not: one it
turned off stays off) and whose opportunities use no stage outside the standard pipeline's
(a company with its own stage names keeps its free-text stages until an admin sets a workflow
up, so none of its records lands in "Not staged"). The stages are frozen here as the template
had them when this revision was written. Nothing to undo on downgrade: the rows are valid data
for the earlier schema.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 21:30:00.000000
"""

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STAGES = json.loads(
    """[
 {"key": "qualify", "name": "Qualify", "category": "open", "required_fields": [],
  "steps": [{"title": "Qualify the need with the customer", "owner": "record_owner",
             "due_in_days": 7}]},
 {"key": "develop", "name": "Develop", "category": "open", "required_fields": [], "steps": []},
 {"key": "propose", "name": "Propose", "category": "open", "required_fields": ["mine.amount"],
  "steps": [{"title": "Send the proposal", "owner": "record_owner", "due_in_days": 7}]},
 {"key": "negotiate", "name": "Negotiate", "category": "open",
  "required_fields": ["mine.amount", "mine.close_date"], "steps": []},
 {"key": "won", "name": "Closed won", "category": "won",
  "required_fields": ["mine.amount", "mine.close_date"], "steps": []},
 {"key": "lost", "name": "Closed lost", "category": "lost", "required_fields": [], "steps": []}
]"""
)
_KEYS = [s["key"] for s in _STAGES]

_definitions = sa.table(
    "workflow_definitions",
    sa.column("id", sa.Uuid()),
    sa.column("company_id", sa.Uuid()),
    sa.column("program_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("name", sa.String()),
    sa.column("stages", sa.JSON()),
    sa.column("transitions", sa.JSON()),
    sa.column("active", sa.Boolean()),
    sa.column("version", sa.Integer()),
    sa.column("created_by_user_id", sa.Uuid()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_companies = sa.table("companies", sa.column("id", sa.Uuid()))
_records = sa.table("records", sa.column("id", sa.Uuid()), sa.column("kind", sa.String()))
_spaces = sa.table(
    "record_spaces",
    sa.column("record_id", sa.Uuid()),
    sa.column("company_id", sa.Uuid()),
    sa.column("stage", sa.String()),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # read every company's spaces (row-level security)
        bind.execute(sa.text("SELECT set_config('app.rls_bypass', 'on', true)"))
    has_workflow = sa.select(_definitions.c.company_id).where(
        _definitions.c.program_id.is_(None), _definitions.c.kind == "opportunity"
    )
    own_stages = (
        sa.select(_spaces.c.company_id)
        .join(_records, _records.c.id == _spaces.c.record_id)
        .where(
            _records.c.kind == "opportunity",
            _spaces.c.stage.is_not(None),
            _spaces.c.stage.not_in(_KEYS),
        )
    )
    companies = bind.execute(
        sa.select(_companies.c.id).where(
            _companies.c.id.not_in(has_workflow), _companies.c.id.not_in(own_stages)
        )
    ).scalars()
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "company_id": company_id,
            "program_id": None,
            "kind": "opportunity",
            "name": "Standard pipeline",
            "stages": _STAGES,
            "transitions": [],
            "active": True,
            "version": 1,
            "created_by_user_id": None,
            "created_at": now,
            "updated_at": now,
        }
        for company_id in companies
    ]
    if rows:
        op.bulk_insert(_definitions, rows)


def downgrade() -> None:
    pass
