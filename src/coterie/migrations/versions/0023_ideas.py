"""Ideas proposed to partner programs, their endorsements, and each program's idea visibility

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 01:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the column naming the program record: read only by companies holding a grant on the
# program (RLS, PostgreSQL)
PROGRAM_TABLES = {
    "ideas": "program_id",
    "idea_endorsements": "program_id",
    "program_idea_settings": "program_id",
}


def upgrade() -> None:
    op.create_table(
        "ideas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("target_customers", sa.Text(), nullable=False),
        sa.Column("partner_company_ids", sa.JSON(), nullable=False),
        sa.Column("expected_pipeline", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("proposer_company_id", sa.Uuid(), nullable=False),
        sa.Column("proposer_user_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["records.id"],
            name=op.f("fk_ideas_program_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_company_id"],
            ["companies.id"],
            name=op.f("fk_ideas_proposer_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_user_id"],
            ["users.id"],
            name=op.f("fk_ideas_proposer_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_ideas_decided_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_ideas_record_id_records"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
    )
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.create_index("ix_ideas_program_created", ["program_id", "created_at"])
        batch_op.create_index(batch_op.f("ix_ideas_proposer_company_id"), ["proposer_company_id"])
    op.create_table(
        "idea_endorsements",
        sa.Column("idea_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["ideas.id"],
            name=op.f("fk_idea_endorsements_idea_id_ideas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idea_endorsements_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_idea_endorsements_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["records.id"],
            name=op.f("fk_idea_endorsements_program_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idea_id", "user_id", name=op.f("pk_idea_endorsements")),
    )
    with op.batch_alter_table("idea_endorsements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idea_endorsements_program_id"), ["program_id"])
    op.create_table(
        "program_idea_settings",
        sa.Column("program_id", sa.Uuid(), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["records.id"],
            name=op.f("fk_program_idea_settings_program_id_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_program_idea_settings_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_program_idea_settings")),
    )
    for table, record_column in PROGRAM_TABLES.items():
        _enable_record_policy(table, record_column=record_column)


def downgrade() -> None:
    for table in PROGRAM_TABLES:
        _disable_record_policy(table)
    op.drop_table("program_idea_settings")
    with op.batch_alter_table("idea_endorsements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idea_endorsements_program_id"))
    op.drop_table("idea_endorsements")
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ideas_proposer_company_id"))
        batch_op.drop_index("ix_ideas_program_created")
    op.drop_table("ideas")


# --- row-level security of record-keyed tables, frozen as of this revision ---------------------
# (copied here so this migration gives the same policies for ever, whatever the app later does)
# A row is readable while grant maintenance runs (`app.rls_bypass`) or when the transaction's
# company (`app.company_id`) holds a grant on the row's program: a company that leaves the
# program reads none of its ideas. Writes are not restricted by policy (see 0005). PostgreSQL
# only; nothing happens on SQLite.

_COMPANY = "nullif(current_setting('app.company_id', true), '')::uuid"
_BYPASS = "current_setting('app.rls_bypass', true) = 'on'"
_WRITE_POLICIES = {
    "insert": "FOR INSERT WITH CHECK (true)",
    "update": "FOR UPDATE USING (true) WITH CHECK (true)",
    "delete": "FOR DELETE USING (true)",
}


def _on_postgresql() -> bool:
    return bool(op.get_context().dialect.name == "postgresql")


def _enable_record_policy(table: str, *, record_column: str = "record_id") -> None:
    if not _on_postgresql():
        return
    # table and column names are this migration's constants, never input
    visible = (
        "EXISTS (SELECT 1 FROM record_access a "  # noqa: S608
        f"WHERE a.record_id = {table}.{record_column} AND a.company_id = {_COMPANY})"
    )
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY coterie_read ON {table} FOR SELECT USING ({_BYPASS} OR ({visible}))")
    for name, clause in _WRITE_POLICIES.items():
        op.execute(f"CREATE POLICY coterie_{name} ON {table} {clause}")


def _disable_record_policy(table: str) -> None:
    if not _on_postgresql():
        return
    for name in ("read", *_WRITE_POLICIES):
        op.execute(f"DROP POLICY IF EXISTS coterie_{name} ON {table}")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
