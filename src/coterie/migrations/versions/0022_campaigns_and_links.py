"""Record links: leads and opportunities attributed to campaigns, records linked to solutions

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("from_record_id", sa.Uuid(), nullable=False),
        sa.Column("from_kind", sa.String(length=20), nullable=False),
        sa.Column("to_record_id", sa.Uuid(), nullable=False),
        sa.Column("to_kind", sa.String(length=20), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("linked_by_company_id", sa.Uuid(), nullable=False),
        sa.Column("linked_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_record_id"],
            ["records.id"],
            name=op.f("fk_record_links_from_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_record_id"],
            ["records.id"],
            name=op.f("fk_record_links_to_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_company_id"],
            ["companies.id"],
            name=op.f("fk_record_links_linked_by_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_user_id"],
            ["users.id"],
            name=op.f("fk_record_links_linked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_links")),
        sa.UniqueConstraint(
            "from_record_id",
            "to_record_id",
            "relation",
            "linked_by_company_id",
            name="uq_record_links_pair",
        ),
    )
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.create_index("ix_record_links_from", ["from_record_id", "relation"], unique=False)
        batch_op.create_index("ix_record_links_to", ["to_record_id", "relation"], unique=False)
        batch_op.create_index(
            "uq_record_links_one_campaign",
            ["from_record_id", "linked_by_company_id"],
            unique=True,
            sqlite_where=sa.text("relation = 'campaign'"),
            postgresql_where=sa.text("relation = 'campaign'"),
        )
    _enable_link_policy()


def downgrade() -> None:
    _disable_link_policy()
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_index("uq_record_links_one_campaign")
        batch_op.drop_index("ix_record_links_to")
        batch_op.drop_index("ix_record_links_from")
    op.drop_table("record_links")


# --- row-level security, frozen as of this revision ---------------------------------------------
# A link is readable while grant maintenance runs (`app.rls_bypass`), or when the transaction's
# company (`app.company_id`) holds a grant on BOTH linked records: a company never reads a link
# whose other end it may not see. Writes are not restricted by policy (see 0005). PostgreSQL
# only; nothing happens on SQLite, where the gate alone decides.

_COMPANY = "nullif(current_setting('app.company_id', true), '')::uuid"
_BYPASS = "current_setting('app.rls_bypass', true) = 'on'"
_WRITE_POLICIES = {
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def _on_postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def _granted(column: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM record_access a "  # noqa: S608 (this migration's constants)
        f"WHERE a.record_id = record_links.{column} AND a.company_id = {_COMPANY})"
    )


def _enable_link_policy() -> None:
    if not _on_postgresql():
        return
    visible = f"{_granted('from_record_id')} AND {_granted('to_record_id')}"
    op.execute("ALTER TABLE record_links ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY coterie_read ON record_links FOR SELECT USING ({_BYPASS} OR ({visible}))"
    )
    for name, clause in _WRITE_POLICIES.items():
        op.execute(f"CREATE POLICY coterie_{name} ON record_links {clause}")


def _disable_link_policy() -> None:
    if not _on_postgresql():
        return
    for name in ("read", *_WRITE_POLICIES):
        op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON record_links")
    op.execute("ALTER TABLE record_links DISABLE ROW LEVEL SECURITY")
